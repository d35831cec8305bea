"""Precondition checks shared by the emulated model ops (matmul, normalization, eltwise, embedding,
data movement), on top of ``operands`` (``on_device``, ``not_emulated``) used by the attention ops.

Each helper raises :class:`~ttbringup.emu.errors.TTError` through ``check`` naming the op.
"""

from __future__ import annotations

from .errors import check
from .operands import not_emulated, on_device
from .tensor import Tensor

__all__ = ["normalize_dim", "not_emulated", "on_device", "same_device", "tensor_arg"]


def tensor_arg(t, op: str, name: str) -> Tensor:
    """``t`` must be a ttnn Tensor (a wrong type is a TypeError, as nanobind raises)."""
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {name} must be a ttnn.Tensor, got {type(t).__name__}")
    return t


def same_device(a: Tensor, b: Tensor, op: str) -> None:
    check(a.device() is b.device(), op, "Operands need to be on the same device!")


def normalize_dim(dim: int, rank: int, op: str) -> int:
    """A dim in ``[-rank, rank)`` as a non-negative index."""
    check(-rank <= dim < rank, op, f"Dimension out of range: dim {dim} cannot be used for tensors of rank {rank}")
    return dim % rank if rank else 0
