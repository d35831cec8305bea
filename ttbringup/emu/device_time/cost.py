"""Predicted device time of one recorded op on a Wormhole system: ``estimate(record, system) -> Cost``.

Per op class (the formulas; every constant is in :mod:`.constants` with its source):

* **matmul / linear**: logical FLOPs ``2*M*K*N*batch`` (what tt-perf-report counts); the engine works on whole
  tiles, so compute time uses M, K, N rounded up to 32: ``2*Mp*Kp*Np*batch / (cores * 4096/fid * f * eta)``,
  eta the out-of-box matmul efficiency (1 for a DRAM-sharded matmul, whose compute overlaps the weight stream:
  facts §6.2).
  Cores: 12 when the weight is DRAM width-sharded (one per bank), else one per output tile up to 64. DRAM time:
  bytes of the DRAM-resident operands and output over 257 GB/s (DRAM-sharded, plus 4.95 us per call) or
  190 GB/s (interleaved), never more than ``cores`` x the per-core NoC rate. Device time = the larger of the two
  (plus the sharded intercept), at least the small-op floor.
* **eltwise** binary (FPU; a multiply slowed by the fidelity) and unary (SFPU): one pass per element over
  ``cores`` = output tiles up to 64; DRAM bytes of inputs and output.
* **rms_norm / layer_norm / softmax**: a few FPU passes per element (multiplies and reductions at the op's
  fidelity), one core per row of tiles (ttnn's interleaved norms split by tile rows), so a 32-row decode norm runs
  on one core and is limited by that core's NoC rate.
* **SDPA prefill**: ``4*B*nh*hd`` FLOPs per attended (query, key) pair, causal pairs ``S*(S+1)/2``; compute over
  64 cores at the op's fidelity and the SDPA efficiency [uncertain]. **SDPA decode**: the fitted KV-streaming
  law ``41 us + KV bytes / 209 GB/s``, KV bytes of each active user's prefix ``cur_pos + 1`` rounded up to a tile
  (a user at -1 is skipped; unknown positions count the whole cache).
* **embedding**: the rows read from the table and the output written.
* **KV-cache update / fill**: the rows written (update: one tile row per user and KV head, read-modify-write),
  not the whole cache.
* **data movement** (concat, slice, reshape that moves, transpose, permute, layout / dtype / memory-config
  changes, create/concat heads, rotary's data; anything unclassified): bytes read and written over the DRAM or
  NoC rate; rotary adds its multiplies.
* **collectives**: bottleneck bytes over a group of N chips (CCL_bandwidth.md): all_gather and reduce_scatter
  ``(N-1)/N * T``, all_reduce ``2(N-1)/N * T``, over the system's usable links, plus a fixed cost and one hop
  latency per step.

Bound (tt-perf-report's rule on the predicted time): DRAM % = DRAM bytes / time / 288 GB/s, FLOPs % = FLOPs /
time / (tt-perf-report per-core peak at the fidelity x cores); BOTH if both >= 65 %, else DRAM or FLOP if that one
is, else SLOW; a collective whose link time is >= 65 % of its time is LINK.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from . import constants as C
from .fidelity import MATMULS
from .record import Record, TensorSpec

CCL_OPS = ("ttnn.all_gather", "ttnn.reduce_scatter", "ttnn.all_reduce")
NORMS = ("ttnn.rms_norm", "ttnn.layer_norm", "ttnn.softmax")
BINARY = ("ttnn.add", "ttnn.subtract", "ttnn.multiply")
UNARY = ("ttnn.silu", "ttnn.relu", "ttnn.gelu", "ttnn.typecast")
KV_UPDATES = ("ttnn.paged_update_cache", "ttnn.update_cache")
KV_FILLS = ("ttnn.fill_cache", "ttnn.paged_fill_cache")
TILE = 32


@dataclass(frozen=True)
class Cost:
    """What the model predicts for one op on one chip (all chips of a mesh run it at the same time)."""

    flops: int  # logical FLOPs
    dram_bytes: int  # bytes read from and written to DRAM
    cores: int
    compute_s: float
    dram_s: float
    device_s: float
    bound: str  # DRAM / FLOP / BOTH / SLOW / LINK
    dram_sharded: bool = False
    link_s: float = 0.0

    @property
    def limit(self) -> str:
        """The model term that set the time: ``compute``, ``dram``, ``link`` or ``fixed`` (floor / intercept)."""
        terms = {"compute": self.compute_s, "dram": self.dram_s, "link": self.link_s}
        name, value = max(terms.items(), key=lambda kv: kv[1])
        return name if value >= 0.5 * self.device_s else "fixed"

    @property
    def dram_gbps(self) -> float:
        return self.dram_bytes / self.device_s / 1e9 if self.device_s else 0.0

    @property
    def tflops(self) -> float:
        return self.flops / self.device_s / 1e12 if self.device_s else 0.0


def _volume(dims) -> int:
    n = 1
    for d in dims:
        n *= d
    return n


def _ceil(x: int, m: int = TILE) -> int:
    return -(-x // m) * m


def _dram(specs) -> int:
    return sum(s.bytes for s in specs if s is not None and s.in_dram)


def _fid(record: Record) -> float:
    return float(C.FIDELITY_DIVISOR[record.fidelity]) if record.fidelity else 1.0


def _move_rate(cores: int, touches_dram: bool) -> float:
    """Bytes/s an op on ``cores`` cores can move: the NoC per core, capped by interleaved DRAM when it reads DRAM."""
    rate = cores * C.PER_CORE_NOC_BPS
    return min(rate, C.DRAM_INTERLEAVED_BPS) if touches_dram else rate


def _cores_for_tiles(tiles: int) -> int:
    return max(1, min(int(C.WORKER_CORES), tiles))


def bound_of(record: Record, flops: int, dram_bytes: int, cores: int, device_s: float, link_s: float = 0.0) -> str:
    """tt-perf-report's bound classification of the predicted time (see the module docstring)."""
    if record.op in CCL_OPS and device_s and link_s / device_s >= C.BOUND_THRESHOLD:
        return "LINK"
    dram_pct = dram_bytes / device_s / C.DRAM_PEAK_BPS if device_s else 0.0
    peak = C.PERF_REPORT_TFLOPS_PER_CORE[record.fidelity or "HiFi4"] * cores
    flop_pct = flops / device_s / peak if device_s else 0.0
    dram_hit, flop_hit = dram_pct >= C.BOUND_THRESHOLD, flop_pct >= C.BOUND_THRESHOLD
    if dram_hit and flop_hit:
        return "BOTH"
    return "DRAM" if dram_hit else "FLOP" if flop_hit else "SLOW"


def _cost(record: Record, flops, dram_bytes, cores, compute_s, dram_s, *, fixed_s=0.0, sharded=False,
          link_s=0.0) -> Cost:
    device_s = max(C.SMALL_OP_S, fixed_s + max(compute_s, dram_s, link_s))
    return Cost(flops=int(flops), dram_bytes=int(dram_bytes), cores=int(cores), compute_s=compute_s, dram_s=dram_s,
                device_s=device_s, bound=bound_of(record, flops, dram_bytes, cores, device_s, link_s),
                dram_sharded=sharded, link_s=link_s)


def _engine_rate(cores: int, fid: float, efficiency: float) -> float:
    """FLOP/s of the matrix engine on ``cores`` cores at fidelity divisor ``fid``."""
    return cores * C.FLOP_PER_CYCLE_LOFI / fid * C.CLOCK_HZ * efficiency


# ----------------------------------------------------------------------------- matmul


def matmul_dims(record: Record) -> tuple[int, int, int, int, int, int, int]:
    """(batch, M, K, N, Mp, Kp, Np) of a matmul record: logical and tile-padded."""
    a = record.input("input_tensor_a")
    out = record.outputs[0]
    m, n = out.shape[-2], out.shape[-1]
    mp, np_ = out.padded_shape[-2], out.padded_shape[-1]
    k = a.shape[-2] if record.attrs.get("transpose_a") else a.shape[-1]
    return _volume(out.shape[:-2]), m, k, n, mp, _ceil(k), np_


def matmul_cost(record: Record) -> Cost:
    batch, m, k, n, mp, kp, np_ = matmul_dims(record)
    weight = record.input("input_tensor_b")
    sharded = weight.in_dram and weight.memory_layout == "WIDTH_SHARDED"
    flops = 2 * m * k * n * batch
    cores = int(C.DRAM_SHARDED_CORES) if sharded else _cores_for_tiles(batch * mp * np_ // (TILE * TILE))
    efficiency = 1.0 if sharded else C.MATMUL_EFFICIENCY  # facts §6.2: the decode law has no efficiency factor
    compute_s = 2 * mp * kp * np_ * batch / _engine_rate(cores, _fid(record), efficiency)
    dram_bytes = _dram(record.inputs) + _dram(record.outputs)
    rate = C.DRAM_SHARDED_BPS if sharded else C.DRAM_INTERLEAVED_BPS
    dram_s = dram_bytes / min(rate, cores * C.PER_CORE_NOC_BPS) if dram_bytes else 0.0
    fixed = C.DRAM_SHARDED_MATMUL_FIXED_S if sharded else 0.0
    return _cost(record, flops, dram_bytes, cores, compute_s, dram_s, fixed_s=fixed, sharded=sharded)


# ----------------------------------------------------------------------------- eltwise and norms


def eltwise_cost(record: Record) -> Cost:
    out = record.outputs[0]
    elements = out.pages * TILE * TILE if out.layout == "TILE" else _volume(out.padded_shape)
    cores = _cores_for_tiles(out.pages)
    if record.op in BINARY:
        per_cycle = C.ELTWISE_PER_CYCLE / (_fid(record) if record.op == "ttnn.multiply" else 1.0)
    else:
        per_cycle = C.SFPU_PER_CYCLE
    compute_s = elements / (per_cycle * cores * C.CLOCK_HZ)
    dram_bytes = _dram(record.inputs) + _dram(record.outputs)
    moved = sum(s.bytes for s in record.inputs) + out.bytes
    dram_s = moved / _move_rate(cores, dram_bytes > 0)
    return _cost(record, _volume(out.shape), dram_bytes, cores, compute_s, dram_s)


# (multiplies, adds, reductions, SFPU passes) per element, and logical FLOPs per element
_NORM_PASSES = {
    "ttnn.rms_norm": ((3, 0, 1, 0), 4),  # x*x, sum, * rsqrt, * gamma
    "ttnn.layer_norm": ((3, 2, 2, 0), 7),  # mean, x - mean, square, var, * rsqrt, * gamma, + beta
    "ttnn.softmax": ((1, 1, 2, 1), 5),  # max, x - max, exp, sum, * 1/sum
}


def norm_cost(record: Record) -> Cost:
    x = record.inputs[0]
    (muls, adds, reduces, sfpu), per_element = _NORM_PASSES[record.op]
    if record.input("residual_input_tensor") is not None:
        adds += 1
    width = x.padded_shape[-1] if x.padded_shape else 1
    elements = x.pages * TILE * TILE if x.layout == "TILE" else _volume(x.padded_shape)
    cores = _cores_for_tiles(max(1, elements // (width * TILE)))
    fid = _fid(record)
    cycles = elements * (muls * fid / C.ELTWISE_PER_CYCLE + adds / C.ELTWISE_PER_CYCLE
                         + reduces * fid / C.REDUCE_PER_CYCLE + sfpu / C.SFPU_PER_CYCLE) / cores
    dram_bytes = _dram(record.inputs) + _dram(record.outputs)
    moved = sum(s.bytes for s in record.inputs) + sum(s.bytes for s in record.outputs)
    dram_s = moved / _move_rate(cores, dram_bytes > 0)
    return _cost(record, per_element * _volume(x.shape), dram_bytes, cores, cycles / C.CLOCK_HZ, dram_s)


# ----------------------------------------------------------------------------- attention


def sdpa_flops(batch: int, heads: int, q_len: int, k_len: int, head_dim: int, causal: bool) -> int:
    """QK^T and PV FLOPs: 4 * head_dim per attended (query, key) pair; causal attends ``S*(S+1)/2`` pairs."""
    pairs = q_len * (q_len + 1) // 2 if causal and q_len == k_len else q_len * k_len
    return 4 * batch * heads * head_dim * pairs


def sdpa_cost(record: Record) -> Cost:
    q, k = record.input("input_tensor_q"), record.input("input_tensor_k")
    batch, heads, s_q, hd = q.shape
    s_k = k.shape[-2]
    causal = record.attrs.get("is_causal", True)
    flops = sdpa_flops(batch, heads, s_q, s_k, hd, causal)
    tiles_q, tiles_k = _ceil(s_q) // TILE, _ceil(s_k) // TILE
    tile_pairs = tiles_q * (tiles_q + 1) // 2 if causal and s_q == s_k else tiles_q * tiles_k
    padded_flops = 4 * batch * heads * _ceil(hd) * tile_pairs * TILE * TILE
    cores = _cores_for_tiles(batch * heads * tiles_q)
    compute_s = padded_flops / _engine_rate(cores, _fid(record), C.SDPA_EFFICIENCY)
    dram_bytes = _dram(record.inputs) + _dram(record.outputs)
    dram_s = dram_bytes / _move_rate(cores, dram_bytes > 0)
    return _cost(record, flops, dram_bytes, cores, compute_s, dram_s)


def active_lengths(positions, users: int, capacity: int) -> list[int]:
    """Tokens each attending user reads from its cache: ``pos + 1`` for ``pos >= 0``; every user at ``capacity``
    when the positions are unknown (None)."""
    if positions is None:
        return [capacity] * users
    return [p + 1 for p in list(positions)[:users] if p >= 0]


def sdpa_decode_cost(record: Record) -> Cost:
    q, k = record.input("input_tensor_q"), record.input("input_tensor_k")
    users, kv_heads, capacity, hd = k.shape
    heads = q.shape[2]
    positions = record.positions.get("cur_pos_tensor", record.attrs.get("cur_pos") or None)
    if record.attrs.get("is_causal", True) is False:
        positions = [capacity - 1] * users
    lengths = active_lengths(positions, users, capacity)
    bytes_per_token = 2 * kv_heads * _ceil(hd) * k.bytes / max(1, _volume(k.padded_shape))  # K and V
    kv_bytes = sum(_ceil(n) for n in lengths) * bytes_per_token
    flops = sum(4 * heads * hd * n for n in lengths)
    other = _dram(s for s in record.inputs if s.name not in ("input_tensor_k", "input_tensor_v"))
    dram_bytes = kv_bytes + other + _dram(record.outputs)
    dram_s = kv_bytes / C.SDPA_DECODE_BPS
    cores = _cores_for_tiles(max(1, len(lengths)) * kv_heads)
    return _cost(record, flops, dram_bytes, cores, 0.0, dram_s, fixed_s=C.SDPA_DECODE_FIXED_S)


# ----------------------------------------------------------------------------- moving data


def _moving_cost(record: Record, moved: int, dram_bytes: int, pages: int, compute_s: float = 0.0, flops=0) -> Cost:
    cores = _cores_for_tiles(pages)
    dram_s = moved / _move_rate(cores, dram_bytes > 0) if moved else 0.0
    return _cost(record, flops, dram_bytes, cores, compute_s, dram_s)


def embedding_cost(record: Record) -> Cost:
    out = record.outputs[0]
    ids = record.inputs[0]
    moved = 2 * out.bytes + ids.bytes  # table rows read, output written
    dram = (out.bytes if record.input("weight") is None or record.input("weight").in_dram else 0)
    dram += _dram([ids]) + _dram(record.outputs)
    return _moving_cost(record, moved, dram, out.pages)


def kv_update_cost(record: Record) -> Cost:
    cache = record.input("cache_tensor", "cache")
    new = record.input("input_tensor", "input")
    users, kv_heads = cache.shape[0], cache.shape[1]
    positions = record.positions.get("update_idxs_tensor", record.attrs.get("update_idxs") or None)
    active = users if positions is None else sum(1 for p in list(positions)[:users] if p >= 0)
    if record.op == "ttnn.update_cache":
        active = users
    tile_row = cache.bytes // max(1, _volume(cache.padded_shape[:-1]) // TILE)  # one tile row of one head
    written = active * kv_heads * tile_row
    moved = 2 * written + new.bytes  # read-modify-write of the tile rows, the new rows read
    dram = (2 * written if cache.in_dram else 0) + _dram([new])
    return _moving_cost(record, moved, dram, max(1, active))


def kv_fill_cost(record: Record) -> Cost:
    cache = record.input("cache_tensor")
    new = record.input("input_tensor")
    moved = 2 * new.bytes
    dram = (new.bytes if cache.in_dram else 0) + _dram([new])
    return _moving_cost(record, moved, dram, new.pages)


def rotary_cost(record: Record) -> Cost:
    x = record.inputs[0]
    elements = x.pages * TILE * TILE
    cores = _cores_for_tiles(x.pages)
    compute_s = elements * (2 * _fid(record) + 1) / (C.ELTWISE_PER_CYCLE * cores * C.CLOCK_HZ)  # x*cos + rot(x)*sin
    out = record.outputs[0]
    moved = 3 * x.bytes + out.bytes  # x, its cos and sin rows, the output
    dram = _dram([x]) + _dram(record.outputs) + (2 * x.bytes if any(s.in_dram for s in record.inputs[1:3]) else 0)
    return _moving_cost(record, moved, dram, x.pages, compute_s, flops=3 * _volume(x.shape))


def data_movement_cost(record: Record) -> Cost:
    moved = sum(s.bytes for s in record.inputs) + sum(s.bytes for s in record.outputs)
    dram = _dram(record.inputs) + _dram(record.outputs)
    pages = max([s.pages for s in record.outputs] or [1])
    return _moving_cost(record, moved, dram, pages)


# ----------------------------------------------------------------------------- collectives


def group_size(record: Record) -> int:
    """Chips in the collective's group: the whole mesh, or one mesh axis (``cluster_axis``)."""
    rows, cols = record.mesh
    axis = record.attrs.get("cluster_axis")
    if axis is None:
        return rows * cols
    return rows if axis % 2 == 0 else cols


def ccl_link_bytes(record: Record) -> int:
    """Bottleneck bytes a chip sends over its links (CCL_bandwidth.md)."""
    n = group_size(record)
    if record.op == "ttnn.all_gather":
        total = record.outputs[0].bytes
    else:
        total = record.inputs[0].bytes
    factor = 2 if record.op == "ttnn.all_reduce" else 1
    return math.ceil(factor * (n - 1) * total / n)


def ccl_cost(record: Record, system: C.System) -> Cost:
    n = group_size(record)
    links = max(1, min(int(record.attrs.get("num_links") or system.ccl_links or 1), system.ccl_links or 1))
    wire = ccl_link_bytes(record)
    link_s = wire / (links * C.LINK_BPS)
    steps = 2 * (n - 1) if record.op == "ttnn.all_reduce" else n - 1
    fixed = C.CCL_FIXED_S + steps * C.HOP_LATENCY_S
    dram = _dram(record.inputs) + _dram(record.outputs)
    flops = 0 if record.op == "ttnn.all_gather" else (n - 1) * _volume(record.inputs[0].shape) // n
    return _cost(record, flops, dram, links, 0.0, 0.0, fixed_s=fixed, link_s=link_s)


# ----------------------------------------------------------------------------- dispatch


def estimate(record: Record, system: C.System) -> Cost:
    """The predicted :class:`Cost` of ``record`` on ``system`` (see the module docstring)."""
    op = record.op
    if op in MATMULS:
        return matmul_cost(record)
    if op in BINARY or op in UNARY:
        return eltwise_cost(record)
    if op in NORMS:
        return norm_cost(record)
    if op == "ttnn.scaled_dot_product_attention":
        return sdpa_cost(record)
    if op == "ttnn.scaled_dot_product_attention_decode":
        return sdpa_decode_cost(record)
    if op == "ttnn.embedding":
        return embedding_cost(record)
    if op in KV_UPDATES:
        return kv_update_cost(record)
    if op in KV_FILLS:
        return kv_fill_cost(record)
    if op == "ttnn.rotary_embedding":
        return rotary_cost(record)
    if op in CCL_OPS:
        return ccl_cost(record, system)
    return data_movement_cost(record)
