"""Bit-exact host numerics of ttnn 0.81.1: bfloat16 rounding, block floating point
(bfloat8_b / bfloat4_b) quantisation, tile padding, device byte packing, integer wrapping.

The rules are those of tests/data/ttnn_golden/README.md (measured on the real wheel):

* bfloat16: round to nearest even on the upper 16 bits of the fp32 word, overflow to +-inf,
  denormals kept, every NaN -> 0x7FC0.
* bfp (W = mantissa bits counting the explicit leading one; 7 for bfloat8_b, 3 for bfloat4_b):
  16 consecutive values of a row share the largest fp32 exponent field of the block; each value
  keeps a sign and a W-bit magnitude code ``m`` (RNE on the dropped bits after an aligning shift
  that drops bits without a sticky bit, saturating at 2^W - 1); value = +-m * 2^(exp - 127 - (W-1)).

Representation of bfp data (``bfp_quantize`` / ``bfp_dequantize``): ``mant`` int8 holds the signed
code (two's complement, -(2^W-1)..2^W-1), ``exp`` uint8 the shared exponent per 16-value block.
This pair is exactly the device's information (sign, code, shared exponent), so it is lossless,
including blocks whose shared exponent is 255: there the device decodes bit-wise, i.e. a code
with its leading bit set (|m| >= 2^(W-1)) has exponent field 255 and becomes +-Inf when its
lower W-1 bits are 0 and a NaN with those bits as the top of its payload otherwise (sign kept);
smaller codes are the finite values m * 2^(129 - W).  The fast multiply decode already gives
+-Inf for |m| >= 2^(W-1) in such blocks, so only the NaN codes need a (rare) slow fix-up.
"""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F

BFLOAT8_B_BITS = 7
BFLOAT4_B_BITS = 3

BLOCK = 16  # values per shared exponent (one face row of a 16x16 face)
TILE = (32, 32)
_BF16_NAN = 0x7FC0
_QUANT_CHUNK_BLOCKS = 1 << 16  # blocks per quantisation chunk: int32 temporaries of 4 MiB each


# ----------------------------------------------------------------------------- bfloat16


def to_bfloat16(x: torch.Tensor) -> torch.Tensor:
    """Round to torch.bfloat16 like ttnn: RNE on the upper 16 bits of the fp32 word, overflow to
    +-inf, denormals kept (and rounded), every NaN -> 0x7FC0 (positive quiet NaN).

    Non-float32 inputs are first converted to float32 (exact for float16/bfloat16; float64 and
    integers are rounded to float32 first, i.e. two roundings; the golden data does not pin the
    int -> bfloat16 path for values where that differs from a single rounding).
    torch's own cast rounds the same way but turns NaN into 0xFFFF; that is fixed up here.
    """
    if x.is_meta:
        return torch.empty(x.shape, dtype=torch.bfloat16, device="meta")
    if x.dtype == torch.bfloat16:  # already rounded: only NaNs may need canonicalising (no fp32 copy)
        if _may_hold_nan(x):
            x = x.clone()
            x.view(torch.int16).masked_fill_(x.isnan(), _BF16_NAN)
        return x
    if x.dtype != torch.float32:
        x = x.to(torch.float32)
    if not _torch_bf16_cast_is_rne():
        return _bf16_by_bits(x)
    y = x.to(torch.bfloat16)
    if _may_hold_nan(x):
        y.view(torch.int16).masked_fill_(x.isnan(), _BF16_NAN)
    return y


def _may_hold_nan(x: torch.Tensor) -> bool:
    """False only when ``x`` holds no NaN: a sum propagates every NaN (and turns +inf + -inf into one, a false alarm
    that only costs the exact mask pass after it). 2-4x cheaper than amax or isnan().any() on op-sized tensors."""
    return bool(x.numel()) and math.isnan(x.sum().item())  # .item(): one torch call fewer than bool(.isnan())


def _bf16_by_bits(x: torch.Tensor) -> torch.Tensor:
    """Reference fp32 -> bf16 on the bit pattern (slow, int64): RNE on the upper 16 bits, NaN -> 0x7FC0."""
    u = x.view(torch.int32).to(torch.int64) & 0xFFFFFFFF
    r = (u + 0x7FFF + ((u >> 16) & 1)) >> 16  # finite values cannot carry past bit 31
    r.masked_fill_(x.isnan(), _BF16_NAN)
    return (r - ((r >> 15) << 16)).to(torch.int16).view(torch.bfloat16)


@functools.cache
def _torch_bf16_cast_is_rne() -> bool:
    """True if torch's fp32 -> bf16 cast rounds non-NaN values exactly like ttnn on this build/CPU
    (some instruction sets flush denormals). Checked once on crafted and random bit patterns,
    large enough to go through the vectorised kernels."""
    g = torch.Generator().manual_seed(1234)
    crafted = torch.tensor(
        [0x00000001, 0x00008000, 0x00018000, 0x007FFFFF, 0x00800000, 0x3F808000, 0x3F818000,
         0x3F808001, 0x3F807FFF, 0x7F7FFFFF, 0x7F7F8000, 0x7F7F7FFF, 0x7F800000, 0x80000000],
        dtype=torch.int64)
    rand = torch.randint(-(2**31), 2**31, (1 << 14,), generator=g, dtype=torch.int64)
    bits = torch.cat([crafted.repeat(64), rand]).to(torch.int32)
    bits = torch.cat([bits, bits | -(2**31)])  # both signs
    x = bits.view(torch.float32)
    x = x[~x.isnan()]
    return torch.equal(x.to(torch.bfloat16).view(torch.int16), _bf16_by_bits(x).view(torch.int16))


# ----------------------------------------------------------------------------- tiles


def tile_pad(x: torch.Tensor, pad_value: float = 0.0, tile: tuple[int, int] = TILE) -> torch.Tensor:
    """Pad the last two dims up to multiples of ``tile`` with ``pad_value``, like ttnn's TILE layout.

    A 0-D/1-D tensor is first viewed as one row ([1, N]), so the result always has >= 2 dims.
    Crop back with ``y[..., :H, :W]`` (and ``.reshape(orig_shape)`` for 0-D/1-D inputs).
    """
    if x.dim() < 2:
        x = x.reshape(1, -1)
    ph = -x.shape[-2] % tile[0]
    pw = -x.shape[-1] % tile[1]
    if ph == 0 and pw == 0:
        return x
    return F.pad(x, (0, pw, 0, ph), mode="constant", value=pad_value)


def face_order(t: torch.Tensor, per_row: int = 32) -> torch.Tensor:
    """Reorder [..., H, C] (H % 32 == 0, C % per_row == 0, ``per_row`` entries per tile row) into
    device order [..., n_tiles, 32 * per_row]: tiles row-major over the tile grid, inside a tile
    its four faces (top-left, top-right, bottom-left, bottom-right), each face row-major.

    per_row=32 orders the values of tiles; per_row=2 orders the per-block exponents
    ([..., H, W // 16]), giving the 64 exponents of each tile in the same face order.
    """
    *lead, h, c = t.shape
    if h % 32 or c % per_row:
        raise ValueError(f"shape {tuple(t.shape)} is not a whole number of tiles")
    half = per_row // 2
    g = t.reshape(*lead, h // 32, 2, 16, c // per_row, 2, half)
    n = len(lead)
    g = g.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2, n + 5)
    return g.reshape(*lead, (h // 32) * (c // per_row), 32 * per_row)


# ----------------------------------------------------------------------------- bfp


def _check_bits(mantissa_bits: int) -> None:
    if mantissa_bits not in (BFLOAT8_B_BITS, BFLOAT4_B_BITS):
        raise ValueError(f"mantissa_bits must be {BFLOAT8_B_BITS} or {BFLOAT4_B_BITS}, got {mantissa_bits}")


def _check_width(shape: torch.Size) -> None:
    if len(shape) < 1 or shape[-1] % BLOCK:
        raise ValueError(f"last dim of {tuple(shape)} must be a multiple of {BLOCK} (tile-pad first)")


def bfp_quantize(x: torch.Tensor, mantissa_bits: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Quantise float32 ``x`` [..., H, W] (W % 16 == 0, already tile-padded) to block floating point.

    Returns ``(mant, exp)``: ``mant`` int8 of x's shape with the signed magnitude code
    (-(2^W-1)..2^W-1, zero codes carry no sign), ``exp`` uint8 [..., H, W // 16] with the shared
    exponent of each block of 16 consecutive values of a row. Any strides/leading dims are accepted.
    """
    _check_bits(mantissa_bits)
    _check_width(x.shape)
    if x.dtype != torch.float32:
        raise TypeError(f"bfp_quantize expects float32, got {x.dtype}")
    exp_shape = (*x.shape[:-1], x.shape[-1] // BLOCK)
    mant = torch.empty(x.shape, dtype=torch.int8, device=x.device)
    exp = torch.empty(exp_shape, dtype=torch.uint8, device=x.device)
    if x.is_meta:
        return mant, exp
    blocks = x.reshape(-1, BLOCK).view(torch.int32)  # copies only if x's strides require it
    mant_rows = mant.view(-1, BLOCK)
    exp_flat = exp.view(-1)
    for s in range(0, blocks.shape[0], _QUANT_CHUNK_BLOCKS):
        e = slice(s, s + _QUANT_CHUNK_BLOCKS)
        _quantize_blocks(blocks[e], mantissa_bits, mant_rows[e], exp_flat[e])
    return mant, exp


def _quantize_blocks(bits: torch.Tensor, w: int, mant_out: torch.Tensor, exp_out: torch.Tensor) -> None:
    """Quantise fp32 bit patterns ``bits`` (int32 [n, 16]) into ``mant_out`` (int8 [n, 16]) and
    ``exp_out`` (uint8 [n]). All arithmetic in int32; values stay below 2^25."""
    e = (bits >> 23) & 0xFF
    shared = e.amax(dim=1, keepdim=True)
    m = bits & 0x7FFFFF
    m |= 0x800000
    m.masked_fill_(e == 0, 0)  # zeros and denormals have code 0
    shift = torch.sub(shared, e, out=e).clamp_(max=31)  # >= 24 clears m anyway
    m >>= shift
    drop = 24 - w
    q = (m >> drop) & 1  # round half to even on the dropped bits
    q += m
    q += (1 << (drop - 1)) - 1
    q >>= drop
    q.clamp_(max=(1 << w) - 1)  # saturate, no exponent carry
    neg = bits >> 31  # 0 or -1
    q ^= neg
    q -= neg  # two's complement negate where negative; -0 codes become 0
    mant_out.copy_(q)
    exp_out.copy_(shared.squeeze(1))


@functools.cache
def bfp_scale_table(mantissa_bits: int) -> torch.Tensor:
    """float32 [256]: 2^(e - 127 - (W-1)) for each shared exponent e (exact; small e are denormal): a code times
    its block's entry is its value. Shared, not to be written to."""
    return torch.tensor([2.0 ** (e - 127 - (mantissa_bits - 1)) for e in range(256)], dtype=torch.float32)


def bfp_dequantize(mant: torch.Tensor, exp: torch.Tensor, mantissa_bits: int) -> torch.Tensor:
    """Decode ``(mant, exp)`` from ``bfp_quantize`` to float32 of mant's shape, bit-exact with ttnn's
    round trip (``to_dtype(float32)``). Works on any views: mant [..., H, W] with W % 16 == 0 and
    exp [..., H, W // 16] (e.g. matching column slices of a larger weight).

    Fast path: code * 2^(exp-127-(W-1)) is exact in fp32 (also for denormal scales; results are
    never denormal for codes quantize produces, and overflow only happens at exp 255 giving +-Inf).
    Blocks with exp == 255 get NaN codes restored by ``_restore_nans``.
    """
    _check_bits(mantissa_bits)
    _check_width(mant.shape)
    nb = mant.shape[-1] // BLOCK
    if tuple(exp.shape) != (*mant.shape[:-1], nb):
        raise ValueError(f"exp shape {tuple(exp.shape)} does not match mant shape {tuple(mant.shape)}")
    if mant.is_meta or exp.is_meta:
        return torch.empty(mant.shape, dtype=torch.float32, device="meta")
    scale = bfp_scale_table(mantissa_bits).to(mant.device).take(exp.long())  # [..., H, nb]
    out = mant.to(torch.float32)
    out.unflatten(-1, (nb, BLOCK)).mul_(scale.unsqueeze(-1))
    if exp.numel() and exp.amax() == 255:
        _restore_nans(out, mant, exp == 255, mantissa_bits)
    return out


def _restore_nans(out: torch.Tensor, mant: torch.Tensor, special: torch.Tensor, w: int) -> None:
    """In blocks with shared exponent 255 (``special`` [..., H, nb]) a code with its leading bit set
    decodes bit-wise to exponent field 255: Inf if the lower W-1 bits are 0 (the multiply already
    gave that), else NaN with those bits at the top of the fraction, sign kept. Writes into ``out``."""
    nb = special.shape[-1]
    codes = mant.unflatten(-1, (nb, BLOCK))[special].to(torch.int32)  # [k, 16], special blocks only
    nan = codes.abs() > (1 << (w - 1))
    c = codes[nan]
    bits = 0x7F800000 | ((c.abs() - (1 << (w - 1))) << (24 - w))
    bits = torch.where(c < 0, bits | -(2**31), bits)
    blocks = out.unflatten(-1, (nb, BLOCK))
    values = blocks[special]
    values[nan] = bits.view(torch.float32)
    blocks[special] = values


def pack_bfp_tiles(mant: torch.Tensor, exp: torch.Tensor, mantissa_bits: int) -> torch.Tensor:
    """Device byte image (uint8, 1-D) of bfp data [..., H, W] with H, W multiples of 32.

    Per tile (tiles row-major, leading dims outermost): 64 shared-exponent bytes, then one
    sign-magnitude entry per value (sign in the top bit, magnitude code below), values and
    exponents both in face order (see ``face_order``). bfloat8_b: one byte per value
    (1088 B/tile); bfloat4_b: 4-bit entries, two per byte, first value in the low nibble
    (576 B/tile).
    """
    _check_bits(mantissa_bits)
    if mant.is_meta or exp.is_meta:
        per_tile = 64 + 1024 * (mantissa_bits + 1) // 8
        return torch.empty(mant.numel() // 1024 * per_tile, dtype=torch.uint8, device="meta")
    codes = face_order(mant.to(torch.int32)).reshape(-1, 1024)
    sm = codes.abs() | ((codes < 0).to(torch.int32) << mantissa_bits)  # sign-magnitude entry
    if mantissa_bits == BFLOAT4_B_BITS:
        sm = sm[:, 0::2] | (sm[:, 1::2] << 4)
    exps = face_order(exp, per_row=2).reshape(-1, 64)
    return torch.cat([exps, sm.to(torch.uint8)], dim=1).reshape(-1)


# ----------------------------------------------------------------------------- integers


def int_to_uint32(x: torch.Tensor) -> torch.Tensor:
    """Integer tensor -> torch.uint32, wrapping modulo 2^32 like ttnn's int64 -> uint32."""
    return (x.to(torch.int64) & 0xFFFFFFFF).to(torch.uint32)


def int_to_int32(x: torch.Tensor) -> torch.Tensor:
    """Integer tensor -> torch.int32, wrapping modulo 2^32 (two's complement) like ttnn."""
    v = x.to(torch.int64) & 0xFFFFFFFF
    return (v - ((v >> 31) << 32)).to(torch.int32)
