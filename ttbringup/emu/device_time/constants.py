"""Every number the Wormhole B0 device-time model uses, each with its source.

Sources are the sections of ``shared/docs/perf-facts.md`` ("facts §N"), which name the tt-metal tech report,
source file or measurement behind each number. A constant is a :class:`Fact`: a float that also carries its
unit and source, so ``CLOCK_HZ * cycles`` works and ``CLOCK_HZ.source`` says where 1 GHz comes from.
``table()`` lists them all (the report can print it). Values marked ``[uncertain]`` have no authoritative
measurement; they are order-of-magnitude choices stated as such, not fitted to any published figure.

Nothing here is tuned per model or per published row.
"""

from __future__ import annotations

from dataclasses import dataclass


class Fact(float):
    """A float with a ``unit`` and a ``source``."""

    unit: str
    source: str

    def __new__(cls, value: float, unit: str, source: str):
        f = super().__new__(cls, value)
        f.unit, f.source = unit, source
        return f


# ----------------------------------------------------------------------------- chip

CLOCK_HZ = Fact(1.0e9, "Hz", "facts §2 AI clock (1 GHz; ttnn OpPerformanceModelGeneral uses 1.0 GHz for WH)")
WORKER_CORES = Fact(64, "cores", "facts §2 usable compute grid 8x8 (n150, and n300/T3000 chips with Ethernet "
                                 "dispatch; tt-perf-report worker_cores=64)")
DRAM_SHARDED_CORES = Fact(12, "cores", "facts §6.1 C_dram: a DRAM-sharded matmul computes on one core per bank "
                                       "(tt-perf-report; QWEN3 note)")
FLOP_PER_CYCLE_LOFI = Fact(4096, "flop/cycle/core", "facts §2 matrix engine 8x16 @ 16x16 = 2048 MAC per cycle at "
                                                    "LoFi (matrix_engine.md; matmul perf model 4096)")
FIDELITY_DIVISOR = {  # compute time multiplier per math fidelity (fidelity phases)
    "LoFi": Fact(1, "x", "facts §3.1 fidelity_multiplier LoFi 1"),
    "HiFi2": Fact(2, "x", "facts §3.1 fidelity_multiplier HiFi2 2"),
    "HiFi3": Fact(3, "x", "facts §3.1 fidelity_multiplier HiFi3 3"),
    "HiFi4": Fact(4, "x", "facts §3.1 fidelity_multiplier HiFi4 4"),
}
ELTWISE_PER_CYCLE = Fact(128, "elem/cycle/core", "facts §2 eltwise add/sub/mul on the FPU: 8x16 per cycle "
                                                 "(matrix_engine.md); mul divided by fidelity")
REDUCE_PER_CYCLE = Fact(256, "elem/cycle/core", "facts §2 reduce on the FPU: 16x16 per cycle (matrix_engine.md)")
SFPU_PER_CYCLE = Fact(128, "elem/cycle/core", "[uncertain] no SFPU throughput in facts; taken equal to the FPU "
                                              "eltwise rate (facts §2)")

# Achieved fraction of peak for matmuls run with ttnn's automatic program config (what a bringup calling
# ttnn.linear without a program_config gets): GEMM_FLOPS.md out-of-box bf16 HiFi2 4096^3 68 TF of 131 (0.52),
# bfp8 LoFi 138 TF of 262 (0.53). Not applied to DRAM-sharded matmuls (facts §6.2's decode law has none).
MATMUL_EFFICIENCY = Fact(0.52, "fraction", "facts §2 achieved matmul N150, out-of-box configs: 68/131 and 138/262 "
                                           "(GEMM_FLOPS.md)")
SDPA_EFFICIENCY = Fact(0.52, "fraction", "[uncertain] facts §6.3 says attention efficiency is below matmul's but "
                                         "gives no figure; the out-of-box matmul efficiency is used")

# ----------------------------------------------------------------------------- DRAM

DRAM_PEAK_BPS = Fact(288e9, "B/s", "facts §2 DRAM bandwidth spec 288 GB/s per chip (tt-perf-report DRAM % "
                                   "denominator)")
DRAM_INTERLEAVED_BPS = Fact(190e9, "B/s", "facts §3.4 llms.md: DRAM-interleaved reads ~190 GB/s on WH")
DRAM_SHARDED_BPS = Fact(257.3e9, "B/s", "facts §3.4 QWEN3 note: DRAM-sharded decode matmul asymptote 257.3 GB/s")
DRAM_SHARDED_MATMUL_FIXED_S = Fact(4.95e-6, "s", "facts §3.4 QWEN3 note: DRAM-sharded matmul us/call = 4.95 + "
                                                 "MB/257.3 GB/s")
PER_CORE_NOC_BPS = Fact(28.4e9, "B/s", "facts §3.3 common_tm_bw_model: WH per-core DRAM read ~28.4 GB/s for "
                                       "transactions >= 2 KB")
SDPA_DECODE_BPS = Fact(209.3e9, "B/s", "facts §3.4 QWEN3 note: SDPA decode ms/call = 0.0414 + MB/209.3 GB/s")
SDPA_DECODE_FIXED_S = Fact(41.4e-6, "s", "facts §3.4 QWEN3 note: SDPA decode intercept 41 us (partial-result "
                                         "combine)")

# ----------------------------------------------------------------------------- small ops and dispatch

SMALL_OP_S = Fact(3.3e-6, "s", "facts §3.4 QWEN3 note: a small data-movement eltwise takes 3.3 us on 64 cores "
                               "(facts §6.1 t_small_op 1.5-6 us); used as every op's floor")
OP_TO_OP_TRACED_S = Fact(2.05e-6, "s", "facts §2 op-to-op gap, traced: microbenchmark golden on wh_n300 2.05 us")
HOST_DISPATCH_S = Fact(25e-6, "s", "[uncertain] facts §2 has no host dispatch figure; llms.md §4.5.4 shows 756 us "
                                   "of op-to-op gaps per untraced layer, taken here over ~30 ops per layer")

# ----------------------------------------------------------------------------- host work of a decode loop

HOST_ARGMAX_S = Fact(5.07e-3, "s", "facts §2 Qwen3-8B note: moving argmax on-chip removed a 5.07 ms/token host "
                                   "gap (the logits read back, the argmax on the host)")
HOST_ARGMAX_VOCAB = Fact(151936, "tokens", "vocab_size of the model of facts §2's Qwen3-8B note [uncertain: the "
                                           "note gives none; the Qwen3 family's config.json, as the kit's bundled "
                                           "Qwen3-0.6B config, says 151936]")

# ----------------------------------------------------------------------------- Ethernet / collectives

LINK_BPS = Fact(12.0e9, "B/s", "facts §2 Ethernet: 12.5 GB/s per link per direction, ~12.0 GB/s payload")
HOP_LATENCY_S = Fact(0.7e-6, "s", "facts §2 link latency ~650-700 ns per hop (CCL_bandwidth.md)")
CCL_FIXED_S = Fact(10e-6, "s", "facts §6.1 t_ccl_fixed ~10-25 us per small CCL op in decode (lower end)")

# ----------------------------------------------------------------------------- bound classification

BOUND_THRESHOLD = Fact(0.65, "fraction", "facts §4.2 tt-perf-report: DRAM / FLOP bound at >= 65 % of peak")
PERF_REPORT_TFLOPS_PER_CORE = {  # tt-perf-report's per-core peaks (marketing chip figures / 72 cores)
    "LoFi": Fact(262e12 / 72, "flop/s/core", "facts §4.2 tt-perf-report LoFi 262/72"),
    "HiFi2": Fact(148e12 / 72, "flop/s/core", "facts §4.2 tt-perf-report HiFi2 148/72"),
    "HiFi3": Fact(74e12 / 72 * 4 / 3, "flop/s/core", "facts §4.2 tt-perf-report HiFi3 = HiFi4 x 4/3"),
    "HiFi4": Fact(74e12 / 72, "flop/s/core", "facts §4.2 tt-perf-report HiFi4 74/72"),
}

# ----------------------------------------------------------------------------- data formats

BYTES_PER_TILE_NOTE = "tile bytes come from ttbringup.emu.memory.TILE_BYTES (bf16 2048, bfp8 1088, bfp4 576: " \
                      "facts §2 data formats)"


# ----------------------------------------------------------------------------- systems


@dataclass(frozen=True)
class System:
    """A Wormhole system: ``chips`` chips, ``ccl_links`` Ethernet links a collective may use between neighbours."""

    name: str
    chips: int
    ccl_links: int
    source: str


SYSTEMS = {
    "n150": System("n150", 1, 0, "facts §2: one Wormhole chip"),
    "n300": System("n300", 2, 1, "facts §2 n300: 2 links between the chips, one reserved for the dispatch tunnel"),
    "t3000": System("t3000", 8, 1, "facts §2 T3000: 8 chips (4 n300), 1 usable link per axis for CCLs"),
}


def system_for_chips(chips: int) -> System:
    """The smallest system with at least ``chips`` chips."""
    for s in SYSTEMS.values():
        if s.chips >= chips:
            return s
    raise ValueError(f"no Wormhole system has {chips} chips (largest: t3000, 8)")


def table() -> list[tuple[str, float, str, str]]:
    """(name, value, unit, source) of every constant of this module, in definition order."""
    rows = []
    for name, value in globals().items():
        if isinstance(value, Fact):
            rows.append((name, float(value), value.unit, value.source))
        elif isinstance(value, dict) and value and all(isinstance(v, Fact) for v in value.values()):
            rows.extend((f"{name}[{k}]", float(v), v.unit, v.source) for k, v in value.items())
    return rows
