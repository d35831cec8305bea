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

from . import constants as C
from .compute_costs import eltwise_cost, matmul_cost, matmul_dims, norm_cost, sdpa_cost, sdpa_decode_cost, sdpa_flops
from .fidelity import MATMULS
from .movement_costs import (ccl_cost, ccl_link_bytes, data_movement_cost, embedding_cost, group_size,
                             kv_fill_cost, kv_update_cost, rotary_cost)
from .record import Record
from .roofline import BINARY, CCL_OPS, KV_FILLS, KV_UPDATES, NORMS, UNARY, Cost, bound_of

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


__all__ = ["Cost", "bound_of", "ccl_link_bytes", "estimate", "group_size", "matmul_dims", "sdpa_flops"]
