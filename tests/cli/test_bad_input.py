"""Bad input ends in one ``error: ...`` line on stderr and exit code 2, never a traceback."""

import os
import re

import pytest

from conftest import FAKE, TINY_ID

# Model files whose own code fails: key -> (source, the line the error must name, the rest of the error line).
FAILING_MODELS = {
    "name_error": ('"""Fails at import."""\nX = 1\n\nY = undefined_name + X\n',
                   4, "NameError: name 'undefined_name' is not defined"),
    "import_error": ('"""Fails at import."""\nimport os\n\nimport not_a_module_for_ttbringup_tests\n',
                     4, "ModuleNotFoundError: No module named 'not_a_module_for_ttbringup_tests'"),
    "build_fails": ('"""Fails in build_model, in a helper it calls."""\n\n\ndef weight(state):\n'
                    '    return state["missing.weight"]\n\n\ndef build_model(hf_model, tt_device, max_seq_len):\n'
                    '    return weight({})\n', 5, "KeyError: 'missing.weight'"),
}


def failing_model(tiny, key):
    return tiny.tmp / "failing_models" / f"{key}.py"


def expected_failure_line(tiny, key):
    _, line, rest = FAILING_MODELS[key]
    return f"error: {failing_model(tiny, key)} line {line}: {rest}"


@pytest.fixture(scope="module")
def slow(run, tiny):
    """The cases that get as far as loading torch, started together (see conftest.Runner)."""
    (tiny.tmp / "failing_models").mkdir(exist_ok=True)
    for key, (source, _, _) in FAILING_MODELS.items():
        failing_model(tiny, key).write_text(source)
    run.start("name_error", "eval.py", failing_model(tiny, "name_error"), "--model", tiny.ckpt)
    run.start("import_error", "scripts/run_eval.py", "--hf-model", tiny.ckpt, "--model-file",
              failing_model(tiny, "import_error"))
    run.start("build_fails", "eval.py", failing_model(tiny, "build_fails"), "--model", tiny.ckpt, "--prompt", "hi",
              "--max_new_tokens", 1)
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


def test_demo_batch_beyond_a_decode_batch(run, tiny):
    assert_refused(run("demo.py", FAKE / "model.py", "--model", tiny.ckpt, "--batch", 33), "--batch 33",
                   "1 to 32 users")


def test_device_out_of_memory(slow):
    r = slow.result("oom")
    assert_refused(r, "device out of memory", "chip 0", "DRAM", "free")
    assert re.search(r"allocate \d+ B", r.stderr)


def test_unsupported_architecture(slow):
    r = slow.result("unsupported")
    assert_refused(r, "unsupported model", "'llama' is not supported by this bringup (expected 'gpt_neox')")


# --- files named on the command line: missing, a directory, unreadable, binary, not UTF-8 -----------------------

@pytest.fixture(scope="module")
def bad(tiny):
    """Bad input files in one folder: ``missing`` does not exist, ``adir`` is a directory."""
    root = tiny.tmp / "bad_files"
    (root / "adir").mkdir(parents=True, exist_ok=True)
    (root / "binary").write_bytes(b"\x00\x01\x02 12 13")
    (root / "latin1").write_bytes("caf\u00e9 1 2".encode("latin-1"))
    (root / "locked").write_text("1 2 3")
    (root / "locked").chmod(0)
    (root / "text").write_text("hello")
    return root


# kind -> (file in ``bad``, what the error line says after the file's description)
KINDS = {
    "missing": ("missing", "not found"),
    "directory": ("adir", "is a directory"),
    "unreadable": ("locked", "is not readable (permission denied)"),
    "binary": ("binary", "is binary, not text (NUL byte at offset 0)"),
    "not_utf8": ("latin1", "is not UTF-8 text (byte 0xe9 at offset 3)"),
}

# (script, option, how the error names the file); each takes the fake bringup / the tiny models tree
PROMPT_OPTIONS = [
    ("eval.py", "--prompt_file", "prompt file"),
    ("eval.py", "--prompt_ids_file", "prompt ids file"),
    ("demo.py", "--prompt_file", "prompt file"),
    ("scripts/compare_layers.py", "--prompt_ids_file", "prompt ids file"),
    ("scripts/run_eval.py", "--prompt-file", "prompt file"),
]


def skip_unreadable_as_root(kind):
    if kind == "unreadable" and os.geteuid() == 0:
        pytest.skip("root can read a chmod 000 file")


def model_args(script, tiny, model_file=FAKE / "model.py"):
    if script == "scripts/run_eval.py":
        return ["--hf-model", tiny.ckpt, "--model-file", model_file]
    return [model_file, "--model", tiny.ckpt]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("script,option,what", PROMPT_OPTIONS, ids=lambda v: v if v.startswith("-") else None)
def test_bad_prompt_file(run, tiny, bad, script, option, what, kind):
    skip_unreadable_as_root(kind)
    name, problem = KINDS[kind]
    path = bad / name
    r = run(script, *model_args(script, tiny), option, path)
    assert_refused(r, f"error: {what} {problem}: {path}")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("script", ["eval.py", "scripts/run_eval.py"])
def test_bad_model_file(run, tiny, bad, script, kind):
    skip_unreadable_as_root(kind)
    name, problem = KINDS[kind]
    path = bad / name
    assert_refused(run(script, *model_args(script, tiny, path)), f"error: model file {problem}: {path}")


@pytest.mark.parametrize("script", ["eval.py", "demo.py", "scripts/compare_layers.py", "scripts/run_eval.py"])
def test_model_file_with_a_syntax_error(run, tiny, script):
    path = tiny.tmp / "syntax_error.py"
    path.write_text('"""A model file that is not Python."""\n\ndef build_model(hf_model, tt_device:\n    pass\n')
    r = run(script, *model_args(script, tiny, path))
    assert_refused(r, f"error: {path} line 3: SyntaxError: ")


def test_model_file_raising_at_import_names_file_and_line(slow, tiny):
    assert_refused(slow.result("name_error"), expected_failure_line(tiny, "name_error"))


def test_model_file_failing_import_names_file_and_line(slow, tiny):
    r = slow.result("import_error")
    assert r.stdout == ""  # run_eval's stdout is for the metrics line only
    assert_refused(r, expected_failure_line(tiny, "import_error"))


def test_model_bug_in_build_model_names_the_innermost_line_in_the_file(slow, tiny):
    assert_refused(slow.result("build_fails"), expected_failure_line(tiny, "build_fails"))


@pytest.mark.parametrize("script,option", [("eval.py", "--json"), ("demo.py", "--json"),
                                           ("scripts/compare_layers.py", "--json"),
                                           ("scripts/compare_layers.py", "--plot")])
def test_output_path_is_a_directory(run, tiny, bad, script, option):
    r = run(script, *model_args(script, tiny), "--prompt", "hi", option, bad / "adir")
    assert_refused(r, f"error: {option} is a directory: {bad / 'adir'}")


def test_output_path_under_a_file(run, tiny, bad):
    out = bad / "text" / "out.json"
    assert_refused(run("eval.py", FAKE / "model.py", "--model", tiny.ckpt, "--json", out),
                   f"error: cannot write --json {out}: {bad / 'text'} is not a directory")


def test_eval_seeds_out_is_a_directory(run, bad):
    assert_refused(run("scripts/eval_seeds.py", "--out", bad / "adir"),
                   f"error: --out is a directory: {bad / 'adir'}")
