"""Record rewrites for placements the emulator cannot run: ``dram_sharded_decode(records)``.

tt_transformers runs every decode matmul DRAM-sharded: the weight width-sharded over the 12 DRAM banks, one
compute core per bank (perf-facts §3.4, llms.md "DRAM-sharded matmul for all decode matmuls"). The emulator, like
0.81.1's ``to_device``, refuses a DRAM width-sharded weight, so a bringup cannot place one; the cost model prices a
matmul as DRAM-sharded when its weight spec says ``WIDTH_SHARDED`` in DRAM. This module marks the DRAM-interleaved
weight of every matmul recorded in a decode phase that way; nothing else changes (the same bytes, FLOPs, fidelity).
"""

from __future__ import annotations

import dataclasses

from .fidelity import MATMULS
from .record import Record

WEIGHT = "input_tensor_b"


def dram_sharded_decode(records: list[Record]) -> list[Record]:
    """``records`` with each decode-phase matmul's DRAM-interleaved weight marked DRAM width-sharded (new records
    for those; the others are the same objects)."""
    out = []
    for r in records:
        weight = r.input(WEIGHT)
        if (r.op in MATMULS and r.phase.startswith("decode") and weight is not None and weight.in_dram
                and weight.memory_layout == "INTERLEAVED"):
            sharded = dataclasses.replace(weight, memory_layout="WIDTH_SHARDED")
            r = dataclasses.replace(r, inputs=tuple(sharded if s is weight else s for s in r.inputs))
        out.append(r)
    return out
