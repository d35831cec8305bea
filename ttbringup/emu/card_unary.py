"""Card numerics of the vector-unit (SFPU) unary kernels of ttnn 0.81.1 on Wormhole B0 (card mode, see
``numerics_mode``; facts §1.4, §3.1, §5; docs/card-numerics.md).

Each kernel is the 0.81.1 instruction sequence (``tt_metal/hw/ckernels/wormhole_b0/metal/llk_api/llk_sfpu``
in the 0.81.1 wheel) re-expressed on whole float32 tensors: every SFPMAD (``a * b + c``, also the plain
multiplies and adds) goes through ``Arith.mad``, the bit manipulations (exponent / mantissa extraction,
``setexp``, ``copyman``, shifts) are int32 bit operations, and the bf16 roundings are ``SFP_STOCH_RND`` (ties
away from zero) or ``SFPSTORE`` (truncation) as the kernel does them.

Contracts:

* ``Arith(reference, wide)``: ``reference=True`` uses the bit-exact Wormhole ``card.sfpu.fma`` (partially
  fused product, denormal flushing, its NaN bits). The fast path (``reference=False``) multiplies and adds in
  float32 (two roundings; used with a BF16 Dst, where the kernels round to bf16 anyway: over every bf16 input
  at most 3 outputs per kernel differ from the bit-exact path) or, with ``wide`` (an FP32 Dst), in float64
  rounded once to float32 (the last float32 bit or two still differs on up to ~10 % of outputs where a Newton
  step cancels, because SFPMAD cuts the product to 27 bits). tests/emu/test_card_unary.py measures both.
* ``load(values, fp32_dest)``: input values as the SFPU reads them from Dst after the unpacker: a zero
  exponent (zero, denormal) becomes +0 for a BF16 Dst (MOVA2D), a signed zero for an FP32 Dst.
* Kernels ``exp(x, ar, fp32_dest, approx)``, ``reciprocal(x, ar, fp32_dest, approx)``, ``sqrt``, ``rsqrt``,
  ``sigmoid(x, ar, fp32_dest, approx)``, ``silu(x, ar, fp32_dest)``, ``gelu(x, ar)`` (BF16 Dst, accurate
  piecewise form), ``relu(x)``: float32 Dst values in, the Dst values the kernel stores out (with a BF16
  Dst exactly bf16 values). Defaults follow the 0.81.1 kernels for that Dst format: accurate exp is exp_21f
  (BF16 Dst) or the Cody-Waite / degree-6 form (FP32 Dst), approximate exp Schraudolph's
  (``i << 15``, input clamped at -88.5, stored truncated); reciprocal a quadratic seed and one Newton step
  rounded to bf16 (BF16 Dst) or two steps (FP32 Dst); sqrt / rsqrt the magic-constant seed, a quadratic
  refinement and one Newton step; sigmoid ``1 / (1 + exp(-x))`` with exp_21f unrounded (BF16 Dst) and
  one Newton step, or the accurate exp and two steps (FP32 Dst); silu ``x * sigmoid(x)``, always the
  accurate sigmoid. ``sigmoid(approx=True)``'s LUT form and gelu's FP32 Dst (rational erf), tanh and LUT
  forms are not modelled (callers fall back to exact mode for those).
* ``pack_bf16(dst)``: the packer's BF16 Dst -> bf16 conversion (NaN -> inf, zero exponent -> +0).
* ``run(kernel, values, dtype, reference=False)``: a unary op as the card runs it on a tensor of ``dtype``
  (float32: FP32 Dst, 0.81.1's ``fp32_dest_acc_en`` for float32 inputs; otherwise a BF16 Dst): ``load``,
  ``kernel(x, Arith(reference, wide=fp32_dest), fp32_dest)``, then the packer into ``dtype`` (for the
  block floats: the device's double rounding; ``card_common.pack``). Returns float32 values exactly
  representable in ``dtype``.
"""

from __future__ import annotations

import torch

from . import card_common
from .card import formats, sfpu
from .types import DataType


def _f32(c: float) -> float:
    """A constant as the kernel holds it (float32)."""
    return torch.tensor(c, dtype=torch.float32).item()


class Arith:
    """The SFPU's multiply-add: fast (float32 multiply then add, or with ``wide`` float64 with one rounding to
    float32) or bit-exact (``card.sfpu.fma``)."""

    def __init__(self, reference: bool = False, wide: bool = False):
        self.reference = reference
        self.wide = wide

    def mad(self, a, b, c) -> torch.Tensor:
        """``a * b + c`` as SFPMAD computes it; tensors or float32-exact Python floats, float32 out."""
        if self.reference:
            like = next(t for t in (a, b, c) if isinstance(t, torch.Tensor))
            words = [formats.to_bits(t if isinstance(t, torch.Tensor) else torch.full_like(like, t))
                     for t in (a, b, c)]
            return formats.from_bits(sfpu.fma(*words))
        if not isinstance(a, torch.Tensor):
            a, b = b, a
        if self.wide:
            a = a.double()
            b = b.double() if isinstance(b, torch.Tensor) else b
            c = c.double() if isinstance(c, torch.Tensor) else c
        out = a * b
        if isinstance(c, torch.Tensor) or c != 0.0:
            out = out + c
        return out.float() if self.wide else out

    def mul(self, a, b) -> torch.Tensor:
        return self.mad(a, b, 0.0)

    def add(self, a, c) -> torch.Tensor:
        return self.mad(a, 1.0, c)


# ----------------------------------------------------------------------------- bit operations


def _bits(x: torch.Tensor) -> torch.Tensor:
    return x.contiguous().view(torch.int32)


def _float(bits: torch.Tensor) -> torch.Tensor:
    return bits.contiguous().view(torch.float32)


def _biased_exp(x: torch.Tensor) -> torch.Tensor:
    return (_bits(x) >> 23) & 255


def _setexp(x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
    """SFPSETEXP: ``x`` with its exponent field replaced by the low 8 bits of ``e``."""
    return _float((_bits(x) & ~(255 << 23)) | ((e & 255) << 23))


def _stoch_rnd_bf16(x: torch.Tensor) -> torch.Tensor:
    """SFP_STOCH_RND FP32 -> bf16, round-to-nearest mode: ties away from zero; zero exponent -> +0; inf / NaN
    -> inf of the same sign."""
    b = _bits(x)
    e = b & 0x7F800000
    r = (b + 0x8000) & -(1 << 16)  # on the sign-magnitude word: ties away from zero
    r = torch.where(e == 0x7F800000, (b & -(1 << 31)) | 0x7F800000, r)
    return _float(r.masked_fill_(e == 0, 0))


def _store_bf16(x: torch.Tensor) -> torch.Tensor:
    """SFPSTORE to a BF16 Dst: denormals -> signed zero, then truncation to bf16."""
    b = _bits(x)
    b = torch.where(((b >> 23) & 255) == 0, b & -(1 << 31), b)
    return _float(b & -(1 << 16))


def load(values: torch.Tensor, fp32_dest: bool) -> torch.Tensor:
    """Input values as the SFPU reads them from Dst (see the module docstring)."""
    b = _bits(values.to(torch.float32))
    zero_exp = ((b >> 23) & 255) == 0
    return _float(torch.where(zero_exp, (b & -(1 << 31)) if fp32_dest else 0, b))


def pack_bf16(dst: torch.Tensor) -> torch.Tensor:
    """The packer's BF16 Dst -> bf16: NaN -> inf of the same sign, zero exponent -> +0."""
    b = _bits(dst)
    mag = b & 0x7FFFFFFF
    b = torch.where(mag > 0x7F800000, (b & -(1 << 31)) | 0x7F800000, b)
    return _float(torch.where(mag < 0x00800000, 0, b))


def _finish(y: torch.Tensor, fp32_dest: bool, rounded: bool = True) -> torch.Tensor:
    """The kernel's last steps: SFP_STOCH_RND to bf16 (when ``rounded``) and SFPSTORE for a BF16 Dst."""
    if fp32_dest:
        return y
    return _stoch_rnd_bf16(y) if rounded else _store_bf16(y)  # a rounded value stores unchanged


# ----------------------------------------------------------------------------- exp

_ONE_LN2 = _f32(1.4426950216293334961)
_EXP21F_C = (_f32(1.0017248), _f32(7.839635491371155e-08), _f32(4.791750143340323e-15))
_EXP21F_TTI_C0 = 1.001953125  # the hand-scheduled BF16 kernel loads c0 as the FP16 0x3c02


def _exp_21f(x: torch.Tensor, ar: Arith, c0: float, xlog2_scale: float = _ONE_LN2,
             clamp: bool = True) -> torch.Tensor:
    """Moroz et al.'s exp_21f: ``2^(x / ln2)`` from the bits of ``x / ln2 + 127`` (not rounded to bf16)."""
    xlog2 = ar.mad(x, xlog2_scale, 127.0)
    if clamp:
        xlog2 = xlog2.clamp(0.0, 255.0)
    z = _exp21f_fixed(xlog2)
    frac = (z & 0x7FFFFF).to(torch.float32)  # exact below 2^24
    poly = ar.mad(frac, ar.mad(frac, _EXP21F_C[2], _EXP21F_C[1]), c0)
    return _setexp(poly, (z >> 23) & 255)


def _exp21f_fixed(xlog2: torch.Tensor) -> torch.Tensor:
    """The significand of ``xlog2`` (hidden one at bit 23) shifted by its unbiased exponent: ``xlog2 * 2^23``
    truncated, as an int32 whose exponent field is floor(xlog2) and mantissa the fraction."""
    b = _bits(xlog2)
    shift = ((b >> 23) & 255) - 127
    man = (b & 0x7FFFFF) | 0x800000
    left = man << shift.clamp(0, 8)
    right = man >> (-shift).clamp(0, 31)
    return torch.where(shift >= 0, left, right)


_EXP_FP32_POLY = tuple(_f32(c) for c in (1.37805939e-3, 8.37312452e-3, 4.16695364e-2, 1.66664720e-1,
                                         4.99999851e-1))


def _exp_fp32(a: torch.Tensor, ar: Arith) -> torch.Tensor:
    """The FP32-Dst accurate exp: ``j = round(a / ln2)``, two-part Cody-Waite reduction, degree-6 polynomial,
    ``setexp`` with overflow to inf and underflow to 0."""
    j = ar.mul(a, _f32(1.442695))
    jr = torch.sign(j) * torch.floor(j.abs() + 0.5)  # sign-magnitude 16-bit convert, nearest (ties away)
    jr = jr.clamp(-32767.0, 32767.0)
    f = ar.mad(jr, _f32(-6.93145752e-1), a)
    f = ar.mad(jr, _f32(-1.42860677e-6), f)
    r = torch.full_like(a, _EXP_FP32_POLY[0])
    for c in _EXP_FP32_POLY[1:]:
        r = ar.mad(r, f, c)
    y = ar.mad(r, f, 1.0)
    r = ar.mad(y, f, 1.0)
    e = _biased_exp(r) + jr.to(torch.int32)
    inf = torch.full_like(a, float("inf"))
    out = torch.where(e < 255, _setexp(r, e.clamp(0, 255)), inf)
    out = torch.where(e >= 1, out, torch.zeros_like(a))
    return torch.where(a.isnan(), a, out)


_SCHRAUDOLPH_A = _f32(256.0 * 1.4426950408889634)
_SCHRAUDOLPH_B_MINUS_C = 32500.818359375


def _exp_approx(x: torch.Tensor, ar: Arith, fp32_dest: bool) -> torch.Tensor:
    """Schraudolph's exp: ``i = round_u16(A * max(x, -88.5) + (B - C))``, the word ``i << 15``; stored as is
    (FP32 Dst) or truncated (BF16 Dst)."""
    t = ar.mad(x.clamp(min=-88.5), _SCHRAUDOLPH_A, _SCHRAUDOLPH_B_MINUS_C)
    i = torch.floor(t.clamp(0.0, 65535.0) + 0.5).to(torch.int32).clamp(max=65535)  # nearest, ties away
    y = _float(i << 15)
    return y if fp32_dest else _store_bf16(y)


def exp(x: torch.Tensor, ar: Arith, fp32_dest: bool, approx: bool = False) -> torch.Tensor:
    """The 0.81.1 exp kernel (see the module docstring)."""
    if approx:
        return _exp_approx(x, ar, fp32_dest)
    if fp32_dest:
        return _exp_fp32(x, ar)
    return _finish(_exp_21f(x, ar, _EXP21F_TTI_C0), fp32_dest)


# ----------------------------------------------------------------------------- reciprocal

_RECIP_SEED = tuple(_f32(c) for c in (0.3232325017452239990234375, 1.4545459747314453125,
                                      2.121212482452392578125))
_RECIP_SEED_BF16 = tuple(_f32(c) for c in (0.32133400440216064453125, 1.4514148235321044921875,
                                           2.1200883388519287109375))


def _reciprocal_iter(x: torch.Tensor, ar: Arith, steps: int, round_bf16: bool, seed: tuple) -> torch.Tensor:
    """``1 / x``: seed ``k2 + (k1 + k0 (-m)) (-m)`` on the mantissa ``m`` in [1, 2), ``steps`` Newton steps
    (at least one), optional round to bf16, scaled by ``2^(127 - e)`` (from the inverted word), sign copied."""
    b = _bits(x)
    neg_m = _float((b & 0x7FFFFF) | _bits(torch.tensor(-1.0)).item())  # copyman(-1.0, x)
    y = ar.mad(neg_m, seed[0], seed[1])
    scale = _float(~b & -(1 << 23))  # setman(~x, 0): exponent 255 - e, inverted sign
    y = ar.mad(y, neg_m, seed[2])
    t = ar.mad(neg_m, y, 1.0)
    scale = ar.mul(scale, 0.5)
    y = ar.mad(y, t, y)
    for _ in range(steps - 1):
        t = ar.mad(neg_m, y, 1.0)
        y = ar.mad(y, t, y)
    if round_bf16:
        y = _stoch_rnd_bf16(y)
    y = ar.mul(y, scale)
    return _float((_bits(y) & 0x7FFFFFFF) | (b & -(1 << 31)))  # copysgn(y, x)


def reciprocal(x: torch.Tensor, ar: Arith, fp32_dest: bool, approx: bool = False) -> torch.Tensor:
    """The 0.81.1 reciprocal kernel (``recip_tile`` after ``recip_tile_init``)."""
    if approx:
        return _finish(_reciprocal_iter(x, ar, 1, False, _RECIP_SEED), fp32_dest, rounded=False)
    if fp32_dest:
        return _reciprocal_iter(x, ar, 2, False, _RECIP_SEED)
    return _store_bf16(_reciprocal_iter(x, ar, 1, True, _RECIP_SEED_BF16))


# ----------------------------------------------------------------------------- sqrt / rsqrt

_SQRT_MAGIC = 0x5F1110A0
_SQRT_K = (_f32(2.2825186), _f32(2.2533049))
_INF_BITS = 0x7F800000


def _sqrt_body(x: torch.Tensor, ar: Arith, reciprocal_: bool) -> torch.Tensor:
    """The precise sqrt / rsqrt body: ``y0 = C - (bits >> 1)``, ``y *= k1 + c (k2 + c)`` with ``c = -y x y``,
    then one Newton / Markstein step; zero, inf and negative inputs as the kernel treats them."""
    b = _bits(x)
    y = _float(_SQRT_MAGIC - ((b >> 1) & 0x7FFFFFFF))
    xy = ar.mul(x, y)
    c = ar.mul(-y, xy)
    y = ar.mul(y, ar.mad(c, ar.add(c, _SQRT_K[1]), _SQRT_K[0]))
    xy = ar.mul(x, y)
    one_minus_xyy = ar.mad(-y, xy, 1.0)
    nan = torch.full_like(x, float("nan"))
    if reciprocal_:
        half_y = _float(torch.where(_biased_exp(y) > 0, _bits(y) - (1 << 23), _bits(y)))  # addexp(y, -1)
        special = ((_INF_BITS - b) == 0) | ((b << 1) == 0)
        y = ar.mad(one_minus_xyy, half_y, y)
        y = torch.where(x < 0, nan, y)
        return torch.where(special, _float(_INF_BITS - b), y)
    half_xy = ar.mul(xy, 0.5)
    y = torch.where(b < _INF_BITS, ar.mad(one_minus_xyy, half_xy, xy), y)
    y = torch.where(x < 0, nan, y)
    return torch.where((b << 1) == 0, x, y)


def sqrt(x: torch.Tensor, ar: Arith, fp32_dest: bool) -> torch.Tensor:
    """The 0.81.1 precise sqrt kernel, rounded to bf16 for a BF16 Dst."""
    return _finish(_sqrt_body(x, ar, False), fp32_dest)


def rsqrt(x: torch.Tensor, ar: Arith, fp32_dest: bool) -> torch.Tensor:
    """The 0.81.1 precise rsqrt kernel, rounded to bf16 for a BF16 Dst."""
    return _finish(_sqrt_body(x, ar, True), fp32_dest)


# ----------------------------------------------------------------------------- sigmoid / silu


def _sigmoid_body(x: torch.Tensor, ar: Arith, fp32_dest: bool) -> torch.Tensor:
    """``1 / (1 + exp(-x))``, unrounded: exp_21f and one Newton step (BF16 Dst) or the accurate exp and two
    steps (FP32 Dst), the reciprocal's default seed."""
    e = _exp_fp32(-x, ar) if fp32_dest else _exp_21f(-x, ar, _EXP21F_C[0])
    return _reciprocal_iter(ar.add(e, 1.0), ar, 2 if fp32_dest else 1, False, _RECIP_SEED)


def sigmoid(x: torch.Tensor, ar: Arith, fp32_dest: bool, approx: bool = False) -> torch.Tensor:
    """The 0.81.1 accurate sigmoid kernel (``approx=True``, its LUT form, is not modelled)."""
    if approx:
        raise NotImplementedError("the LUT sigmoid (approx mode) is not modelled")
    return _finish(_sigmoid_body(x, ar, fp32_dest), fp32_dest)


def silu(x: torch.Tensor, ar: Arith, fp32_dest: bool) -> torch.Tensor:
    """The 0.81.1 silu kernel: ``x * sigmoid(x)`` with the accurate sigmoid, rounded to bf16 for a BF16 Dst."""
    return _finish(ar.mul(x, _sigmoid_body(x, ar, fp32_dest)), fp32_dest)


# ----------------------------------------------------------------------------- gelu

_GELU_CORE = tuple(_f32(c) for c in (3.9894227818e-01, -6.6361041488e-02, 9.7720050615e-03, -1.0717806322e-03,
                                     8.1812159812e-05, -3.8082057209e-06, 7.9821413868e-08))
_GELU_HCORR = tuple(_f32(c) for c in (3.0369991064e-01, 9.5413386822e-02, 1.3809983619e-02, 7.5950479368e-04))
_GELU_LOW, _GELU_CORE_LOW, _GELU_IDENTITY = _f32(-5.54259443), -3.125, 2.78125


def _horner(x: torch.Tensor, coeffs: tuple, ar: Arith) -> torch.Tensor:
    """``c0 + x (c1 + x (c2 + ...))`` by multiply-adds, as the kernels' polynomial evaluator does."""
    acc = torch.full_like(x, coeffs[-1])
    for c in reversed(coeffs[:-1]):
        acc = ar.mad(x, acc, c)
    return acc


def gelu(x: torch.Tensor, ar: Arith) -> torch.Tensor:
    """The 0.81.1 accurate gelu for a BF16 Dst: 0 below -5.5426, ``x * grid(exp_21f(-x^2/2) * h(x))`` up to
    -3.125, ``x * (0.5 + x p(x^2))`` (degree-13 odd CDF) up to 2.78125, ``x`` above; rounded to bf16."""
    x2 = ar.mul(x, x)
    exp_val = _exp_21f(x2, ar, _EXP21F_C[0], xlog2_scale=_f32(-0.72134752044), clamp=False)
    h = ar.mul(exp_val, _horner(x, _GELU_HCORR, ar))
    tail = ar.mul(x, ar.add(ar.add(h, 0.375), -0.375))  # H snapped to a 2^-25 grid
    core = ar.mul(x, ar.mad(x, _horner(x2, _GELU_CORE, ar), 0.5))
    out = torch.where(x >= _GELU_IDENTITY, x, torch.where(x >= _GELU_CORE_LOW, core, tail))
    out = torch.where(x > _GELU_LOW, out, torch.zeros_like(x))
    return _finish(out, fp32_dest=False)


def relu(x: torch.Tensor) -> torch.Tensor:
    """``max(x, 0)`` (exact on the card)."""
    return torch.where(x < 0, torch.zeros_like(x), x)


def run(kernel, values: torch.Tensor, dtype: DataType, reference: bool = False) -> torch.Tensor:
    """A unary op's output values on the card (see the module docstring)."""
    fp32_dest = dtype == DataType.FLOAT32
    dst = kernel(load(values, fp32_dest), Arith(reference, wide=fp32_dest), fp32_dest)
    return card_common.pack(dst, fp32_dest, dtype)
