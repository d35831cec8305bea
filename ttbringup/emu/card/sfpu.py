"""The Wormhole B0 vector unit (SFPU): the FP32 multiply-add every SFPU float op rounds through, and
the two ways a result becomes bf16.  Words follow the ``formats`` conventions (int64 holding uint32).

Modelled behaviour (tests/data/card_golden/README.md rule 10; the Wormhole ``SFPMAD`` model of
tt-isa-documentation / ttsim ``fma_model_wh``):

* ``fma(x, y, z)`` = ``x * y + z`` (SFPMAD): denormal inputs are zero; the 48-bit product gets 3
  guard bits and is cut to the addend's 24 + 3 bit scale with a sticky bit; the aligning shift of the
  smaller term is "semi-sticky" (the sticky bit is set only when some bits survive); one round to
  nearest even; overflow -> inf; a result that is (or rounds to) a denormal -> +0 (sign discarded);
  when the product alone is zero or underflows the addend is returned as is (+0 for a zero or
  denormal addend).  NaN results are not canonical: an invalid operation yields
  ``sign | 0x7F800001`` with the bits of the ordinary result OR-ed in (Wormhole leaks them).
* ``stoch_rnd_bf16(x)``: SFP_STOCH_RND FP32 -> bf16 in round-to-nearest mode: **ties away from
  zero** on the magnitude; a zero exponent (zero, denormal) -> +0; inf / NaN -> inf of the same sign.
* ``store_bf16(x)``: SFPSTORE to a BF16 Dst (then SFPLOAD back, an exact widening): **truncation**
  after flushing denormals to a zero of the same sign.
"""

from __future__ import annotations

import torch

from .formats import SIGN_BIT, bit_length, flush_denormal_signed


def _unpack(v):
    e = (v >> 23) & 255
    m = torch.where(e == 0, torch.zeros_like(v), (v & 0x7FFFFF) | 0x800000)
    return e, m


def _semi_sticky_shift(m: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    sc = s.clamp(0, 62)
    shifted = m >> sc
    lost = (shifted << sc) != m
    out = torch.where((shifted != 0) & lost, shifted | 1, shifted)
    return torch.where(s >= 62, torch.zeros_like(m), out)


def fma(x: torch.Tensor, y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """SFPMAD ``x * y + z`` on fp32 words (see the module docstring); returns fp32 words."""
    x, y, z = torch.broadcast_tensors(x.to(torch.int64), y.to(torch.int64), z.to(torch.int64))
    xe, xm = _unpack(x)
    ye, ym = _unpack(y)
    ze, zm = _unpack(z)
    z_sign = z & SIGN_BIT
    p_sign = (x ^ y) & SIGN_BIT
    pm = (xm * ym) << 3
    zm = zm << 3
    pm = (pm >> 23) | ((pm & 0x7FFFFF) != 0).to(torch.int64)
    pe = xe + ye - 127

    zero = torch.zeros_like(x)
    out = zero.clone()
    done = torch.zeros_like(x, dtype=torch.bool)

    def settle(mask, value):
        nonlocal out, done
        take = mask & ~done
        out = torch.where(take, value, out)
        done = done | take

    z_inf = zm == 0x4000000
    special = (xe == 255) | (ye == 255) | (pe >= 255) | (ze == 255)
    invalid = (
        ((xe == 255) & ((xm != 0x800000) | (ym == 0)))
        | ((ye == 255) & ((ym != 0x800000) | (xm == 0)))
        | ((ze == 255) & z_inf & ((xe == 255) | (ye == 255) | (pe >= 255)) & (z_sign != p_sign))
    )
    z_nan = ~invalid & (ze == 255) & ~z_inf
    nan_result = torch.where(special & invalid, p_sign | 0x7F800001, zero)
    nan_result = torch.where(special & z_nan, z_sign | 0x7F800001, nan_result)
    settle(special & ~invalid & ~z_nan & (ze == 255), z)  # z is inf
    settle(special & ~invalid & ~z_nan, p_sign | 0x7F800000)  # the product is inf
    pe = torch.where(special, pe.clamp(max=255), pe)
    has_nan = nan_result != 0

    p_gone = (pm == 0) | (pe < 0)
    settle(p_gone & ~has_nan, torch.where(zm != 0, z, zero))
    pm = torch.where(p_gone, zero, pm)
    pe = torch.where(p_gone, zero, pe)

    re = torch.maximum(pe, ze)
    pm = _semi_sticky_shift(pm, re - pe)
    zm = _semi_sticky_shift(zm, re - ze)
    r_sign = torch.where(pm >= zm, p_sign, z_sign)
    rm = torch.where(p_sign == z_sign, pm + zm, (pm - zm).abs()) & 0xFFFFFFFF
    settle(rm == 0, nan_result)

    n = bit_length(rm) - 27
    re = re + n
    settle(re >= 255, torch.where(has_nan, nan_result, r_sign | 0x7F800000))
    settle(re < 0, nan_result)
    rm = torch.where(n <= 0, rm << (-n).clamp(0, 40), (rm >> n.clamp(0, 40)) | (rm & 1))
    r = (re.clamp(0, 255) << 23) + ((rm >> 3) & 0x7FFFFF)
    r = r + (((rm & 7) + (r & 1)) > 4).to(torch.int64)
    settle((r >> 23) == 0, nan_result)
    settle(torch.ones_like(done), torch.where(has_nan, nan_result, r_sign) | r)
    return out & 0xFFFFFFFF


def stoch_rnd_bf16(x: torch.Tensor) -> torch.Tensor:
    """SFP_STOCH_RND FP32 -> bf16, round-to-nearest mode: ties away from zero; returns fp32 words
    with the bf16 in the upper half."""
    e = (x >> 23) & 255
    mag = x & 0x7FFFFFFF
    up = (mag & 0xFFFF) >= 0x8000
    r = ((mag >> 16) + up.to(torch.int64)) << 16
    r = torch.where(e == 0, torch.zeros_like(r), r | (x & SIGN_BIT))
    return torch.where(e == 255, (x & SIGN_BIT) | 0x7F800000, r)


def store_bf16(x: torch.Tensor) -> torch.Tensor:
    """SFPSTORE to a BF16 Dst and SFPLOAD back: denormals -> signed zero, then truncation."""
    return flush_denormal_signed(x) & 0xFFFF0000
