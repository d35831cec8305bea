"""Predicted device time of a bringup on a Wormhole system, from one data-free emulator run.

``run(PerfRequest) -> PerfReport``: build the bringup on the HF model of its config on torch's ``meta`` device
(no weights are read: device time does not depend on values), then with device-time recording on
(``ttbringup.emu.device_time``) run one prefill of ``prompt_len`` tokens and ``decode_steps`` decode steps. With
``trace`` the decode is replayed as a metal trace (the bringup's ``trace_decode``: step 1 eager, step 2 captured
and replayed, later steps replayed); the last decode step is the one reported. Each recorded op gets its
predicted device time and the op-to-op gap before it (``device_time.timeline``); then

* TTFT = the prefill's device time + gaps (embedding through LM head; host transfers not counted),
* decode tokens/s/user = 1 / (the last decode step's device time + gaps); tokens/s = that x batch (1 here:
  the bringups run one user, though every decode step computes 32 rows).

``format_table`` prints rows in tt-perf-report's columns, with a total line that is the sum of the rows;
``write_csv`` writes every row of every phase.

Bad input raises :class:`~ttbringup.evaluation.cli.CliError`.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field

from .cli import CliError, check_positive

COLUMNS = ("ID", "Total %", "Bound", "OP Code", "Device Time [us]", "Op-to-Op Gap [us]", "Cores", "DRAM [GB/s]",
           "DRAM %", "FLOPs [TFLOPs]", "FLOPs %", "Math Fidelity")
CSV_COLUMNS = ("phase", "id", "op_code", "traced", "device_time_us", "op_to_op_gap_us", "cores", "dram_bytes",
               "dram_gbps", "dram_pct", "flops", "tflops", "flops_pct", "bound", "limited_by", "math_fidelity",
               "dram_sharded", "mesh", "inputs", "outputs")

# tt_transformers' published figures (perf-facts.md §1: perf mode = bfp4 gate/up at LoFi, bfp8 elsewhere at HiFi2,
# decode traced, ~128-token prompt, batch 1): (model, system) -> (decode t/s/u, TTFT ms)
PUBLISHED = {
    ("meta-llama/Llama-3.2-1B", "n150"): (87.8, 26.0),
    ("meta-llama/Llama-3.2-1B", "n300"): (105.9, 22.0),
    ("meta-llama/Llama-3.2-1B", "t3000"): (119.8, 32.0),
}


@dataclass
class PerfRequest:
    model_py: str
    model: str  # HF id or local checkpoint dir (only its config is read)
    system: str | None = None  # n150 / n300 / t3000; None: the smallest that holds the file's mesh
    prompt_len: int = 128
    decode_steps: int = 4
    trace: bool = False
    max_seq_len: int = 2048
    device_id: int = 0
    cache_dir: str | None = None
    weight_dtype: str | None = None  # bf16 / bfp8 / bfp4: replaces the file's WEIGHT_DTYPE for this run (what-if)


@dataclass
class PerfReport:
    request: PerfRequest
    system: object  # device_time.constants.System
    mesh: tuple
    prefill: list  # timeline.Row
    decode: list  # the last decode step's rows
    decode_traced: bool
    phases: dict = field(default_factory=dict)  # phase -> rows, every phase run

    @property
    def ttft_s(self) -> float:
        from ttbringup.emu.device_time.timeline import total_seconds

        return total_seconds(self.prefill)

    @property
    def decode_step_s(self) -> float:
        from ttbringup.emu.device_time.timeline import total_seconds

        return total_seconds(self.decode)

    @property
    def tokens_per_s_per_user(self) -> float:
        return 1.0 / self.decode_step_s


def validate(req: PerfRequest) -> None:
    """Checks that need no model (fail fast)."""
    from .loading import check_model_file

    check_model_file(req.model_py)  # first: it needs no torch
    from ttbringup.emu.device_time.constants import SYSTEMS

    check_positive("--prompt_len", req.prompt_len)
    check_positive("--decode_steps", req.decode_steps)
    check_positive("--max_seq_len", req.max_seq_len)
    if req.weight_dtype is not None and req.weight_dtype not in WEIGHT_DTYPES:
        raise CliError(f"unknown --weight_dtype {req.weight_dtype!r}; choose one of {', '.join(WEIGHT_DTYPES)}")
    if req.system is not None and req.system not in SYSTEMS:
        raise CliError(f"unknown system {req.system!r}; choose one of {', '.join(SYSTEMS)}")
    if req.trace and req.decode_steps < 3:
        raise CliError(f"--trace needs --decode_steps >= 3 (one eager, one captured, one replayed), got "
                       f"{req.decode_steps}")
    if req.prompt_len + req.decode_steps > req.max_seq_len:
        raise CliError(f"--prompt_len ({req.prompt_len}) + --decode_steps ({req.decode_steps}) exceeds "
                       f"--max_seq_len ({req.max_seq_len})")


def config_of(model: str, cache_dir: str | None):
    """The HF config: a local dir's, else the bundled real config of a seed id, else the HF cache's."""
    from transformers import AutoConfig

    from .loading import _looks_like_path, check_available, real_config_path, reference_config

    if _looks_like_path(model):
        check_available(model)
        return AutoConfig.from_pretrained(model, local_files_only=True)
    if real_config_path(model).is_file():
        return reference_config(model, random_weights=True)[0]
    check_available(model, cache_dir=cache_dir)
    return reference_config(model, cache_dir=cache_dir)[0]


def _system(req: PerfRequest, mesh):
    from ttbringup.emu.device_time.constants import SYSTEMS, system_for_chips

    chips = 1 if mesh is None else mesh[0] * mesh[1]
    if req.system is None:
        return system_for_chips(chips)
    system = SYSTEMS[req.system]
    if chips > system.chips:
        raise CliError(f"{req.model_py} runs on {chips} chips (MESH_SHAPE {mesh}); {system.name} has {system.chips}")
    return system


WEIGHT_DTYPES = {"bf16": "bfloat16", "bfp8": "bfloat8_b", "bfp4": "bfloat4_b"}


def _build(req: PerfRequest, module, ttnn, meta, device):
    """``build_model``, with the file's ``WEIGHT_DTYPE`` replaced for the build when ``req.weight_dtype`` says."""
    if req.weight_dtype is None:
        return module.build_model(meta, device, req.max_seq_len)
    if not hasattr(module, "WEIGHT_DTYPE"):
        raise CliError(f"--weight_dtype: {req.model_py} has no WEIGHT_DTYPE constant to replace")
    saved = module.WEIGHT_DTYPE
    module.WEIGHT_DTYPE = getattr(ttnn, WEIGHT_DTYPES[req.weight_dtype])
    try:
        return module.build_model(meta, device, req.max_seq_len)
    finally:
        module.WEIGHT_DTYPE = saved


def run(req: PerfRequest) -> PerfReport:
    """Build the bringup data-free, run prefill + decode with recording, time every op (module docstring)."""
    validate(req)
    import torch

    from ttbringup import backend
    from ttbringup.emu import device_time
    from ttbringup.emu.device_time.timeline import timed_rows

    from .device import TRACE_REGION_SIZE, opened_device
    from .loading import load_model_module, mesh_shape_of, meta_model

    ttnn = backend.load("emu", announce=False)
    config = config_of(req.model, req.cache_dir)
    module = load_model_module(req.model_py)
    mesh = mesh_shape_of(module)
    system = _system(req, mesh)
    meta = meta_model(config)
    region = TRACE_REGION_SIZE if req.trace else 0
    with opened_device(ttnn, mesh, req.device_id, trace_region_size=region) as device:
        model = _build(req, module, ttnn, meta, device)
        cache_len = int(getattr(model, "max_cache_len", req.max_seq_len))
        if req.prompt_len + req.decode_steps > cache_len:
            raise CliError(f"--prompt_len ({req.prompt_len}) + --decode_steps ({req.decode_steps}) exceeds the "
                           f"model's cache (max_cache_len {cache_len})")
        if req.trace:
            if not hasattr(model, "trace_decode"):
                raise CliError(f"{req.model_py} builds a model without a traceable decode (no trace_decode)")
            model.trace_decode = True
        with torch.inference_mode(), device_time.recording() as rec:
            with rec.in_phase("prefill"):
                out = model(torch.zeros(1, req.prompt_len, dtype=torch.long))
            for step in range(req.decode_steps):
                with rec.in_phase(f"decode {step + 1}"):
                    out = model(torch.zeros(1, 1, dtype=torch.long), past_key_values=out.past_key_values)
        traced = bool(getattr(model, "decode_traced", False))
        if traced:
            model.release_trace()
    phases = {}
    for r in rec.records:
        phases.setdefault(r.phase, []).append(r)
    timed = {name: timed_rows(records, system) for name, records in phases.items()}
    last = f"decode {req.decode_steps}"
    if not timed.get("prefill") or not timed.get(last):
        raise CliError(f"{req.model_py} ran no ttnn device ops in its prefill or decode, so there is no device time "
                       "to predict (does its model call ttnn?)")
    return PerfReport(request=req, system=system, mesh=mesh or (1, 1), prefill=timed.get("prefill", []),
                      decode=timed.get(last, []), decode_traced=traced, phases=timed)


# ----------------------------------------------------------------------------- output


def row_values(row, index: int, total_s: float) -> dict:
    """The numbers of one row, unrounded (keys: CSV_COLUMNS)."""
    from ttbringup.emu.device_time import constants as C

    cost, rec = row.cost, row.record
    peak = C.PERF_REPORT_TFLOPS_PER_CORE[rec.fidelity or "HiFi4"] * cost.cores
    return {
        "phase": rec.phase, "id": index, "op_code": rec.op.removeprefix("ttnn."), "traced": rec.traced,
        "device_time_us": cost.device_s * 1e6, "op_to_op_gap_us": row.gap_s * 1e6, "cores": cost.cores,
        "dram_bytes": cost.dram_bytes, "dram_gbps": cost.dram_gbps,
        "dram_pct": 100 * cost.dram_bytes / cost.device_s / C.DRAM_PEAK_BPS,
        "flops": cost.flops, "tflops": cost.tflops, "flops_pct": 100 * cost.flops / cost.device_s / peak,
        "bound": cost.bound, "limited_by": cost.limit, "math_fidelity": rec.fidelity or "",
        "dram_sharded": cost.dram_sharded,
        "mesh": "x".join(map(str, rec.mesh)),
        "inputs": "; ".join(f"{s.name} {list(s.shape)} {s.dtype} {s.memory}" for s in rec.inputs),
        "outputs": "; ".join(f"{list(s.shape)} {s.dtype} {s.memory}" for s in rec.outputs),
        "total_pct": 100 * row.total_s / total_s if total_s else 0.0,
    }


def format_table(rows: list, title: str) -> list[str]:
    """tt-perf-report-style lines for ``rows``; the last line sums device time and gaps over the rows."""
    total_s = sum(r.total_s for r in rows)
    widths = (4, 7, 5, 34, 16, 17, 5, 11, 6, 14, 7, 13)
    line = "  ".join(f"{c:>{w}}" if i not in (2, 3, 11) else f"{c:<{w}}" for i, (c, w) in enumerate(zip(COLUMNS,
                                                                                                          widths)))
    out = [title, line, "-" * len(line)]
    for i, row in enumerate(rows):
        v = row_values(row, i, total_s)
        cells = (str(i), f"{v['total_pct']:.1f}", v["bound"], v["op_code"], f"{v['device_time_us']:.2f}",
                 f"{v['op_to_op_gap_us']:.2f}", str(v["cores"]), f"{v['dram_gbps']:.1f}", f"{v['dram_pct']:.1f}",
                 f"{v['tflops']:.3f}", f"{v['flops_pct']:.1f}", v["math_fidelity"])
        out.append("  ".join(f"{c:>{w}}" if j not in (2, 3, 11) else f"{c:<{w}}"
                             for j, (c, w) in enumerate(zip(cells, widths))))
    device = sum(r.cost.device_s for r in rows) * 1e6
    gaps = sum(r.gap_s for r in rows) * 1e6
    out.append("-" * len(line))
    out.append(f"{len(rows)} device ops | device time {device:.2f} us | op-to-op gaps {gaps:.2f} us | "
               f"total {device + gaps:.2f} us")
    return out


def by_op_code(rows: list, title: str) -> list[str]:
    """Rows grouped by op code (most time first): count, device time, gaps, share; the last line sums them."""
    groups: dict[str, list] = {}
    for row in rows:
        groups.setdefault(row.record.op.removeprefix("ttnn."), []).append(row)
    total_s = sum(r.total_s for r in rows)
    out = [title, f"{'OP Code':<40}  {'Count':>5}  {'Device Time [us]':>16}  {'Op-to-Op Gap [us]':>17}  {'Total %':>7}"]
    ordered = sorted(groups.items(), key=lambda kv: -sum(r.total_s for r in kv[1]))
    for code, group in ordered:
        device, gaps = sum(r.cost.device_s for r in group), sum(r.gap_s for r in group)
        share = 100 * (device + gaps) / total_s if total_s else 0.0
        out.append(f"{code:<40}  {len(group):>5}  {device * 1e6:>16.2f}  {gaps * 1e6:>17.2f}  {share:>7.1f}")
    device, gaps = sum(r.cost.device_s for r in rows), sum(r.gap_s for r in rows)
    out.append(f"{'total':<40}  {len(rows):>5}  {device * 1e6:>16.2f}  {gaps * 1e6:>17.2f}  {100.0:>7.1f}")
    return out


def summary_lines(report: PerfReport) -> list[str]:
    req = report.request
    mode = "traced" if report.decode_traced else "eager"
    weights = f" | weights replaced by {req.weight_dtype} (--weight_dtype)" if req.weight_dtype else ""
    lines = [
        f"Bringup: {req.model_py} | model: {req.model} | system: {report.system.name} "
        f"(mesh {report.mesh[0]}x{report.mesh[1]}) | prompt {req.prompt_len} tokens | decode {mode}{weights}",
        f"Estimated TTFT: {report.ttft_s * 1e3:.2f} ms (prefill, {len(report.prefill)} device ops, eager)",
        f"Estimated decode: {report.tokens_per_s_per_user:.1f} tokens/s/user, {report.tokens_per_s_per_user:.1f} "
        f"tokens/s at batch 1 ({report.decode_step_s * 1e3:.3f} ms per step, {len(report.decode)} device ops)",
        "[predicted by the ttbringup device-time model from the emulator's op log; not a measurement]",
    ]
    published = PUBLISHED.get((req.model, report.system.name))
    if published is not None:
        lines.append(f"Published (tt_transformers perf mode: bfp4/bfp8 weights, LoFi/HiFi2, traced): {published[0]} "
                     f"tokens/s/user, TTFT {published[1]:.0f} ms; predicted/published decode "
                     f"{report.tokens_per_s_per_user / published[0]:.2f}, TTFT {report.ttft_s * 1e3 / published[1]:.2f}"
                     " (this bringup's dtypes and fidelities may differ from perf mode)")
    return lines


def write_csv(report: PerfReport, path: str) -> None:
    """Every row of every phase, unrounded, one line per op."""
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for phase_rows in report.phases.values():
            total_s = sum(r.total_s for r in phase_rows)
            for i, row in enumerate(phase_rows):
                writer.writerow(row_values(row, i, total_s))
