"""The shared pieces of the per-op cost model: :class:`Cost`, the op classes, tt-perf-report's bound rule, and the
helpers every op's formula uses (DRAM bytes of specs, cores for a tile count, the engine and NoC rates).

The formulas themselves are described in :mod:`.cost`.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import constants as C
from .record import Record

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


def volume(dims) -> int:
    n = 1
    for d in dims:
        n *= d
    return n


def tile_ceil(x: int, m: int = TILE) -> int:
    return -(-x // m) * m


def dram_bytes_of(specs) -> int:
    return sum(s.bytes for s in specs if s is not None and s.in_dram)


def fidelity_divisor(record: Record) -> float:
    return float(C.FIDELITY_DIVISOR[record.fidelity]) if record.fidelity else 1.0


def move_rate(cores: int, touches_dram: bool) -> float:
    """Bytes/s an op on ``cores`` cores can move: the NoC per core, capped by interleaved DRAM when it reads DRAM."""
    rate = cores * C.PER_CORE_NOC_BPS
    return min(rate, C.DRAM_INTERLEAVED_BPS) if touches_dram else rate


def cores_for_tiles(tiles: int) -> int:
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


def make_cost(record: Record, flops, dram_bytes, cores, compute_s, dram_s, *, fixed_s=0.0, sharded=False,
          link_s=0.0) -> Cost:
    device_s = max(C.SMALL_OP_S, fixed_s + max(compute_s, dram_s, link_s))
    return Cost(flops=int(flops), dram_bytes=int(dram_bytes), cores=int(cores), compute_s=compute_s, dram_s=dram_s,
                device_s=device_s, bound=bound_of(record, flops, dram_bytes, cores, device_s, link_s),
                dram_sharded=sharded, link_s=link_s)


def engine_rate(cores: int, fid: float, efficiency: float) -> float:
    """FLOP/s of the matrix engine on ``cores`` cores at fidelity divisor ``fid``."""
    return cores * C.FLOP_PER_CYCLE_LOFI / fid * C.CLOCK_HZ * efficiency
