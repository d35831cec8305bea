"""Elementwise ops (``ttnn/operations/eltwise``): ``add``, ``subtract``/``sub``,
``multiply``/``mul`` and the activations ``silu``, ``relu``, ``gelu``.

Float math is done in float32 on the operands' exact device values and rounded once into the
output dtype (bf16 RNE, block floats re-quantised), which is what the card's FPU/SFPU produces up
to its documented <= 1 ULP approximations. Integer operands are computed in int64 and wrapped.
Binary ops broadcast numpy-style on logical shapes (dims of size 1 expand, ranks align right); the
output takes the dtype, layout and memory config of ``input_tensor_a`` (or of the tensor operand
when a is a scalar).
"""

from __future__ import annotations

import functools
import operator

import torch
import torch.nn.functional as F

from . import card_binary, card_common, card_unary, distinct_rows, nd_sharding, numerics, numerics_mode
from .errors import check, fatal, not_emulated_getattr
from .tensor import BlockFloat, Tensor, new_tensor
from .types import FLOAT_DTYPES, INT_DTYPES, DataType, GeluVariant, TensorMemoryLayout
from .validate import not_emulated, on_device, same_device
from .per_chip import computed_like_chip_zero, per_chip

# Activations by the names matmul's ``activation=`` accepts; each maps float32 -> float32.
ACTIVATIONS = {
    "relu": torch.relu,
    "silu": F.silu,
    "gelu": F.gelu,  # erf GELU, ttnn's default variant
}


# ----------------------------------------------------------------------------- binary


def _every_bf16() -> torch.Tensor:
    """All 65536 bf16 bit patterns, NaNs included."""
    return torch.arange(-(2**15), 2**15, dtype=torch.int32).to(torch.int16).view(torch.bfloat16)


@functools.cache
def bf16_kernel_is_exact(fn, arity: int) -> bool:
    """True if torch's bf16 kernel of ``fn`` returns, bit for bit, float32 math rounded once to bf16 (NaNs
    compared as NaNs) on this build and CPU. Checked once: every bf16 value (unary), or every value against
    64 random ones (binary), in vector-sized runs. Those kernels skip the float32 copies (much faster)."""
    x = _every_bf16()
    if arity == 1:
        args = (x,)
    else:
        g = torch.Generator().manual_seed(4321)
        other = torch.randint(-(2**15), 2**15, (64, 1), generator=g, dtype=torch.int32)
        args = (x.reshape(1, -1).expand(64, -1), other.to(torch.int16).view(torch.bfloat16))
    got = fn(*args)
    want = numerics.to_bfloat16(fn(*(a.float() for a in args)))
    nan = got.isnan()
    return bool(torch.equal(nan, want.isnan())) and torch.equal(got[~nan].view(torch.int16), want[~nan].view(torch.int16))


def _bf16_operands(a, b, out_dtype: DataType, fn, op: str) -> tuple | None:
    """Both operands' bf16 storage when a bf16 kernel gives the exact float32 result, else None."""
    if (out_dtype == DataType.BFLOAT16 and isinstance(a, Tensor) and isinstance(b, Tensor)
            and a.dtype == DataType.BFLOAT16 and b.dtype == DataType.BFLOAT16 and bf16_kernel_is_exact(fn, 2)):
        return a._native(op), b._native(op)
    return None


def _operand_values(x, like: Tensor, op: str) -> torch.Tensor | float | int:
    """float32 values of a tensor operand (int64 for integer dtypes), or the scalar itself."""
    if not isinstance(x, Tensor):
        return x
    if like.dtype in INT_DTYPES:
        return x._native(op).to(torch.int64)
    return x._values(op)


def _check_pair(a: Tensor, b: Tensor, op: str) -> tuple:
    """Two tensor operands: same device, compatible dtypes, broadcastable logical shapes."""
    same_device(a, b, op)
    both_float = a.dtype in FLOAT_DTYPES and b.dtype in FLOAT_DTYPES
    if not (both_float or a.dtype == b.dtype):  # the message only when raising: formatting enums costs per op
        raise fatal(op, f"input dtypes must both be floating point or equal, got {a.dtype} and {b.dtype}")
    a_shape, b_shape = tuple(a.shape), tuple(b.shape)
    if a_shape == b_shape:  # the common case, without torch's Python-level broadcast_shapes (~20 us)
        return a_shape
    try:
        return tuple(torch.broadcast_shapes(a_shape, b_shape))
    except RuntimeError:
        raise fatal(op, f"Shapes {list(a.shape)} and {list(b.shape)} are not broadcastable") from None


_CARD_KIND = {"ttnn.add": "add", "ttnn.subtract": "sub", "ttnn.multiply": "mul"}


def _binary_card(op: str, a, b, lead: Tensor, out_dtype: DataType, fast: bool) -> torch.Tensor:
    """Card-mode values of a float binary op (``card_binary``: FPU or SFPU as 0.81.1 picks, Dst, packer)."""
    tensors = [x for x in (a, b) if isinstance(x, Tensor)]
    fp32_dest = card_binary.dest_is_fp32([t.dtype for t in tensors] + [out_dtype])
    va, vb = (x._values(op) if isinstance(x, Tensor)
              else torch.tensor(card_binary.scalar_value(x, lead.dtype), dtype=torch.float32) for x in (a, b))

    def compute(va: torch.Tensor, vb: torch.Tensor) -> torch.Tensor:
        va, vb = (v.contiguous() for v in torch.broadcast_tensors(va, vb))
        if card_binary.fpu_chosen(fast):
            dst = card_binary.fpu(_CARD_KIND[op], va, vb, fp32_dest, reference=numerics_mode.card_reference())
        else:
            dst = card_binary.sfpu(_CARD_KIND[op], va, vb, fp32_dest)
        return card_binary.pack(dst, fp32_dest, out_dtype)

    with card_common.one_thread():
        return distinct_rows.on_distinct_rows(compute, va, vb)


def _binary(op: str, fn, input_tensor_a, input_tensor_b, dtype, memory_config, output_tensor,
            activations, input_tensor_a_activations, input_tensor_b_activations, fast: bool = False) -> Tensor:
    """Shared body of add/subtract/multiply for the tensor-tensor, tensor-scalar and scalar-tensor forms.
    ``fast`` is the op's ``fast_and_approximate_mode`` (card mode: FPU or SFPU)."""
    if output_tensor is not None:
        not_emulated(op, "output_tensor=...")
    if activations or input_tensor_a_activations or input_tensor_b_activations:
        not_emulated(op, "activations=[...]")
    tensors = [x for x in (input_tensor_a, input_tensor_b) if isinstance(x, Tensor)]
    if not tensors:
        raise TypeError(f"{op}: at least one operand must be a ttnn.Tensor")
    for x in (input_tensor_a, input_tensor_b):
        if not isinstance(x, (Tensor, int, float)) or isinstance(x, bool):
            raise TypeError(f"{op}: operands must be ttnn.Tensor, int or float, got {type(x).__name__}")
    lead = tensors[0]
    for t in tensors:
        on_device(t, op, "Input tensors must be on device")
    if len(tensors) == 2:
        _check_pair(input_tensor_a, input_tensor_b, op)
    out_dtype = dtype or lead.dtype
    if memory_config is None:
        memory_config = lead.memory_config()
        if nd_sharding.placed_any and len(tensors) == 2:  # 0.81.1 places it like an ND-sharded operand, either one
            other = tensors[1].memory_config()
            memory_config = other if other.memory_layout == TensorMemoryLayout.ND_SHARDED else memory_config
    if (numerics_mode.is_card() and out_dtype in FLOAT_DTYPES and all(t.dtype in FLOAT_DTYPES for t in tensors)):
        return new_tensor(_binary_card(op, input_tensor_a, input_tensor_b, lead, out_dtype, fast), dtype=out_dtype,
                          layout=lead.layout, device=lead.device(),
                          memory_config=memory_config, tile=lead.tile)
    bf16 = _bf16_operands(input_tensor_a, input_tensor_b, out_dtype, fn, op)
    if bf16 is not None:
        return new_tensor(fn(*bf16), dtype=out_dtype, layout=lead.layout, device=lead.device(),
                          memory_config=memory_config, tile=lead.tile)
    a = _operand_values(input_tensor_a, lead, op)
    b = _operand_values(input_tensor_b, lead, op)
    values = fn(a, b)
    if out_dtype in FLOAT_DTYPES and not values.is_floating_point():
        values = values.float()
    return new_tensor(values, dtype=out_dtype, layout=lead.layout, device=lead.device(),
                      memory_config=memory_config, tile=lead.tile)


def _stacked(x, rank: int, native: bool, op: str):
    """An operand's values for every chip at once: a distributed tensor's on a leading chip dim (ranks aligned to
    ``rank``), a replicated tensor's as they are (they broadcast over the chips), a scalar as it is."""
    if not isinstance(x, Tensor):
        return x
    if x._shards is None:
        return x._native(op) if native else x._values(op)
    x._check_alive(op)
    shards = x._shards
    aligned = shards.reshape(shards.shape[0], *([1] * (rank - len(x.shape))), *x.shape)
    return aligned if native else aligned.float()


def _on_all_chips(op: str, fn, operands: tuple, run_on_chip):
    """Every chip of an elementwise op at once. ``run_on_chip(*views)`` runs the op on chip 0's operands: the
    checks every chip makes, and the output's spec; then ``fn`` computes all chips' values in one call."""
    if numerics_mode.is_card():  # card numerics run chip by chip
        return NotImplemented
    tensors = [x for x in operands if isinstance(x, Tensor)]
    mesh = next(t for t in tensors if t._shards is not None).device()
    if (mesh is None or any(t.device() is not mesh for t in tensors) or any(t.dtype in INT_DTYPES for t in tensors)
            or any(isinstance(t._shards, BlockFloat) for t in tensors)):
        return NotImplemented
    chip0 = mesh.chip(0)
    spec = run_on_chip(*(x._chip_view(0, chip0) if isinstance(x, Tensor) else x for x in operands))
    native = (spec.dtype == DataType.BFLOAT16 and len(tensors) == len(operands)  # as _binary / _unary choose
              and all(t.dtype == DataType.BFLOAT16 for t in tensors) and bf16_kernel_is_exact(fn, len(operands)))
    values = fn(*(_stacked(x, len(spec.shape), native, op) for x in operands))
    return computed_like_chip_zero(spec, mesh, values)


def _binary_on_all_chips(op: str, fn):
    def run(input_tensor_a, input_tensor_b, *, dtype=None, memory_config=None, output_tensor=None, activations=[],
            input_tensor_a_activations=[], input_tensor_b_activations=[], **performance_only):
        return _on_all_chips(op, fn, (input_tensor_a, input_tensor_b), lambda a, b: _binary(
            op, fn, a, b, dtype, memory_config, output_tensor, activations, input_tensor_a_activations,
            input_tensor_b_activations))
    return run


def _unary_on_all_chips(op: str, fn, allowed):
    def run(input_tensor, *, memory_config=None, output_tensor=None, **performance_only):
        return _on_all_chips(op, fn, (input_tensor,), lambda x: _unary(op, fn, x, allowed, memory_config,
                                                                        output_tensor))
    return run


@per_chip(all_chips=_binary_on_all_chips("ttnn.add", operator.add))
def add(input_tensor_a, input_tensor_b, *, fast_and_approximate_mode: bool = True, dtype: DataType | None = None,
        memory_config=None, output_tensor=None, activations=[], input_tensor_a_activations=[],
        input_tensor_b_activations=[], sub_core_grids=None, sub_device_id=None) -> Tensor:
    """``a + b`` with broadcasting; either operand may be an int/float scalar."""
    return _binary("ttnn.add", operator.add, input_tensor_a, input_tensor_b, dtype, memory_config, output_tensor,
                   activations, input_tensor_a_activations, input_tensor_b_activations, fast_and_approximate_mode)


@per_chip(all_chips=_binary_on_all_chips("ttnn.subtract", operator.sub))
def subtract(input_tensor_a, input_tensor_b, *, fast_and_approximate_mode: bool = False,
             dtype: DataType | None = None, memory_config=None, output_tensor=None, activations=[],
             input_tensor_a_activations=[], input_tensor_b_activations=[], sub_core_grids=None,
             sub_device_id=None) -> Tensor:
    """``a - b`` with broadcasting; either operand may be an int/float scalar."""
    return _binary("ttnn.subtract", operator.sub, input_tensor_a, input_tensor_b, dtype, memory_config,
                   output_tensor, activations, input_tensor_a_activations, input_tensor_b_activations,
                   fast_and_approximate_mode)


@per_chip(all_chips=_binary_on_all_chips("ttnn.multiply", operator.mul))
def multiply(input_tensor_a, input_tensor_b, *, fast_and_approximate_mode: bool = False,
             dtype: DataType | None = None, memory_config=None, output_tensor=None, activations=[],
             input_tensor_a_activations=[], input_tensor_b_activations=[], sub_core_grids=None,
             sub_device_id=None) -> Tensor:
    """``a * b`` with broadcasting; either operand may be an int/float scalar."""
    return _binary("ttnn.multiply", operator.mul, input_tensor_a, input_tensor_b, dtype, memory_config,
                   output_tensor, activations, input_tensor_a_activations, input_tensor_b_activations,
                   fast_and_approximate_mode)


sub = subtract
mul = multiply


# ----------------------------------------------------------------------------- unary

_SILU_DTYPES = FLOAT_DTYPES
_RELU_DTYPES = FLOAT_DTYPES + (DataType.INT32, DataType.UINT32, DataType.UINT16, DataType.UINT8)
_GELU_DTYPES = FLOAT_DTYPES


def _unary(op: str, fn, input_tensor, allowed, memory_config, output_tensor, card_kernel=None) -> Tensor:
    """Apply float32 ``fn`` elementwise; shape, dtype and layout are kept. In card mode a float input goes
    through ``card_kernel`` (a ``card_unary`` kernel) when the op has one for its variant."""
    if not isinstance(input_tensor, Tensor):
        raise TypeError(f"{op}: input_tensor must be a ttnn.Tensor, got {type(input_tensor).__name__}")
    if output_tensor is not None:
        not_emulated(op, "output_tensor=...")
    on_device(input_tensor, op, "Unary operation requires input to be on Device.")
    check(input_tensor.dtype in allowed, op, f"Unsupported dtype {input_tensor.dtype}")
    if card_kernel is not None and numerics_mode.is_card() and input_tensor.dtype in FLOAT_DTYPES:
        with card_common.one_thread():
            values = distinct_rows.on_distinct_rows(
                lambda v: card_unary.run(card_kernel, v, input_tensor.dtype, numerics_mode.card_reference()),
                input_tensor._values(op))
    elif input_tensor.dtype in INT_DTYPES:
        values = fn(input_tensor._native(op).to(torch.int64))
    elif input_tensor.dtype == DataType.BFLOAT16 and bf16_kernel_is_exact(fn, 1):
        values = fn(input_tensor._native(op))
    else:
        values = fn(input_tensor._values(op))
    return new_tensor(values, dtype=input_tensor.dtype, layout=input_tensor.layout, device=input_tensor.device(),
                      memory_config=memory_config or input_tensor.memory_config(), tile=input_tensor.tile)


@per_chip(all_chips=_unary_on_all_chips("ttnn.silu", F.silu, _SILU_DTYPES))
def silu(input_tensor, *, memory_config=None, output_tensor=None, sub_core_grids=None) -> Tensor:
    """``x * sigmoid(x)``."""
    return _unary("ttnn.silu", F.silu, input_tensor, _SILU_DTYPES, memory_config, output_tensor, card_unary.silu)


@per_chip(all_chips=_unary_on_all_chips("ttnn.relu", torch.relu, _RELU_DTYPES))
def relu(input_tensor, *, memory_config=None, output_tensor=None, sub_core_grids=None) -> Tensor:
    """``max(x, 0)``; integer dtypes too."""
    return _unary("ttnn.relu", torch.relu, input_tensor, _RELU_DTYPES, memory_config, output_tensor,
                  lambda x, ar, fp32_dest: card_unary.relu(x))


@per_chip
def gelu(input_tensor, *, variant: GeluVariant = GeluVariant.Accurate, fast_and_approximate_mode: bool = False,
         memory_config=None, output_tensor=None, sub_core_grids=None) -> Tensor:
    """GELU. ``Accurate`` (default) is the erf form, ``Tanh`` the tanh approximation.

    The two real overloads are merged: one takes ``variant``, the legacy one
    ``fast_and_approximate_mode`` (True = ``FastLut``). The card's lookup-table GELU (~1% error)
    cannot be reproduced, so it raises NotEmulatedError rather than return different numbers.
    """
    if fast_and_approximate_mode or variant == GeluVariant.FastLut:
        not_emulated("ttnn.gelu", "variant=GeluVariant.FastLut / fast_and_approximate_mode=True")
    approximate = "tanh" if variant == GeluVariant.Tanh else "none"
    card_kernel = None  # card mode models the accurate form with a BF16 Dst only (the others compute exactly)
    if approximate == "none" and isinstance(input_tensor, Tensor) and input_tensor.dtype != DataType.FLOAT32:
        card_kernel = lambda x, ar, fp32_dest: card_unary.gelu(x, ar)  # noqa: E731
    return _unary("ttnn.gelu", lambda x: F.gelu(x, approximate=approximate), input_tensor, _GELU_DTYPES,
                  memory_config, output_tensor, card_kernel)


__getattr__ = not_emulated_getattr("ttnn")
