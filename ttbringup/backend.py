"""Choose the ttnn implementation: the real package on a machine with a card, else the emulator.

``load()`` returns the module to use as ``ttnn`` and registers it in ``sys.modules["ttnn"]``,
so every later ``import ttnn`` (ours, and bringup files written for hardware) gets it.
"""

from __future__ import annotations

import importlib
import os
import sys
from types import ModuleType

BACKENDS = ("auto", "ttnn", "emu")
ENV_VAR = "TTBRINGUP_BACKEND"


class BackendError(RuntimeError):
    """The requested backend cannot be used here."""


def _import_real_ttnn() -> ModuleType:
    current = sys.modules.get("ttnn")
    if current is not None and not getattr(current, "IS_EMULATOR", False):
        return current
    if current is not None:  # the emulator is registered: look past it for the real package
        del sys.modules["ttnn"]
    try:
        return importlib.import_module("ttnn")
    except ImportError as err:
        if current is not None:
            sys.modules["ttnn"] = current
        raise BackendError(f"the real ttnn package is not importable here ({err})") from err


def _real_device_count(ttnn: ModuleType) -> int:
    try:
        return int(ttnn.GetNumAvailableDevices())
    except Exception:  # a broken install or a driver error means: no usable card
        return 0


def load(name: str | None = None, *, announce: bool = True) -> ModuleType:
    """Return the ttnn module for ``name`` (``auto``, ``ttnn`` or ``emu``) and register it as ``ttnn``.

    ``name`` defaults to ``$TTBRINGUP_BACKEND``, else ``auto``. ``auto`` picks the real package when
    it imports and sees at least one device, otherwise the emulator, and says which on stderr.
    """
    name = name or os.environ.get(ENV_VAR) or "auto"
    if name not in BACKENDS:
        raise BackendError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    module = None
    reason = ""
    if name in ("auto", "ttnn"):
        try:
            real = _import_real_ttnn()
            devices = _real_device_count(real)
            if devices > 0 or name == "ttnn":
                module, reason = real, f"real ttnn {getattr(real, '__version__', '')}, {devices} device(s)".replace("  ", " ")
            else:
                reason = "real ttnn imports but sees no device"
        except BackendError as err:
            if name == "ttnn":
                raise
            reason = str(err)
    if module is None:
        from . import emu

        module = emu
        reason = f"ttnn emulator ({reason})" if reason else "ttnn emulator"
    sys.modules["ttnn"] = module
    if announce:
        print(f"[ttbringup] backend: {reason}", file=sys.stderr)
    return module


def is_emulator(module: ModuleType) -> bool:
    return bool(getattr(module, "IS_EMULATOR", False))
