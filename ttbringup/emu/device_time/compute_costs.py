"""Cost formulas of the ops that compute: matmul / linear, eltwise, norms and softmax, SDPA prefill and decode
(see :mod:`.cost` for the model)."""

from __future__ import annotations

from . import constants as C
from .record import Record
from .roofline import (BINARY, TILE, Cost, cores_for_tiles, dram_bytes_of, engine_rate, fidelity_divisor, make_cost,
                       move_rate, tile_ceil, volume)

# ----------------------------------------------------------------------------- matmul


def matmul_dims(record: Record) -> tuple[int, int, int, int, int, int, int]:
    """(batch, M, K, N, Mp, Kp, Np) of a matmul record: logical and tile-padded."""
    a = record.input("input_tensor_a")
    out = record.outputs[0]
    m, n = out.shape[-2], out.shape[-1]
    mp, np_ = out.padded_shape[-2], out.padded_shape[-1]
    k = a.shape[-2] if record.attrs.get("transpose_a") else a.shape[-1]
    return volume(out.shape[:-2]), m, k, n, mp, tile_ceil(k), np_


def matmul_cost(record: Record) -> Cost:
    batch, m, k, n, mp, kp, np_ = matmul_dims(record)
    weight = record.input("input_tensor_b")
    sharded = weight.in_dram and weight.memory_layout == "WIDTH_SHARDED"
    flops = 2 * m * k * n * batch
    cores = int(C.DRAM_SHARDED_CORES) if sharded else cores_for_tiles(batch * mp * np_ // (TILE * TILE))
    efficiency = 1.0 if sharded else C.MATMUL_EFFICIENCY  # facts §6.2: the decode law has no efficiency factor
    compute_s = 2 * mp * kp * np_ * batch / engine_rate(cores, fidelity_divisor(record), efficiency)
    dram_bytes = dram_bytes_of(record.inputs) + dram_bytes_of(record.outputs)
    rate = C.DRAM_SHARDED_BPS if sharded else C.DRAM_INTERLEAVED_BPS
    dram_s = dram_bytes / min(rate, cores * C.PER_CORE_NOC_BPS) if dram_bytes else 0.0
    fixed = C.DRAM_SHARDED_MATMUL_FIXED_S if sharded else 0.0
    return make_cost(record, flops, dram_bytes, cores, compute_s, dram_s, fixed_s=fixed, sharded=sharded)


# ----------------------------------------------------------------------------- eltwise and norms


def eltwise_cost(record: Record) -> Cost:
    out = record.outputs[0]
    elements = out.pages * TILE * TILE if out.layout == "TILE" else volume(out.padded_shape)
    cores = cores_for_tiles(out.pages)
    if record.op in BINARY:
        per_cycle = C.ELTWISE_PER_CYCLE / (fidelity_divisor(record) if record.op == "ttnn.multiply" else 1.0)
    else:
        per_cycle = C.SFPU_PER_CYCLE
    compute_s = elements / (per_cycle * cores * C.CLOCK_HZ)
    dram_bytes = dram_bytes_of(record.inputs) + dram_bytes_of(record.outputs)
    moved = sum(s.bytes for s in record.inputs) + out.bytes
    dram_s = moved / move_rate(cores, dram_bytes > 0)
    return make_cost(record, volume(out.shape), dram_bytes, cores, compute_s, dram_s)


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
    elements = x.pages * TILE * TILE if x.layout == "TILE" else volume(x.padded_shape)
    cores = cores_for_tiles(max(1, elements // (width * TILE)))
    fid = fidelity_divisor(record)
    cycles = elements * (muls * fid / C.ELTWISE_PER_CYCLE + adds / C.ELTWISE_PER_CYCLE
                         + reduces * fid / C.REDUCE_PER_CYCLE + sfpu / C.SFPU_PER_CYCLE) / cores
    dram_bytes = dram_bytes_of(record.inputs) + dram_bytes_of(record.outputs)
    moved = sum(s.bytes for s in record.inputs) + sum(s.bytes for s in record.outputs)
    dram_s = moved / move_rate(cores, dram_bytes > 0)
    return make_cost(record, per_element * volume(x.shape), dram_bytes, cores, cycles / C.CLOCK_HZ, dram_s)


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
    tiles_q, tiles_k = tile_ceil(s_q) // TILE, tile_ceil(s_k) // TILE
    tile_pairs = tiles_q * (tiles_q + 1) // 2 if causal and s_q == s_k else tiles_q * tiles_k
    padded_flops = 4 * batch * heads * tile_ceil(hd) * tile_pairs * TILE * TILE
    cores = cores_for_tiles(batch * heads * tiles_q)
    compute_s = padded_flops / engine_rate(cores, fidelity_divisor(record), C.SDPA_EFFICIENCY)
    dram_bytes = dram_bytes_of(record.inputs) + dram_bytes_of(record.outputs)
    dram_s = dram_bytes / move_rate(cores, dram_bytes > 0)
    return make_cost(record, flops, dram_bytes, cores, compute_s, dram_s)


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
    bytes_per_token = 2 * kv_heads * tile_ceil(hd) * k.bytes / max(1, volume(k.padded_shape))  # K and V
    kv_bytes = sum(tile_ceil(n) for n in lengths) * bytes_per_token
    flops = sum(4 * heads * hd * n for n in lengths)
    other = dram_bytes_of(s for s in record.inputs if s.name not in ("input_tensor_k", "input_tensor_v"))
    dram_bytes = kv_bytes + other + dram_bytes_of(record.outputs)
    dram_s = kv_bytes / C.SDPA_DECODE_BPS
    cores = cores_for_tiles(max(1, len(lengths)) * kv_heads)
    return make_cost(record, flops, dram_bytes, cores, 0.0, dram_s, fixed_s=C.SDPA_DECODE_FIXED_S)
