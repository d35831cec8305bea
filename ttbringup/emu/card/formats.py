"""Bit-pattern helpers shared by the card-numerics primitives.

Every primitive of ``ttbringup.emu.card`` works on **int64 tensors holding unsigned 32-bit words**
(0 .. 2^32-1) laid out like an IEEE float32: sign in bit 31, 8-bit exponent in bits 30..23,
23-bit mantissa below.  A bfloat16 word is kept in the upper half (low 16 bits zero) unless a
function says it takes or returns a bare 16-bit pattern.  int64 leaves head-room for the
hardware's intermediate widths (<= 32 bits) and keeps every shift non-negative and logical.

Contracts:

* ``to_bits(x)`` / ``from_bits(b)``: float32 tensor <-> int64 word, exact (NaN payloads kept).
* ``sign`` / ``exponent`` / ``mantissa``: the three fields of a word.
* ``bit_length(m)``: number of significant bits of a non-negative integer tensor (0 for 0),
  i.e. ``32 - clz32(m)`` for values below 2^32.
* ``shift_right_round_half_up(m, d)``: ``floor(m / 2^d + 1/2)`` for non-negative ``m`` and
  ``d >= 0`` (d clamped so huge shifts give 0); the hardware's usual ``(m + half) >> d``.
"""

from __future__ import annotations

import torch

MASK32 = 0xFFFFFFFF
SIGN_BIT = 0x80000000
EXP_MASK = 0x7F800000
MANT_MASK = 0x007FFFFF


def to_bits(x: torch.Tensor) -> torch.Tensor:
    """float32 tensor -> int64 tensor of its raw uint32 words (bit-exact, NaN payloads kept)."""
    x = x.to(torch.float32).contiguous()
    return x.view(torch.int32).to(torch.int64) & MASK32


def from_bits(b: torch.Tensor) -> torch.Tensor:
    """int64 tensor of uint32 words -> float32 tensor with exactly those bits."""
    b = b.to(torch.int64) & MASK32
    b = torch.where(b >= 2**31, b - 2**32, b)
    return b.to(torch.int32).contiguous().view(torch.float32)


def sign(b: torch.Tensor) -> torch.Tensor:
    """Sign bit (0/1) of a 32-bit word."""
    return (b >> 31) & 1


def exponent(b: torch.Tensor) -> torch.Tensor:
    """Biased 8-bit exponent field of a 32-bit float word."""
    return (b >> 23) & 255


def mantissa(b: torch.Tensor) -> torch.Tensor:
    """23-bit mantissa field (no hidden bit) of a 32-bit float word."""
    return b & MANT_MASK


def bit_length(m: torch.Tensor) -> torch.Tensor:
    """Number of significant bits of each non-negative integer (< 2^53); 0 for 0.

    Uses frexp on float64, which is exact for integers below 2^53."""
    _, e = torch.frexp(m.to(torch.float64))
    return torch.where(m > 0, e.to(torch.int64), torch.zeros_like(m))


def shift_right_round_half_up(m: torch.Tensor, d: torch.Tensor | int) -> torch.Tensor:
    """``(m + 2^(d-1)) >> d`` for non-negative ``m`` (plain ``m`` where ``d == 0``).

    ``d`` is clamped to 62 so that enormous alignment shifts give 0 instead of undefined shifts."""
    d = torch.as_tensor(d, dtype=torch.int64).clamp(0, 62)
    half = torch.where(d > 0, torch.ones_like(d) << (d - 1).clamp(min=0), torch.zeros_like(d))
    return (m + half) >> d


def flush_denormal_signed(b: torch.Tensor) -> torch.Tensor:
    """A word whose exponent field is 0 becomes a zero of the same sign (denormals-as-zero)."""
    return torch.where(exponent(b) == 0, b & SIGN_BIT, b)
