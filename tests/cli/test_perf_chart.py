"""The perf report's chart (ttbringup/evaluation/perf_chart.py): its bars are the report's TTFT and decode step,
split into op codes and gaps taken from the report's rows."""

import pytest

from conftest import REPO

TINY_LLAMA = REPO / "ttbringup" / "fixtures" / "tiny" / "meta-llama__Llama-3.2-1B"
N150_FILE = REPO / "models" / "meta-llama" / "Llama-3.2-1B" / "n150" / "functional" / "model.py"


@pytest.fixture(scope="module")
def report():
    from ttbringup.evaluation.perf_report import PerfRequest, run

    return run(PerfRequest(model_py=str(N150_FILE), model=str(TINY_LLAMA), prompt_len=40, decode_steps=3, batch=2,
                           trace=True))


def test_each_bar_sums_to_the_reported_ttft_and_decode_step(report):
    from ttbringup.evaluation.perf_chart import GAPS, OTHER, TOP, segments

    bars = segments(report)
    (ttft_label, ttft), (step_label, step) = bars.items()
    assert "TTFT" in ttft_label and "traced" in step_label
    assert sum(ttft.values()) == pytest.approx(report.ttft_s * 1e3)  # one user's pass: the phase over batch 2
    assert sum(step.values()) == pytest.approx(report.decode_step_s * 1e3)
    assert list(ttft) == list(step) and list(ttft)[-2:] == [OTHER, GAPS] and len(ttft) <= TOP + 2
    linear_ms = sum(r.cost.device_s for r in report.decode if r.record.op == "ttnn.linear") * 1e3
    assert step["linear"] == pytest.approx(linear_ms)
    assert step[GAPS] == pytest.approx(sum(r.gap_s for r in report.decode) * 1e3)


def test_the_chart_is_a_png(report, tmp_path):
    from ttbringup.evaluation.perf_chart import write_chart

    path = tmp_path / "sub" / "chart.png"
    write_chart(report, str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
