"""Bad input ends in one ``error: ...`` line on stderr and exit code 2, never a traceback."""

import re

import pytest

from conftest import FAKE, TINY_ID


@pytest.fixture(scope="module")
def slow(run, tiny):
    """The cases that get as far as loading torch, started together (see conftest.Runner)."""
    run.start("no_build", "eval.py", FAKE / "no_build.py", "--model", tiny.ckpt)
    run.start("cache", "eval.py", FAKE / "small_cache.py", "--model", tiny.ckpt, "--prompt", "one two three four",
              "--max_new_tokens", 16)
    run.start("oom", "eval.py", FAKE / "oom.py", "--model", tiny.ckpt, "--prompt", "hi", "--max_new_tokens", 1)
    run.start("unsupported", "eval.py", FAKE / "unsupported.py", "--model", tiny.ckpt, "--prompt", "hi",
              "--max_new_tokens", 1)
    return run


def assert_refused(r, *fragments):
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr, r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, r.stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]


def test_missing_model_file(run, tiny):
    assert_refused(run("eval.py", tiny.tmp / "nope" / "model.py", "--model", tiny.ckpt),
                   "model file not found", "nope")


def test_module_without_build_model(slow):
    assert_refused(slow.result("no_build"), "no_build.py", "build_model")


def test_hf_id_not_available_offline(run, tiny):
    r = run("eval.py", FAKE / "model.py", "--model", "nobody/not-cached-7B")
    assert_refused(r, "nobody/not-cached-7B", "not available offline", "HF cache", "local checkpoint dir",
                   "--random-weights")


def test_seed_id_not_available_offline_points_at_its_tiny_checkpoint(run):
    r = run("scripts/run_eval.py", "--mode", "tt", "--hf-model", "Qwen/Qwen3-0.6B")
    assert_refused(r, "Qwen/Qwen3-0.6B", "not available offline", "ttbringup/fixtures/tiny/Qwen__Qwen3-0.6B")


def test_prompt_longer_than_max_seq_len(run, tiny):
    ids = tiny.tmp / "ids40.json"
    ids.write_text(str(list(range(3, 43))))
    assert_refused(run("eval.py", FAKE / "model.py", "--model", tiny.ckpt, "--prompt_ids_file", ids,
                       "--max_new_tokens", 10, "--max_seq_len", 32), "40 tokens", "--max_seq_len", "32")


def test_prompt_longer_than_model_cache(slow):
    assert_refused(slow.result("cache"), "max_cache_len", "16")


@pytest.mark.parametrize("value", [0, -3])
def test_max_new_tokens_below_one(run, tiny, value):
    assert_refused(run("eval.py", FAKE / "model.py", "--model", tiny.ckpt, f"--max_new_tokens={value}"),
                   "--max_new_tokens", "at least 1")


def test_prompt_file_and_prompt_ids_file_together(run, tiny):
    text, ids = tiny.tmp / "p.txt", tiny.tmp / "p.ids"
    text.write_text("hello")
    ids.write_text("1 2 3")
    assert_refused(run("eval.py", FAKE / "model.py", "--model", tiny.ckpt, "--prompt_file", text,
                       "--prompt_ids_file", ids), "--prompt_file", "--prompt_ids_file")


def test_unknown_system(run, tiny):
    assert_refused(run("scripts/run_eval.py", "--hf-model", TINY_ID, "--system", "n9000"),
                   "unknown system", "n9000", "n150")


def test_batch_above_one(run, tiny):
    assert_refused(run("scripts/run_eval.py", "--hf-model", TINY_ID, "--batch", 4), "--batch 4", "only --batch 1")


def test_device_out_of_memory(slow):
    r = slow.result("oom")
    assert_refused(r, "device out of memory", "chip 0", "DRAM", "free")
    assert re.search(r"allocate \d+ B", r.stderr)


def test_unsupported_architecture(slow):
    r = slow.result("unsupported")
    assert_refused(r, "unsupported model", "'llama' is not supported by this bringup (expected 'gpt_neox')")
