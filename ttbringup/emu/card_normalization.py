"""Card numerics of ``rms_norm`` / ``layer_norm`` / ``softmax`` of ttnn 0.81.1 on Wormhole B0 (card mode, see
``numerics_mode``; facts §4, §6; docs/card-numerics.md): the steps of the 0.81.1 compute kernels
(``normalization/layernorm/device/kernels/compute/layernorm.cpp``, ``.../softmax/.../attention/compute/softmax.cpp``
in the wheel) in their order, each on the unit that runs it, with the rounding of each Dst and circular buffer.

Contracts:

* ``resolve_config(op, dtype, compute_kernel_config)`` -> ``card_matmul.CardConfig``: a passed config field by
  field (``MathFidelity.Invalid`` counts as LoFi, as for matmul); with none, 0.81.1's defaults: ``rms_norm``
  HiFi4, approx True, BF16 Dst; ``layer_norm`` HiFi4, approx False, FP32 Dst; ``softmax`` HiFi3 (Wormhole),
  approx iff the input is not float32, FP32 Dst.
* Values move between steps through circular buffers in the *intermediate format*: float32 with an FP32 Dst,
  otherwise bf16 (facts §6 [GUESS], as softmax's host code does; for a bfloat8_b input the card may keep
  bfloat8_b intermediates, not modelled). A float32 buffer re-entering SrcA / SrcB is truncated to TF32.
* Row reductions (``reduce_tile<SUM, REDUCE_ROW>`` against a scaler tile of ones) run on the matrix unit at the
  op's fidelity into its Dst format, the row's tiles in order, one Dst rounding per 16-wide chunk
  (``card_matmul.dst_fast``, or ``dst_reference`` with ``reference``); the mean is that sum times the float32
  ``1/N`` on the vector unit (``mul_unary_tile``: stored truncated into a BF16 Dst).
* ``rms_norm(x, weight, bias, residual, eps, cfg, reference)``: [pre-add x + residual (ELWADD)], ``x * x``
  (ELWMUL), reduce, ``* 1/N``, ``+ eps`` (ELWADD; eps as the intermediate format holds it, bf16 by
  truncation), ``rsqrt`` (the precise SFPU kernel), ``x * rsqrt`` (ELWMUL), ``* gamma`` (ELWMUL), ``+ beta``
  (ELWADD); ``layer_norm`` the same with ``E[x]`` (reduce, ``* 1/N``) and ``x - E[x]`` (ELWSUB) first and the
  centred values in place of ``x``. Returns float32 Dst values of the last step (the caller packs them).
* ``softmax(x, cfg, reference, numeric_stable=True)`` over the last dim: row max (exact), ``x - max`` (ELWSUB;
  without ``numeric_stable`` the input is copied into Dst as it is), exp (the SFPU
  kernel; approximate iff ``math_approx_mode``) into the exps buffer, reduce, reciprocal (precise 2-step
  with an FP32 Dst, else ``recip_tile`` with ``math_approx_mode``), ``exps * recip`` (ELWMUL). Returns Dst
  values.
* Elementwise FPU steps use the bit-exact ``card.fpu`` ELWADD / ELWMUL (``card_binary.fpu``).
"""

from __future__ import annotations

import torch

from . import card_binary, card_common, card_matmul, card_unary
from .card import fpu as card_fpu
from .types import DataType, MathFidelity

_FIDELITY = {MathFidelity.LoFi: "LoFi", MathFidelity.HiFi2: "HiFi2", MathFidelity.HiFi3: "HiFi3",
             MathFidelity.HiFi4: "HiFi4", MathFidelity.Invalid: "LoFi"}


def resolve_config(op: str, dtype: DataType, compute_kernel_config=None) -> card_matmul.CardConfig:
    """The compute config 0.81.1 runs a normalisation with (see the module docstring)."""
    if compute_kernel_config is not None:
        c = compute_kernel_config
        return card_matmul.CardConfig(_FIDELITY[c.math_fidelity], bool(c.fp32_dest_acc_en), bool(c.packer_l1_acc),
                                      bool(c.math_approx_mode))
    if op == "rms_norm":
        return card_matmul.CardConfig("HiFi4", False, False, True)
    if op == "layer_norm":
        return card_matmul.CardConfig("HiFi4", True, False, False)
    if op == "softmax":
        return card_matmul.CardConfig("HiFi3", True, False, dtype != DataType.FLOAT32)
    raise ValueError(f"no card config for {op}")


# ----------------------------------------------------------------------------- buffers and units


def _buffer(dst: torch.Tensor, fp32_dest: bool) -> torch.Tensor:
    """Dst values packed into an intermediate circular buffer (float32 as is, bf16 by the packer)."""
    return dst if fp32_dest else card_common.pack(dst, False, DataType.BFLOAT16)


def _scalar(value: float, fp32_dest: bool) -> float:
    """A host scalar (eps) as the intermediate format holds it: float32, or bf16 by truncation."""
    return card_binary.scalar_value(value, DataType.FLOAT32 if fp32_dest else DataType.BFLOAT16)


def _row_sum(x: torch.Tensor, cfg, reference: bool) -> torch.Tensor:
    """Dst [..., 1] of the FPU row reduction of buffer values ``x`` [..., W] against a scaler tile of ones."""
    shape = x.shape
    rows = card_matmul.src_values(x.reshape(-1, shape[-1]).contiguous(), DataType.FLOAT32)
    if reference:
        ones = torch.ones((shape[-1], 1), dtype=torch.float32)
        dst = card_matmul.dst_reference(rows, ones, cfg.math_fidelity, cfg.fp32_dest_acc_en)
    else:
        dst = _row_sum_fast(rows, cfg.math_fidelity, cfg.fp32_dest_acc_en)
    return dst.reshape(*shape[:-1], 1)


def _row_sum_fast(rows: torch.Tensor, fidelity: str, fp32_dest: bool) -> torch.Tensor:
    """``card_matmul.dst_fast(rows, ones)`` specialised to the ones operand (SrcA): its lo slice is zero, so
    only phases 0 (SrcB-hi) and 2 (SrcB-lo) add anything; the 16-wide chunk sums are taken at once (float32)
    and added into Dst chunk by chunk in the LLK order (per K tile: phase 0 both halves, then phase 2)."""
    pad = -rows.shape[1] % 32
    if pad:
        rows = torch.nn.functional.pad(rows, (0, pad))
    bits = rows.view(torch.int32)
    hi = (bits & -(1 << 17)).view(torch.float32)
    parts = [hi]
    if 2 in card_fpu.phases(fidelity):
        parts.append((bits & -(1 << 13)).view(torch.float32) - hi)
    n, k = rows.shape
    sums = torch.stack([p.reshape(n, k // 32, 2, 16).sum(-1) for p in parts], dim=2)  # (n, tiles, phase, half)
    # one row per MVMUL, in order; the steps are sequential and small, so they run on numpy views of the same
    # memory (about 1 us per step against torch's 5-10 us: the reduction dominated card-mode norms and softmax)
    terms = sums.reshape(n, -1).T.contiguous().numpy()
    d = torch.zeros(n, dtype=torch.float32)
    d_np = d.numpy()
    d_bits = d_np.view("int32")
    for term in terms:
        d_np += term
        if not fp32_dest:
            d_bits += 0x8000
            d_bits &= -(1 << 16)
    return d


def _row_mean(x: torch.Tensor, cfg, reference: bool) -> torch.Tensor:
    """The row sum times float32 ``1/N`` on the SFPU (truncated into a BF16 Dst), packed into a buffer."""
    inv_n = torch.tensor(1.0 / x.shape[-1], dtype=torch.float32).item()
    mean = card_unary.Arith(reference, wide=cfg.fp32_dest_acc_en).mul(_row_sum(x, cfg, reference), inv_n)
    if not cfg.fp32_dest_acc_en:
        mean = card_unary._store_bf16(mean)
    return _buffer(mean, cfg.fp32_dest_acc_en)


def _fpu(op: str, a: torch.Tensor, b, cfg, reference: bool) -> torch.Tensor:
    """An FPU eltwise step (b broadcast to a's shape) into Dst."""
    a, b = torch.broadcast_tensors(a, torch.as_tensor(b, dtype=torch.float32))
    return card_binary.fpu(op, a.contiguous(), b.contiguous(), cfg.fp32_dest_acc_en, cfg.math_fidelity, reference)


def _sfpu(kernel, dst: torch.Tensor, cfg, reference: bool) -> torch.Tensor:
    """An SFPU kernel on Dst values (the values as SFPLOAD sees them)."""
    x = card_unary.load(dst, cfg.fp32_dest_acc_en)
    return kernel(x, card_unary.Arith(reference, wide=cfg.fp32_dest_acc_en), cfg.fp32_dest_acc_en)


# ----------------------------------------------------------------------------- the ops


def _normalise(centred: torch.Tensor, weight, bias, eps: float, cfg, reference: bool) -> torch.Tensor:
    """The steps after the centring: square, mean, + eps, rsqrt, the two multiplies and the add."""
    fp32 = cfg.fp32_dest_acc_en
    ex2 = _row_mean(_buffer(_fpu("mul", centred, centred, cfg, reference), fp32), cfg, reference)
    ex2pe_dst = _fpu("add", ex2, _scalar(eps, fp32), cfg, reference)
    ex2pe = _buffer(_sfpu(card_unary.rsqrt, ex2pe_dst, cfg, reference), fp32)
    out = _fpu("mul", centred, ex2pe, cfg, reference)
    if weight is not None:
        out = _fpu("mul", _buffer(out, fp32), weight, cfg, reference)
    if bias is not None:
        out = _fpu("add", _buffer(out, fp32), bias, cfg, reference)
    return out


def _input(x: torch.Tensor, residual, cfg, reference: bool) -> torch.Tensor:
    """The input row values, after the fused pre-add when there is a residual."""
    if residual is None:
        return x
    return _buffer(_fpu("add", x, residual, cfg, reference), cfg.fp32_dest_acc_en)


def rms_norm(x, weight, bias, residual, eps: float, cfg, reference: bool = False) -> torch.Tensor:
    """Dst values of the card's rms_norm (see the module docstring)."""
    return _normalise(_input(x, residual, cfg, reference), weight, bias, eps, cfg, reference)


def layer_norm(x, weight, bias, residual, eps: float, cfg, reference: bool = False) -> torch.Tensor:
    """Dst values of the card's layer_norm (see the module docstring)."""
    x = _input(x, residual, cfg, reference)
    ex = _row_mean(x, cfg, reference)
    centred = _buffer(_fpu("sub", x, ex, cfg, reference), cfg.fp32_dest_acc_en)
    return _normalise(centred, weight, bias, eps, cfg, reference)


def softmax(x: torch.Tensor, cfg, reference: bool = False, numeric_stable: bool = True) -> torch.Tensor:
    """Dst values of the card's softmax over the last dim (see the module docstring)."""
    fp32 = cfg.fp32_dest_acc_en
    if numeric_stable:
        shifted = _fpu("sub", x, x.amax(dim=-1, keepdim=True), cfg, reference)
    else:  # copy_tile: the input unpacked into Dst as it is (``_sfpu`` reads it as SFPLOAD does)
        shifted = x
    approx = cfg.math_approx_mode
    exps = _buffer(_sfpu(lambda v, ar, f: card_unary.exp(v, ar, f, approx=approx), shifted, cfg, reference), fp32)
    recip_approx = approx and not fp32  # with an FP32 Dst the kernel asks for the precise reciprocal
    recip = _buffer(_sfpu(lambda v, ar, f: card_unary.reciprocal(v, ar, f, approx=recip_approx),
                          _row_sum(exps, cfg, reference), cfg, reference), fp32)
    return _fpu("mul", exps, recip, cfg, reference)
