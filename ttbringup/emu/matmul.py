"""Matrix multiplication (``ttnn/operations/matmul``): ``linear`` and ``matmul``.

Semantics (facts §2.2): both operands on device, TILE, floating point; ``a.shape[-1] ==
b.shape[-2]``. The output rank is max(rank a, rank b); extra leading dims of a higher-rank ``b``
must be 1 and are kept, every other batch dim comes from ``a``: ``[1,S,H] @ [1,1,H,W] ->
[1,1,S,W]``. A ``b`` whose batch dims are all 1 is broadcast over ``a``'s batch; otherwise the
batch dims must be equal (batched matmul). Output dtype defaults to ``a``'s, memory config to DRAM
interleaved, layout is TILE.

Numerics: float32 products and sums, one rounding into the output dtype. Weights are never
converted whole: a bf16 weight is widened and multiplied a column chunk at a time through one
reused float32 buffer, a bfloat8_b/bfloat4_b weight is dequantised chunk by chunk from its
(mantissa, exponent) storage, so the working set stays in cache and no float32 copy of the weight
is ever held.

Two shortcuts keep the emulator fast without changing results. Rows of the activation that repeat
its last row (the idle users of a 32-row decode batch) are multiplied once and copied. And a bf16
activation times a bf16 weight stored K-major (as ``from_torch`` stores large weights) or a
bfloat8_b / bfloat4_b weight (dequantised chunk by chunk to bf16, which holds their <= 7-bit
mantissas exactly) into a bf16 output without bias or activation uses torch's bf16 kernel: bf16
products are exact in float32, sums are float32 and rounded once, like the float32 path (only the
summation order differs). On a CPU with bf16 instructions (``host_cpu.fast_bf16``) it is faster at
every row count; elsewhere only up to ``_FEW_ROWS`` distinct rows.
"""

from __future__ import annotations

import torch

from . import card_binary, card_matmul, card_unary, distinct_rows, host_cpu, matmul_program_config, numerics
from . import numerics_mode, program_configs
from . import compute_kernel_config as compute_kernel_config_checks
from .activation import activation_function, card_activation_kernel
from .errors import check, fatal, not_emulated_getattr
from .tensor import BlockFloat, Tensor, new_distributed_tensor, new_tensor
from .types import DEFAULT_TILE, DRAM_MEMORY_CONFIG, FLOAT_DTYPES, DataType, Layout
from .validate import not_emulated, on_device, same_device, tensor_arg
from .per_chip import chip_values, per_chip
from .program_configs import (  # noqa: F401 (ttnn.operations.matmul exports them)
    MatmulMultiCoreReuseMultiCast1DProgramConfig,
    MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig,
    MatmulMultiCoreReuseMultiCastProgramConfig,
)

# float32 weight elements widened per chunk (8 MiB). Smaller chunks fit caches better when the
# cores are idle, but every chunk is a multi-threaded matmul call, and on busy shared cores the
# per-call synchronisation dominates; 8 MiB measured best across both conditions.
_CHUNK_ELEMENTS = 1 << 21
# Without bf16 instructions, up to this many distinct rows the bf16 kernel (cost linear in rows) still beats
# widening to float32.
_FEW_ROWS = 8


def _bf16_kernel_for(rows: int) -> bool:
    return rows <= _FEW_ROWS or host_cpu.fast_bf16()


# ----------------------------------------------------------------------------- shapes


def _matrix_shape(t: Tensor, transpose: bool) -> list[int]:
    shape = list(t.shape)
    if transpose and len(shape) >= 2:
        shape[-2], shape[-1] = shape[-1], shape[-2]
    return shape


def _prod(dims) -> int:
    n = 1
    for d in dims:
        n *= d
    return n


def _output_shape(op: str, a_shape: list[int], b_shape: list[int]) -> tuple[tuple, bool]:
    """(output logical shape, whether b is broadcast over a's batch); raises on mismatch."""
    if len(b_shape) < 2:  # messages built only when raising (this runs twice per matmul)
        raise fatal(op, f"input_tensor_b must have rank >= 2, got rank {len(b_shape)}")
    if a_shape[-1] != b_shape[-2]:
        raise fatal(op, "The width of the first tensor must be equal to the height of the second tensor. "
                        f"Mismatch: width={a_shape[-1]} height={b_shape[-2]}")
    vector = len(a_shape) == 1
    a_mat = [1] + a_shape if vector else a_shape
    a_batch, b_batch = a_mat[:-2], b_shape[:-2]
    bcast = _prod(b_batch) == 1
    if not bcast:
        if len(a_mat) != len(b_shape):
            raise fatal(op, f"Input tensors must have the same rank, got a_shape rank: {len(a_mat)} vs b_shape rank: "
                            f"{len(b_shape)}")
        check(a_batch == b_batch, op,
              "bmm (non-bcast matmul) expects input tensors of shapes BCMK*BCKN=BCMN or equivalent")
    extra = b_batch[: max(0, len(b_batch) - len(a_batch))]
    out = extra + a_batch + ([] if vector else [a_mat[-2]]) + [b_shape[-1]]
    return tuple(out), bcast


# ----------------------------------------------------------------------------- validation


def _validate(op: str, a: Tensor, b: Tensor, transpose_a: bool, transpose_b: bool) -> None:
    for t in (a, b):
        on_device(t, op, "Operands to matmul need to be on device!")
    same_device(a, b, op)
    check(a.layout == Layout.TILE and b.layout == Layout.TILE, op, "Inputs to matmul must be tilized")
    check(a.dtype in FLOAT_DTYPES and b.dtype in FLOAT_DTYPES, op, "Unsupported data format")
    check(not transpose_a or len(a.shape) >= 2, op, "transpose_a requires input_tensor_a of rank >= 2")
    _output_shape(op, _matrix_shape(a, transpose_a), _matrix_shape(b, transpose_b))
    a_pad = _matrix_shape_padded(a, transpose_a)
    b_pad = _matrix_shape_padded(b, transpose_b)
    if a_pad[-1] != b_pad[-2]:
        raise fatal(op, f"The K dimension in tiles must match: padded width of a {a_pad[-1]} != padded height of b "
                        f"{b_pad[-2]}")


def _matrix_shape_padded(t: Tensor, transpose: bool) -> list[int]:
    shape = list(t.padded_shape)
    if transpose and len(shape) >= 2:
        shape[-2], shape[-1] = shape[-1], shape[-2]
    return shape


def _bias_row(op: str, bias: Tensor, a: Tensor, b_shape: list[int], b_padded: list[int]) -> torch.Tensor:
    """The bias as a float32 row of b's width, after the checks the matmul op makes on it."""
    tensor_arg(bias, op, "bias")
    on_device(bias, op, "Operands to matmul need to be on device!")
    check(bias.layout == Layout.TILE, op, "Unsupported input layout")
    check(_prod(list(bias.shape)[:-2]) == 1, op, "Unsupported bias shape: batch size not equal to 1.")
    padded = list(bias.padded_shape)
    check(padded[-2] == a.tile.height, op,
          f"Unsupported bias shape: padded second last dimension of bias, {padded[-2]}, not equal to tile height, "
          f"{a.tile.height}")
    check(padded[-1] == b_padded[-1], op,
          f"Unsupported bias shape: padded last dimension of bias, {padded[-1]}, not equal to second input's padded "
          f"last dimension, {b_padded[-1]}.")
    check(bias.shape[-1] >= b_shape[-1], op,
          f"Unsupported bias shape: last dimension of bias, {bias.shape[-1]}, not equal to or greater than second "
          f"input's last dimension, {b_shape[-1]}.")
    if len(bias.shape) >= 2 and bias.shape[-2] != 1:
        not_emulated(op, "bias with more than one row")
    return bias._values(op).reshape(-1, bias.shape[-1])[0, : b_shape[-1]]


# ----------------------------------------------------------------------------- compute


def _chunk_columns(k: int) -> int:
    """Output columns per weight chunk: ~8 MiB of float32, a multiple of 32, in [128, 4096]."""
    return max(128, min(4096, (_CHUNK_ELEMENTS // max(k, 1)) // 32 * 32))


def _times_block_float(x: torch.Tensor, w: BlockFloat, k: int, n: int, transpose_b: bool, out: torch.Tensor) -> None:
    """``out = x @ W`` for a block-float W, dequantising column chunks of its storage to ``x``'s dtype (float32, or
    bfloat16: exact for block-float mantissas).

    Storage is [..., Kp, Np] (or [..., Np, Kp] when ``transpose_b``) over the padded shape with
    all leading dims 1; exponents cover 16 columns each, so chunks start at multiples of 32.
    """
    rows_p, cols_p = w.mant.shape[-2], w.mant.shape[-1]
    mant = w.mant.reshape(rows_p, cols_p)
    exp = w.exp.reshape(rows_p, cols_p // numerics.BLOCK)
    step = _chunk_columns(k)
    for c0 in range(0, n, step):
        c1 = min(c0 + step, n)
        if transpose_b:  # output columns are storage rows; all K columns of those rows
            chunk = numerics.bfp_dequantize(mant[c0:c1], exp[c0:c1], w.bits)[:, :k].T
        else:
            p1 = min(c0 + step, cols_p)
            chunk = numerics.bfp_dequantize(mant[:k, c0:p1], exp[:k, c0 // 16: p1 // 16], w.bits)[:, : c1 - c0]
        out[:, c0:c1] = torch.matmul(x, chunk.to(x.dtype))


def _times_dense(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """``x @ w`` in float32 for a bf16/fp32 weight given as a ``[K, N]`` view (row- or K-major storage)."""
    if w.dtype == torch.float32:
        return torch.matmul(x, w)
    k, n = w.shape
    step = min(_chunk_columns(k), n)
    k_major = w.stride(0) == 1 and n > 1
    if step == n and (w.is_contiguous() or k_major and w.T.is_contiguous()):
        # one chunk: widened in the weight's memory order, as the loop's buffer would hold it
        return torch.matmul(x, w.float())
    out = torch.empty((x.shape[0], n), dtype=torch.float32)
    # the widening buffer keeps the weight's memory order, so each chunk copy reads and writes contiguously
    buf = torch.empty((step, k) if k_major else (k, step), dtype=torch.float32)
    for c0 in range(0, n, step):
        c1 = min(c0 + step, n)
        part = buf[: c1 - c0].T if k_major else buf[:, : c1 - c0]
        part.copy_(w[:, c0:c1])
        out[:, c0:c1] = torch.matmul(x, part)
    return out


def _times_weight(x: torch.Tensor, storage, k: int, n: int, transpose_b: bool, bf16_out: bool) -> torch.Tensor:
    """[rows, K] float32 (bf16 values when ``bf16_out``) times a weight's storage (a tensor's ``_value``, batch
    dims all 1; or any [K, N] view of bf16 / float32 values) -> [rows, N].

    The result is float32, or already-rounded bfloat16 when ``bf16_out`` allows the bf16 kernel.
    """
    repeats = distinct_rows.trailing_repeats(x)
    if repeats:  # multiply the distinct rows once, then fan the last one out
        distinct = x[: x.shape[0] - repeats + 1]
        return distinct_rows.fan_out_last(_times_weight(distinct, storage, k, n, transpose_b, bf16_out), x.shape[0])
    bf16_kernel = bf16_out and _bf16_kernel_for(x.shape[0])
    if not isinstance(storage, BlockFloat):
        w = storage.reshape(n, k).T if transpose_b else storage.reshape(k, n)
        if bf16_kernel and w.dtype == torch.bfloat16 and w.stride(0) == 1:
            return torch.mm(x.to(torch.bfloat16), w)  # float32 sums, rounded once to bf16
        return _times_dense(x, w)
    out_dtype = torch.bfloat16 if bf16_kernel else torch.float32
    out = torch.empty((x.shape[0], n), dtype=out_dtype)
    x = x.to(torch.bfloat16) if bf16_kernel else x
    _times_block_float(x, storage, k, n, transpose_b, out)
    return out


def _times_stacked(x: torch.Tensor, stacked, k: int, n: int, bf16_out: bool) -> torch.Tensor | None:
    """``[chips, rows, K]`` times every chip's own bf16 K-major weight in one batched bf16 kernel (float32 sums,
    one rounding, as ``_times_weight``), when the chips' distinct rows are the same rows and few; else None."""
    if (isinstance(stacked, BlockFloat) or not bf16_out or stacked.dtype != torch.bfloat16
            or stacked.stride(-2) != 1):
        return None
    w = stacked.reshape(-1, k, n)
    rows = x.shape[1]
    repeats = distinct_rows.trailing_repeats(x)
    if repeats:
        x = x[:, : rows - repeats + 1]
    if not _bf16_kernel_for(x.shape[1]):
        return None
    out = torch.bmm(x.to(torch.bfloat16), w)
    return distinct_rows.fan_out_last(out, rows) if repeats else out


def _product(op: str, a: Tensor, b: Tensor, transpose_a: bool, transpose_b: bool, bf16_out: bool) -> torch.Tensor:
    """Values of the product in the output's logical shape: float32, or bfloat16 when ``bf16_out`` (input and
    output bf16, no bias or activation to apply) lets the bf16 kernel run."""
    a_shape = _matrix_shape(a, transpose_a)
    b_shape = _matrix_shape(b, transpose_b)
    out_shape, bcast = _output_shape(op, a_shape, b_shape)
    if a.is_data_free() or b.is_data_free():
        return torch.empty(out_shape, dtype=torch.float32, device="meta")
    x = a._values(op)
    if transpose_a:
        x = x.transpose(-2, -1)
    k, n = b_shape[-2], b_shape[-1]
    if bcast:
        return _times_weight(x.reshape(-1, k), b._value, k, n, transpose_b, bf16_out).reshape(out_shape)
    w = b._values(op)
    if transpose_b:
        w = w.transpose(-2, -1)
    return torch.matmul(x, w).reshape(out_shape)


def _card_values(op: str, a: Tensor, b: Tensor, transpose_a: bool, transpose_b: bool, cfg: card_matmul.CardConfig,
                 blocking: card_matmul.KBlocking, finish) -> torch.Tensor:
    """Card mode: ``finish`` (row-wise: bias, activation, packer) of the Dst values of ``a @ b`` under ``cfg``, K
    accumulated by ``blocking``, float32 in the output's logical shape; rows are independent, so identical rows
    are computed once."""
    a_shape = _matrix_shape(a, transpose_a)
    b_shape = _matrix_shape(b, transpose_b)
    out_shape, bcast = _output_shape(op, a_shape, b_shape)
    if a.is_data_free() or b.is_data_free():
        return torch.empty(out_shape, dtype=torch.float32, device="meta")
    k, n = b_shape[-2], b_shape[-1]
    x = a._values(op)
    if transpose_a:
        x = x.transpose(-2, -1)
    x = card_matmul.src_values(x.reshape(-1, k) if bcast else x.reshape(-1, x.shape[-2], k), a.dtype)
    fidelity, fp32_dest = cfg.math_fidelity, cfg.fp32_dest_acc_en
    b._check_alive(op)
    b._check_one_storage(op)
    stored = b._value
    if bcast and not transpose_b and isinstance(stored, BlockFloat) and not numerics_mode.card_reference():
        mant, exp = stored.mant.reshape(stored.mant.shape[-2:]), stored.exp.reshape(stored.exp.shape[-2:])

        def from_storage(rows: torch.Tensor) -> torch.Tensor:  # the weight read as stored, not decoded
            values = card_matmul.dst_fast_block_float(rows, mant, exp, stored.bits, n, fidelity, fp32_dest, blocking)
            return card_matmul.dst_fast(rows, stored.decode().reshape(k, n), fidelity, fp32_dest, blocking) \
                if values is None else values

        return distinct_rows.on_distinct_rows(lambda rows: finish(from_storage(rows)), x).reshape(out_shape)
    w = b._native(op)  # bf16 weights stay bf16 (the card path reads them as they are)
    if transpose_b:
        w = w.transpose(-2, -1)
    w = card_matmul.src_values(w.reshape(k, n) if bcast else w.reshape(-1, k, n), b.dtype)
    dst = card_matmul.dst_reference if numerics_mode.card_reference() else card_matmul.dst_fast

    def rows_times(xs: torch.Tensor, ws: torch.Tensor) -> torch.Tensor:
        return distinct_rows.on_distinct_rows(lambda rows: finish(dst(rows, ws, fidelity, fp32_dest, blocking)), xs)

    if bcast:
        return rows_times(x, w).reshape(out_shape)
    return torch.stack([rows_times(xi, wi) for xi, wi in zip(x, w)]).reshape(out_shape)


def _run_card(op: str, a: Tensor, b: Tensor, *, bias_row, transpose_a, transpose_b, memory_config, out_dtype,
              activation, activation_spec, compute_kernel_config, program_config, core_grid) -> Tensor:
    cfg = card_matmul.resolve_config(a.dtype, b.dtype, out_dtype, compute_kernel_config, program_config, core_grid)
    block_w = matmul_program_config.in0_block_w(
        a, b, transpose_a=transpose_a, transpose_b=transpose_b, memory_config=memory_config,
        program_config=program_config, core_grid=core_grid, out_dtype=out_dtype, has_bias=bias_row is not None,
        fp32_dest_acc_en=bool(compute_kernel_config is not None and compute_kernel_config.fp32_dest_acc_en))
    kt = _matrix_shape_padded(a, transpose_a)[-1] // 32
    blocking = card_matmul.k_blocking(block_w, kt, cfg, bias_row is not None, out_dtype)
    sfpu = card_activation_kernel(activation_spec, cfg.fp32_dest_acc_en)
    reference = numerics_mode.card_reference()

    def finish(values: torch.Tensor) -> torch.Tensor:
        if bias_row is not None:  # the kernel's bias stage: partials (SrcA) + the bias row (SrcB) by ELWADD
            values = card_binary.fpu("add", values, bias_row.expand_as(values), cfg.fp32_dest_acc_en,
                                     reference=reference)
        if sfpu is not None:  # the fused activation on the SFPU, on the Dst values before the packer
            values = sfpu(values, card_unary.Arith(reference, wide=cfg.fp32_dest_acc_en), cfg.fp32_dest_acc_en)
        elif activation is not None:
            values = activation(values)
        return card_matmul.pack(values, cfg.fp32_dest_acc_en, out_dtype)

    values = _card_values(op, a, b, transpose_a, transpose_b, cfg, blocking, finish)
    return new_tensor(values, dtype=out_dtype, layout=Layout.TILE, device=a.device(),
                      memory_config=memory_config or DRAM_MEMORY_CONFIG, tile=a.tile)


def _check_arguments(op: str, a, b, *, transpose_a, transpose_b, activation, output_tile, optional_output_tensor,
                     in0_column_offset) -> None:
    tensor_arg(a, op, "input_tensor_a")
    tensor_arg(b, op, "input_tensor_b")
    if optional_output_tensor is not None:
        not_emulated(op, "optional_output_tensor=...")
    if in0_column_offset is not None:
        not_emulated(op, "in0_column_offset=...")
    if output_tile is not None and tuple(output_tile.tile_shape) != DEFAULT_TILE.tile_shape:
        not_emulated(op, f"output_tile={output_tile}")
    activation_function(activation, op)  # a name or UnaryWithParam the emulator applies, else not emulated
    _validate(op, a, b, transpose_a, transpose_b)


def _check_config(op: str, program_config, a: Tensor, b: Tensor, transpose_a: bool, transpose_b: bool, dtype,
                  compute_kernel_config, core_grid, memory_config) -> None:
    """``program_configs.check_matmul`` with the Dst accumulation the op runs with (it bounds the subblock)."""
    if program_config is None:
        return
    fp32_dest = card_matmul.resolve_config(a.dtype, b.dtype, dtype or a.dtype, compute_kernel_config, program_config,
                                           core_grid).fp32_dest_acc_en
    program_configs.check_matmul(op, program_config, a, b, transpose_a, transpose_b, fp32_dest, memory_config)


def _activation_spec(activation, program_config):
    """The activation a matmul fuses: a program config's ``fused_activation`` when it has one (as the real golden
    takes it), else ``activation``; None for none."""
    fused = getattr(program_config, "fused_activation", None)
    return fused if fused is not None else activation


def _activation(op: str, activation, program_config):
    """The float32 function to apply after the product (``_activation_spec``'s), None for none."""
    return activation_function(_activation_spec(activation, program_config), op)


def _run(op: str, input_tensor_a, input_tensor_b, *, bias, transpose_a, transpose_b, memory_config, dtype,
         activation, output_tile, optional_output_tensor, in0_column_offset, compute_kernel_config=None,
         program_config=None, core_grid=None) -> Tensor:
    a, b = input_tensor_a, input_tensor_b
    compute_kernel_config_checks.check_passed(compute_kernel_config)
    _check_arguments(op, a, b, transpose_a=transpose_a, transpose_b=transpose_b, activation=activation,
                     output_tile=output_tile, optional_output_tensor=optional_output_tensor,
                     in0_column_offset=in0_column_offset)
    _check_config(op, program_config, a, b, transpose_a, transpose_b, dtype, compute_kernel_config, core_grid,
                  memory_config)
    spec = _activation_spec(activation, program_config)
    activation = activation_function(spec, op)
    bias_row = None
    if bias is not None:
        bias_row = _bias_row(op, bias, a, _matrix_shape(b, transpose_b), _matrix_shape_padded(b, transpose_b))
    out_dtype = dtype or a.dtype
    if numerics_mode.is_card():
        return _run_card(op, a, b, bias_row=bias_row, transpose_a=transpose_a, transpose_b=transpose_b,
                         memory_config=memory_config, out_dtype=out_dtype, activation=activation, activation_spec=spec,
                         compute_kernel_config=compute_kernel_config, program_config=program_config,
                         core_grid=core_grid)
    bf16_out = out_dtype == a.dtype == DataType.BFLOAT16 and bias is None and activation is None
    values = _product(op, a, b, transpose_a, transpose_b, bf16_out)
    if bias_row is not None:
        values = values + bias_row.to(values.device) if not bias_row.is_meta else values.to("meta")
    if activation is not None:
        values = activation(values)
    return new_tensor(values, dtype=out_dtype, layout=Layout.TILE, device=a.device(),
                      memory_config=memory_config or DRAM_MEMORY_CONFIG, tile=a.tile)


def _weights_side_by_side(stacked: torch.Tensor, k: int, n: int) -> torch.Tensor | None:
    """Every chip's K-major ``[K, n]`` bf16 weight as one ``[K, chips * n]`` K-major view (no copy), or None."""
    if stacked.dtype != torch.bfloat16 or not stacked.mT.is_contiguous():
        return None
    return stacked.mT.reshape(-1, k).T


def _on_all_chips(op: str, a: Tensor, b: Tensor, *, bias=None, transpose_a: bool = False, transpose_b: bool = False,
                  memory_config=None, dtype: DataType | None = None, activation=None, output_tile=None,
                  optional_output_tensor=None, in0_column_offset=None, **performance_only):
    """Every chip of a tensor-parallel linear at once: ``b`` distributed with batch dims 1, no bias, no transposes.

    The checks run once, on chip 0's operands (every chip has the same shapes, dtypes and layouts). Column-parallel
    (``a`` replicated, bf16 K-major weights) is one matmul over the chips' weights side by side; otherwise each
    chip's rows are multiplied by its weight (the per-row shortcuts of ``_times_weight`` apply per chip).
    """
    if numerics_mode.is_card():  # card numerics run chip by chip
        return NotImplemented
    if (not isinstance(a, Tensor) or not isinstance(b, Tensor) or b._shards is None or a.device() is not b.device()
            or bias is not None or transpose_a or transpose_b or _prod(list(b.shape)[:-2]) != 1):
        return NotImplemented
    mesh = a.device()
    chip0 = mesh.chip(0)
    _check_arguments(op, a._chip_view(0, chip0), b._chip_view(0, chip0), transpose_a=False, transpose_b=False,
                     activation=activation, output_tile=output_tile, optional_output_tensor=optional_output_tensor,
                     in0_column_offset=in0_column_offset)
    program_config = performance_only.get("program_config")
    _check_config(op, program_config, a._chip_view(0, chip0), b._chip_view(0, chip0), False, False, dtype,
                  performance_only.get("compute_kernel_config"), performance_only.get("core_grid"), memory_config)
    activation = _activation(op, activation, program_config)
    out_dtype = dtype or a.dtype
    bf16_out = out_dtype == a.dtype == DataType.BFLOAT16 and activation is None
    out_shape, _ = _output_shape(op, list(a.shape), list(b.shape))
    chips, k, n = b.num_chips(), b.shape[-2], b.shape[-1]
    if a.is_data_free() or b.is_data_free():
        values = torch.empty((chips,) + out_shape, dtype=torch.float32, device="meta")
    elif a._shards is None:
        x = a._values(op).reshape(-1, k)
        side_by_side = None if isinstance(b._shards, BlockFloat) else _weights_side_by_side(b._shards, k, n)
        if side_by_side is not None:
            flat = _times_weight(x, side_by_side, k, chips * n, False, bf16_out)
            values = flat.reshape(-1, chips, n).transpose(0, 1).reshape((chips,) + out_shape)
        else:
            values = torch.stack([_times_weight(x, w, k, n, False, bf16_out) for w in b.chip_storages()])
            values = values.reshape((chips,) + out_shape)
    else:
        xs = torch.stack(chip_values(a, op)).reshape(chips, -1, k)
        values = _times_stacked(xs, b._shards, k, n, bf16_out)
        if values is None:
            values = torch.stack([_times_weight(x, w, k, n, False, bf16_out) for x, w in zip(xs, b.chip_storages())])
        values = values.reshape((chips,) + out_shape)
    if activation is not None:
        values = activation(values)
    return new_distributed_tensor(values, dtype=out_dtype, layout=Layout.TILE, device=mesh,
                                  memory_config=memory_config or DRAM_MEMORY_CONFIG, tile=a.tile)


def _linear_on_all_chips(input_tensor_a, input_tensor_b, **kwargs):
    return _on_all_chips("ttnn.linear", input_tensor_a, input_tensor_b, **kwargs)


def _matmul_on_all_chips(input_tensor_a, input_tensor_b, **kwargs):
    return _on_all_chips("ttnn.matmul", input_tensor_a, input_tensor_b, **kwargs)


@per_chip(all_chips=_linear_on_all_chips)
def linear(input_tensor_a, input_tensor_b, *, bias=None, transpose_a: bool = False, transpose_b: bool = False,
           memory_config=None, dtype: DataType | None = None, program_config=None, activation=None,
           compute_kernel_config=None, core_grid=None, output_tile=None, optional_output_tensor=None,
           global_cb=None, sub_device_id=None, prefetcher_pipes=[], in0_column_offset=None) -> Tensor:
    """``activation(a @ b + bias)``; ``bias`` is a row ``[1, N]`` / ``[1,1,1,N]`` broadcast over rows.

    ``global_cb``, ``sub_device_id`` and ``prefetcher_pipes`` only steer performance and are ignored;
    ``compute_kernel_config``, ``program_config`` and ``core_grid`` matter in card mode only (they pick the
    compute config).
    """
    return _run("ttnn.linear", input_tensor_a, input_tensor_b, bias=bias, transpose_a=transpose_a,
                transpose_b=transpose_b, memory_config=memory_config, dtype=dtype, activation=activation,
                output_tile=output_tile, optional_output_tensor=optional_output_tensor,
                in0_column_offset=in0_column_offset, compute_kernel_config=compute_kernel_config,
                program_config=program_config, core_grid=core_grid)


@per_chip(all_chips=_matmul_on_all_chips)
def matmul(input_tensor_a, input_tensor_b, *, transpose_a: bool = False, transpose_b: bool = False,
           memory_config=None, dtype: DataType | None = None, program_config=None, activation=None,
           compute_kernel_config=None, core_grid=None, output_tile=None, optional_output_tensor=None,
           global_cb=None, sub_device_id=None, prefetcher_pipes=[]) -> Tensor:
    """``activation(a @ b)`` with the batch rules of the module docstring; perf arguments ignored (the compute
    config arguments pick the card-mode config, see ``linear``)."""
    return _run("ttnn.matmul", input_tensor_a, input_tensor_b, bias=None, transpose_a=transpose_a,
                transpose_b=transpose_b, memory_config=memory_config, dtype=dtype, activation=activation,
                output_tile=output_tile, optional_output_tensor=optional_output_tensor, in0_column_offset=None,
                compute_kernel_config=compute_kernel_config, program_config=program_config, core_grid=core_grid)


__getattr__ = not_emulated_getattr("ttnn")
