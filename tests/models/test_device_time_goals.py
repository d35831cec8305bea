"""Each seed's MODEL_BRINGUP.md states its predicted TTFT and tokens/s/user (batch 1 and 32, eager and traced) and
its weight-streaming roofline; the numbers are the device-time model's for that file now
(ttbringup/evaluation/device_time_goals.py, refreshed by scripts/device_time_goals.py --write)."""

import re

import pytest

from seed_helpers import load_by_path
from ttbringup.evaluation import device_time_goals as dtg

FILES = dtg.seed_files()
ROW = re.compile(r"^\| (eager|traced) \| (\d+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|$", re.M)
ROOFLINE = re.compile(r"Weight-streaming roofline: ([\d,]+) B of weights read per chip per decode step / 288 GB/s = "
                      r"([\d.]+) ms per step,\nat most ([\d.]+) tokens/s/user; the best batch-1 prediction above is "
                      r"(\d+) % of it\.")


def section(hf_id, system):
    doc = (dtg.model_file(hf_id, system).parent / "MODEL_BRINGUP.md").read_text()
    assert dtg.BEGIN in doc, f"no device-time section: run scripts/device_time_goals.py {hf_id} --write"
    return doc[doc.index(dtg.BEGIN):doc.index(dtg.END) + len(dtg.END)]


def test_every_seed_file_is_covered():
    assert len(FILES) == 12  # four seeds, each on n150, n300 and t3000


@pytest.mark.parametrize("hf_id,system", FILES, ids=[f"{h.split('/')[-1]}-{s}" for h, s in FILES])
def test_the_section_is_consistent(hf_id, system):
    """Every run is there; tokens/s = batch x tokens/s/user; the traced decode is faster than the eager one; the
    roofline's ms = bytes / 288 GB/s and no prediction beats it."""
    text = section(hf_id, system)
    assert f"on {system} " in text
    rows = [(mode, int(b), float(ttft), float(tpsu), float(tps)) for mode, b, ttft, tpsu, tps in ROW.findall(text)]
    assert [(mode, b) for mode, b, *_ in rows] == [("eager", 1), ("traced", 1), ("eager", 32), ("traced", 32)]
    for _, batch, ttft, tpsu, tps in rows:
        assert ttft > 0 and tps == pytest.approx(batch * tpsu, abs=0.05 * batch + 0.1)  # tokens/s/user shown to 0.1
    assert rows[1][3] > rows[0][3] and rows[3][3] > rows[2][3]
    m = ROOFLINE.search(text)
    assert m, text
    weight_bytes = int(m.group(1).replace(",", ""))
    ms, ceiling, pct = float(m.group(2)), float(m.group(3)), int(m.group(4))
    assert ms == pytest.approx(weight_bytes / 288e9 * 1e3, abs=0.006)
    assert ceiling == pytest.approx(288e9 / weight_bytes, abs=0.06)
    assert max(tpsu for *_, tpsu, _ in rows) <= ceiling
    assert pct == pytest.approx(100 * rows[1][3] / ceiling, abs=1)


def test_llama_1b_n150_states_what_the_model_predicts_now():
    text = dtg.render_markdown(dtg.goals("meta-llama/Llama-3.2-1B", "n150"))
    assert text == section("meta-llama/Llama-3.2-1B", "n150"), \
        "MODEL_BRINGUP.md is stale: run scripts/device_time_goals.py --write"


@pytest.mark.parametrize("argv,message", [(["nope/model"], "error: nope/model is not a seed; seeds: "),
                                          (["--systems", "n999"], "error: unknown system 'n999'")])
def test_bad_input_is_one_error_line(argv, message, capsys):
    script = load_by_path(dtg.REPO / "scripts" / "device_time_goals.py")
    with pytest.raises(SystemExit) as exit_info:
        script.main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(message)
