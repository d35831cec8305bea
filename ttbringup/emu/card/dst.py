"""The Dst accumulator register and the datacopy paths that fill it.

Dst holds one 32-bit word per datum in FP32 mode (``fp32_dest_acc_en=True``) or a bf16 per datum
(``fp32_dest_acc_en=False``); here both are 32-bit float-layout words, a BF16 Dst word having its low
16 bits zero.  The hardware's internal bit shuffle of Dst storage is invisible and not modelled.

* ``load_fp32(bits)``: unpack-to-dest of an fp32 L1 tile into an FP32 Dst: exact.
* ``load_bf16_via_srca(bits)``: UNPACR bf16 -> SrcA, then MOVA2D -> BF16 Dst, with the Src zero
  flag enabled (``Zero_Flag_disabled_src = 0``): a datum with a zero exponent field (zero or
  denormal, either sign) becomes +0; everything else (inf, NaN included) is copied.
* ``zeros(shape)``: Dst after ZEROACC.
"""

from __future__ import annotations

import torch

from .formats import exponent


def load_fp32(bits: torch.Tensor) -> torch.Tensor:
    """fp32 words -> FP32 Dst words (unpack-to-dest is exact)."""
    return bits.clone()


def load_bf16_via_srca(bits: torch.Tensor) -> torch.Tensor:
    """bf16 words (upper half) -> BF16 Dst words via SrcA and MOVA2D (zero exponent -> +0)."""
    v = bits & 0xFFFF0000
    return torch.where(exponent(v) == 0, torch.zeros_like(v), v)


def zeros(shape, device=None) -> torch.Tensor:
    """A cleared Dst region (ZEROACC): +0 words."""
    return torch.zeros(shape, dtype=torch.int64, device=device)
