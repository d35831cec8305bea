"""scripts/compare_layers.py and demo.py on the fake bringup, and eval.py on a real seed model.py
(emulator, bundled tiny trained checkpoint). The runs start together (see conftest.Runner)."""

import json
import re

import pytest

from conftest import FAKE, REPO

SEED_ID = "meta-llama/Llama-3.2-1B"
SEED_FILE = REPO / "models" / SEED_ID / "n150" / "functional" / "model.py"
SEED_CKPT = REPO / "ttbringup" / "fixtures" / "tiny" / SEED_ID.replace("/", "__")
ROW = re.compile(r"^(embeddings|layer \d+(?: \(\+ final norm\))?)\s+(\S+)\s+(\S+)( +<)?$", re.M)


@pytest.fixture(scope="module")
def runs(run, tiny):
    prompt = ("--prompt", "A bridge carries its own weight first, then the deck")
    run.start("good", "scripts/compare_layers.py", FAKE / "model.py", "--model", tiny.ckpt, *prompt,
              "--plot", tiny.tmp / "good.png", "--json", tiny.tmp / "good.json")
    run.start("broken", "scripts/compare_layers.py", FAKE / "broken_layer.py", "--model", tiny.ckpt, *prompt,
              "--json", tiny.tmp / "broken.json", FAKE_BROKEN_LAYER=1)
    run.start("demo", "demo.py", FAKE / "model.py", "--model", tiny.ckpt, *prompt, "--max_new_tokens", 6)
    if SEED_FILE.is_file() and (SEED_CKPT / "config.json").is_file():
        run.start("seed", "eval.py", SEED_FILE, "--model", SEED_CKPT, "--prompt", "The bridge carries its own weight",
                  "--max_new_tokens", 4, "--json", tiny.tmp / "seed.json")
        run.start("demo_table", "demo.py", SEED_FILE, "--model", SEED_CKPT, "--prompt", "The bridge carries its own",
                  "--max_new_tokens", 4, "--table", "--json", tiny.tmp / "demo_table.json")
    return run


def rows(stdout: str) -> dict:
    return {name: (float(p), float(d), bool(mark)) for name, p, d, mark in ROW.findall(stdout)}


def test_compare_layers_on_a_correct_bringup(runs, tiny):
    r = runs.result("good")
    assert r.returncode == 0, r.stderr
    table = rows(r.stdout)
    assert list(table) == ["embeddings", "layer 0", "layer 1", "layer 2 (+ final norm)"]
    assert all(p > 0.9999 and d > 0.9999 and not mark for p, d, mark in table.values())
    assert "All hidden states at or above PCC 0.99" in r.stdout
    assert (tiny.tmp / "good.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((tiny.tmp / "good.json").read_text())["first_below"] is None


def test_compare_layers_names_the_broken_layer(runs, tiny):
    r = runs.result("broken")
    assert r.returncode == 0, r.stderr
    table = rows(r.stdout)
    assert table["embeddings"][0] > 0.9999 and table["layer 0"][0] > 0.9999
    assert table["layer 1"][0] < 0.99 and table["layer 1"][2]
    assert re.search(r"^First layer below PCC 0\.99: layer 1 \(prefill", r.stdout, re.M)
    assert json.loads((tiny.tmp / "broken.json").read_text())["first_below"] == "layer 1"
    assert (tiny.tmp / "out" / "compare_tiny-llama.png").is_file()  # the default plot path


def test_demo_table_times_batch_1_and_32_eager_and_traced(runs, tiny):
    if not SEED_FILE.is_file():
        pytest.skip("no seed model file")
    r = runs.result("demo_table")
    assert r.returncode == 0, r.stderr
    lines = re.findall(r"^\| (\d+) \| (eager|traced) \| [\d.]+ \| ([\d.]+) \| ([\d.]+) \| (\w+) \|$", r.stdout, re.M)
    assert [(b, mode) for b, mode, *_ in lines] == [("1", "eager"), ("1", "traced"), ("32", "eager"), ("32", "traced")]
    assert all(agree == "yes" for *_, agree in lines)
    for batch, _, per_user, total, _ in lines:
        assert float(total) == pytest.approx(int(batch) * float(per_user), rel=1e-3, abs=0.02)
    table = json.loads((tiny.tmp / "demo_table.json").read_text())["table"]
    assert [(t["batch"], t["decode"]) for t in table] == [(1, "eager"), (1, "traced"), (32, "eager"), (32, "traced")]
    assert len({tuple(t["new_ids"]) for t in table}) == 1  # batching and tracing change no token


def test_demo_reports_ttft_and_decode_speed(runs):
    r = runs.result("demo")
    assert r.returncode == 0, r.stderr
    assert "generated: 6 (greedy)" in r.stdout
    assert re.search(r"^TTFT: \d+\.\d ms \| decode: \d+\.\d\d tokens/s/user \(5 tokens\) \[emulator wall time\]$",
                     r.stdout, re.M)


def test_eval_of_a_seed_model_file_on_the_emulator(runs, tiny):
    if "seed" not in runs.running and "seed" not in runs.done:
        pytest.skip(f"{SEED_FILE} or its tiny checkpoint is not in the repo")
    r = runs.result("seed")
    assert r.returncode == 0, r.stderr
    data = json.loads((tiny.tmp / "seed.json").read_text())
    assert data["backend"] == "emu" and data["total"] == 4
    assert data["top5"] == 1.0 and data["top1"] >= 0.75 and data["logits_pcc"] > 0.99
    assert data["weights_dtype"] == "bfloat16"


def test_eval_seeds_reports_a_failing_model_without_stopping(monkeypatch):
    from ttbringup.evaluation import loading
    from ttbringup.evaluation.seeds import HEADERS, evaluate_seed, results_markdown

    monkeypatch.setattr(loading, "repo_root", lambda: "/nonexistent")  # no model files there
    row = evaluate_seed(SEED_ID, system="t3000")  # must come back as a FAILED row
    assert row["ok"] is False and row["status"].startswith("FAILED: model file not found")
    table = results_markdown([row], 100, "emu")
    assert "| " + " | ".join(HEADERS) + " |" in table and "FAILED: model file not found" in table
