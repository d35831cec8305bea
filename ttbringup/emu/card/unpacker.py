"""The Wormhole B0 unpacker: L1 tile data -> SrcA/SrcB words.

Src registers hold 19-bit data (sign, 8-bit exponent, 10-bit mantissa = TF32); the functions here
return them as 32-bit float-layout words (``formats`` conventions), low 13 bits zero (TF32) or low
16 bits zero (bf16).  Modelled behaviour (ttsim / tt-isa-documentation, see
tests/data/card_golden/README.md rule 6):

* bf16 L1 -> Src: exact (``unpack_bf16``).
* fp32 L1 -> Src as TF32: **truncation** of the 13 low mantissa bits, denormals kept as bit patterns
  (``unpack_fp32_to_tf32``).
* fp32 L1 -> Src as bf16: denormals flushed to a zero of the same sign, then **truncation** of the
  16 low bits (``unpack_fp32_to_bf16``).
* BFP8_b / BFP4_b L1 -> Src (bf16 values): lossless.  A code's magnitude is normalised by its
  leading-zero count, the shared exponent is decremented by that count with 8-bit wrap-around, and
  the normalised magnitude without its leading one becomes the bf16 mantissa.  Magnitude 0 gives +0
  (sign 0) or -inf (sign 1) (``bfp_to_bf16``).

The L1 image of a BFP tile (``parse_bfp_tile``): 64 shared-exponent bytes (one per face row: face
f, row r at byte 16 f + r; faces top-left, top-right, bottom-left, bottom-right), then the codes in
face order, row-major inside a face; bfp8_b one byte per datum (sign bit 7, 7-bit magnitude), bfp4_b
one nibble per datum (sign bit 3, 3-bit magnitude), the even datum in the low nibble.
"""

from __future__ import annotations

import torch

from .formats import bit_length, flush_denormal_signed
from .tiles import from_faces

BFP_MANT_BITS = {"bfp8_b": 7, "bfp4_b": 3}


def unpack_bf16(bits: torch.Tensor) -> torch.Tensor:
    """bf16 L1 datum (as 32-bit word, low half zero) -> Src word: exact copy (low half cleared)."""
    return bits & 0xFFFF0000


def unpack_fp32_to_tf32(bits: torch.Tensor) -> torch.Tensor:
    """fp32 L1 word -> Src TF32 word: drop the 13 low mantissa bits (no rounding, no flush)."""
    return bits & 0xFFFFE000


def unpack_fp32_to_bf16(bits: torch.Tensor) -> torch.Tensor:
    """fp32 L1 word -> Src bf16 word: flush denormals to signed zero, drop the 16 low bits."""
    return flush_denormal_signed(bits) & 0xFFFF0000


def bfp_to_bf16(codes: torch.Tensor, shared_exp: torch.Tensor, fmt: str) -> torch.Tensor:
    """Sign-magnitude BFP codes with their (broadcast) shared exponents -> bf16 Src words.

    ``codes``: int tensor of codes (bfp8_b: sign bit 7 + 7-bit magnitude; bfp4_b: sign bit 3 + 3-bit
    magnitude); ``shared_exp``: the block's 8-bit exponent, same shape.  Returns 32-bit words with
    the bf16 in the upper half.  The bfp4_b magnitude is treated as the top 3 bits of a bfp8_b one.
    """
    w = BFP_MANT_BITS[fmt]
    codes = codes.to(torch.int64)
    sgn = (codes >> w) & 1
    mag = codes & ((1 << w) - 1)
    mag8 = (mag << (8 - w)) & 0xFF  # magnitude with its top bit at bit 7 (bfp8: code << 1)
    lz = 8 - bit_length(mag8)  # leading zeros of the 8-bit magnitude field (8 for 0)
    norm = (mag8 << lz) & 0xFF
    exp = (shared_exp.to(torch.int64) - lz) & 0xFF
    bf16 = (sgn << 15) | (exp << 7) | (norm & 0x7E)
    bf16 = torch.where(mag == 0, torch.where(sgn == 1, torch.full_like(bf16, 0xFF80), torch.zeros_like(bf16)), bf16)
    return bf16 << 16


def parse_bfp_tile(l1: torch.Tensor, fmt: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Raw L1 bytes of one 32x32 BFP tile -> (codes (32, 32), shared_exp (32, 2)) in logical layout.

    ``shared_exp[r, c]`` belongs to tile row r, columns 16 c .. 16 c + 15."""
    l1 = l1.to(torch.int64)
    exps = l1[:64].reshape(4, 16)  # [face, face row]
    if fmt == "bfp8_b":
        data = l1[64 : 64 + 1024]
    elif fmt == "bfp4_b":
        packed = l1[64 : 64 + 512]
        data = torch.stack([packed & 0xF, packed >> 4], dim=-1).reshape(1024)
    else:
        raise ValueError(f"not a BFP format: {fmt}")
    codes = from_faces(data.reshape(4, 16, 16))
    shared = from_faces(exps.reshape(4, 16, 1).expand(4, 16, 16))
    return codes, shared[:, ::16].contiguous()


def unpack_bfp_tile(l1: torch.Tensor, fmt: str) -> torch.Tensor:
    """L1 image of a BFP tile -> (32, 32) SrcA words (bf16 in the upper half), as UNPACR writes them."""
    codes, shared = parse_bfp_tile(l1, fmt)
    return bfp_to_bf16(codes, shared.repeat_interleave(16, dim=1), fmt)


__all__ = [
    "bfp_to_bf16",
    "parse_bfp_tile",
    "unpack_bf16",
    "unpack_bfp_tile",
    "unpack_fp32_to_bf16",
    "unpack_fp32_to_tf32",
]
