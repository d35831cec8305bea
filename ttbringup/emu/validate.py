"""Precondition checks shared by the emulated ops (the TT_FATAL checks every device op repeats).

Each helper raises :class:`~ttbringup.emu.errors.TTError` through ``check`` naming the op, or
``NotEmulatedError`` for an argument that would change results and that the emulator lacks.
"""

from __future__ import annotations

from .errors import NotEmulated, check
from .tensor import Tensor
from .types import BLOCK_FLOAT_DTYPES, FLOAT_DTYPES, Layout


def tensor_arg(t, op: str, name: str) -> Tensor:
    """``t`` must be a ttnn Tensor (a wrong type is a TypeError, as nanobind raises)."""
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {name} must be a ttnn.Tensor, got {type(t).__name__}")
    return t


def on_device(t: Tensor, op: str, message: str = "Operands need to be on device!") -> Tensor:
    """``t`` must live on an open device and be allocated (a deallocated tensor raises)."""
    check(t.device() is not None, op, message)
    t._check_alive(op)
    return t


def tile_layout(t: Tensor, op: str, message: str = "Input tensor must be in TILE layout") -> None:
    check(t.layout == Layout.TILE, op, message)


def float_dtype(t: Tensor, op: str, allowed=FLOAT_DTYPES, name: str = "input_tensor") -> None:
    check(t.dtype in allowed, op,
          f"{name} dtype {t.dtype} is not supported; expected one of {[d.name for d in allowed]}")


def same_device(a: Tensor, b: Tensor, op: str) -> None:
    check(a.device() is b.device(), op, "Operands need to be on the same device!")


def not_emulated(op: str, argument: str) -> None:
    """Raise NotEmulatedError for an argument value the emulator does not implement."""
    NotEmulated(f"{op}({argument})")()


def normalize_dim(dim: int, rank: int, op: str) -> int:
    """A dim in ``[-rank, rank)`` as a non-negative index."""
    check(-rank <= dim < rank, op, f"Dimension out of range: dim {dim} cannot be used for tensors of rank {rank}")
    return dim % rank if rank else 0


def is_block_float(t: Tensor) -> bool:
    return t.dtype in BLOCK_FLOAT_DTYPES
