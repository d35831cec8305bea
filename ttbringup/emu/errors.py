"""Errors the emulator raises, shaped like the real ttnn's.

Real ttnn raises ``RuntimeError`` whose text carries the TT_FATAL message of the broken
precondition. The emulator raises :class:`TTError` (a ``RuntimeError``) whose first line is
``ttnn.<op>: <condition>`` so a user sees which op refused which input.
"""


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


def not_emulated_getattr(module_name: str):
    """A module-level ``__getattr__`` that answers unknown public names with NotEmulated."""

    def __getattr__(name: str):
        if name.startswith("_"):
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        return NotEmulated(f"{module_name}.{name}")

    return __getattr__
