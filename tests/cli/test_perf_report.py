"""``scripts/perf_report.py``: predicted TTFT / decode speed and the per-op table of a bringup, from a data-free
emulator run of the shipped tiny Llama checkpoint's config through the seed's real model files."""

import csv
import re

import pytest

from conftest import REPO

SCRIPT = "scripts/perf_report.py"
TINY_LLAMA = REPO / "ttbringup" / "fixtures" / "tiny" / "meta-llama__Llama-3.2-1B"
N150_FILE = REPO / "models" / "meta-llama" / "Llama-3.2-1B" / "n150" / "functional" / "model.py"
N300_FILE = REPO / "models" / "meta-llama" / "Llama-3.2-1B" / "n300" / "functional" / "model.py"
HARDWARE_FIRST = REPO / "tests" / "data" / "hardware_first_bringup" / "model.py"  # reads its weights' values


@pytest.fixture(scope="module")
def reports(run, tiny):
    """The runs, started together (see conftest.Runner); keys start with perf_ (the runner is shared with the other
    CLI test modules, whose keys such as "traced" would otherwise collide)."""
    for key, model_file, extra in (("eager", N150_FILE, ()), ("traced", N150_FILE, ("--trace",)),
                                   ("n300", N300_FILE, ("--table", "both", "--constants",
                                                          "--chart", tiny.tmp / "charts" / "n300.png")),
                                   ("batch32", N150_FILE, ("--batch", 32, "--table", "none")),
                                   ("hw_random", HARDWARE_FIRST, ("--random-weights", "--table", "none")),
                                   ("hw_data_free", HARDWARE_FIRST, ("--table", "none"))):
        run.start(f"perf_{key}", SCRIPT, model_file, "--model", TINY_LLAMA, "--prompt_len", 40, "--csv",
                  tiny.tmp / f"perf_{key}.csv", *extra)
    for system in ("n150", "t3000"):  # real shapes from the bundled config (data-free: seconds)
        model_file = REPO / "models" / "meta-llama" / "Llama-3.2-1B" / system / "functional" / "model.py"
        run.start(f"perf_real_{system}", SCRIPT, model_file, "--trace", "--table", "none", "--csv",
                  tiny.tmp / f"perf_real_{system}.csv")
    run.start("perf_real_n150_bfp8", SCRIPT, N150_FILE, "--trace", "--table", "none", "--weight_dtype", "bfp8", "--csv",
              tiny.tmp / "perf_real_bfp8.csv")
    return run


def number(pattern, text):
    m = re.search(pattern, text)
    assert m, (pattern, text[:2000])
    return float(m.group(1))


def tables(stdout):
    """Each printed per-op table: (rows as lists of cells, the total line)."""
    found, lines = [], stdout.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("  ID  Total %"):
            j = i + 2
            rows = []
            while not lines[j].startswith("---"):
                rows.append(lines[j].split())
                j += 1
            found.append((rows, lines[j + 1]))
    return found


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def phase_ms(rows, phase):
    picked = [r for r in rows if r["phase"] == phase]
    assert picked, phase
    return sum(float(r["device_time_us"]) + float(r["op_to_op_gap_us"]) for r in picked) / 1e3


def test_report_prints_estimates_and_a_table_whose_total_is_the_sum_of_its_rows(reports):
    r = reports.result("perf_eager")
    assert r.returncode == 0, r.stderr
    assert "system: n150 (mesh 1x1)" in r.stdout and "decode eager" in r.stdout
    assert number(r"Estimated TTFT: ([\d.]+) ms", r.stdout) > 0
    assert number(r"Estimated decode: ([\d.]+) tokens/s/user", r.stdout) > 0
    [(rows, total)] = tables(r.stdout)
    assert len(rows) == int(number(r"^(\d+) device ops", total))
    assert [int(row[0]) for row in rows] == list(range(len(rows)))
    device = sum(float(row[4]) for row in rows)
    gaps = sum(float(row[5]) for row in rows)
    assert device == pytest.approx(number(r"device time ([\d.]+) us", total), abs=0.01 * len(rows))
    assert gaps == pytest.approx(number(r"op-to-op gaps ([\d.]+) us", total), abs=0.01 * len(rows))
    assert sum(float(row[1]) for row in rows) == pytest.approx(100, abs=0.1 * len(rows))
    assert {row[2] for row in rows} <= {"DRAM", "FLOP", "BOTH", "SLOW", "LINK"}
    assert any(row[3] == "scaled_dot_product_attention_decode" for row in rows)


def test_the_op_code_summary_sums_to_the_per_op_table(reports):
    r = reports.result("perf_eager")
    lines = r.stdout.splitlines()
    start = lines.index("Decode step 4, by op code (predicted):")
    body = []
    for line in lines[start + 2:]:
        if not line.strip():
            break
        body.append(line.split())
    groups, total = body[:-1], body[-1]
    assert total[0] == "total"
    [(rows, _)] = tables(r.stdout)
    assert sum(int(g[1]) for g in groups) == int(total[1]) == len(rows)
    assert sum(float(g[2]) for g in groups) == pytest.approx(float(total[2]), abs=0.01 * len(groups))
    assert float(total[2]) == pytest.approx(sum(float(row[4]) for row in rows), abs=0.01 * len(rows))


def test_eight_chips_predict_a_faster_decode_than_one_but_not_8x(reports):
    rate = r"Estimated decode: ([\d.]+) tokens/s/user"
    one, eight = reports.result("perf_real_n150"), reports.result("perf_real_t3000")
    assert one.returncode == 0 and eight.returncode == 0, (one.stderr, eight.stderr)
    assert "model: meta-llama/Llama-3.2-1B" in one.stdout and "system: t3000 (mesh 2x4)" in eight.stdout
    assert "Published (tt_transformers" in one.stdout  # the comparison line of a published row
    n150, t3000 = number(rate, one.stdout), number(rate, eight.stdout)
    assert n150 < t3000 < 8 * n150


def test_csv_parses_and_its_phases_add_up_to_the_estimates(reports, tiny):
    r = reports.result("perf_eager")
    rows = read_csv(tiny.tmp / "perf_eager.csv")
    assert {"prefill", "decode 1", "decode 4"} <= {row["phase"] for row in rows}
    assert phase_ms(rows, "prefill") == pytest.approx(number(r"Estimated TTFT: ([\d.]+) ms", r.stdout), abs=0.01)
    step_ms = number(r"\(([\d.]+) ms per step", r.stdout)
    assert phase_ms(rows, "decode 4") == pytest.approx(step_ms, abs=0.001)
    prefill = [row for row in rows if row["phase"] == "prefill"]
    assert any(row["op_code"] == "scaled_dot_product_attention" for row in prefill)
    linear = next(row for row in prefill if row["op_code"] == "linear")
    assert int(linear["flops"]) > 0 and linear["math_fidelity"] == "HiFi2"
    assert "input_tensor_b" in linear["inputs"] and "DRAM_INTERLEAVED" in linear["inputs"]


def test_trace_replays_the_decode_without_host_dispatch_and_is_faster(reports, tiny):
    eager, traced = reports.result("perf_eager"), reports.result("perf_traced")
    assert traced.returncode == 0, traced.stderr
    assert "decode traced" in traced.stdout
    rate = r"Estimated decode: ([\d.]+) tokens/s/user"
    assert number(rate, traced.stdout) > number(rate, eager.stdout)
    rows = [row for row in read_csv(tiny.tmp / "perf_traced.csv") if row["phase"] == "decode 4"]
    assert rows and all(row["traced"] == "True" for row in rows)
    assert all(float(row["op_to_op_gap_us"]) == pytest.approx(2.05) for row in rows)
    eager_rows = [row for row in read_csv(tiny.tmp / "perf_eager.csv") if row["phase"] == "decode 4"]
    assert [row["op_code"] for row in rows] == [row["op_code"] for row in eager_rows]


def test_a_tensor_parallel_file_reports_its_collectives_on_n300(reports, tiny):
    r = reports.result("perf_n300")
    assert r.returncode == 0, r.stderr
    assert "system: n300 (mesh 1x2)" in r.stdout
    prefill, decode = tables(r.stdout)
    assert "LINK_BPS = 1.2e+10 B/s: facts §2 Ethernet" in r.stdout  # --constants: each with its source
    assert any(row[3] == "all_reduce" for row in decode[0])
    assert any(row[3] == "all_reduce" for row in prefill[0])


def test_a_bad_model_path_gives_one_error_line_and_exit_2(run, tiny):
    missing = tiny.tmp / "no_such_model.py"
    r = run(SCRIPT, missing, "--model", TINY_LLAMA)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr
    errors = [line for line in r.stderr.splitlines() if line.strip()]
    assert errors == [f"error: model file not found: {missing}"]


def test_a_mesh_file_on_a_smaller_system_is_refused(run):
    r = run(SCRIPT, N300_FILE, "--model", TINY_LLAMA, "--system", "n150")
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("error: ") and "n150 has 1" in r.stderr


def test_bfp8_weights_predict_a_faster_decode_than_bf16_for_a_dram_bound_model(reports):
    rate = r"Estimated decode: ([\d.]+) tokens/s/user"
    bf16, bfp8 = reports.result("perf_real_n150"), reports.result("perf_real_n150_bfp8")
    assert bfp8.returncode == 0, bfp8.stderr
    assert "weights replaced by bfp8" in bfp8.stdout and "weights replaced" not in bf16.stdout
    assert number(rate, bfp8.stdout) > number(rate, bf16.stdout)


HOST_ONLY = '''"""A bringup that computes on the host only (no ttnn op)."""
import torch


class HostOnly:
    max_cache_len = 2048

    def __call__(self, input_ids, past_key_values=None):
        return type("Out", (), {"logits": torch.zeros(1, input_ids.shape[1], 8), "past_key_values": None})()


def build_model(hf_model, tt_device, max_seq_len):
    return HostOnly()
'''


def test_a_bringup_without_device_ops_is_refused(run, tiny):
    path = tiny.tmp / "host_only.py"
    path.write_text(HOST_ONLY)
    r = run(SCRIPT, path, "--model", tiny.ckpt, "--prompt_len", 8)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("error: ") and "ran no ttnn device ops" in r.stderr


def test_a_batch_of_32_users_reads_more_kv_per_step_and_multiplies_tokens_per_second(reports, tiny):
    one, many = reports.result("perf_eager"), reports.result("perf_batch32")
    assert many.returncode == 0, many.stderr
    per_user = number(r"Estimated decode: ([\d.]+) tokens/s/user", many.stdout)
    assert number(r"([\d.]+) tokens/s at batch 32", many.stdout) == pytest.approx(32 * per_user, rel=1e-3)
    step = r"\(([\d.]+) ms per step"
    assert number(step, many.stdout) > number(step, one.stdout)
    assert "32 users prefilled one after another" in many.stdout
    rows = read_csv(tiny.tmp / "perf_batch32.csv")
    assert sum(1 for r in rows if r["phase"] == "prefill" and r["op_code"] == "scaled_dot_product_attention") == \
        32 * sum(1 for r in read_csv(tiny.tmp / "perf_eager.csv")
                 if r["phase"] == "prefill" and r["op_code"] == "scaled_dot_product_attention")


def test_a_batch_beyond_the_models_users_is_refused(run):
    r = run(SCRIPT, N150_FILE, "--model", TINY_LLAMA, "--batch", 33, "--prompt_len", 8)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr and "--batch 33" in r.stderr.strip().splitlines()[-1]


def test_a_file_that_needs_weight_data_is_told_to_use_random_weights_and_then_runs(reports):
    data_free, random = reports.result("perf_hw_data_free"), reports.result("perf_hw_random")
    assert data_free.returncode == 2 and "Traceback" not in data_free.stderr
    last = data_free.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "does not build without data" in last and "--random-weights" in last
    assert random.returncode == 0, random.stderr
    assert number(r"Estimated decode: ([\d.]+) tokens/s/user", random.stdout) > 0


def grouped(stdout, title):
    """The rows of a grouped table (by op code / by layer) and its total line, as lists of cells."""
    lines = stdout.splitlines()
    body = []
    for line in lines[lines.index(title) + 2:]:
        if not line.strip():
            break
        body.append(line.rsplit(None, 4))
    return body[:-1], body[-1]


def test_the_decode_is_grouped_by_layer_even_when_traced(reports, tiny):
    r = reports.result("perf_traced")
    groups, total = grouped(r.stdout, "Decode step 4, by layer (predicted):")
    assert [g[0] for g in groups] == ["outside layers", "layer 0", "layer 1"]  # the tiny model has 2 layers
    assert groups[1][1:] == groups[2][1:]  # identical layers cost the same
    assert sum(int(g[1]) for g in groups) == int(total[1])
    assert sum(float(g[2]) for g in groups) == pytest.approx(float(total[2]), abs=0.01 * len(groups))
    rows = [row for row in read_csv(tiny.tmp / "perf_traced.csv") if row["phase"] == "decode 4"]
    assert {row["block"] for row in rows} == {"", "layer 0", "layer 1"}


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_the_chart_is_written_beside_the_csv_or_where_chart_says(reports, tiny):
    r = reports.result("perf_eager")
    assert r.returncode == 0, r.stderr
    beside = tiny.tmp / "perf_eager.png"
    assert f"wrote {beside}" in r.stderr
    assert beside.read_bytes()[:8] == PNG_SIGNATURE
    r = reports.result("perf_n300")
    assert r.returncode == 0, r.stderr
    chosen = tiny.tmp / "charts" / "n300.png"  # its directory is made
    assert chosen.read_bytes()[:8] == PNG_SIGNATURE and not (tiny.tmp / "perf_n300.png").exists()
