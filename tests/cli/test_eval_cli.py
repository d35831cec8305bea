"""eval.py and scripts/run_eval.py end to end on the fake bringup and a tiny random Llama."""

import json
import re

import pytest

from conftest import FAKE, REPO, TINY_ID

ACCURACY = re.compile(r"^(Top-[15]) accuracy: (\d+\.\d\d)% \((\d\.\d{4})\)$", re.M)
METRICS = "YT_METRICS="


@pytest.fixture(scope="module")
def runs(run, tiny):
    """Start this module's runs together (see conftest.Runner); tests wait for theirs."""
    ids_file = tiny.tmp / "ids.txt"
    ids_file.write_text("0, 17 42\n99,5 260 3 77\n150 12 8\n")
    run.start("eval", "eval.py", FAKE / "model.py", "--model", tiny.ckpt, "--max_new_tokens", 8,
              "--json", tiny.tmp / "eval.json")
    run.start("ids", "eval.py", FAKE / "mesh.py", "--model", tiny.ckpt, "--prompt_ids_file", ids_file,
              "--prefill_decode", "--max_new_tokens", 6, "--json", tiny.tmp / "ids.json")
    run.start("tt", "scripts/run_eval.py", "--hf-model", TINY_ID, "--models-dir", tiny.models, "--prefill-len", 24,
              "--decode-len", 6, "--trace", 1, YT_SYSTEM="n150")
    run.start("hardware_first", "eval.py", REPO / "tests" / "data" / "hardware_first_bringup" / "model.py",
              "--model", REPO / "ttbringup" / "fixtures" / "tiny" / "meta-llama__Llama-3.2-1B", "--max_new_tokens", 20)
    run.start("traced", "eval.py", REPO / "models" / "meta-llama" / "Llama-3.2-1B" / "n150" / "functional" / "model.py",
              "--model", REPO / "ttbringup" / "fixtures" / "tiny" / "meta-llama__Llama-3.2-1B", "--max_new_tokens", 8,
              "--trace", "--json", tiny.tmp / "traced.json")
    run.start("hf", "scripts/run_eval.py", "--mode", "hf", "--hf-model", tiny.ckpt, "--random-weights", "--seed", 3,
              "--prefill-len", 16, "--decode-len", 5, "--prefill-decode")
    return run


def accuracies(stdout: str) -> dict:
    return {name: float(frac) for name, _, frac in ACCURACY.findall(stdout)}


def test_eval_scores_a_correct_bringup_100_percent(runs, tiny):
    r, out = runs.result("eval"), tiny.tmp / "eval.json"
    assert r.returncode == 0, r.stderr
    assert accuracies(r.stdout) == {"Top-1": 1.0, "Top-5": 1.0}
    assert "Top-1 accuracy: 100.00% (1.0000)" in r.stdout
    assert re.search(r"^Logits PCC: 1\.0000\d\d$", r.stdout, re.M)
    assert "First top-1 mismatch: none" in r.stdout
    assert "teacher forcing" in r.stderr and "HF reference" in r.stderr  # tqdm bars on stderr
    data = json.loads(out.read_text())
    assert data["total"] == 8 and len(data["ref_ids"]) == 8 and data["first_mismatch"] is None
    assert data["backend"] == "emu" and data["request"]["prefill_decode"] is False


def test_eval_prompt_ids_file_prefill_decode_on_a_mesh_model(runs, tiny):
    ids = [0, 17, 42, 99, 5, 260, 3, 77, 150, 12, 8]
    r, out = runs.result("ids"), tiny.tmp / "ids.json"
    assert r.returncode == 0, r.stderr
    assert accuracies(r.stdout) == {"Top-1": 1.0, "Top-5": 1.0}
    assert "mesh 1x2" in r.stdout and "prefill: token by token" in r.stdout
    data = json.loads(out.read_text())
    assert data["request"]["prompt_ids"] == ids and data["prompt_len"] == len(ids)
    assert data["request"]["prefill_decode"] is True and data["total"] == 6


def test_a_hardware_first_tensor_parallel_bringup_runs_unmodified(runs):
    """ShardTensorToMesh / all_reduce / ConcatMeshToTensor called directly, no shared blocks, on an n300 mesh."""
    r = runs.result("hardware_first")
    assert r.returncode == 0, r.stderr
    assert "mesh 1x2" in r.stdout
    assert accuracies(r.stdout)["Top-1"] >= 0.95
    pcc = float(re.search(r"^Logits PCC: (\d\.\d+)$", r.stdout, re.M).group(1))
    assert pcc >= 0.999


def test_eval_trace_replays_the_decode_of_a_seed_bringup(runs, tiny):
    r = runs.result("traced")
    assert r.returncode == 0, r.stderr
    assert "decode: traced (metal trace replay)" in r.stdout
    data = json.loads((tiny.tmp / "traced.json").read_text())
    assert data["decode_traced"] is True and data["request"]["trace"] is True and data["total"] == 8
    assert data["top1"] >= 0.95


def test_run_eval_tt_prints_one_metrics_line(runs):
    r = runs.result("tt")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("\n") == 1 and r.stdout.startswith(METRICS)
    m = r.json_line(METRICS)
    assert {"mode", "trace", "top1", "top5", "prefill_len", "decode_len", "batch", "total", "backend",
            "model", "system"} <= set(m)
    assert (m["mode"], m["top1"], m["top5"], m["total"]) == ("tt", 1.0, 1.0, 6)
    assert (m["prefill_len"], m["decode_len"], m["batch"], m["trace"]) == (24, 6, 1, 1)
    assert m["trace_used"] is False and "without a traceable decode" in r.stderr  # the fake bringup has none
    assert (m["backend"], m["system"], m["model"]) == ("emu", "n150", TINY_ID)
    assert "Top-1 accuracy" in r.stderr and "trace" in r.stderr


def test_run_eval_hf_mode_is_a_100_percent_baseline(runs):
    r = runs.result("hf")
    assert r.returncode == 0, r.stderr
    m = r.json_line(METRICS)
    assert (m["mode"], m["top1"], m["top5"], m["total"], m["prefill_len"]) == ("hf", 1.0, 1.0, 5, 16)
    assert m["prefill_decode"] is True and m["random_weights"] is True
