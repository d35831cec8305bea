"""Card numerics of the elementwise binary ops ``add`` / ``subtract`` / ``multiply`` of ttnn 0.81.1 (binary_ng) on
Wormhole B0 (card mode, see ``numerics_mode``; facts §3.3, §4, §5.1; docs/card-numerics.md).

Contracts:

* ``fpu_chosen(fast_and_approximate_mode)``: 0.81.1 runs a float binary op on the matrix unit (FPU) when
  ``fast_and_approximate_mode`` is True (``add``'s default) and on the vector unit (SFPU) when it is False
  (``subtract`` / ``multiply``'s default): the 0.81.1 docstrings ("True ... uses the FPU implementation ...
  max error of 1 ULP"; "False ... uses SFPU with the result rounded to nearest even").
* ``dest_is_fp32(dtypes)``: the Dst is FP32 iff an input or the output is float32 (binary_ng's
  ``fp32_dest_acc_en``), else BF16.
* ``scalar_value(s, tensor_dtype)``: a Python scalar operand as the kernel receives it: truncated to bf16
  (PR #27171: "leave truncation in scalar passing to kernel in binary ops") unless the tensor is float32.
* ``fpu(op, a, b, fp32_dest, fidelity="HiFi4", reference=False)``: float32 values (same shape) -> Dst
  values: operands unpacked into SrcA (a) / SrcB (b) (bf16 / block-float values exact, float32 truncated to
  TF32), then ELWADD / ELWSUB (no fidelity; the smaller operand aligned in an 11-bit window with rounding) or
  ELWMUL (the fidelity phases, binary_ng's ComputeConfig default HiFi4, each rounded into Dst). The fast
  path is a float64 formulation of the ``card.fpu`` arithmetic that gives its results on finite data
  (tests/emu/test_card_binary.py checks it bit for bit); inf / NaN operands and the Wormhole "-1"
  renormalisation quirk (FP32 Dst) are only in the reference path (``reference=True``: the primitives).
* ``sfpu(op, a, b, fp32_dest)``: the vector unit: denormal inputs are zero, float32 arithmetic (SFPMAD;
  a product of two bf16 values and every add used here round once), ``0 * x`` is 0, a denormal result +0;
  with a BF16 Dst the result is rounded to bf16 to nearest even (``float32_to_bf16_rne``).
* ``pack(dst, fp32_dest, out_dtype)``: the packer (``card_common.pack``) (FP32 Dst -> bf16 ties away
  from zero; block floats by the device's double rounding).
"""

from __future__ import annotations

import torch

from . import card_common
from .card import formats, fpu as card_fpu
from .types import DataType


def fpu_chosen(fast_and_approximate_mode: bool) -> bool:
    """True when 0.81.1 runs the op on the matrix unit."""
    return bool(fast_and_approximate_mode)


def dest_is_fp32(dtypes) -> bool:
    """binary_ng's ``fp32_dest_acc_en``: any float32 operand or output."""
    return any(d == DataType.FLOAT32 for d in dtypes)


def scalar_value(s: float, tensor_dtype: DataType) -> float:
    """A scalar operand as the kernel gets it (bf16 truncation unless the tensor is float32)."""
    if tensor_dtype == DataType.FLOAT32:
        return float(s)
    bits = torch.tensor(float(s), dtype=torch.float32).view(torch.int32) & -(1 << 16)
    return bits.view(torch.float32).item()


def _src_words(v: torch.Tensor) -> torch.Tensor:
    """float32 values -> Src words (bf16 values exact; float32 truncated to TF32)."""
    return formats.to_bits(v) & ~0x1FFF


def fpu(op: str, a: torch.Tensor, b: torch.Tensor, fp32_dest: bool, fidelity: str = "HiFi4",
        reference: bool = False) -> torch.Tensor:
    """Dst values of ``a op b`` on the matrix unit (see the module docstring); ``reference`` runs the int64
    ``card.fpu`` primitives, otherwise the float formulation ``_elwadd_fast`` / ``_elwmul_fast``."""
    if not reference:
        a, b = _src_values(a), _src_values(b)
        if op == "mul":
            return _elwmul_fast(a, b, fidelity, fp32_dest)
        return _elwadd_fast(a, -b if op == "sub" else b, fp32_dest)
    dest = "fp32" if fp32_dest else "bf16"
    wa, wb = _src_words(a), _src_words(b)
    if op == "mul":
        words = card_fpu.eltwise_mul(wa, wb, fidelity, dest)
    else:
        words = card_fpu.eltwise_add(wa, wb, dest, subtract=op == "sub")
    return formats.from_bits(words)


def _src_values(v: torch.Tensor) -> torch.Tensor:
    """float32 values as Src holds them: TF32-truncated, a zero exponent (zero, denormal) read as +0."""
    bits = v.to(torch.float32).contiguous().view(torch.int32) & ~0x1FFF
    return torch.where((bits & 0x7F800000) == 0, 0, bits).view(torch.float32)


def _exponent(v: torch.Tensor) -> torch.Tensor:
    return (v.contiguous().view(torch.int32) >> 23) & 255


def _grid(e: torch.Tensor, below: int, dtype=torch.float64) -> torch.Tensor:
    """``2^(e - 127 - below)``: the weight of the last bit kept of a (below + 1)-bit significand at biased
    exponent ``e``."""
    return torch.ldexp(torch.ones(e.shape, dtype=dtype), e - 127 - below)


def _round_into_dst(s: torch.Tensor, fp32_dest: bool) -> torch.Tensor:
    """Exact sums (float64, or float32 when they have at most 24 significant bits) rounded into Dst, half away
    from zero on the magnitude (24 or 8 significant bits); a result with a zero exponent field -> +0."""
    if s.dtype == torch.float64:
        bits = s.contiguous().view(torch.int64)
        bits = (bits + (1 << 28)) & -(1 << 29)  # to 24 significant bits, ties away (exact in float32 afterwards)
        s = bits.view(torch.float64).to(torch.float32)
    if not fp32_dest:
        s = ((s.contiguous().view(torch.int32) + 0x8000) & -(1 << 16)).view(torch.float32)
    return torch.where(_exponent(s) == 0, torch.zeros_like(s), s)


def _elwadd_fast(a: torch.Tensor, b: torch.Tensor, fp32_dest: bool) -> torch.Tensor:
    """ELWADD of Src values: the smaller magnitude rounded half up onto the 11-bit grid of the larger, the
    (at most 12-bit, exact) sum rounded into Dst. Equals ``card.fpu.eltwise_add`` on finite Src data (the
    11-bit pre-rounding of a BF16 Dst does nothing to a 12-bit sum at the larger operand's exponent)."""
    swap = a.abs() < b.abs()
    big, small = torch.where(swap, b, a), torch.where(swap, a, b)
    g = _grid(_exponent(big), 10, torch.float32)  # the small term / g < 2^11: float32 is exact throughout
    small = torch.sign(small) * torch.floor(small.abs() / g + 0.5) * g
    return _round_into_dst(big + small, fp32_dest)


_HI_MASK = {"A": -(1 << 19), "B": -(1 << 17)}
_FULL_MASK = {"A": -(1 << 14), "B": -(1 << 13)}  # SrcA never uses the TF32 LSB


def _slices(v: torch.Tensor, reg: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(hi, lo) fidelity slices of Src values (exact float32; SrcA: hidden + 4 / next 5, SrcB: hidden + 6 /
    next 4)."""
    bits = v.contiguous().view(torch.int32)
    hi = (bits & _HI_MASK[reg]).view(torch.float32)
    full = (bits & _FULL_MASK[reg]).view(torch.float32)
    return hi, full - hi


def _elwmul_fast(a: torch.Tensor, b: torch.Tensor, fidelity: str, fp32_dest: bool) -> torch.Tensor:
    """ELWMUL of Src values, a in SrcA, b in SrcB: per fidelity phase the exact slice product at its nominal
    exponent (``ea + eb - 127``, -5 for SrcA-lo, -7 for SrcB-lo) and Dst aligned to the larger of that and
    Dst's exponent, each rounded onto its grid (BF16 Dst: 11-bit, the product half toward +inf, Dst half away;
    FP32 Dst: 24-bit), added exactly and rounded into Dst. Equals ``card.fpu.eltwise_mul`` on finite Src data
    (the two-stage alignment rounding of the primitive collapses to one where it can matter at all)."""
    ea, eb = _exponent(a), _exponent(b)
    zero = (ea == 0) | (eb == 0)
    sa, sb = _slices(a, "A"), _slices(b, "B")
    # BF16 Dst: the terms / g stay below 2^13 and their sum below 2^14, exact in float32; an FP32 Dst needs
    # float64 (terms on a 24-bit grid)
    below, work = (23, torch.float64) if fp32_dest else (10, torch.float32)
    d = torch.zeros(a.shape, dtype=torch.float32)
    for i, p in enumerate(card_fpu.phases(fidelity)):
        e_nom = ea + eb - 127 - (5 if p & 1 else 0) - (7 if p & 2 else 0)
        gone = zero | (e_nom <= 0)
        prod = torch.where(gone, 0.0, sa[p & 1] * sb[(p >> 1) & 1]).to(work)  # exact (<= 12 bits)
        if i == 0:  # Dst is zero: the product alone, rounded
            s = prod
            e = torch.where(gone, 0, e_nom)
        else:
            e = torch.maximum(torch.where(gone, 0, e_nom), _exponent(d))
            g = _grid(e, below, work)
            dd = d.to(work)
            s = torch.sign(dd) * torch.floor(dd.abs() / g + 0.5) * g + torch.floor(prod / g + 0.5) * g
        d = torch.where(e <= 0, torch.zeros_like(d), _round_into_dst(s, fp32_dest))
    return d


def _flush(v: torch.Tensor) -> torch.Tensor:
    return torch.where(v.abs() < 2.0**-126, torch.zeros_like(v), v)


def sfpu(op: str, a: torch.Tensor, b: torch.Tensor, fp32_dest: bool) -> torch.Tensor:
    """Dst values of ``a op b`` on the vector unit (see the module docstring)."""
    a, b = _flush(a), _flush(b)
    if op == "mul":
        out = torch.where((a == 0) | (b == 0), torch.zeros_like(a), a * b)
    else:
        out = a - b if op == "sub" else a + b
    out = _flush(out)
    if fp32_dest:
        return out
    return out.to(torch.bfloat16).float()  # float32_to_bf16_rne


def pack(dst: torch.Tensor, fp32_dest: bool, out_dtype: DataType) -> torch.Tensor:
    """Output values the packer writes from Dst values."""
    return card_common.pack(dst, fp32_dest, out_dtype)
