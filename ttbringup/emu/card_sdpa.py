"""Card numerics of ``ttnn.transformer.scaled_dot_product_attention`` (prefill) and ``..._decode`` of ttnn 0.81.1 on
Wormhole B0 (card mode, see ``numerics_mode``; facts §4 and the SDPA kernels of the 0.81.1 wheel:
``transformer/sdpa/device/kernels/compute/{compute_common,compute_streaming}.hpp`` and
``transformer/sdpa_decode/device/kernels/compute/sdpa_flash_decode.cpp``): the flash-attention online softmax,
chunk by chunk, each step on the unit that runs it, with the rounding of every Dst and circular buffer.

Contracts:

* ``resolve_config(compute_kernel_config, program_config, k_chunk_size=None)`` -> ``SdpaConfig``: a passed
  compute config field by field (``MathFidelity.Invalid`` counts as LoFi, as for matmul); with none, 0.81.1's SDPA
  default (facts §4, DISASM of both ops): HiFi2, ``math_approx_mode`` True, BF16 Dst, no packer L1 accumulation.
  ``exp_approx_mode`` is the program config's when set, else True (tt-metal's SDPA program factories:
  ``program_config->exp_approx_mode.value_or(true)``, the kernels' ``EXP_APPROX_MODE``); a set
  ``matmul_math_fidelity`` replaces the fidelity of the two matmuls only (the kernels' ``SDPA_MATMUL_FIDELITY``).
  Chunk sizes are the program config's; without one, prefill takes 32 / 32 (tt-metal's SDPA program factory:
  ``program_config ? ...->q_chunk_size : 32``, the same for k); decode passes the chunk ``sdpa_decode``'s
  validation settles (a user's size, else min(512, largest power-of-two divisor of S): the 0.81.1 docstring).
* ``prefill(q, k, v, mask, visible, scale, cfg, reference=False)``: values q ``[B, H, Sq, D]``, k / v
  ``[B, Hkv, Sk, D]`` (GQA: query head h reads kv head ``h // (H / Hkv)``), an additive ``mask`` broadcastable to
  ``[B, H, Sq, Sk]`` or None, ``visible`` a bool ``[Sq, Sk]`` (causal / sliding window) or None. Returns the Dst
  values of the last step ``[B, H, Sq, D]``. ``prefill_op(q, k, v, mask, is_causal, scale, window,
  compute_kernel_config, program_config)``: the op's output values packed into q's dtype, from its tensors (the
  hook of ``transformer.sdpa``).
* ``decode_rows(query, keys, values, mask, pos, scale, window, is_causal, cfg, reference=False, cores=1)``: Dst
  values of the attending users' rows, each (user, kv head) split over ``cores`` cores; ``decode(q, k, v, mask,
  positions, scale, window, is_causal, compute_kernel_config, program_config)``: the decode op's output values
  ``[1, users, heads, D]`` packed into q's dtype (zeros for skipped users), from the op's tensors (the hook of
  ``transformer.sdpa_decode``), on ``cores_per_head(grid cores, users, kv heads, program_config)`` cores.

Steps per K chunk (Sq rows of a Q chunk against ``k_chunk_size`` keys; every step vectorised over all rows):

1. ``S = Q Kᵀ`` on the matrix unit (Q in SrcB, K in SrcA) at the matmul fidelity into Dst, packed into a bf16
   buffer. **The scale is not applied here**: the kernel folds it into the exps. Causal / window / padding
   positions become -inf (the mask tiles stamped by L1 accumulation); a user mask is added to the unscaled scores
   by ELWADD, so a finite mask is effectively multiplied by ``scale`` on the card (0 / -inf masks are unaffected).
2. Row max of the chunk, then the elementwise max with the running max: exact (bf16 values in a bf16 buffer).
3. ``S - m`` by ELWSUB into Dst, then the packer-thread Schraudolph exp without input clamping and with the
   scale folded into its slope: ``i = round(x * (A * scale) + (B - C))``, the word ``i << 15`` (stored truncated
   into a BF16 Dst), negative results cleared by the packer's ReLU, packed as P (bf16). The streaming kernel
   always uses this approximate exp for P (``exp_packthread_tile<true>``).
4. Row sums: prefill packs each P tile onto a per-row partial-sum tile by bf16 L1 accumulation (round to nearest
   even per add, tiles in order) and reduces the 32 columns once at the end (``matmul_reduce``: the partial
   sums in SrcB against a column of ones at the compute fidelity); decode reduces each chunk on the matrix unit
   (``reduce_tile`` SUM, ``card_normalization``'s row sum) into a bf16 buffer.
5. ``O_chunk = P V`` (P in SrcB, V in SrcA) at the matmul fidelity into Dst, packed bf16.
6. From the second chunk: ``c = exp((m_old - m_new) * scale)``: ELWSUB into Dst, then on the SFPU ``x * bf16(scale)``
   and, with ``exp_approx_mode``, the sfpi exp_21f (c0 = 1.0017248, rounded to bf16 for a BF16 Dst) or, with an
   FP32 Dst, the FP32 accurate exp; packed bf16. Prefill (the streaming kernel's correction): ``O += O_old * c``
   and ``l += l_old * c`` as ELWMUL (O_old / l_old in SrcA, c broadcast in SrcB) packed onto the new chunk's
   buffers by bf16 L1 accumulation. Decode: ``l_old *= c``, ``O_old *= c`` (ELWMUL, packed), then
   ``l = l_new + l_old`` and ``O = O_old + O_chunk`` (ELWADD, packed).
7. After the row's last chunk: the reciprocal of the row sum on the SFPU (``math_approx_mode``: the seed and one
   Newton step stored truncated into a BF16 Dst; else one step rounded to bf16, or two with an FP32 Dst), packed
   bf16, then ``O * (1/l)`` (ELWMUL) into Dst.

Chunks: prefill row i of Q chunk c runs the K chunks below ``min((c + 1) q_chunk, Sk)`` when causal (the kernel
skips chunks above the diagonal), the chunks that hold any visible key of the Q chunk with a sliding window, every
chunk otherwise; decode user b the chunks up to the one holding ``cur_pos[b]`` (from the window start's chunk with
a sliding window). Keys past the sequence end inside the last chunk are masked.

Decode over cores (the 0.81.1 kernels ``sdpa_flash_decode.cpp`` / ``writer_decode_all.cpp`` /
``rt_args_common.hpp``; the host side from tt-metal's ``sdpa_decode_program_factory.cpp`` and its device-op header
of the same era, looked up in the search index: the 0.81.1 binary holds that factory's messages, e.g. "Tree
reduction max {} rounds ({} cores/head)"):

* Cores per (user, kv head): ``max(1, min(G, cap * B * Hkv) // B // Hkv)`` for G grid cores (the program config's
  ``compute_with_storage_grid_size``, else the device's: 64 on n150), B users, Hkv kv heads; ``cap`` is the config's
  ``max_cores_per_head_batch`` (16 by default) and G without a config. One user of Llama-3.2-1B (8 kv heads): 8.
* Chunks per core (``get_workload_for_core``): with more cores than chunks core c takes chunk ``n - 1 - c`` (core 0
  the last chunk, which holds ``cur_pos`` and the causal mask); else ``n // cores`` each in reverse core order, the
  remainder one more each to the highest-numbered cores. Each core runs the chunk loop above on its own chunks
  (its first chunk opens, the later ones are corrected as in step 6).
* The reduction tree (host ``get_tree_reduction_params``): ``vid = cores - 1 - core``; in round r a core whose vid
  has its low r + 1 bits all ones receives from ``vid - 2^r``; a core whose parent ``vid + 2^t`` (t its trailing
  ones) is past the group sends to core 0 in round t (non-power-of-two groups). Cores without chunks take no part.
  A receiver's step per child: the fused SFPU kernel ``calculate_fused_max_sub_exp_add_tile`` on the bf16
  statistics (``m = max``; ``c_i = exp((m_i - m) * bf16(scale))`` by the accurate exp whatever
  ``exp_approx_mode`` says; ``c_child l_child`` and ``c_own l_own`` each stored into Dst and read back, their sum
  stored; all four packed bf16), then ``O_own c_own`` and ``O_child c_child`` (ELWMUL, packed) and their ELWADD
  (own in SrcA), packed. Core 0 normalises (step 7).

Not pinned down: the 0.81.1 host code itself (the stored factory's runtime-argument layout is newer than the 0.81.1
kernel's; the core rule and the tree are taken from it and from the 0.81.1 kernel's comment "core 0 would have core 1
and core 2 as children"); paged caches, sharded Q and Q-head parallelism (other core layouts) are not modelled.

Exact to the card (the 0.81.1 kernel code, with the bit-exact ``card`` primitives in the reference path): the
operand roles, the step order, the buffer formats (bf16 intermediates: ``im_df = Float16_b`` in the program factory,
"scratch_cb (im_df = Float16_b)" in the 0.81.1 streaming kernel), the exp forms and their constants, L1 accumulation
versus ELWADD per step, the reciprocal. Most likely choices (the host code that decides them is compiled):

* Prefill runs the streaming kernel (``sdpa_standard_v2``), the one the SDPA precision report calls the legacy
  kernel; the older loop (``sdpa_standard``) differs only in adding the rescaled row sum by ELWADD instead of L1
  accumulation (ties away from zero instead of to even).
* The P V matmul of a chunk accumulates all of the chunk's K in one Dst (no split into L1-accumulated pieces).
* Decode's split and tree as above (an older tt-metal tree had the last core as root: with the same chunk split
  and a power-of-two group it merges the same sets of cores and gives the same values).
* ``S - m`` where both are -inf (a row with no visible key yet in its first chunk) is taken as -inf (P = 0).
* With ``exp_approx_mode`` False the correction uses ``card_unary``'s accurate exp (the kernel's own polynomial
  first-column exp is not modelled); P keeps the approximate exp as the streaming kernel does. The non-approximate
  BF16 reciprocal is the first-column form (default seed, one step, then rounded to bf16).

The fast path (``reference=False``) computes the matmuls by ``card_matmul``'s formulation (batched here: one
``baddbmm`` per MVMUL, rounded into Dst) and the eltwise steps by ``card_binary``'s fast ELWADD / ELWMUL; the
reference path uses ``card_matmul.dst_reference`` and the int64 ``card`` primitives for every step.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from . import card_binary, card_common, card_matmul, card_normalization, card_unary, numerics_mode
from .card import formats, fpu as card_fpu, packer as card_packer
from .errors import fatal
from .kv_storage import read_prefix
from .types import DataType, MathFidelity

_FIDELITY = {MathFidelity.LoFi: "LoFi", MathFidelity.HiFi2: "HiFi2", MathFidelity.HiFi3: "HiFi3",
             MathFidelity.HiFi4: "HiFi4", MathFidelity.Invalid: "LoFi"}
_DEFAULT_CHUNK = 32  # prefill q / k chunk without a program config
_NEG_INF = float("-inf")


@dataclass(frozen=True)
class SdpaConfig:
    """The numerics an SDPA runs with on the card."""

    math_fidelity: str  # eltwise steps and the final row reduction
    matmul_fidelity: str  # Q Kᵀ and P V
    fp32_dest_acc_en: bool
    math_approx_mode: bool  # the reciprocal
    exp_approx_mode: bool  # the correction exp (P's exp is always approximate)
    q_chunk_size: int
    k_chunk_size: int


def resolve_config(compute_kernel_config=None, program_config=None, k_chunk_size: int | None = None) -> SdpaConfig:
    """The config 0.81.1 runs an SDPA with (see the module docstring); decode passes its ``k_chunk_size``."""
    if compute_kernel_config is not None:
        c = compute_kernel_config
        fidelity, fp32, approx = _FIDELITY[c.math_fidelity], bool(c.fp32_dest_acc_en), bool(c.math_approx_mode)
    else:
        fidelity, fp32, approx = "HiFi2", False, True
    pc = program_config
    exp_approx = True if pc is None or pc.exp_approx_mode is None else bool(pc.exp_approx_mode)
    mm_fidelity = fidelity if pc is None or pc.matmul_math_fidelity is None else _FIDELITY[pc.matmul_math_fidelity]
    q_chunk = _DEFAULT_CHUNK if pc is None else pc.q_chunk_size
    if k_chunk_size is None:
        k_chunk_size = _DEFAULT_CHUNK if pc is None else pc.k_chunk_size
    return SdpaConfig(fidelity, mm_fidelity, fp32, approx, exp_approx, q_chunk, k_chunk_size)


# ----------------------------------------------------------------------------- units


class _Units:
    """The card's units for one op call: matmul, FPU eltwise, SFPU exps / reciprocal, packer, L1 accumulation."""

    def __init__(self, cfg: SdpaConfig, reference: bool):
        self.cfg = cfg
        self.reference = reference
        self.fp32 = cfg.fp32_dest_acc_en
        self.ar = card_unary.Arith(reference, wide=self.fp32)

    def matmul(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """Dst of ``x [N, M, K] @ w [N, K, C]`` (x in SrcB, w in SrcA) at the matmul fidelity."""
        fid = self.cfg.matmul_fidelity
        if self.reference:
            return torch.stack([card_matmul.dst_reference(a, b, fid, self.fp32) for a, b in zip(x, w)])
        return _batched_dst(x, w, fid, self.fp32)

    def pack(self, dst: torch.Tensor) -> torch.Tensor:
        """Dst values into a bf16 circular buffer."""
        return card_common.pack(dst, self.fp32, DataType.BFLOAT16)

    def fpu(self, op: str, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """ELWADD / ELWSUB / ELWMUL of buffer values (b broadcast to a) into Dst; -inf in ``a`` gives -inf."""
        a, b = torch.broadcast_tensors(a, b)
        neg_inf = a == _NEG_INF
        out = card_binary.fpu(op, a.masked_fill(neg_inf, 0.0).contiguous(),
                              b.masked_fill(b == _NEG_INF, 0.0).contiguous(), self.fp32, self.cfg.math_fidelity,
                              self.reference)
        return out.masked_fill(neg_inf, _NEG_INF)

    def l1_acc(self, acc: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """Packer L1 accumulation of bf16 values ``v`` onto the bf16 buffer ``acc`` (exact sum, round to even)."""
        if self.reference:
            return formats.from_bits(card_packer.l1_acc_bf16(formats.to_bits(acc), formats.to_bits(v)))
        # a float32 sum then one rounding to bf16 is the exactly rounded sum of two bf16 values: when they are more
        # than 16 binades apart the float32 error cannot reach the bf16 rounding boundary
        out = (acc + v).to(torch.bfloat16).float()
        return torch.where(out.abs() < 2.0**-126, torch.zeros_like(out), out)

    def row_sum(self, x: torch.Tensor) -> torch.Tensor:
        """Dst ``[..., 1]`` of the matrix-unit row reduction of buffer values against ones (compute fidelity)."""
        return card_normalization._row_sum(x, self.cfg, self.reference)

    def exp_scores(self, x: torch.Tensor, scale: float) -> torch.Tensor:
        """P: the packer-thread Schraudolph exp of Dst values ``x = S - m`` with the scale in its slope, ReLU."""
        slope = _f32(card_unary._SCHRAUDOLPH_A * _f32(scale))
        gone = x == _NEG_INF
        t = self.ar.mad(card_unary.load(x.masked_fill(gone, 0.0), self.fp32), slope,
                        card_unary._SCHRAUDOLPH_B_MINUS_C)
        i = torch.floor(t.clamp(0.0, 32767.0) + 0.5).to(torch.int32)  # FP32 -> int16 sign-magnitude, nearest
        y = (i << 15).view(torch.float32)
        y = y if self.fp32 else card_unary._store_bf16(y)
        return y.masked_fill(gone | (t < 0), 0.0)  # a negative result is cleared by the packer's ReLU

    def exp_correction(self, x: torch.Tensor, scale: float) -> torch.Tensor:
        """c: ``exp(x * bf16(scale))`` of Dst values ``x = m_old - m_new`` on the SFPU (first-column form)."""
        gone = x == _NEG_INF
        v = self.ar.mul(card_unary.load(x.masked_fill(gone, 0.0), self.fp32), _bf16_trunc(scale))
        if not self.cfg.exp_approx_mode:
            y = card_unary.exp(v, self.ar, self.fp32, approx=False)
        else:
            y = self._exp_accurate(v)
        return y.masked_fill(gone, 0.0)

    def _exp_accurate(self, v: torch.Tensor) -> torch.Tensor:
        """``_ckernel_sfpu_exp_accurate_`` after its scale multiply: exp_21f rounded to bf16, or the FP32 exp."""
        if self.fp32:
            return card_unary._exp_fp32(v, self.ar)
        return card_unary._stoch_rnd_bf16(card_unary._exp_21f(v, self.ar, card_unary._EXP21F_C[0]))

    def merge_stats(self, m_own, l_own, m_child, l_child, scale: float):
        """The tree step's fused SFPU kernel (``calculate_fused_max_sub_exp_add_tile``) on bf16 buffer values
        ``[N, M, 1]``: ``m = max``, ``c = exp((m_i - m) * bf16(scale))`` by the accurate exp whatever
        ``exp_approx_mode`` says, each ``c_i * l_i`` stored into Dst and read back, their sum stored. Returns the
        packed ``(c_own, c_child, m, l)``."""
        ar, fp32 = self.ar, self.fp32
        m_own, l_own, m_child, l_child = (card_unary.load(t, fp32) for t in (m_own, l_own, m_child, l_child))
        m = torch.where(m_own < m_child, m_child, m_own)
        corr = []
        for mi in (m_own, m_child):
            d = ar.add(mi.masked_fill(mi == _NEG_INF, 0.0), -m.masked_fill(m == _NEG_INF, 0.0))
            y = self._exp_accurate(ar.mul(d, _bf16_trunc(scale)))
            corr.append(y.masked_fill(mi == _NEG_INF, 0.0))  # exp(-inf) = 0 (a row with no visible key)

        def store(t):  # SFPSTORE: truncation into a BF16 Dst
            return t if fp32 else card_unary._store_bf16(t)

        child_part = store(ar.mul(corr[1], l_child))
        own_part = store(ar.mul(corr[0], l_own))
        total = store(ar.add(child_part, own_part))
        return self.pack(store(corr[0])), self.pack(store(corr[1])), self.pack(m), self.pack(total)

    def reciprocal(self, dst: torch.Tensor) -> torch.Tensor:
        """1 / l on the SFPU (``recip_tile_first_column``), Dst values in and out."""
        x = card_unary.load(dst, self.fp32)
        if self.cfg.math_approx_mode or self.fp32:
            return card_unary.reciprocal(x, self.ar, self.fp32, approx=self.cfg.math_approx_mode)
        return card_unary._stoch_rnd_bf16(card_unary._reciprocal_iter(x, self.ar, 1, False, card_unary._RECIP_SEED))


def _f32(v: float) -> float:
    return torch.tensor(v, dtype=torch.float32).item()


def _bf16_trunc(v: float) -> float:
    """The scale as the kernel's ``scale_fp32 >> 16`` gives it: float32 truncated to bf16."""
    return card_binary.scalar_value(v, DataType.BFLOAT16)


_HI_MASK = {"A": -(1 << 19), "B": -(1 << 17)}  # card_matmul's fidelity slices (bf16 / block-float Src data)


def _batched_dst(x: torch.Tensor, w: torch.Tensor, fidelity: str, fp32_dest: bool) -> torch.Tensor:
    """``card_matmul.dst_fast`` over a batch: ``x [N, M, K]`` (SrcB), ``w [N, K, C]`` (SrcA), bf16 values; per 32-wide
    K tile the fidelity phases outer and the two 16-wide halves inner, each MVMUL one ``baddbmm`` into Dst (float32,
    BLAS order) then rounded into Dst (BF16: half away from zero on the magnitude)."""
    pad = -x.shape[-1] % 32
    if pad:
        x = torch.nn.functional.pad(x, (0, pad))
        w = torch.nn.functional.pad(w, (0, 0, 0, pad))
    x, w = x.float().contiguous(), w.float().contiguous()
    phase_list = card_fpu.phases(fidelity)
    xb_hi = (x.view(torch.int32) & _HI_MASK["B"]).view(torch.float32)
    xb = (xb_hi, x - xb_hi)
    wa_hi = (w.view(torch.int32) & _HI_MASK["A"]).view(torch.float32)
    wa = (wa_hi, w - wa_hi)
    d = torch.zeros((x.shape[0], x.shape[1], w.shape[2]), dtype=torch.float32)
    for t0 in range(0, x.shape[-1], 32):
        for p in phase_list:
            for h in (t0, t0 + 16):
                d.baddbmm_(xb[p >> 1][:, :, h:h + 16], wa[p & 1][:, h:h + 16, :])
                card_matmul.round_into_dst(d, fp32_dest)
    return d


# ----------------------------------------------------------------------------- the streaming loop


def _attend(q, k, v, mask, hidden, first, last, scale: float, units: _Units, decode: bool) -> torch.Tensor:
    """The online softmax over K chunks for rows ``q [N, M, D]`` against ``k`` / ``v [N, S, D]`` (S a whole number of
    chunks): ``hidden [N, M, S]`` bool, ``mask`` additive ``[N, M, S]`` finite values or None, each row's chunk range
    ``[first, last)`` ``[N, M]``, all on one core. Returns the Dst values of ``O * (1 / l)`` ``[N, M, D]``."""
    return _finish(_online(q, k, v, mask, hidden, first, last, scale, units, decode), units, decode)


def _finish(state, units: _Units, decode: bool) -> torch.Tensor:
    """Dst values of ``O * (1 / l)`` from a final ``(m, l, O)``."""
    _, l_sum, o = state
    total = l_sum if decode else units.row_sum(l_sum)
    recip = units.pack(units.reciprocal(total))
    return units.fpu("mul", o, recip)


def _online(q, k, v, mask, hidden, first, last, scale: float, units: _Units, decode: bool):
    """One core's loop of ``_attend``: the packed running ``(m, l, O)`` after each row's chunks ``[first, last)``
    (rows with an empty range hold values of no meaning)."""
    size = units.cfg.k_chunk_size
    kt = k.transpose(1, 2)
    o = l_sum = m = None
    for c in range(int(first.min()), int(last.max())):
        active = (first <= c) & (c < last)
        if not bool(active.any()):
            continue
        opening = (first == c).unsqueeze(-1)  # the row's first chunk: no correction
        cols = slice(c * size, c * size + _live_width(hidden[:, :, c * size:(c + 1) * size]))
        s = units.pack(units.matmul(q, kt[:, :, cols]))
        if mask is not None:
            s = units.pack(units.fpu("add", s, mask[:, :, cols]))
        s = s.masked_fill(hidden[:, :, cols], _NEG_INF)
        m_new = s.amax(dim=-1, keepdim=True)
        if m is not None:
            m_new = torch.where(opening, m_new, torch.maximum(m_new, m))
        p = units.pack(units.exp_scores(units.fpu("sub", s, m_new), scale))
        l_new = _chunk_sums(p, units, decode)
        o_new = units.pack(units.matmul(p, v[:, cols]))
        if m is not None:
            corr = units.pack(units.exp_correction(units.fpu("sub", m, m_new), scale))
            if decode:
                l_old = units.pack(units.fpu("mul", l_sum, corr))
                o_old = units.pack(units.fpu("mul", o, corr))
                l_fix = units.pack(units.fpu("add", l_new, l_old))
                o_fix = units.pack(units.fpu("add", o_old, o_new))
            else:
                o_fix = units.l1_acc(o_new, units.pack(units.fpu("mul", o, corr)))
                l_fix = units.l1_acc(l_new, units.pack(units.fpu("mul", l_sum, corr)))
            l_new, o_new = torch.where(opening, l_new, l_fix), torch.where(opening, o_new, o_fix)
            keep = active.unsqueeze(-1)
            m_new, l_new, o_new = (torch.where(keep, new, old) for new, old in ((m_new, m), (l_new, l_sum), (o_new, o)))
        m, l_sum, o = m_new, l_new, o_new
    return m, l_sum, o


def _split_attend(q, k, v, mask, hidden, first, last, scale: float, units: _Units, cores: int) -> torch.Tensor:
    """Decode ``_attend`` with each row's chunks split over ``cores`` cores (``_core_chunks``), every core's
    ``(m, l, O)`` from ``_online`` and the partials merged up the reduction tree (``_tree_children``) into core 0,
    which normalises. Rows are [N, M] as in ``_attend``, ``first`` / ``last`` ``[N, M]``."""
    states, has = [], []
    for core in range(cores):
        start, end = _core_chunks(first, last, core, cores)
        busy = start < end
        has.append(busy)
        states.append(_online(q, k, v, mask, hidden, start, end, scale, units, True) if bool(busy.any()) else None)
    children = [_tree_children(core, cores) for core in range(cores)]
    for rnd in range((cores - 1).bit_length()):
        for core in range(cores):
            child = children[core].get(rnd)
            if child is None or states[child] is None:
                continue
            merged = _merge(states[core], states[child], scale, units)
            take = has[child].unsqueeze(-1)  # a child without chunks sends nothing
            states[core] = tuple(torch.where(take, new, old) for new, old in zip(merged, states[core]))
    return _finish(states[0], units, True)


def _merge(own, child, scale: float, units: _Units):
    """A reducer core's step with one child's ``(m, l, O)``: the fused correction of the statistics, then
    ``O_own * c_own`` and ``O_child * c_child`` (ELWMUL, packed) and their ELWADD (own in SrcA), packed."""
    (m_own, l_own, o_own), (m_child, l_child, o_child) = own, child
    c_own, c_child, m, l_sum = units.merge_stats(m_own, l_own, m_child, l_child, scale)
    o_own = units.pack(units.fpu("mul", o_own, c_own))
    o_child = units.pack(units.fpu("mul", o_child, c_child))
    return m, l_sum, units.pack(units.fpu("add", o_own, o_child))


def _core_chunks(first: torch.Tensor, last: torch.Tensor, core: int, cores: int):
    """The chunks ``[start, end)`` core ``core`` of a user's ``cores`` gets from the range ``[first, last)``
    (0.81.1's ``get_workload_for_core``): with more cores than chunks one chunk each, core 0 the last; else
    ``n // cores`` each in reverse core order, the remainder one more each to the highest-numbered cores (the
    earliest chunks). An empty range has ``start == end``."""
    count = last - first
    spare = count < cores
    one = torch.where(core < count, first + count - core - 1, first)
    one_end = torch.where(core < count, one + 1, first)
    each, extra = count // cores, count % cores
    rev = cores - core - 1
    start = first + rev * each + torch.clamp(extra, max=rev)
    end = start + each + (rev < extra).long()
    return torch.where(spare, one, start), torch.where(spare, one_end, end)


def _tree_children(core: int, cores: int) -> dict[int, int]:
    """The children core ``core`` receives from, by round (0.81.1's host ``get_tree_reduction_params``): a binary
    tree on ``vid = cores - 1 - core`` (core 0 the root), ``vid`` taking ``vid - 2^r`` in round r when its low
    r + 1 bits are all ones; a core whose parent would be past the group (``cores`` not a power of two) sends to
    core 0 in its own send round instead."""
    vid = cores - 1 - core
    out = {}
    for rnd in range((cores - 1).bit_length()):
        full = (2 << rnd) - 1
        if vid & full == full:
            out[rnd] = cores - 1 - (vid - (1 << rnd))
    if core == 0:
        for other in range(1, cores):
            ov = cores - 1 - other
            rnd = (~ov & (ov + 1)).bit_length() - 1  # the trailing ones of ov: its send round
            if ov + (1 << rnd) >= cores:
                out.setdefault(rnd, other)
    return out


def cores_per_head(grid_cores: int, users: int, kv_heads: int, program_config) -> int:
    """How many cores 0.81.1's decode program factory gives each (user, kv head): the grid's cores shared over the
    users, capped at ``max_cores_per_head_batch`` per head when a program config is passed, then over the kv
    heads, at least one."""
    cap = grid_cores if program_config is None else program_config.max_cores_per_head_batch
    per_user = min(grid_cores, cap * users * kv_heads) // users
    return max(1, per_user // kv_heads)


def _live_width(hidden: torch.Tensor) -> int:
    """The chunk's key columns up to the last 32-key tile with a visible key of any row. The tiles after it hold
    only masked keys: their P is 0, and adding zero products or zero tiles leaves every Dst and L1 sum as it
    was, so skipping them changes no value (only the emulator's work; the card computes them)."""
    live = torch.nonzero((~hidden).any(dim=1).any(dim=0))
    return 32 if live.numel() == 0 else (int(live[-1]) // 32 + 1) * 32


def _chunk_sums(p: torch.Tensor, units: _Units, decode: bool) -> torch.Tensor:
    """A chunk's row sums of P: decode ``[N, M, 1]`` by the matrix-unit reduction (packed); prefill the ``[N, M, 32]``
    partial-sum tile, P's 32-wide tiles L1-accumulated in order."""
    if decode:
        return units.pack(units.row_sum(p))
    acc = p[..., :32]
    for t in range(32, p.shape[-1], 32):
        acc = units.l1_acc(acc, p[..., t:t + 32])
    return acc


def _pad(t: torch.Tensor, extra: int, value) -> torch.Tensor:
    """``t`` with ``extra`` entries of ``value`` appended along the last dim (any dtype, bool included)."""
    if not extra:
        return t
    return torch.cat([t, torch.full((*t.shape[:-1], extra), value, dtype=t.dtype)], dim=-1)


def _chunk_ranges(visible: torch.Tensor, rows: int, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per row ``[first, last)`` K chunks of a prefill whose rows run in Q chunks of ``rows``: the chunks holding any
    visible key of the row's Q chunk."""
    seq_q, seq_k = visible.shape
    pad = -seq_q % rows
    vis = _pad(visible.T, pad, False).T.reshape(-1, rows, seq_k).any(dim=1)  # [Q chunks, Sk]
    chunks = _pad(vis, -seq_k % size, False).view(vis.shape[0], -1, size).any(dim=-1)
    idx = torch.arange(chunks.shape[1])
    first = torch.where(chunks, idx, chunks.shape[1]).amin(dim=1)
    last = torch.where(chunks, idx + 1, 0).amax(dim=1)
    per_row = torch.arange(seq_q) // rows
    return first[per_row], last[per_row]


def prefill(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None,
            visible: torch.Tensor | None, scale: float, cfg: SdpaConfig, reference: bool = False) -> torch.Tensor:
    """Dst values of the card's prefill SDPA (see the module docstring)."""
    batch, heads, seq_q, dim = q.shape
    seq_k = k.shape[2]
    group = heads // k.shape[1]
    size = cfg.k_chunk_size
    padded = seq_k + (-seq_k % size)
    if visible is None:
        visible = torch.ones(seq_q, seq_k, dtype=torch.bool)
    first, last = _chunk_ranges(visible, cfg.q_chunk_size, size)
    extra = padded - seq_k
    hidden = _pad(~visible, extra, True)
    pad_keys = lambda t: torch.nn.functional.pad(t.repeat_interleave(group, dim=1), (0, 0, 0, extra))  # noqa: E731
    kk, vv = pad_keys(k).reshape(-1, padded, dim), pad_keys(v).reshape(-1, padded, dim)
    n = batch * heads
    add = None
    if mask is not None:
        full = mask.expand(batch, heads, seq_q, seq_k)
        hidden = hidden | _pad(full == _NEG_INF, extra, False)
        add = _pad(full.masked_fill(full == _NEG_INF, 0.0), extra, 0.0).reshape(n, seq_q, padded)
    hidden = hidden.expand(batch, heads, seq_q, padded).reshape(n, seq_q, padded)
    with card_common.one_thread():
        out = _attend(q.reshape(n, seq_q, dim), kk, vv, add, hidden, first.expand(n, seq_q), last.expand(n, seq_q),
                      scale, _Units(cfg, reference), decode=False)
    return out.reshape(batch, heads, seq_q, dim)


def decode_rows(query: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, mask: torch.Tensor | None,
                pos: torch.Tensor, scale: float, window: int, is_causal: bool, cfg: SdpaConfig,
                reference: bool = False, cores: int = 1) -> torch.Tensor:
    """Dst values ``[n, heads, D]`` of the card's decode for n attending users: ``query [n, heads, D]``, ``keys`` /
    ``values`` their cache prefixes ``[n, Hkv, L, D]`` (L a whole number of chunks, at least ``max(pos) + 1``),
    ``mask`` additive ``[n, heads, L]`` or None, ``pos`` the users' positions ``[n]``, each (user, kv head) on
    ``cores`` cores (``cores_per_head``)."""
    n, heads, dim = query.shape
    kv_heads, length = keys.shape[1], keys.shape[2]
    group = heads // kv_heads
    size = cfg.k_chunk_size
    j = torch.arange(length)
    hidden = j.unsqueeze(0) > pos.unsqueeze(1)
    start = torch.zeros_like(pos)
    if window:
        start = (pos - window + 1 if is_causal else pos - window // 2).clamp(min=0)
        hidden |= j.unsqueeze(0) < start.unsqueeze(1)
    first = (start // size).repeat_interleave(kv_heads)
    last = (pos // size + 1).repeat_interleave(kv_heads)
    hidden = hidden.repeat_interleave(kv_heads, dim=0).unsqueeze(1).expand(-1, group, -1)
    add = None
    if mask is not None:
        mask = mask.reshape(n * kv_heads, group, length)
        hidden = hidden | (mask == _NEG_INF)
        add = mask.masked_fill(mask == _NEG_INF, 0.0)
    rows = query.reshape(n * kv_heads, group, dim)
    args = (rows, keys.reshape(-1, length, dim), values.reshape(-1, length, dim), add, hidden,
            first.unsqueeze(1).expand(-1, group), last.unsqueeze(1).expand(-1, group), scale, _Units(cfg, reference))
    with card_common.one_thread():
        out = _split_attend(*args, cores) if cores > 1 else _attend(*args, decode=True)
    return out.reshape(n, heads, dim)


def prefill_op(q, k, v, mask, is_causal: bool, scale: float, window: int, compute_kernel_config,
               program_config) -> torch.Tensor:
    """Card-mode output values of ``scaled_dot_product_attention`` (q's dtype) from the op's tensors."""
    from .transformer import sdpa  # imported here: that module imports this one

    seq_q, seq_k = q.shape[2], k.shape[2]
    visible = None
    if window:
        visible = sdpa.window_mask(seq_q, seq_k, is_causal, window)
    elif is_causal:
        visible = torch.ones(seq_q, seq_k, dtype=torch.bool).tril()
    cfg = resolve_config(compute_kernel_config, program_config)
    values = [t._values(sdpa.OP) for t in (q, k, v)]
    dst = prefill(*values, None if mask is None else mask._values(sdpa.OP), visible, scale, cfg,
                  numerics_mode.card_reference())
    return card_common.pack(dst, cfg.fp32_dest_acc_en, q.dtype)


def decode(q, k, v, mask, positions: torch.Tensor, scale: float, window: int, is_causal: bool, compute_kernel_config,
           program_config) -> torch.Tensor:
    """Card-mode output values of ``scaled_dot_product_attention_decode`` (see the module docstring)."""
    from .transformer import sdpa_decode  # imported here: that module imports this one

    op = sdpa_decode.OP
    _, _, heads, dim = tuple(q.shape)
    users, seq = k.padded_shape[0], k.padded_shape[2]
    out = torch.zeros(1, users, heads, dim)
    rows = torch.nonzero(positions >= 0).flatten()
    if rows.numel() == 0:
        return out
    bad = positions >= seq
    if bool(bad.any()):
        raise fatal(op, f"cur_pos {int(positions[bad][0])} is past the K sequence length {seq} "
                        "(the card would read out of bounds)")
    cfg = resolve_config(compute_kernel_config, program_config, sdpa_decode._k_chunk_size(k.shape[-2], program_config))
    pos = positions[rows]
    size = cfg.k_chunk_size
    length = (int(pos.max()) // size + 1) * size
    # only the 32-key tiles up to the last position are read: the chunk's later keys are masked (see _live_width)
    read = min(length, (int(pos.max()) // 32 + 1) * 32)
    every = rows.numel() == users
    users_in = slice(None) if every else rows
    query = q._values(op)[0] if every else q._values(op)[0].index_select(0, rows)
    keys, values = (_pad_keys(read_prefix(t, read, users_in, op), length) for t in (k, v))
    user_mask = None
    if mask is not None:
        user_mask = _pad(sdpa_decode._user_mask(mask, users, heads, read, None if every else rows), length - read, 0.0)
    grid = (q.device().compute_with_storage_grid_size() if program_config is None
            else program_config.compute_with_storage_grid_size)
    cores = cores_per_head(grid.x * grid.y, q.padded_shape[1], k.padded_shape[1], program_config)
    dst = decode_rows(query, keys, values, user_mask, pos, scale, window, is_causal, cfg,
                      numerics_mode.card_reference(), cores)
    out[0, rows] = card_common.pack(dst, cfg.fp32_dest_acc_en, q.dtype)
    return out


def _pad_keys(t: torch.Tensor, length: int) -> torch.Tensor:
    """Zero keys appended to ``t [..., L, D]`` up to ``length`` (masked positions of the last chunk)."""
    return torch.nn.functional.pad(t, (0, 0, 0, length - t.shape[-2]))


__all__ = ["SdpaConfig", "cores_per_head", "decode", "decode_rows", "prefill", "prefill_op", "resolve_config"]
