"""Operand preconditions of the attention and KV cache ops (experimental/, transformer/, kv_cache).

``on_device`` is the TT_FATAL every device op starts with; ``not_emulated`` stops on an argument
that would change results and that the emulator does not implement.
"""

from __future__ import annotations

from .errors import NotEmulated, check
from .tensor import Tensor


def on_device(t: Tensor, op: str, message: str) -> Tensor:
    """``t`` must be a device tensor that is still allocated (``message`` names the real check)."""
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: expected a ttnn.Tensor, got {type(t).__name__}")
    check(t.device() is not None, op, message)
    t._check_alive(op)
    return t


def not_emulated(op: str, argument: str) -> None:
    """Raise NotEmulatedError for ``op(argument)``."""
    NotEmulated(f"{op}({argument})")()
