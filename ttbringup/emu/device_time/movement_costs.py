"""Cost formulas of the ops that move data: embedding, KV-cache update and fill, rotary's data, every other data
movement op, and the collectives over Ethernet (see :mod:`.cost` for the model)."""

from __future__ import annotations

import math

from . import constants as C
from .record import Record
from .roofline import (TILE, Cost, cores_for_tiles, dram_bytes_of, fidelity_divisor, make_cost, move_rate, volume)

# ----------------------------------------------------------------------------- moving data


def _moving_cost(record: Record, moved: int, dram_bytes: int, pages: int, compute_s: float = 0.0, flops=0) -> Cost:
    cores = cores_for_tiles(pages)
    dram_s = moved / move_rate(cores, dram_bytes > 0) if moved else 0.0
    return make_cost(record, flops, dram_bytes, cores, compute_s, dram_s)


def embedding_cost(record: Record) -> Cost:
    out = record.outputs[0]
    ids = record.inputs[0]
    moved = 2 * out.bytes + ids.bytes  # table rows read, output written
    dram = (out.bytes if record.input("weight") is None or record.input("weight").in_dram else 0)
    dram += dram_bytes_of([ids]) + dram_bytes_of(record.outputs)
    return _moving_cost(record, moved, dram, out.pages)


def kv_update_cost(record: Record) -> Cost:
    cache = record.input("cache_tensor", "cache")
    new = record.input("input_tensor", "input")
    users, kv_heads = cache.shape[0], cache.shape[1]
    positions = record.positions.get("update_idxs_tensor", record.attrs.get("update_idxs") or None)
    active = users if positions is None else sum(1 for p in list(positions)[:users] if p >= 0)
    if record.op == "ttnn.update_cache":
        active = users
    tile_row = cache.bytes // max(1, volume(cache.padded_shape[:-1]) // TILE)  # one tile row of one head
    written = active * kv_heads * tile_row
    moved = 2 * written + new.bytes  # read-modify-write of the tile rows, the new rows read
    dram = (2 * written if cache.in_dram else 0) + dram_bytes_of([new])
    return _moving_cost(record, moved, dram, max(1, active))


def kv_fill_cost(record: Record) -> Cost:
    cache = record.input("cache_tensor")
    new = record.input("input_tensor")
    moved = 2 * new.bytes
    dram = (new.bytes if cache.in_dram else 0) + dram_bytes_of([new])
    return _moving_cost(record, moved, dram, new.pages)


def rotary_cost(record: Record) -> Cost:
    x = record.inputs[0]
    elements = x.pages * TILE * TILE
    cores = cores_for_tiles(x.pages)
    # x * cos + rotate(x) * sin: two multiplies at the fidelity, one add
    compute_s = elements * (2 * fidelity_divisor(record) + 1) / (C.ELTWISE_PER_CYCLE * cores * C.CLOCK_HZ)
    out = record.outputs[0]
    moved = 3 * x.bytes + out.bytes  # x, its cos and sin rows, the output
    tables_in_dram = any(s.in_dram for s in record.inputs[1:3])
    dram = dram_bytes_of([x]) + dram_bytes_of(record.outputs) + (2 * x.bytes if tables_in_dram else 0)
    return _moving_cost(record, moved, dram, x.pages, compute_s, flops=3 * volume(x.shape))


def data_movement_cost(record: Record) -> Cost:
    moved = sum(s.bytes for s in record.inputs) + sum(s.bytes for s in record.outputs)
    dram = dram_bytes_of(record.inputs) + dram_bytes_of(record.outputs)
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
    dram = dram_bytes_of(record.inputs) + dram_bytes_of(record.outputs)
    flops = 0 if record.op == "ttnn.all_gather" else (n - 1) * volume(record.inputs[0].shape) // n
    return make_cost(record, flops, dram, links, 0.0, 0.0, fixed_s=fixed, link_s=link_s)
