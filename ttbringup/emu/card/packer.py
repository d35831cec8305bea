"""The Wormhole B0 packer: Dst -> L1 (early conversion to the pack source format, late conversion to
the L1 format, optional L1 accumulation).  Words follow the ``formats`` conventions.

Modelled behaviour (ttsim's PACR, tests/data/card_golden/README.md rules 7-9):

* ``pack_fp32_to_bf16``: FP32 Dst -> bf16 L1: NaN -> inf of the same sign, ``(v + 0x8000) >> 16``
  on the sign-magnitude word (round to nearest, **ties away from zero**; 0x7F7FFFFF -> inf), results
  with a zero exponent (either sign) -> +0.
* ``pack_fp32_to_fp32``: FP32 Dst -> fp32 L1: stored as is.
* ``pack_bf16_to_bf16``: BF16 Dst -> bf16 L1: NaN -> inf, zero-exponent -> +0.
* ``pack_bfp``: Dst -> bfp8_b / bfp4_b.  Default path (pack src Bfp8_b) rounds twice: first to bf16
  (FP32 Dst: NaN -> inf, truncate ``>> 16``; BF16 Dst: NaN -> inf, zero-exponent -> +0), then to
  E8M6 by ``(x + 1) & ~1`` (FP32 Dst: zero-exponent results -> +0 after that step).  With
  ``precise=True`` (``bfp8_pack_precise``, pack src Float32) only the truncation to bf16 and the
  denormal flush happen.  Then per 16-element block: shared exponent = max exponent field (255
  counts as a normal exponent); each 8-bit significand (hidden bit + 7) is shifted right by
  ``max_exp - e`` with round half up ``(m + 2^s) >> (s + 1)``, 128 clamps to 127, shifts >= 8 give
  0; bfp4_b keeps the top 3 of those 7 bits (``m >> 4``); the sign is set only on a non-zero
  magnitude (sign with magnitude 0 would mean -inf).
* ``bfp_tile_bytes``: the L1 image the packer writes (see ``unpacker`` for the layout).
* ``l1_acc_fp32``: packer L1 accumulation of fp32: denormals -> signed zero on both inputs, IEEE
  float32 add (RNE), NaN -> 0x7FC00000, denormal result -> signed zero.
* ``l1_acc_bf16``: L1 accumulation of bf16: +inf + -inf -> 0x7FC0, denormal inputs -> signed zero,
  the exact sum (double precision; NaNs read as huge normals, as ttsim does) rounded to bf16 **to
  nearest even**, underflow -> signed zero, overflow -> inf.
"""

from __future__ import annotations

import torch

from .formats import SIGN_BIT, flush_denormal_signed, from_bits, to_bits
from .tiles import to_faces

BFP_MANT_BITS = {"bfp8_b": 7, "bfp4_b": 3}


def _nan_to_inf32(v: torch.Tensor) -> torch.Tensor:
    return torch.where((v & 0x7FFFFFFF) > 0x7F800000, (v & SIGN_BIT) | 0x7F800000, v)


def _nan_to_inf16(v: torch.Tensor) -> torch.Tensor:
    return torch.where((v & 0x7FFF) > 0x7F80, (v & 0x8000) | 0x7F80, v)


def pack_fp32_to_bf16(dst: torch.Tensor) -> torch.Tensor:
    """FP32 Dst word -> bf16 L1 word (upper half): ties away from zero, NaN -> inf, tiny -> +0."""
    v = (_nan_to_inf32(dst) + 0x8000) >> 16
    v = torch.where((v & 0x7FFF) < 0x80, torch.zeros_like(v), v)
    return (v & 0xFFFF) << 16


def pack_fp32_to_fp32(dst: torch.Tensor) -> torch.Tensor:
    """FP32 Dst word -> fp32 L1 word: unchanged."""
    return dst.clone()


def pack_bf16_to_bf16(dst: torch.Tensor) -> torch.Tensor:
    """BF16 Dst word (upper half) -> bf16 L1 word: NaN -> inf, zero exponent -> +0."""
    v = _nan_to_inf16(dst >> 16)
    v = torch.where((v & 0x7FFF) < 0x80, torch.zeros_like(v), v)
    return v << 16


def bfp_early_bf16(dst: torch.Tensor, dest: str, precise: bool = False) -> torch.Tensor:
    """The bare 16-bit bf16-layout datum the BFP stage receives from Dst (see module docstring)."""
    if dest == "fp32":
        if precise:  # pack src Float32: late conversion truncates; NaN kept as a NaN pattern
            v = dst >> 16
        else:
            v = ((_nan_to_inf32(dst) >> 16) + 1) & ~1
        return torch.where((v & 0x7FFF) < 0x80, torch.zeros_like(v), v)
    if dest == "bf16":
        v = _nan_to_inf16(dst >> 16)
        v = torch.where((v & 0x7FFF) < 0x80, torch.zeros_like(v), v)
        return v if precise else (v + 1) & ~1
    raise ValueError(f"unknown Dst mode {dest!r}")


def bfp_from_bf16(v: torch.Tensor, fmt: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Bare bf16 data (..., 16 k) -> (codes same shape, shared exponents (..., k)).

    Blocks are 16 consecutive elements of the last dimension."""
    w = BFP_MANT_BITS[fmt]
    blocks = v.reshape(*v.shape[:-1], -1, 16)
    s = (blocks >> 15) & 1
    e = (blocks >> 7) & 255
    m = (blocks & 127) | torch.where(e > 0, 128, 0)
    max_e = e.amax(dim=-1, keepdim=True)
    shift = max_e - e
    q = (m + (torch.ones_like(shift) << shift.clamp(max=7))) >> (shift.clamp(max=7) + 1)
    q = torch.where(shift >= 8, torch.zeros_like(q), q)
    q = torch.where(q == 128, torch.full_like(q, 127), q)
    q = q >> (7 - w)
    codes = torch.where(q > 0, q | (s << w), q)
    return codes.reshape(v.shape), max_e.squeeze(-1)


def pack_bfp(dst: torch.Tensor, dest: str, fmt: str, precise: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Dst words of a (..., 32) logical array -> (codes, shared exponents (..., 2)) as the packer
    produces them (early conversion ``bfp_early_bf16``, then ``bfp_from_bf16``)."""
    return bfp_from_bf16(bfp_early_bf16(dst, dest, precise), fmt)


def bfp_value(codes: torch.Tensor, shared_exp: torch.Tensor, fmt: str) -> torch.Tensor:
    """Exact value (float64) each code encodes: ``+-mag * 2^(shared_exp - 127 - (w - 1))``.

    ``shared_exp`` is per block (..., k) and is broadcast over 16-element blocks."""
    w = BFP_MANT_BITS[fmt]
    e = shared_exp.repeat_interleave(16, dim=-1).to(torch.float64)
    mag = (codes & ((1 << w) - 1)).to(torch.float64)
    sgn = torch.where(((codes >> w) & 1) == 1, -1.0, 1.0).to(torch.float64)
    return sgn * mag * torch.exp2(e - 127 - (w - 1))


def bfp_tile_bytes(codes: torch.Tensor, shared_exp: torch.Tensor, fmt: str) -> torch.Tensor:
    """One 32x32 tile's codes (32, 32) and shared exponents (32, 2) -> its L1 image (uint8)."""
    face_codes = to_faces(codes.to(torch.int64)).reshape(-1)  # face order, row-major in a face
    exps = to_faces(shared_exp.repeat_interleave(16, dim=1).to(torch.int64))[:, :, 0].reshape(-1)
    if fmt == "bfp8_b":
        data = face_codes & 0xFF
    elif fmt == "bfp4_b":
        pairs = face_codes.reshape(-1, 2) & 0xF
        data = pairs[:, 0] | (pairs[:, 1] << 4)
    else:
        raise ValueError(f"not a BFP format: {fmt}")
    return torch.cat([exps, data]).to(torch.uint8)


def l1_acc_fp32(l1: torch.Tensor, src: torch.Tensor) -> torch.Tensor:
    """Packer L1 accumulation, fp32: ``l1 + src`` as described in the module docstring."""
    a = from_bits(flush_denormal_signed(l1))
    b = from_bits(flush_denormal_signed(src))
    r = to_bits(a + b)
    r = torch.where((r & 0x7FFFFFFF) > 0x7F800000, torch.full_like(r, 0x7FC00000), r)
    return flush_denormal_signed(r)


def l1_acc_bf16(l1: torch.Tensor, src: torch.Tensor) -> torch.Tensor:
    """Packer L1 accumulation, bf16 words (upper half): exact sum rounded to nearest even."""
    d = (l1 >> 16) & 0xFFFF
    s = (src >> 16) & 0xFFFF
    inf_nan = ((d == 0x7F80) & (s == 0xFF80)) | ((d == 0xFF80) & (s == 0x7F80))
    d = torch.where((d & 0x7FFF) < 0x80, d & 0x8000, d)
    s = torch.where((s & 0x7FFF) < 0x80, s & 0x8000, s)

    def as_f64(x, nan_bits):
        f = _bits16_to_f64(x)
        return torch.where((x & 0x7FFF) > 0x7F80, nan_bits, f)

    d_nan = _i64_to_f64(((d & 0x8000) << 48) | ((0x7FF << 52) - 1))
    s_nan = _i64_to_f64(((s & 0x8000) << 48) | ((255 - 127 + 1023) << 52) | ((s & 0x7F) << 45))
    total = as_f64(d, d_nan) + as_f64(s, s_nan)
    r64 = total.contiguous().view(torch.int64)
    sg = (r64 >> 63) & 1
    e = ((r64 >> 52) & 0x7FF) - 1023 + 127
    m = r64 & ((1 << 52) - 1)
    rounded = (e.clamp(0, 255) << 7) + ((m + (1 << 44) - 1 + ((m >> 45) & 1)) >> 45)
    out = torch.where(e <= 0, sg << 15, torch.where(e >= 255, (sg << 15) | 0x7F80, (sg << 15) | rounded))
    out = torch.where(inf_nan, torch.full_like(out, 0x7FC0), out)
    return out << 16


def _i64_to_f64(x: torch.Tensor) -> torch.Tensor:
    return x.to(torch.int64).contiguous().view(torch.float64)


def _bits16_to_f64(x: torch.Tensor) -> torch.Tensor:
    return from_bits(x << 16).to(torch.float64)


__all__ = [
    "bfp_early_bf16",
    "bfp_from_bf16",
    "bfp_tile_bytes",
    "bfp_value",
    "l1_acc_bf16",
    "l1_acc_fp32",
    "pack_bf16_to_bf16",
    "pack_bfp",
    "pack_fp32_to_bf16",
    "pack_fp32_to_fp32",
]
