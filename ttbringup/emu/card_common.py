"""Plumbing shared by the card-mode eltwise / unary / normalisation ops: the packer into the output dtype on int32
words, and the single torch thread they compute on.

Contracts:

* ``pack(dst, fp32_dest, out_dtype)``: float32 Dst values -> the values the packer writes, as
  ``card_matmul.pack`` (same results): bf16 from an FP32 Dst ties away from zero, from a BF16 Dst unchanged;
  NaN -> inf; a zero exponent -> +0; float32 as is; block floats through ``card_matmul.pack`` (the device's
  double rounding). bf16 / float32 outputs use int32 operations on the float32 words (no int64 copies).
* ``one_thread()``: a context in which torch runs on one thread (restored afterwards): card-mode ops are
  chains of small elementwise ops, and a parallel small op on a loaded 2-core machine waits a scheduler time
  slice for its second thread (measured with the card SFPU silu on 32 x 8192: 0.85 s on two threads next to
  other load, 0.07 s on one).
"""

from __future__ import annotations

import contextlib

import torch

from . import card_matmul
from .types import DataType


def pack(dst: torch.Tensor, fp32_dest: bool, out_dtype: DataType) -> torch.Tensor:
    """Output values the packer writes from Dst values (see the module docstring)."""
    if out_dtype == DataType.FLOAT32 and fp32_dest:
        return dst
    if out_dtype not in (DataType.BFLOAT16, DataType.FLOAT32):
        return card_matmul.pack(dst, fp32_dest, out_dtype)
    bits = dst.contiguous().view(torch.int32)
    mag = bits & 0x7FFFFFFF
    bits = torch.where(mag > 0x7F800000, (bits & -(1 << 31)) | 0x7F800000, bits)  # NaN -> inf
    if fp32_dest:
        bits = (bits + 0x8000) & -(1 << 16)  # ties away from zero on the magnitude
    else:
        bits = bits & -(1 << 16)
    return torch.where((bits & 0x7F800000) == 0, 0, bits).view(torch.float32)


@contextlib.contextmanager
def one_thread():
    """torch on one thread inside the block (see the module docstring)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
