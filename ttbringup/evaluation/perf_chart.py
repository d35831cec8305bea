"""The perf report's chart: where the predicted time goes, as a stacked bar PNG (matplotlib, Agg).

Two bars, in milliseconds: the TTFT (one user's prefill: the prefill phase over the batch) and the reported decode
step. Each is split into the device time of its op codes — the ``TOP`` op codes with the most time over both bars,
each its own segment, the rest as "other ops" — and the op-to-op gaps, so each bar's segments sum to the TTFT and
the step time the report prints.
"""

from __future__ import annotations

import os

TOP = 7
OTHER, GAPS = "other ops", "op-to-op gaps"


def segments(report) -> dict[str, dict[str, float]]:
    """``{bar label: {segment: ms}}`` (module docstring); every bar has the same segments, in the same order."""
    bars = {"TTFT (prefill)": (report.prefill, 1.0 / report.request.batch),
            f"decode step ({'traced' if report.decode_traced else 'eager'})": (report.decode, 1.0)}
    by_code: dict[str, float] = {}
    for rows, scale in bars.values():
        for row in rows:
            code = row.record.op.removeprefix("ttnn.")
            by_code[code] = by_code.get(code, 0.0) + row.cost.device_s * scale
    top = sorted(by_code, key=lambda c: -by_code[c])[:TOP]
    out = {}
    for label, (rows, scale) in bars.items():
        parts = dict.fromkeys([*top, OTHER, GAPS], 0.0)
        for row in rows:
            code = row.record.op.removeprefix("ttnn.")
            parts[code if code in top else OTHER] += row.cost.device_s * scale * 1e3
            parts[GAPS] += row.gap_s * scale * 1e3
        out[label] = parts
    return out


def write_chart(report, path: str) -> None:
    """Draw :func:`segments` of ``report`` into the PNG ``path`` (parent directories made)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    bars = segments(report)
    labels = list(bars)
    names = list(bars[labels[0]])
    fig, ax = plt.subplots(figsize=(8, 4.8))
    bottoms = [0.0] * len(labels)
    colors = plt.get_cmap("tab10")
    for i, name in enumerate(names):
        values = [bars[label][name] for label in labels]
        ax.bar(labels, values, bottom=bottoms, label=name, color="lightgray" if name == GAPS else colors(i % 10))
        bottoms = [b + v for b, v in zip(bottoms, values)]
    for x, total in enumerate(bottoms):
        ax.annotate(f"{total:.2f} ms", (x, total), ha="center", va="bottom")
    req = report.request
    ax.set_ylabel("predicted time [ms]")
    ax.set_title(f"{req.model} on {report.system.name}: batch {req.batch}, prompt {req.prompt_len} tokens (predicted)",
                 fontsize=9)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_ylim(0, max(bottoms) * 1.12 if max(bottoms) > 0 else 1)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
