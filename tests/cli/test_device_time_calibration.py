"""docs/device-time-calibration.md: the device-time model against tt_transformers' published rows.

The table is parsed here and checked against perf-facts §1's figures (perf_tables.PUBLISHED), its own ratios and
summary lines recomputed from its columns, and one row re-predicted by scripts/calibrate_device_time.py now."""

import re
import statistics

import pytest

from conftest import REPO

DOC = REPO / "docs" / "device-time-calibration.md"
SCRIPT = "scripts/calibrate_device_time.py"
BEGIN, END = "<!-- calibration:begin", "<!-- calibration:end -->"


def block():
    text = DOC.read_text()
    return text[text.index(BEGIN):text.index(END)]


def table_rows(header_start):
    """The rows (lists of cells) of the markdown table whose header starts with ``header_start``."""
    lines = block().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows


def calibration_rows():
    return {(m, s, int(b)): tuple(map(float, rest)) for m, s, b, *rest in table_rows("| model | system | batch | pub")}


def test_every_published_row_is_in_the_table_with_the_published_figures():
    from ttbringup.evaluation.perf_tables import PUBLISHED

    rows = calibration_rows()
    assert len(PUBLISHED) == 10  # perf-facts §1 lists ten rows
    assert set(rows) == {(m.split("/")[-1], s, b) for m, s, b in PUBLISHED}
    for (model, system, batch), (tpsu, ttft) in PUBLISHED.items():
        pub_tpsu, _, _, pub_ttft, *_ = rows[(model.split("/")[-1], system, batch)]
        assert (pub_tpsu, pub_ttft) == (tpsu, ttft)


def test_ratios_and_summary_lines_follow_from_the_columns():
    rows = calibration_rows()
    decode_errors, ttft_errors, with_step_errors = [], [], []
    for pub_tpsu, tpsu, ratio, pub_ttft, ttft, ttft_ratio, with_step, with_step_ratio in rows.values():
        assert ratio == pytest.approx(tpsu / pub_tpsu, abs=0.006)
        assert ttft_ratio == pytest.approx(ttft / pub_ttft, abs=0.006)
        assert with_step == pytest.approx(ttft + 1e3 / tpsu, abs=0.1)  # prefill + one predicted decode step
        assert with_step_ratio == pytest.approx(with_step / pub_ttft, abs=0.006)
        decode_errors.append(abs(tpsu / pub_tpsu - 1))
        ttft_errors.append(abs(ttft / pub_ttft - 1))
        with_step_errors.append(abs(with_step / pub_ttft - 1))
    for what, errors, goal in (("decode tokens/s/user", decode_errors, 25), ("TTFT", ttft_errors, 40),
                               ("TTFT as prefill + 1 step", with_step_errors, 40)):
        m = re.search(rf"^- {re.escape(what)}: median error (\d+) %, worst (\d+) % \(.+\); (\d+) of (\d+) rows "
                      rf"within {goal} %$", block(), re.M)
        assert m, what
        median, worst, met, total = map(int, m.groups())
        assert median == pytest.approx(100 * statistics.median(errors), abs=1)
        assert worst == pytest.approx(100 * max(errors), abs=1)
        assert (met, total) == (sum(e <= goal / 100 for e in errors), len(rows))


def test_the_decode_step_breakdown_sums_to_the_predicted_step():
    rows = calibration_rows()
    parts = table_rows("| model | system | batch | matmul")
    assert len(parts) == len(rows)
    for model, system, batch, *cells in parts:
        *values, step, published_step = map(float, cells)
        assert sum(values) == pytest.approx(step, abs=0.03)
        assert values[-1] == pytest.approx(1e3 * decode_host_s(int(batch), vocab_of(model)), abs=0.006)
        tpsu = rows[(model, system, int(batch))][1]
        assert step == pytest.approx(1e3 / tpsu, rel=0.01)
        assert published_step == pytest.approx(1e3 / rows[(model, system, int(batch))][0], abs=0.006)


def decode_host_s(batch, vocab):
    from ttbringup.evaluation.demo_loop import decode_host_s

    return decode_host_s(batch, vocab)


def vocab_of(model_name):
    from ttbringup.evaluation.perf_tables import PUBLISHED
    from ttbringup.fixtures import real_config_dict

    hf_id = next(m for m, _, _ in PUBLISHED if m.split("/")[-1] == model_name)
    return real_config_dict(hf_id)["vocab_size"]


def test_a_row_predicted_now_is_the_one_in_the_doc(run):
    r = run(SCRIPT, "--row", "meta-llama/Llama-3.2-1B", "n150", "1")
    assert r.returncode == 0, r.stderr
    table_line, parts_line = r.stdout.splitlines()[-2:]
    assert table_line in block(), "the calibration doc is stale: run scripts/calibrate_device_time.py --write"
    assert parts_line in block()


def test_an_unpublished_row_is_one_error_line(run):
    r = run(SCRIPT, "--row", "meta-llama/Llama-3.2-1B", "n150", "7")
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[-1].startswith("error: no published row meta-llama/Llama-3.2-1B n150 7")


def tiny_perf_report(system):
    from ttbringup.evaluation import calibration
    from ttbringup.evaluation.perf_report import run

    req = calibration.request("meta-llama/Llama-3.2-1B", system, 1)
    req.model = str(REPO / "ttbringup" / "fixtures" / "tiny" / "meta-llama__Llama-3.2-1B")  # 2 layers, same blocks
    return run(req)


def ops(rows, block=None):
    return [r.record.op for r in rows if block is None or r.record.block == block]


def test_perf_mode_runs_the_published_dtypes_and_fidelities_with_dram_sharded_decode_matmuls():
    """perf-facts §1 / PERF.md: gate/up bfloat4_b at LoFi, every other weight (fused q/k/v, o, down, LM head)
    bfloat8_b at HiFi2, KV cache bfloat8_b, prefill SDPA at HiFi4; the calibration's request prices decode
    matmuls DRAM-sharded and prefill ones interleaved."""
    report = tiny_perf_report("n150")
    assert report.decode_traced
    for rows, sharded in ((report.prefill, False), (report.decode, True)):
        linears = [r for r in rows if r.record.op == "ttnn.linear"]
        kinds = sorted((r.record.input("input_tensor_b").dtype, r.record.fidelity) for r in linears)
        assert kinds == sorted([("BFLOAT4_B", "LoFi")] * 2 * 2 + [("BFLOAT8_B", "HiFi2")] * (3 * 2 + 1))
        assert all(r.cost.dram_sharded is sharded for r in linears)
        assert "ttnn.concat" not in ops(rows)  # one fused q/k/v matmul, as tt_transformers' wqkv
    fills = [r.record for r in report.prefill if r.record.op == "ttnn.fill_cache"]
    assert len(fills) == 2 * 2 and {(f.input("cache_tensor").dtype, f.input("input_tensor").dtype)
                                    for f in fills} == {("BFLOAT8_B", "BFLOAT8_B")}
    assert {r.record.fidelity for r in report.prefill
            if r.record.op == "ttnn.scaled_dot_product_attention"} == {"HiFi4"}
    assert ops(report.decode)[-2:] == ["ttnn.linear", "ttnn.to_layout"]  # LM head, then the logits untilized


def test_perf_mode_on_a_mesh_reduces_as_tt_transformers_and_gathers_the_logits():
    """n300: each row-parallel output reduce-scattered then all-gathered (no all_reduce), twice per layer; the
    decode step ends with the LM head, the logits all-gathered over the chips and untilized."""
    report = tiny_perf_report("n300")
    for rows in (report.prefill, report.decode):
        layer = ops(rows, "layer 0")
        assert "ttnn.all_reduce" not in layer
        assert layer.count("ttnn.reduce_scatter") == 2 and layer.count("ttnn.all_gather") == 2
        assert all(layer[i + 1] == "ttnn.all_gather" for i, op in enumerate(layer) if op == "ttnn.reduce_scatter")
    assert ops(report.decode)[-3:] == ["ttnn.linear", "ttnn.all_gather", "ttnn.to_layout"]
    gather = report.decode[-2].record
    assert gather.outputs[0].shape[-1] == report.mesh[1] * gather.inputs[0].shape[-1]
