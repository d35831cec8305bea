"""Choose the ttnn implementation: the real package on a machine with a card, else the emulator.

``load()`` returns the module to use as ``ttnn`` and registers it in ``sys.modules["ttnn"]``,
so every later ``import ttnn`` (ours, and bringup files written for hardware) gets it. Submodule
imports follow the choice: with the emulator registered, ``import ttnn.core`` is the emulator's
module (``ttbringup.emu.submodules``); the real package's ``ttnn.*`` entries are set aside while the
emulator is registered and put back when the real package is chosen again.
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


_set_aside: dict[str, ModuleType] = {}  # the real package's ttnn and ttnn.* modules while the emulator is registered


def _set_real_modules_aside() -> None:
    for name in [n for n in sys.modules if n == "ttnn" or n.startswith("ttnn.")]:
        module = sys.modules[name]
        if not (getattr(module, "__name__", "").startswith("ttbringup.") or vars(module).get("IS_NOT_EMULATED")):
            _set_aside[name] = sys.modules.pop(name)


def _forget_emulator_submodules() -> None:
    from .emu import submodules

    submodules.forget()
    for name, module in _set_aside.items():
        sys.modules.setdefault(name, module)
    _set_aside.clear()


def _import_real_ttnn() -> ModuleType:
    current = sys.modules.get("ttnn")
    if current is not None and not getattr(current, "IS_EMULATOR", False):
        return current
    if current is not None:  # the emulator is registered: look past it for the real package
        del sys.modules["ttnn"]
        _forget_emulator_submodules()  # puts a real package registered before the emulator back
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
        _set_real_modules_aside()
    sys.modules["ttnn"] = module
    if announce:
        print(f"[ttbringup] backend: {reason}", file=sys.stderr)
    return module


def is_emulator(module: ModuleType) -> bool:
    return bool(getattr(module, "IS_EMULATOR", False))
