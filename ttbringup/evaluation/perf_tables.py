"""The perf report's output: tt-perf-report-style per-op table, op-code summary, estimate lines, CSV.

Every table ends with a line that sums its rows; the CSV holds every op of every phase, unrounded.
"""

from __future__ import annotations

import csv
import os

COLUMNS = ("ID", "Total %", "Bound", "OP Code", "Device Time [us]", "Op-to-Op Gap [us]", "Cores", "DRAM [GB/s]",
           "DRAM %", "FLOPs [TFLOPs]", "FLOPs %", "Math Fidelity")
CSV_COLUMNS = ("phase", "id", "block", "op_code", "traced", "device_time_us", "op_to_op_gap_us", "cores", "dram_bytes",
               "dram_gbps", "dram_pct", "flops", "tflops", "flops_pct", "bound", "limited_by", "math_fidelity",
               "dram_sharded", "mesh", "inputs", "outputs")

# tt_transformers' published figures (perf-facts.md §1: perf mode = bfp4 gate/up at LoFi, bfp8 elsewhere at HiFi2,
# decode traced, ~128-token prompt): (model, system, batch) -> (decode t/s/u, TTFT ms per user)
PUBLISHED = {
    ("meta-llama/Llama-3.2-1B", "n150", 1): (87.8, 26.0),
    ("meta-llama/Llama-3.2-1B", "n300", 1): (105.9, 22.0),
    ("meta-llama/Llama-3.2-1B", "t3000", 1): (119.8, 32.0),
    ("meta-llama/Llama-3.2-3B", "n150", 1): (54.0, 55.0),
    ("meta-llama/Llama-3.2-3B", "n300", 1): (68.0, 39.0),
    ("meta-llama/Llama-3.2-3B", "t3000", 1): (68.5, 52.0),
    ("meta-llama/Llama-3.1-8B", "n150", 1): (28.3, 104.0),
    ("mistralai/Mistral-7B-v0.3", "n150", 1): (29.75, 100.0),
    ("meta-llama/Llama-3.2-1B", "n150", 32): (54.7, 38.0),
    ("meta-llama/Llama-3.1-8B", "n150", 32): (22.3, 119.0),
}


def row_values(row, index: int, total_s: float) -> dict:
    """The numbers of one row, unrounded (keys: CSV_COLUMNS)."""
    from ttbringup.emu.device_time import constants as C

    cost, rec = row.cost, row.record
    peak = C.PERF_REPORT_TFLOPS_PER_CORE[rec.fidelity or "HiFi4"] * cost.cores
    return {
        "phase": rec.phase, "id": index, "block": rec.block, "op_code": rec.op.removeprefix("ttnn."),
        "traced": rec.traced,
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
    return _grouped(rows, title, "OP Code", lambda row: row.record.op.removeprefix("ttnn."), by_time=True)


def by_block(rows: list, title: str) -> list[str]:
    """Rows grouped by block (``layer 0``, ``layer 1``, ... in order; untagged ops as ``outside layers``)."""
    return _grouped(rows, title, "Block", lambda row: row.record.block or "outside layers", by_time=False)


def _grouped(rows: list, title: str, heading: str, key, by_time: bool) -> list[str]:
    groups: dict[str, list] = {}
    for row in rows:
        groups.setdefault(key(row), []).append(row)
    total_s = sum(r.total_s for r in rows)
    out = [title, f"{heading:<40}  {'Count':>5}  {'Device Time [us]':>16}  {'Op-to-Op Gap [us]':>17}  {'Total %':>7}"]
    ordered = sorted(groups.items(), key=lambda kv: -sum(r.total_s for r in kv[1])) if by_time else groups.items()
    for code, group in ordered:
        device, gaps = sum(r.cost.device_s for r in group), sum(r.gap_s for r in group)
        share = 100 * (device + gaps) / total_s if total_s else 0.0
        out.append(f"{code:<40}  {len(group):>5}  {device * 1e6:>16.2f}  {gaps * 1e6:>17.2f}  {share:>7.1f}")
    device, gaps = sum(r.cost.device_s for r in rows), sum(r.gap_s for r in rows)
    out.append(f"{'total':<40}  {len(rows):>5}  {device * 1e6:>16.2f}  {gaps * 1e6:>17.2f}  {100.0:>7.1f}")
    return out


def summary_lines(report) -> list[str]:
    req = report.request
    mode = "traced" if report.decode_traced else "eager"
    weights = f" | weights replaced by {req.weight_dtype} (--weight_dtype)" if req.weight_dtype else ""
    lines = [
        f"Bringup: {req.model_py} | model: {req.model} | system: {report.system.name} "
        f"(mesh {report.mesh[0]}x{report.mesh[1]}) | prompt {req.prompt_len} tokens | decode {mode}{weights}",
        f"Estimated TTFT: {report.ttft_s * 1e3:.2f} ms (prefill, {len(report.prefill)} device ops, eager"
        + (f"; {req.batch} users prefilled one after another: {report.prefill_s * 1e3:.2f} ms)" if req.batch > 1
           else ")"),
        f"Estimated decode: {report.tokens_per_s_per_user:.1f} tokens/s/user, {report.tokens_per_s:.1f} "
        f"tokens/s at batch {req.batch} ({report.decode_step_s * 1e3:.3f} ms per step, {len(report.decode)} device "
        "ops)",
        "[predicted by the ttbringup device-time model from the emulator's op log; not a measurement]",
    ]
    published = PUBLISHED.get((req.model, report.system.name, req.batch))
    if published is not None:
        lines.append(f"Published (tt_transformers perf mode: bfp4/bfp8 weights, LoFi/HiFi2, traced): {published[0]} "
                     f"tokens/s/user, TTFT {published[1]:.0f} ms; predicted/published decode "
                     f"{report.tokens_per_s_per_user / published[0]:.2f}, TTFT {report.ttft_s * 1e3 / published[1]:.2f}"
                     " (this bringup's dtypes and fidelities may differ from perf mode)")
    return lines


def write_csv(report, path: str) -> None:
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
