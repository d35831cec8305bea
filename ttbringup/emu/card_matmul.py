"""Card numerics of ``ttnn.matmul`` / ``ttnn.linear`` (card mode, see ``numerics_mode``): how a Wormhole B0
Tensix core computes ``in0 @ in1`` (facts §2-§4, docs/card-numerics.md).

Pure torch functions on values; ``matmul.py`` calls them when the mode is ``card``.

Contracts:

* ``resolve_config(a_dtype, b_dtype, out_dtype, compute_kernel_config, program_config, core_grid)`` ->
  ``CardConfig``: a passed config is taken field by field (``math_fidelity`` ``Invalid``, the emulator's
  constructor default, counts as ``LoFi``, the C++ struct's default); with none, 0.81.1's matmul defaults:
  HiFi2, or LoFi when a program config or core grid is given or both inputs are bfloat8_b / bfloat4_b, and
  HiFi3 when both inputs are float32 (Wormhole); ``fp32_dest_acc_en`` = output is float32,
  ``packer_l1_acc`` = output is not float32, ``math_approx_mode`` False.
* ``src_values(values, dtype)``: operand values as the unpacker puts them into SrcA / SrcB: bfloat16 and
  block-float values returned as given (any float torch dtype holding them; bf16 holds them exactly), float32
  truncated to TF32 (float32 result); zero-exponent
  (zero, denormal) data are left as they are: the reference counts them as zero, the fast path multiplies the
  denormal (a difference below 2^-126 per product).
* ``dst_fast(x, w, fidelity, fp32_dest)``: Dst values (float32) of ``x [M, K] @ w [K, N]`` (Src values, in0 = x
  in SrcB, in1 = w in SrcA): per fidelity phase the exact 5 x 7-bit slice products, summed per 16-wide K chunk
  (one MVMUL) in float32 (order unspecified; for up to four rows a SrcA-lo phase's sum is formed as the whole
  SrcA significand's minus the hi slice's, equal to the direct sum up to float32 rounding), accumulated into Dst
  chunk by chunk in the LLK order (per 32-wide K tile: phases outer, the two K halves inner; K tiles in order)
  with one rounding per chunk: BF16 Dst round to nearest, ties away from zero, on the magnitude; FP32 Dst the
  float32 add (ties to even).
  **Not bit-exact**: the MVMUL's alignment of each product to its group-of-8 maximum (a ~12-bit window with
  its own rounding), the 11-bit pre-rounding of terms for a BF16 Dst, the ties-away rounding of an FP32 Dst,
  denormal flushing of results and inf / NaN handling are not modelled (tests/emu/test_card_fast_path.py
  bounds the difference to the reference).
  Computed by the compiled kernel (``card.compiled``: the sums in K order) where it is built, else by
  ``dst_torch`` (the same formulation in torch operations, about 6x slower); the two differ only in the float32
  rounding of each chunk's sum (``card.compiled``).
* ``k_blocking(block_w, kt, cfg, has_bias)`` -> ``KBlocking``: how the 0.81.1 kernel
  (``bmm_large_block_zm_fused_bias_activation``) accumulates K when its program config takes ``block_w`` of the
  ``kt`` K tiles per block (``matmul_program_config.in0_block_w``): with ``packer_l1_acc`` and more than one block,
  blocks of ``block_w`` tiles, else one block; with a fused bias the last (or only) block is folded into the
  partials, which the bias stage reads (``matmul`` adds the bias by ``card_binary.fpu``'s ELWADD: partials in
  SrcA, so Float32 partials are truncated to TF32). Without ``packer_l1_acc`` every block is packed and
  reloaded (spill), through partials in the Dst's own format for a bf16 or float32 output, which is lossless
  for normal values, so one block models it; a bfloat8_b / bfloat4_b output with a BF16 Dst spills through
  partials in that format, which rounds at every block (``spill``; computed by ``dst_torch``: the compiled
  kernel has no spill, so such matmuls run 14-40x slower).
* ``k_blocked(on_top, x, w, fp32_dest, blocking)``: the K-block structure over any Dst formulation (its
  docstring); the compiled kernel implements the same.
* ``dst_fast``, ``dst_torch``, ``dst_reference`` take a ``blocking`` (default one block: all of K in one Dst).
* ``dst_fast_block_float(x, mant, exp, bits, n, fidelity, fp32_dest)``: ``dst_fast`` for a block-float weight
  read as stored (the values are the decoded ones; ``None`` when it cannot run, see the function).
* ``dst_reference(x, w, fidelity, fp32_dest)``: the same through the bit-exact ``card.fpu.matmul_tiles``
  (ttsim's MVMUL arithmetic; K zero-padded to whole tiles). Slow: about 1 s per phase for 32 x 1024 x 1024.
* ``round_into_dst(v, fp32_dest)``: one rounding of float32 values into Dst (as ``dst_fast`` does per step).
* ``pack(dst, fp32_dest, out_dtype)``: the packer's conversion of Dst values into the output dtype, returned as
  float32 values whose host encoding (``tensor.encode``) reproduces the device's data exactly: bf16 from an
  FP32 Dst ties away from zero, from a BF16 Dst unchanged (denormals -> +0 either way); float32 as is;
  bfloat8_b / bfloat4_b by the device's double rounding (``card.packer.pack_bfp``) over 16-column blocks of
  the zero-padded width, decoded to the exact values of the device codes.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
import torch

from .card import compiled, formats, fpu, packer
from .card import dst as card_dst
from .types import BLOCK_FLOAT_DTYPES, DataType, MathFidelity

_FIDELITY_NAMES = {MathFidelity.LoFi: "LoFi", MathFidelity.HiFi2: "HiFi2", MathFidelity.HiFi3: "HiFi3",
                   MathFidelity.HiFi4: "HiFi4", MathFidelity.Invalid: "LoFi"}
_DST_ELEMENTS = 1 << 15  # Dst values several-row blocks update per op (keeps Dst and the tile slices in cache)
_WEIGHT_BLOCK_BYTES = 64 << 20  # weight storage of one several-row column block
_FEW_ROWS = 1  # up to this many rows the chunk-sum formulation is the faster one
_FEW_ROWS_BY_DIFFERENCE = 4  # up to this many rows lo sums as whole minus hi (measured faster for 2, slower for 8)
_SUMS_BYTES = 8 << 20  # chunk sums the fast path holds per block of output columns (reused memory, no page faults)
_SUB_BLOCK_ELEMENTS = 1 << 16  # weight elements widened and sliced at a time (256 KiB float32: stays in cache)
_BF16_HALF, _BF16_KEEP = np.int32(0x8000), np.int32(-(1 << 16))


@dataclass(frozen=True)
class CardConfig:
    """The compute kernel config a matmul runs with on the card."""

    math_fidelity: str  # LoFi / HiFi2 / HiFi3 / HiFi4
    fp32_dest_acc_en: bool
    packer_l1_acc: bool
    math_approx_mode: bool


def resolve_config(a_dtype: DataType, b_dtype: DataType, out_dtype: DataType, compute_kernel_config=None,
                   program_config=None, core_grid=None) -> CardConfig:
    """The config 0.81.1 runs a matmul with (see the module docstring)."""
    if compute_kernel_config is not None:
        c = compute_kernel_config
        return CardConfig(_FIDELITY_NAMES[c.math_fidelity], bool(c.fp32_dest_acc_en), bool(c.packer_l1_acc),
                          bool(c.math_approx_mode))
    low_precision = a_dtype in BLOCK_FLOAT_DTYPES and b_dtype in BLOCK_FLOAT_DTYPES
    fidelity = "LoFi" if (program_config is not None or core_grid is not None or low_precision) else "HiFi2"
    if a_dtype == DataType.FLOAT32 and b_dtype == DataType.FLOAT32:
        fidelity = "HiFi3"  # Wormhole: HiFi4 with fp32 accumulation hits a hardware bug (#38306)
    fp32_out = out_dtype == DataType.FLOAT32
    return CardConfig(fidelity, fp32_out, not fp32_out, False)


# ----------------------------------------------------------------------------- operands


def src_values(values: torch.Tensor, dtype: DataType) -> torch.Tensor:
    """float32 values as SrcA / SrcB hold them (see the module docstring)."""
    if dtype != DataType.FLOAT32:
        return values  # bfloat16 (or decoded block-float float32) values: exact in Src
    v = values.to(torch.float32).contiguous()
    return (v.view(torch.int32) & -(1 << 13)).view(torch.float32)  # TF32: 13 low mantissa bits dropped


_HI_MASK = {"A": -(1 << 19), "B": -(1 << 17)}  # SrcA: sign, exponent, hidden + 4; SrcB: hidden + 6
_FULL_MASK = {"A": -(1 << 14), "B": -(1 << 13)}  # the bits the two slices cover (SrcA drops the TF32 LSB)


def _srcb_slices(v: torch.Tensor, need_lo: bool) -> tuple:
    """(hi, lo) SrcB fidelity slices of float32 Src values ``v`` as float32 values (exact; lo None unless
    ``need_lo``): hidden + 6 bits, the next 4 (TF32 data has no more bits)."""
    bits = v.view(torch.int32)
    hi = torch.bitwise_and(bits, _HI_MASK["B"]).view(torch.float32)
    return hi, (v - hi if need_lo else None)


# ----------------------------------------------------------------------------- Dst


def round_into_dst(v: torch.Tensor, fp32_dest: bool) -> torch.Tensor:
    """float32 values rounded into the Dst format in place (BF16: ties away from zero on the magnitude)."""
    if not fp32_dest:
        bits = v.view(torch.int32)
        bits.add_(0x8000).bitwise_and_(-(1 << 16))
    return v


def _pad_k(x: torch.Tensor, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    pad = -x.shape[1] % 32
    if pad:
        x = torch.nn.functional.pad(x, (0, pad))
        w = torch.nn.functional.pad(w, (0, 0, 0, pad))
    return x, w


@dataclass(frozen=True)
class KBlocking:
    """How the kernel accumulates K (``k_blocked``): ``tiles`` K tiles per block (0: all of K in one Dst), whether
    the last block is folded into the partials (``fold_last``: the fused-bias path) instead of computed on top of
    them, and ``spill``: a block-float dtype the partials spill through without L1 accumulation (None: packer
    L1 accumulation)."""

    tiles: int = 0
    fold_last: bool = False
    spill: DataType | None = None


ONE_BLOCK = KBlocking()


def k_blocking(block_w: int, kt: int, cfg: CardConfig, has_bias: bool, out_dtype: DataType) -> KBlocking:
    """The K accumulation of a matmul whose kernel takes ``block_w`` K tiles per block out of ``kt`` under ``cfg``
    into ``out_dtype`` (see the module docstring)."""
    blocks = block_w < kt
    if cfg.packer_l1_acc:
        return KBlocking(block_w if blocks else 0, has_bias)
    lossy_spill = blocks and out_dtype in BLOCK_FLOAT_DTYPES and not cfg.fp32_dest_acc_en
    return KBlocking(block_w, has_bias, out_dtype) if lossy_spill else KBlocking(0, has_bias)


def k_blocked(on_top, x: torch.Tensor, w: torch.Tensor, fp32_dest: bool, blocking: KBlocking) -> torch.Tensor:
    """``x [M, K] @ w [K, N]`` accumulated in K blocks (K zero-padded to whole tiles) as the 0.81.1 kernel does
    with ``packer_l1_acc``, where ``on_top(x_block, w_block, d0)`` is the Dst values after one block accumulated
    on top of the Dst values ``d0`` (zeros when None). Block 0 is packed into the partials (a BF16 Dst's bf16
    words, an FP32 Dst's float32 words: ``card.packer``), each later block from a cleared Dst is packed with L1
    accumulation (``l1_acc_bf16``: the exact sum rounded to nearest even; ``l1_acc_fp32``); the last block is
    computed on top of the partials reloaded into Dst (``card.dst``) and its Dst values returned, or with
    ``fold_last`` packed with L1 accumulation too and the partials' values returned. One block is
    ``on_top(x, w, None)``. With ``spill`` (a BF16 Dst, no L1 accumulation) every block but the last is packed
    into partials of that block-float dtype (``pack``) and reloaded under the next one; with ``fold_last`` the
    last is packed too and the partials' values returned."""
    x, w = _pad_k(x, w)
    k = x.shape[1]
    step = 32 * blocking.tiles if blocking.tiles else k
    if blocking.spill is not None:
        d0 = None
        for k0 in range(0, k, step):
            d = on_top(x[:, k0:k0 + step], w[k0:k0 + step], d0)
            spilled = pack(d, False, blocking.spill)
            if k0 + step >= k:
                return spilled if blocking.fold_last else d
            d0 = formats.from_bits(card_dst.load_bf16_via_srca(formats.to_bits(spilled)))
    partials = None
    for k0 in range(0, k, step):
        last = k0 + step >= k
        reload = last and partials is not None and not blocking.fold_last
        d0 = formats.from_bits(card_dst.load_fp32(partials) if fp32_dest else card_dst.load_bf16_via_srca(partials)) \
            if reload else None
        d = on_top(x[:, k0:k0 + step], w[k0:k0 + step], d0)
        if last and not blocking.fold_last:
            return d
        words = formats.to_bits(d)
        words = packer.pack_fp32_to_fp32(words) if fp32_dest else packer.pack_bf16_to_bf16(words)
        if partials is None:
            partials = words
        else:
            partials = packer.l1_acc_fp32(partials, words) if fp32_dest else packer.l1_acc_bf16(partials, words)
    return formats.from_bits(partials)


def dst_fast(x: torch.Tensor, w: torch.Tensor, fidelity: str, fp32_dest: bool,
             blocking: KBlocking = ONE_BLOCK) -> torch.Tensor:
    """Dst values of ``x @ w`` by the fast formulation, K accumulated by ``blocking`` (see the module docstring):
    the compiled kernel (``card.compiled``), or ``dst_torch`` where it is not available."""
    values = None if blocking.spill is not None else compiled.dst(x, w, fpu.phases(fidelity), fp32_dest,
                                                                   blocking.tiles, blocking.fold_last)
    return dst_torch(x, w, fidelity, fp32_dest, blocking) if values is None else values


def dst_fast_block_float(x: torch.Tensor, mant: torch.Tensor, exp: torch.Tensor, bits: int, n: int, fidelity: str,
                         fp32_dest: bool, blocking: KBlocking = ONE_BLOCK):
    """``dst_fast`` of ``x [M, K]`` times a block-float weight given as its storage (codes ``[Kp, Np]``, shared
    exponents ``[Kp, Np / 16]``; its first K rows and ``n`` columns), by the compiled kernel without decoding it;
    ``None`` where that cannot run (no kernel, or a block with the special exponent 255): the caller decodes."""
    if blocking.spill is not None or bool((exp == 255).any()):
        return None
    return compiled.dst_block_float(x, mant, exp, bits, n, fpu.phases(fidelity), fp32_dest, blocking.tiles,
                                    blocking.fold_last)


def dst_torch(x: torch.Tensor, w: torch.Tensor, fidelity: str, fp32_dest: bool,
              blocking: KBlocking = ONE_BLOCK) -> torch.Tensor:
    """``dst_fast``'s formulation in torch operations: ``k_blocked`` over ``_dst_torch_on_top``."""
    return k_blocked(lambda xs, ws, d0: _dst_torch_on_top(xs, ws, fidelity, fp32_dest, d0), x, w, fp32_dest,
                     blocking)


def _dst_torch_on_top(x: torch.Tensor, w: torch.Tensor, fidelity: str, fp32_dest: bool,
                      d0: torch.Tensor | None) -> torch.Tensor:
    """Dst values of ``x @ w`` accumulated on top of ``d0`` (zeros when None; K a multiple of 32) by the fast
    formulation in torch operations, on one torch thread
    (``one_thread``: measured on this shared 2-core machine, two threads made the many small ops 2-5x slower).

    Up to ``_FEW_ROWS`` rows (one row: measured faster there only) run in two stages per block of output
    columns: ``_chunk_sums`` computes every MVMUL's sum (per phase and 16-wide K chunk) with large elementwise ops
    over cache-sized weight sub-blocks, then ``_accumulate`` adds them into Dst in the LLK order with one rounding
    each (the column block is sized so its chunk sums take at most ``_SUMS_BYTES``). More rows (a decode step of
    one user has two: its own and the idle users' shared row) run ``_dst_many_rows`` (``_dst_few_rows`` up to
    ``_FEW_ROWS_BY_DIFFERENCE``): per K tile and output block one small matrix product per MVMUL, added into Dst
    in the same order."""
    m, k = x.shape
    n = w.shape[1]
    phase_list = fpu.phases(fidelity)
    xb = _srcb_slices(x.to(torch.float32).contiguous(), any(p & 2 for p in phase_list))  # in0 -> SrcB
    tf32 = w.dtype == torch.float32  # only TF32 Src data has the SrcA LSB the slices drop
    out = torch.zeros((m, n), dtype=torch.float32) if d0 is None else d0.to(torch.float32).clone()
    with one_thread():
        if m > _FEW_ROWS:
            cols = max(32, min(n, _DST_ELEMENTS // max(m, 1), _WEIGHT_BLOCK_BYTES // (4 * k)) // 32 * 32)
            rows = _dst_few_rows if m <= _FEW_ROWS_BY_DIFFERENCE else _dst_many_rows
            for c0 in range(0, n, cols):
                d = out[:, c0:c0 + cols].contiguous()
                rows(xb, w[:, c0:c0 + cols], phase_list, tf32, fp32_dest, d)
                out[:, c0:c0 + cols] = d
            return out
        xb = tuple(None if v is None else v.view(m, k // 16, 16) for v in xb)
        cols = max(1, min(n, _SUMS_BYTES // (4 * len(phase_list) * (k // 16) * m)))
        for c0 in range(0, n, cols):
            c1 = min(n, c0 + cols)
            sums = _chunk_sums(xb, w[:, c0:c1], phase_list, tf32)
            d = out[:, c0:c1].contiguous()
            _accumulate(sums, len(phase_list), fp32_dest, d)
            out[:, c0:c1] = d
    return out


def _dst_few_rows(xb: tuple, block: torch.Tensor, phase_list: tuple, tf32: bool, fp32_dest: bool,
                  d_out: torch.Tensor) -> None:
    """``_dst_many_rows`` for a few rows (up to ``_FEW_ROWS_BY_DIFFERENCE``): per K tile and SrcB slice one ``mm``
    per K half against the hi slice and one against the whole SrcA significand, a SrcA-lo phase's sum being their
    difference (no lo slice to build: one pass less over the tile), added into the Dst ``d_out`` (contiguous
    float32 ``[M, N]``, updated in place) by ``_add_rounded``."""
    k, n = block.shape
    m = xb[0].shape[0]
    need_lo = any(p & 1 for p in phase_list)
    k_major = block.stride(0) == 1 and n > 1  # large weights are stored K-major
    hi = torch.empty((n, 32), dtype=torch.float32)  # the tile's SrcA hi slice, K-major
    sums = torch.empty((2, 2, 2, m, n), dtype=torch.float32)  # [SrcA hi / whole, SrcB slice, K half]
    s_np, lo = sums.numpy(), np.empty((m, n), dtype=np.float32)
    d = d_out.numpy()
    for t0 in range(0, k, 32):
        tile = block[t0: t0 + 32]
        tile = tile.T.to(torch.float32) if k_major else tile.T.contiguous().to(torch.float32)  # [n, 32]
        bits = tile.view(torch.int32)
        torch.bitwise_and(bits, _HI_MASK["A"], out=hi.view(torch.int32))  # in1 -> SrcA
        whole = torch.bitwise_and(bits, _FULL_MASK["A"]).view(torch.float32) if tf32 and need_lo else tile
        for j in {p >> 1 for p in phase_list}:
            for h in (0, 1):
                x_half = xb[j][:, t0 + 16 * h: t0 + 16 * h + 16]
                torch.mm(x_half, hi[:, 16 * h: 16 * h + 16].T, out=sums[0, j, h])
                if need_lo:
                    torch.mm(x_half, whole[:, 16 * h: 16 * h + 16].T, out=sums[1, j, h])
        for p in phase_list:  # phases outer, the two K halves of the tile inner
            for h in (0, 1):
                if p & 1:
                    _add_rounded(d, np.subtract(s_np[1, p >> 1, h], s_np[0, p >> 1, h], out=lo), fp32_dest)
                else:
                    _add_rounded(d, s_np[0, p >> 1, h], fp32_dest)


def _dst_many_rows(xb: tuple, block: torch.Tensor, phase_list: tuple, tf32: bool, fp32_dest: bool,
                   d: torch.Tensor) -> None:
    """The Dst ``d`` (contiguous float32 ``[M, N]``, updated in place) plus ``x @ block`` for SrcB slices ``xb``
    (each ``[M, K]``): the weight block is widened and sliced one
    K tile (32 rows) at a time, so only its storage is read from memory and the slices stay in cache; each MVMUL
    is one in-place ``addmm`` of a 16-wide K chunk into Dst (float32; Dst and the 16 products summed in BLAS
    order), then rounded in place."""
    k, n = block.shape
    m = xb[0].shape[0]
    n_a = 2 if any(p & 1 for p in phase_list) else 1
    k_major = block.stride(0) == 1 and n > 1  # large weights are stored K-major
    wa = torch.empty((n_a, n, 32), dtype=torch.float32)  # the tile's SrcA slices, K-major
    bits = d.view(torch.int32)
    for t0 in range(0, k, 32):
        tile = block[t0: t0 + 32]
        tile = tile.T.to(torch.float32) if k_major else tile.T.contiguous().to(torch.float32)  # [n, 32]
        tile_bits = tile.view(torch.int32)
        torch.bitwise_and(tile_bits, _HI_MASK["A"], out=wa[0].view(torch.int32))  # in1 -> SrcA
        if n_a == 2:
            whole = torch.bitwise_and(tile_bits, _FULL_MASK["A"]).view(torch.float32) if tf32 else tile
            torch.sub(whole, wa[0], out=wa[1])
        for p in phase_list:  # phases outer, the two K halves of the tile inner
            for h in (0, 16):
                d.addmm_(xb[p >> 1][:, t0 + h: t0 + h + 16], wa[p & 1, :, h: h + 16].T)
                if not fp32_dest:  # round half away from zero on the magnitude to 8 significant bits
                    bits.add_(0x8000).bitwise_and_(-(1 << 16))


def _add_rounded(d: np.ndarray, s: np.ndarray, fp32_dest: bool) -> None:
    """One MVMUL into Dst in place: ``d += s`` (float32), then for a BF16 Dst round half away from zero on the
    magnitude to 8 significant bits (``(bits + half) & ~low``). numpy ufuncs: a third of torch's per-call cost
    on these small arrays."""
    np.add(d, s, out=d)
    if not fp32_dest:
        bits = d.view(np.int32)
        np.add(bits, _BF16_HALF, out=bits)
        np.bitwise_and(bits, _BF16_KEEP, out=bits)


def _chunk_sums(xb: tuple, w: torch.Tensor, phase_list: tuple, tf32: bool) -> torch.Tensor:
    """Every MVMUL's sum of products: ``[phase, K // 16, M, N]`` float32 for SrcB slices ``xb`` of a few rows
    (each ``[M, K // 16, 16]``) and the weight ``w [K, N]`` (in1 -> SrcA). The weight is widened and sliced
    ``_SUB_BLOCK_ELEMENTS`` at a time (output columns with all of K, so large K-major weights are read
    contiguously and the slices stay in cache); products are exact in float32 (5 x 7 bits), the 16 of a chunk
    are summed in float32. The phases that share a SrcB slice run as one product and one matrix-vector sum; a
    SrcA-lo phase's sum is the whole significand's minus the hi slice's (saves building the lo slice)."""
    k, n = w.shape
    m, chunks = xb[0].shape[0], k // 16
    sums = torch.empty((len(phase_list), chunks, m, n), dtype=torch.float32)
    wt = w.T  # [N, K]: contiguous for K-major weights
    rows = max(1, min(n, _SUB_BLOCK_ELEMENTS // k))
    n_a = 2 if any(p & 1 for p in phase_list) else 1  # SrcA slices: hi, and lo when a phase needs it
    per_b = [sum(1 for p in phase_list if p >> 1 == j) for j in (0, 1)]  # phases 2j, 2j + 1 use SrcB slice j
    xs = [None if v is None else v.view(1, m, 1, chunks, 16) for v in xb]
    wa = torch.empty((2, rows, k), dtype=torch.float32)  # SrcA hi slice, the whole SrcA significand
    prod = torch.empty((n_a, m, rows, chunks, 16), dtype=torch.float32)
    ones = torch.ones(16, dtype=torch.float32)
    for r0 in range(0, n, rows):
        nr = min(n, r0 + rows) - r0
        t = wa[1, :nr]
        t.copy_(wt[r0: r0 + nr])
        bits = t.view(torch.int32)
        torch.bitwise_and(bits, _HI_MASK["A"], out=wa[0, :nr].view(torch.int32))
        if tf32 and n_a == 2:  # TF32 data: without the SrcA-unused LSB
            torch.bitwise_and(bits, _FULL_MASK["A"], out=bits)
        for j, count in enumerate(per_b):
            if count:
                a = wa[:count, :nr].reshape(count, 1, nr, chunks, 16)
                part = torch.mul(a, xs[j], out=prod[:count, :, :nr])
                total = (part.reshape(-1, 16) @ ones).view(count, m, nr, chunks).permute(0, 3, 1, 2)
                sums[2 * j, :, :, r0: r0 + nr] = total[0]
                if count == 2:  # the lo slice's sum: whole minus hi
                    torch.sub(total[1], total[0], out=sums[2 * j + 1, :, :, r0: r0 + nr])
    return sums


def _accumulate(sums: torch.Tensor, n_phases: int, fp32_dest: bool, d_out: torch.Tensor) -> None:
    """The chunk sums ``[phase, K // 16, M, N]`` added into the Dst ``d_out`` (contiguous float32 ``[M, N]``, in
    place) in the LLK order (per 32-wide K tile: phases outer, the two 16-wide halves inner; K tiles in order),
    each added and rounded by ``_add_rounded``."""
    s = sums.numpy()
    d = d_out.numpy()
    for t in range(0, s.shape[1], 2):
        for i in range(n_phases):
            for c in (t, t + 1):
                _add_rounded(d, s[i, c], fp32_dest)


@contextlib.contextmanager
def one_thread():
    """torch on one thread for the block loop: its ops are small, and a parallel small op on a busy shared
    machine waits a scheduler time slice for its second thread."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def dst_reference(x: torch.Tensor, w: torch.Tensor, fidelity: str, fp32_dest: bool,
                  blocking: KBlocking = ONE_BLOCK) -> torch.Tensor:
    """Dst values of ``x @ w`` through the bit-exact card primitives, K accumulated by ``blocking``."""
    def on_top(xs, ws, d0):
        words = fpu.matmul_tiles(formats.to_bits(xs), formats.to_bits(ws), fidelity, "fp32" if fp32_dest else "bf16",
                                 None if d0 is None else formats.to_bits(d0))
        return formats.from_bits(words)

    return k_blocked(on_top, x, w, fp32_dest, blocking)


# ----------------------------------------------------------------------------- packer


def pack(dst: torch.Tensor, fp32_dest: bool, out_dtype: DataType) -> torch.Tensor:
    """Output values [..., N] the packer writes from Dst values (see the module docstring)."""
    words = formats.to_bits(dst)
    if out_dtype == DataType.FLOAT32:
        return formats.from_bits(packer.pack_fp32_to_fp32(words) if fp32_dest else packer.pack_bf16_to_bf16(words))
    if out_dtype == DataType.BFLOAT16:
        packed = packer.pack_fp32_to_bf16(words) if fp32_dest else packer.pack_bf16_to_bf16(words)
        return formats.from_bits(packed)
    if out_dtype in BLOCK_FLOAT_DTYPES:
        n = words.shape[-1]
        pad = -n % 32
        if pad:
            words = torch.nn.functional.pad(words, (0, pad))
        fmt = "bfp8_b" if out_dtype == DataType.BFLOAT8_B else "bfp4_b"
        codes, shared = packer.pack_bfp(words, "fp32" if fp32_dest else "bf16", fmt)
        return packer.bfp_value(codes, shared, fmt).to(torch.float32)[..., :n]
    raise ValueError(f"matmul output dtype {out_dtype} is not a float format")
