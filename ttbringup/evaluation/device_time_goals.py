"""Each seed bringup's predicted speed on its system, the section of its MODEL_BRINGUP.md that states it.

``goals(hf_id, system)`` runs the device-time model (:mod:`.perf_report`) on the seed's file for that system
(``models/<hf_id>/<system>/functional/model.py``), data-free from the bundled real config, with a 128-token prompt,
at batch 1 and 32, decode eager and traced: TTFT (one user's prefill), tokens/s/user and tokens/s of each. It also
states the weight-streaming roofline the decode is measured against: the weight bytes one chip reads per decode
step (the DRAM weight operand of every matmul of the reported step) over the chip's DRAM bandwidth (288 GB/s,
perf-facts §2), i.e. the fastest a decode that only streamed its weights could go.

``render_markdown(goals)`` is the section's generated block (between BEGIN and END); ``write_section`` puts it in
the MODEL_BRINGUP.md (replacing the block, or adding a "Predicted device time" section before "How it was checked").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BEGIN = "<!-- device-time:begin (scripts/device_time_goals.py --write) -->"
END = "<!-- device-time:end -->"
PROMPT_LEN = 128
DECODE_STEPS = 3
RUNS = ((1, False), (1, True), (32, False), (32, True))  # (batch, traced)
HEADING = "## Predicted device time"


def model_file(hf_id: str, system: str) -> Path:
    return REPO / "models" / hf_id / system / "functional" / "model.py"


def seed_files() -> list[tuple[str, str]]:
    """(hf_id, system) of every seed bringup file there is."""
    from ttbringup.fixtures import SEED_MODELS

    return [(hf_id, system) for hf_id in SEED_MODELS for system in ("n150", "n300", "t3000")
            if model_file(hf_id, system).is_file()]


@dataclass
class Goals:
    hf_id: str
    system: str
    runs: list = field(default_factory=list)  # (batch, traced, ttft_ms, tokens/s/user, tokens/s)
    weight_bytes: int = 0  # per chip per decode step


def weight_bytes(decode_rows) -> int:
    """DRAM bytes of the weight operand (``input_tensor_b``) of every matmul of one decode step, on one chip."""
    from ttbringup.emu.device_time.fidelity import MATMULS

    total = 0
    for row in decode_rows:
        weight = row.record.input("input_tensor_b")
        if row.record.op in MATMULS and weight is not None and weight.in_dram:
            total += weight.bytes
    return total


def goals(hf_id: str, system: str) -> Goals:
    """Predict the seed's runs (module docstring)."""
    from .perf_report import PerfRequest, run

    out = Goals(hf_id, system)
    for batch, traced in RUNS:
        report = run(PerfRequest(model_py=str(model_file(hf_id, system)), model=hf_id, system=system,
                                 prompt_len=PROMPT_LEN, decode_steps=DECODE_STEPS, batch=batch, trace=traced))
        out.runs.append((batch, report.decode_traced, report.ttft_s * 1e3, report.tokens_per_s_per_user,
                         report.tokens_per_s))
        out.weight_bytes = weight_bytes(report.decode)
    return out


def render_markdown(g: Goals) -> str:
    from ttbringup.emu.device_time.constants import DRAM_PEAK_BPS

    lines = [BEGIN,
             f"Predicted by the device-time model on {g.system} (`scripts/perf_report.py` on this file: data-free,",
             f"real shape, this file's dtypes and fidelities, prompt {PROMPT_LEN} tokens); not a measurement.",
             "", "| decode | batch | TTFT ms | tokens/s/user | tokens/s |", "|---|---:|---:|---:|---:|"]
    for batch, traced, ttft, tpsu, tps in g.runs:
        lines.append(f"| {'traced' if traced else 'eager'} | {batch} | {ttft:.1f} | {tpsu:.1f} | {tps:.1f} |")
    step_ms = g.weight_bytes / DRAM_PEAK_BPS * 1e3
    best = max(tpsu for batch, _, _, tpsu, _ in g.runs if batch == 1)
    lines += ["", f"Weight-streaming roofline: {g.weight_bytes:,} B of weights read per chip per decode step / "
                  f"{DRAM_PEAK_BPS / 1e9:.0f} GB/s = {step_ms:.2f} ms per step,",
              f"at most {1e3 / step_ms:.1f} tokens/s/user; the best batch-1 prediction above is "
              f"{100 * best * step_ms / 1e3:.0f} % of it.",
              END]
    return "\n".join(lines)


def write_section(hf_id: str, system: str, text: str) -> Path:
    """Put ``text`` (a rendered block) into the seed's MODEL_BRINGUP.md; returns its path."""
    path = model_file(hf_id, system).parent / "MODEL_BRINGUP.md"
    doc = path.read_text()
    if BEGIN in doc:
        start, end = doc.index(BEGIN), doc.index(END) + len(END)
        doc = doc[:start] + text + doc[end:]
    else:
        section = f"{HEADING}\n\n{text}\n\n"
        anchor = doc.find("## How it was checked")
        doc = doc[:anchor] + section + doc[anchor:] if anchor >= 0 else doc.rstrip("\n") + "\n\n" + section
    path.write_text(doc)
    return path
