"""Normalisations (``ttnn/operations/normalization``): ``rms_norm``, ``layer_norm``, ``softmax``,
``scale_mask_softmax``.

Statistics are taken in float32 over the *logical* last dim (tile padding never counts), and the
result is rounded once into the input's dtype. Like the op's torch golden, the normalised value is
rounded to bfloat16 before the weight multiply when the weight is bfloat16 (the card keeps that
intermediate in a bf16 circular buffer). Output shape, layout and dtype are the input's; the
memory config defaults to the input's. ``program_config`` is ignored; ``compute_kernel_config`` matters in card
mode only (``card_normalization``: the 0.81.1 kernels' steps, defaults per op, a passed config field by field).
"""

from __future__ import annotations

import torch

from . import card_common, card_normalization, distinct_rows, numerics, numerics_mode
from . import compute_kernel_config as compute_kernel_config_checks
from .errors import check, fatal, not_emulated_getattr
from .tensor import Tensor, new_tensor
from .types import BLOCK_FLOAT_DTYPES, DataType, Layout, TensorMemoryLayout
from .validate import normalize_dim, on_device, tensor_arg
from .per_chip import per_chip

_INPUT_DTYPES = (DataType.BFLOAT16, DataType.FLOAT32, DataType.BFLOAT8_B)
_GAMMA_DTYPES = (DataType.BFLOAT16, DataType.FLOAT32)


def _check_input(op: str, t: Tensor, row_major_ok: bool = False) -> None:
    on_device(t, op, "Operands to layernorm need to be on device!")
    if row_major_ok and t.layout == Layout.ROW_MAJOR:  # layer_norm tilizes it (real 0.81.1) and gives ROW_MAJOR back
        check(t.shape[-1] % 32 == 0, op, f"ROW_MAJOR input requires W ({t.shape[-1]}) to be a multiple of tile width (32)")
    else:
        check(t.layout == Layout.TILE, op, "Input tensor must be in TILE layout")
    check(t.dtype in _INPUT_DTYPES, op, f"Input dtype {t.dtype} must be BFLOAT16, FLOAT32 or BFLOAT8_B")
    check(len(t.shape) >= 1, op, "Input tensor must have rank >= 1")
    mem = t.memory_config()
    check(mem.memory_layout != TensorMemoryLayout.HEIGHT_SHARDED, op,
          "Sharded input must be width or block sharded, not height sharded")


def _gamma_row(op: str, name: str, g: Tensor | None, x: Tensor) -> torch.Tensor | None:
    """A weight/bias tensor as a float32 row of the input's logical width, after its checks.

    TILE: last padded dim equals the input's; ROW_MAJOR: last padded dim is 32 (the vector
    stored as [W/32, 32] rows). The first ``width`` elements of the flattened tensor are used.
    """
    if g is None:
        return None
    tensor_arg(g, op, name)
    on_device(g, op, f"{name} tensor must be on device")
    if g.dtype not in _GAMMA_DTYPES:  # the message only when raising: formatting an enum costs per op
        raise fatal(op, f"{name} dtype {g.dtype} must be BFLOAT16 or FLOAT32")
    if g.layout == Layout.TILE:
        check(g.padded_shape[-1] == x.padded_shape[-1], op,
              f"{name} last padded dim {g.padded_shape[-1]} must equal input last padded dim {x.padded_shape[-1]}")
    else:
        check(g.padded_shape[-1] == 32, op, f"ROW_MAJOR {name} last padded dim must be 32 (TILE_WIDTH)")
    width = x.shape[-1]
    check(g.logical_volume() >= width, op, f"{name} has fewer elements than the input width {width}")
    return g._values(op).reshape(-1)[:width]


def _prepare(op: str, input_tensor, residual_input_tensor, row_major_ok: bool = False) -> tuple[Tensor, torch.Tensor]:
    """Checks shared by the norms; returns the input and its float32 values (+ residual)."""
    x = tensor_arg(input_tensor, op, "input_tensor")
    _check_input(op, x, row_major_ok)
    values = x._values(op)
    if residual_input_tensor is not None:
        r = tensor_arg(residual_input_tensor, op, "residual_input_tensor")
        on_device(r, op, "residual_input_tensor must be on device")
        if r.layout != Layout.TILE:
            raise fatal(op, f"Residual tensor must have TILE layout, got: {r.layout}")
        if not r.padded_shape == x.padded_shape:
            raise fatal(op, f"residual_input_tensor padded shape {list(r.padded_shape)} must equal input padded shape "
                            f"{list(x.padded_shape)}")
        values = _round_like(values + r._values(op).reshape(values.shape), x.dtype)
    return x, values


def _round_like(values: torch.Tensor, dtype: DataType) -> torch.Tensor:
    """Round an intermediate to what a bf16/bf8 circular buffer holds (bf16); fp32 unchanged."""
    if dtype == DataType.BFLOAT16 or dtype in BLOCK_FLOAT_DTYPES:
        return numerics.to_bfloat16(values).float()
    return values


def _affine(op: str, normed: torch.Tensor, x: Tensor, weight, bias) -> torch.Tensor:
    w = _gamma_row(op, "weight", weight, x)
    b = _gamma_row(op, "bias", bias, x)
    if w is not None:
        if weight.dtype == DataType.BFLOAT16:
            normed = _round_like(normed, DataType.BFLOAT16)
        normed = normed * w
    if b is not None:
        normed = normed + b
    return normed


def _output(values: torch.Tensor, x: Tensor, memory_config, layout: Layout = Layout.TILE) -> Tensor:
    return new_tensor(values, dtype=x.dtype, layout=layout, device=x.device(),
                      memory_config=memory_config or x.memory_config(), tile=x.tile)


def _card_norm(name: str, op: str, x: Tensor, residual, weight, bias, epsilon: float,
               compute_kernel_config) -> torch.Tensor:
    """Card-mode values of rms_norm / layer_norm (``card_normalization``), packed into the input's dtype."""
    cfg = card_normalization.resolve_config(name, x.dtype, compute_kernel_config)
    values = x._values(op)
    res = None if residual is None else residual._values(op).reshape(values.shape)
    kernel = card_normalization.rms_norm if name == "rms_norm" else card_normalization.layer_norm
    gamma, beta = _gamma_row(op, "weight", weight, x), _gamma_row(op, "bias", bias, x)

    def compute(values: torch.Tensor, res) -> torch.Tensor:
        dst = kernel(values, gamma, beta, res, epsilon, cfg, numerics_mode.card_reference())
        return card_common.pack(dst, cfg.fp32_dest_acc_en, x.dtype)

    with card_common.one_thread():
        return distinct_rows.on_distinct_rows(compute, values, res)


@per_chip
def rms_norm(input_tensor, *, epsilon: float = 1e-12, weight=None, bias=None, residual_input_tensor=None,
             memory_config=None, program_config=None, compute_kernel_config=None) -> Tensor:
    """``(x [+ residual]) * rsqrt(mean(x^2, -1) + epsilon) * weight + bias``. Default epsilon is 1e-12."""
    op = "ttnn.rms_norm"
    x, values = _prepare(op, input_tensor, residual_input_tensor)
    if numerics_mode.is_card():
        return _output(_card_norm("rms_norm", op, x, residual_input_tensor, weight, bias, epsilon,
                                  compute_kernel_config), x, memory_config)
    normed = values * torch.rsqrt(values.square().mean(dim=-1, keepdim=True) + epsilon)
    return _output(_affine(op, normed, x, weight, bias), x, memory_config)


@per_chip
def layer_norm(input_tensor, *, epsilon: float = 1e-12, weight=None, bias=None, residual_input_tensor=None,
               memory_config=None, program_config=None, compute_kernel_config=None, recip_tensor=None) -> Tensor:
    """``(x - mean) * rsqrt(var + epsilon) * weight + bias`` over the last dim (biased variance).

    ``recip_tensor`` (precomputed reciprocals for the Welford kernel) does not change results. Unlike rms_norm, a
    ROW_MAJOR input is accepted (its width a tile multiple) and the result is ROW_MAJOR, as in real 0.81.1.
    """
    op = "ttnn.layer_norm"
    x, values = _prepare(op, input_tensor, residual_input_tensor, row_major_ok=True)
    if numerics_mode.is_card():
        return _output(_card_norm("layer_norm", op, x, residual_input_tensor, weight, bias, epsilon,
                                  compute_kernel_config), x, memory_config, layout=x.layout)
    var, mean = torch.var_mean(values, dim=-1, unbiased=False, keepdim=True)
    normed = (values - mean) * torch.rsqrt(var + epsilon)
    return _output(_affine(op, normed, x, weight, bias), x, memory_config, layout=x.layout)


@per_chip
def softmax(input_tensor, dim: int = -1, *, memory_config=None, compute_kernel_config=None,
            numeric_stable: bool = True) -> Tensor:
    """``torch.softmax(x, dim)`` over logical values; TILE, same dtype out (a ROW_MAJOR input is tilized, as
    real 0.81.1 does, so the result is TILE either way).

    ``numeric_stable`` (subtract the max first) only changes results on overflow, which float32
    math does not reach for bf16 inputs.
    """
    op = "ttnn.softmax"
    compute_kernel_config_checks.check_passed(compute_kernel_config)
    x = tensor_arg(input_tensor, op, "input_tensor")
    on_device(x, op, "Operands to softmax need to be on device!")
    check(x.dtype in _INPUT_DTYPES, op, f"Input dtype {x.dtype} must be BFLOAT16, FLOAT32 or BFLOAT8_B")
    # real 0.81.1 also takes width-sharded input (the op-facts "interleaved or height sharded" is too strict)
    d = normalize_dim(dim, len(x.shape), op)
    if numerics_mode.is_card() and d == len(x.shape) - 1:  # the attention kernel; other dims compute exactly
        cfg = card_normalization.resolve_config("softmax", x.dtype, compute_kernel_config)
        def compute(v: torch.Tensor) -> torch.Tensor:
            dst = card_normalization.softmax(v, cfg, numerics_mode.card_reference(), numeric_stable)
            return card_common.pack(dst, cfg.fp32_dest_acc_en, x.dtype)

        with card_common.one_thread():
            values = distinct_rows.on_distinct_rows(compute, x._values(op))
        return _output(values, x, memory_config)
    return _output(torch.softmax(x._values(op), dim=d), x, memory_config)


@per_chip
def scale_mask_softmax(input_tensor, scale: float | None = None, mask=None, *, memory_config=None,
                       is_causal_mask: bool = False, compute_kernel_config=None, numeric_stable: bool = True) -> Tensor:
    """``softmax(x * scale + mask)`` over the last dim. The mask (any layout) has x's batch, one head
    (``[B, 1, S or 1, W]``) and x's width; a scale needs a mask, as in 0.81.1. ``is_causal_mask`` only tells the
    kernel the mask is a full per-row mask; the sum is the same."""
    op = "ttnn.scale_mask_softmax"
    compute_kernel_config_checks.check_passed(compute_kernel_config)
    x = tensor_arg(input_tensor, op, "input_tensor")
    on_device(x, op, "Operands to softmax need to be on device!")
    check(x.dtype in _INPUT_DTYPES, op, f"Input dtype {x.dtype} must be BFLOAT16, FLOAT32 or BFLOAT8_B")
    check(scale is None or mask is not None, op, "Scale value must not be set when mask is not present")
    values = x._values(op)
    if mask is not None:
        m = tensor_arg(mask, op, "mask")
        on_device(m, op, "Operands to softmax need to be on device!")
        x_shape, m_shape = list(x.shape), list(m.shape)
        check(m_shape[-1] == x_shape[-1], op,
              f"Input and mask inner dimensions must match, got input: {x_shape[-1]} vs mask: {m_shape[-1]}")
        check(m_shape[0] == x_shape[0], op,
              f"Input and mask batch sizes must match, got input: {x_shape[0]} vs mask: {m_shape[0]}")
        check(len(m_shape) < 3 or m_shape[1] == 1, op,
              f"Mask intermediate dimension 1 must be 1, got: {m_shape[1]}. This path requires head-uniform masks; "
              "apply a per-head bias with a separate ttnn::add before ttnn::softmax.")
        values = values * scale + m._values(op) if scale is not None else values + m._values(op)
    return _output(torch.softmax(values, dim=-1), x, memory_config)

__getattr__ = not_emulated_getattr("ttnn")
