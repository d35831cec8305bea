"""Errors the emulator raises, shaped like the real ttnn's.

Real ttnn raises ``RuntimeError`` whose text carries the TT_FATAL message of the broken
precondition. The emulator raises :class:`TTError` (a ``RuntimeError``) whose first line is
``ttnn.<op>: <condition>`` so a user sees which op refused which input.
"""

import sys


class TTError(RuntimeError):
    """A precondition a real ttnn op checks was broken."""


class QueueRaceError(TTError):
    """Emulator only: two command queues touch a tensor with no event ordering them (a data race on a card)."""


class OutOfMemoryError(TTError):
    """A device allocation did not fit into a chip's DRAM or L1."""


class NotEmulatedError(NotImplementedError):
    """A ttnn name exists on the card but the emulator does not implement it."""


def fatal(op: str, message: str) -> TTError:
    """Build the error an op raises; use as ``raise fatal("ttnn.linear", "...")``."""
    return TTError(f"{op}: {message}")


def check(condition: bool, op: str, message: str) -> None:
    """Raise ``TTError`` naming ``op`` when ``condition`` is false (the TT_FATAL idiom)."""
    if not condition:
        raise fatal(op, message)


class NotEmulated:
    """Stands for a ttnn name the emulator lacks: any call or attribute use raises.

    Module ``__getattr__`` hooks hand these out so that bringup code written for the card
    imports cleanly and fails at the point where the missing op is used.
    """

    def __init__(self, qualname: str):
        self._qualname = qualname

    def _raise(self):
        raise NotEmulatedError(
            f"{self._qualname} is not emulated by ttbringup's ttnn emulator; "
            "run on a real card, or add it under ttbringup/emu/"
        )

    def __call__(self, *args, **kwargs):
        self._raise()

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        self._raise()

    def __repr__(self):
        return f"<not emulated: {self._qualname}>"


def not_emulated_getattr(module_name: str, also_in: str | None = None):
    """A module-level ``__getattr__`` that answers unknown public names with NotEmulated.

    ``also_in`` names a module whose own attributes are tried first: the real ``ttnn.types``, ``ttnn.core``,
    ``ttnn.device`` and ``ttnn.distributed`` re-export top-level ``ttnn`` names, so the emulator's modules that
    stand for them look a missing name up in the emulator's top level before calling it not emulated.
    """

    def __getattr__(name: str):
        if name.startswith("_"):
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        home = sys.modules.get(also_in) if also_in else None
        if home is not None and name in vars(home):
            return vars(home)[name]
        return NotEmulated(f"{module_name}.{name}")

    return __getattr__


def not_emulated_members(qualname: str, names: str):
    """A ``__getattr__`` for an emulated ttnn class: ``names`` (space-separated) are members of the real 0.81.1
    class that the emulator lacks; each resolves to a NotEmulated stand-in that raises when called or used
    (``crs.bounding_box()``: NotEmulatedError). Any other missing name is a plain AttributeError."""
    real = frozenset(names.split())

    def __getattr__(self, name: str):
        if name in real:
            return NotEmulated(f"{qualname}.{name}")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    return __getattr__
