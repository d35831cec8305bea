"""Reporting an eval: the human lines, the JSON document and markdown tables."""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path

from .cli import CliError
from .pipeline import EvalOutcome


def percent_line(label: str, value: float) -> str:
    """``Top-1 accuracy: 99.00% (0.9900)``."""
    return f"{label}: {value * 100:.2f}% ({value:.4f})"


def format_pcc(value: float) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.6f}"


def _token(outcome: EvalOutcome, token: int) -> str:
    text = outcome.decode([token])
    return f"{token}" if text is None else f"{token} {text!r}"


def mismatch_text(outcome: EvalOutcome) -> str:
    r = outcome.result
    i = r.first_mismatch
    if i is None:
        return "none"
    return f"position {i} (reference {_token(outcome, r.ref_ids[i])}, ours {_token(outcome, r.predicted_ids[i])})"


def human_lines(outcome: EvalOutcome) -> list[str]:
    """The lines eval.py prints: what was compared, then the numbers (of the first numerics mode run), then, when
    several modes ran, the side-by-side table of ``numerics_lines``."""
    req, r = outcome.request, outcome.result
    what = req.model_py or "the HF model itself"
    lines = [
        f"Bringup: {what} | backend: {outcome.backend}"
        + (f" | mesh {outcome.mesh_shape[0]}x{outcome.mesh_shape[1]}" if outcome.mesh_shape else "")
        + f" | numerics: {outcome.numerics}",
        f"Reference: {req.model} ({outcome.reference_source}), {outcome.reference_precision}, CPU, greedy",
        f"Prompt tokens: {r.prompt_len} | scored tokens: {r.total} | prefill: "
        + ("token by token" if r.prefill_by_decode else "one pass")
        + (" | decode: traced (metal trace replay)" if outcome.decode_traced else "")
        + " | top-5: the reference token is in our top 5",
        percent_line("Top-1 accuracy", r.top1),
        percent_line("Top-5 accuracy", r.top5),
        f"Logits PCC: {format_pcc(r.logits_pcc)}",
        f"First top-1 mismatch: {mismatch_text(outcome)}",
    ]
    if len(outcome.by_numerics) > 1:
        lines += numerics_lines(outcome)
    return lines


def numerics_lines(outcome: EvalOutcome) -> list[str]:
    """``Numerics side by side:`` and one aligned row per mode: top-1, top-5, logits PCC, first top-1 mismatch."""
    lines = ["Numerics side by side (same build, same reference):",
             f"  {'numerics':<8}  {'top-1':>7}  {'top-5':>7}  {'logits PCC':>10}  first top-1 mismatch"]
    for key, r in outcome.by_numerics.items():
        first = "none" if r.first_mismatch is None else f"position {r.first_mismatch}"
        lines.append(f"  {key:<8}  {r.top1 * 100:>6.2f}%  {r.top5 * 100:>6.2f}%  {format_pcc(r.logits_pcc):>10}  "
                     f"{first}")
    return lines


def numerics_summary(r) -> dict:
    """One mode's scores as the JSON reports carry them under ``by_numerics``."""
    return {"top1": r.top1, "top5": r.top5, "logits_pcc": r.logits_pcc, "first_mismatch": r.first_mismatch,
            "total": r.total, "predicted_ids": r.predicted_ids, "prefill_seconds": r.prefill_seconds,
            "decode_seconds": r.decode_seconds}


def to_json(outcome: EvalOutcome) -> dict:
    """Everything measured, JSON-ready (NaN becomes null). The top-level scores are the first numerics mode's;
    ``numerics`` says which mode(s) ran and ``by_numerics`` has each one's scores."""
    data = {
        "request": asdict(outcome.request),
        "backend": outcome.backend,
        "reference_source": outcome.reference_source,
        "reference_precision": outcome.reference_precision,
        "mesh_shape": list(outcome.mesh_shape) if outcome.mesh_shape else None,
        "weights_dtype": outcome.weights_dtype,
        "decode_traced": outcome.decode_traced,
        "numerics": outcome.numerics,
        "by_numerics": {key: numerics_summary(r) for key, r in outcome.by_numerics.items()},
        "seconds": outcome.seconds,
        **outcome.result.to_dict(),
        "first_mismatch_text": mismatch_text(outcome),
        "reference_text": outcome.decode(outcome.result.ref_ids),
    }
    return _nan_to_none(data)


def _nan_to_none(value):
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_nan_to_none(v) for v in value]
    return value


def write_json(path: str | Path, data) -> None:
    """Write ``data`` as indented JSON, creating parent directories; CliError when that fails."""
    path = Path(path)
    text = json.dumps(_nan_to_none(data), indent=2) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    except OSError as err:
        raise CliError(f"cannot write {path}: {err.strerror or err}") from None


def markdown_table(headers: list[str], rows: list[list]) -> str:
    """A GitHub markdown table."""
    def cell(v) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(out)
