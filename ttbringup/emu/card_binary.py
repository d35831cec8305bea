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
* ``fpu(op, a, b, fp32_dest, fidelity="HiFi4")``: float32 values (same shape) -> Dst values: operands
  unpacked into SrcA (a) / SrcB (b) (bf16 / block-float values exact, float32 truncated to TF32), then the
  bit-exact ELWADD / ELWSUB (no fidelity; the smaller operand aligned in an 11-bit window with rounding) or
  ELWMUL (the fidelity phases, binary_ng's ComputeConfig default HiFi4, each rounded into Dst), from the
  ``card.fpu`` primitives.
* ``sfpu(op, a, b, fp32_dest)``: the vector unit: denormal inputs are zero, float32 arithmetic (SFPMAD;
  a product of two bf16 values and every add used here round once), ``0 * x`` is 0, a denormal result +0;
  with a BF16 Dst the result is rounded to bf16 to nearest even (``float32_to_bf16_rne``).
* ``pack(dst, fp32_dest, out_dtype)``: the packer, as ``card_matmul.pack`` (FP32 Dst -> bf16 ties away
  from zero; block floats by the device's double rounding).
"""

from __future__ import annotations

import torch

from . import card_matmul
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


def fpu(op: str, a: torch.Tensor, b: torch.Tensor, fp32_dest: bool, fidelity: str = "HiFi4") -> torch.Tensor:
    """Dst values of ``a op b`` on the matrix unit (see the module docstring)."""
    dest = "fp32" if fp32_dest else "bf16"
    wa, wb = _src_words(a), _src_words(b)
    if op == "mul":
        words = card_fpu.eltwise_mul(wa, wb, fidelity, dest)
    else:
        words = card_fpu.eltwise_add(wa, wb, dest, subtract=op == "sub")
    return formats.from_bits(words)


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
    return card_matmul.pack(dst, fp32_dest, out_dtype)
