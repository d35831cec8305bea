"""demo.py and eval.py --json on the emulator carry the device-time model's prediction of the same run on the card:
the numbers perf_report.py prints for that file, config, prompt length, batch and trace mode."""

import json
import re

import pytest

from conftest import REPO

TINY_LLAMA = REPO / "ttbringup" / "fixtures" / "tiny" / "meta-llama__Llama-3.2-1B"
N150_FILE = REPO / "models" / "meta-llama" / "Llama-3.2-1B" / "n150" / "functional" / "model.py"
KEYS = {"system", "prompt_len", "batch", "decode_traced", "ttft_ms", "tokens_per_s_per_user", "tokens_per_s"}


@pytest.fixture(scope="module")
def runs(run, tiny):
    run.start("estimate_eval", "eval.py", N150_FILE, "--model", TINY_LLAMA, "--max_new_tokens", 4, "--trace",
              "--json", tiny.tmp / "estimate_eval.json")
    run.start("estimate_demo", "demo.py", N150_FILE, "--model", TINY_LLAMA, "--max_new_tokens", 4, "--batch", 2,
              "--json", tiny.tmp / "estimate_demo.json")
    return run


def perf_report(run, tiny, prompt_len, *extra):
    """(TTFT ms, tokens/s/user) as perf_report.py prints them for this file and checkpoint."""
    r = run("scripts/perf_report.py", N150_FILE, "--model", TINY_LLAMA, "--prompt_len", prompt_len,
            "--decode_steps", 3, "--table", "none", "--csv", tiny.tmp / "estimate_ref.csv", *extra)
    assert r.returncode == 0, r.stderr
    ttft = float(re.search(r"Estimated TTFT: ([\d.]+) ms", r.stdout).group(1))
    tpsu = float(re.search(r"Estimated decode: ([\d.]+) tokens/s/user", r.stdout).group(1))
    return ttft, tpsu


def test_eval_json_keeps_its_keys_and_adds_the_estimate(runs, run, tiny):
    r = runs.result("estimate_eval")
    assert r.returncode == 0, r.stderr
    data = json.loads((tiny.tmp / "estimate_eval.json").read_text())
    assert {"request", "backend", "decode_traced", "top1", "top5", "total", "seconds"} <= set(data)
    est = data["device_time_estimate"]
    assert set(est) == KEYS, est
    assert est["system"] == "n150" and est["decode_traced"] is True and est["batch"] == 1
    assert est["prompt_len"] == data["prompt_len"]
    assert re.search(r"^Predicted on n150 \(device-time model, not a measurement\): TTFT [\d.]+ ms", r.stdout, re.M)
    ttft, tpsu = perf_report(run, tiny, data["prompt_len"], "--trace")
    assert est["ttft_ms"] == pytest.approx(ttft, abs=0.006)
    assert est["tokens_per_s_per_user"] == pytest.approx(tpsu, abs=0.06)


def test_demo_prints_the_estimate_next_to_the_wall_time_and_writes_it(runs, run, tiny):
    r = runs.result("estimate_demo")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    wall = next(i for i, line in enumerate(lines) if "[emulator wall time]" in line)
    assert lines[wall + 1].startswith("Predicted on n150 (device-time model, not a measurement): TTFT ")
    est = json.loads((tiny.tmp / "estimate_demo.json").read_text())["device_time_estimate"]
    assert set(est) == KEYS and est["batch"] == 2 and est["decode_traced"] is False
    assert est["tokens_per_s"] == pytest.approx(2 * est["tokens_per_s_per_user"])
    ttft, tpsu = perf_report(run, tiny, est["prompt_len"], "--batch", 2)
    assert est["ttft_ms"] == pytest.approx(ttft, abs=0.006)
    assert est["tokens_per_s_per_user"] == pytest.approx(tpsu, abs=0.06)
