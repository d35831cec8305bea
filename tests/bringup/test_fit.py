"""``ttbringup fit``: the emulator's data-free plans at the seeds' choices equal the bytes their MODEL_BRINGUP.md
states; the search's largest cache fits and the next candidate does not; bad input and uncovered architectures end
in one ``error:`` line."""

import json

import pytest

from helpers import SEED_SYSTEMS, load, one_error_line, run_cli, seed_dir, stated_plan
from ttbringup.bringup.architectures import architecture_of, build_flags
from ttbringup.bringup.configs import read_config
from ttbringup.bringup.fit import ChoiceFit, cache_candidates, fit_choice, fits, recommend
from ttbringup.bringup.memory import CHOICES, Choice, measure_cached
from ttbringup.fixtures import NEW_MODELS, SEED_MODELS, real_config_dict

SEED_CASES = [(hf_id, system) for hf_id in SEED_MODELS for system in SEED_SYSTEMS]


@pytest.mark.parametrize("hf_id,system", SEED_CASES, ids=[f"{h.split('/')[1]}-{s}" for h, s in SEED_CASES])
def test_plan_at_the_seed_choices_is_the_one_its_model_bringup_states(hf_id, system):
    seed = load(seed_dir(hf_id, system) / "model.py")
    config = read_config(hf_id).config
    choice = Choice("seed", seed.WEIGHT_DTYPE, seed.EMBEDDING_DTYPE, seed.EMBEDDING_LAYOUT,
                    getattr(seed, "LM_HEAD_DTYPE", None))
    plan = measure_cached(config, system, choice, seed.MAX_CACHE_LEN, build_flags(architecture_of(config), config))
    assert plan.fits
    got = {"weights": plan.weights_bytes, "KV cache": plan.kv_cache_bytes, "peak DRAM": plan.peak_bytes,
           "headroom": plan.headroom_bytes}
    assert got == stated_plan(hf_id, system)


def test_largest_cache_fits_and_the_next_candidate_does_not():
    config = read_config("Qwen/Qwen3-0.6B").config
    flags = build_flags(architecture_of(config), config)
    result = fit_choice(config, "n150", CHOICES["bf16"], flags)
    cands = cache_candidates(config)
    assert fits(result.best) and result.best.cache_len == result.cache_len
    above = cands[cands.index(result.cache_len) + 1]
    assert not fits(measure_cached(config, "n150", CHOICES["bf16"], above, flags))


def test_block_float_weights_cost_less_and_buy_cache():
    config = read_config("arcee-ai/AFM-4.5B").config
    flags = build_flags(architecture_of(config), config)
    by = {w: fit_choice(config, "n150", CHOICES[w], flags) for w in ("bf16", "bfp8")}
    assert by["bfp8"].best.weights_bytes < by["bf16"].best.weights_bytes
    assert by["bfp8"].cache_len > by["bf16"].cache_len
    same_len = measure_cached(config, "n150", CHOICES["bfp8"], by["bf16"].cache_len, flags)
    assert same_len.kv_cache_bytes == by["bf16"].best.kv_cache_bytes  # the cache is bf16 whatever the weights


def test_fit_cli_prints_the_table_and_the_recommendation(capsys):
    code, out, _ = run_cli(capsys, "fit", "Qwen/Qwen3-0.6B", "--weights", "bf16")
    assert code == 0
    row = next(line for line in out.splitlines() if line.startswith("| bf16 |"))
    assert "| BFLOAT16 ROW_MAJOR | BFLOAT16 |" in row and "| 32 |" in row
    assert "recommended: bf16 weights" in out and "bundled config" in out


def _write_config(tmp_path, name, **values):
    path = tmp_path / name
    path.write_text(json.dumps(values))
    return path


def test_mixture_of_experts_is_refused_in_one_line(tmp_path, capsys):
    moe = _write_config(tmp_path, "mixtral.json", model_type="mixtral", num_local_experts=8, num_experts_per_tok=2)
    code, _, err = run_cli(capsys, "fit", moe)
    assert code == 2
    assert "mixture-of-experts" in one_error_line(err) and "num_local_experts=8" in err


def test_uncovered_architecture_is_refused_naming_what_is_missing(tmp_path, capsys):
    gemma = _write_config(tmp_path, "gemma.json", model_type="gemma3")
    code, _, err = run_cli(capsys, "fit", gemma)
    assert code == 2 and "vision tower" in one_error_line(err)
    neox = _write_config(tmp_path, "neox.json", model_type="gpt_neox")
    code, _, err = run_cli(capsys, "fit", neox)
    assert code == 2 and "'gpt_neox' is not covered" in one_error_line(err)


def test_a_limit_of_the_blocks_is_refused_by_check_config(tmp_path, capsys):
    d = real_config_dict("meta-llama/Llama-3.2-1B")
    d["hidden_act"] = "gelu"
    code, _, err = run_cli(capsys, "fit", _write_config(tmp_path, "gelu.json", **d))
    assert code == 2 and "hidden_act 'gelu'" in one_error_line(err)


@pytest.mark.parametrize("spec,message", [
    ("no/such-model", "not in the HF cache"),
    ("./missing.json", "no such file or directory"),
])
def test_bad_model_argument_is_one_line(spec, message, capsys):
    code, _, err = run_cli(capsys, "fit", spec)
    assert code == 2 and message in one_error_line(err)


def test_not_json_and_no_model_type_are_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, _, err = run_cli(capsys, "fit", bad)
    assert code == 2 and "not valid JSON" in one_error_line(err)
    code, _, err = run_cli(capsys, "fit", _write_config(tmp_path, "x.json", hidden_size=8))
    assert code == 2 and "no model_type" in one_error_line(err)


def test_config_is_read_from_a_dir_and_from_the_hf_cache(tmp_path):
    d = real_config_dict("Qwen/Qwen3-0.6B")
    local = tmp_path / "Qwen3-local"
    local.mkdir()
    (local / "config.json").write_text(json.dumps(d))
    assert read_config(str(local)).config.num_hidden_layers == d["num_hidden_layers"]
    snapshot = tmp_path / "hub" / "models--test-org--cached" / "snapshots" / ("0" * 40)
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text(json.dumps(d))
    (tmp_path / "hub" / "models--test-org--cached" / "refs").mkdir()
    (tmp_path / "hub" / "models--test-org--cached" / "refs" / "main").write_text("0" * 40)
    cached = read_config("test-org/cached", cache_dir=str(tmp_path / "hub"))
    assert cached.name == "test-org/cached" and cached.source == "HF cache test-org/cached"
    assert cached.config.head_dim == d["head_dim"]


def test_prompt_len_sets_the_activation_peak_only():
    config = read_config("Qwen/Qwen3-0.6B").config
    flags = build_flags(architecture_of(config), config)
    full = measure_cached(config, "n150", CHOICES["bf16"], 2048, flags)
    short = measure_cached(config, "n150", CHOICES["bf16"], 2048, flags, prompt_len=128)
    assert (short.weights_bytes, short.kv_cache_bytes) == (full.weights_bytes, full.kv_cache_bytes)
    assert 0 < short.activation_bytes < full.activation_bytes


def test_python_dash_m_runs_the_command_and_pyproject_installs_it(tmp_path):
    import importlib
    import os
    import subprocess
    import sys
    import tomllib

    from helpers import REPO

    moe = _write_config(tmp_path, "moe.json", model_type="qwen2_moe", num_experts=60)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "ttbringup", "fit", str(moe)], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 2 and "num_experts=60" in one_error_line(done.stderr)
    target = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]["ttbringup"]
    module, name = target.split(":")
    from ttbringup.bringup.commands import main

    assert getattr(importlib.import_module(module), name) is main


def test_bad_prompt_len_is_one_line(capsys):
    code, _, err = run_cli(capsys, "fit", "Qwen/Qwen3-0.6B", "--prompt-len", "0")
    assert code == 2 and "--prompt-len must be at least 1" in one_error_line(err)


def test_a_data_parallel_chip_holds_the_n150_plan_and_32_more_users():
    config = read_config("meta-llama/Llama-3.2-1B").config
    flags = build_flags(architecture_of(config), config)
    from ttbringup.bringup.fit import fit

    one = fit(config, "n150", flags, ("bf16",))[0]
    dp = fit(config, "n300", flags, ("bf16",), data_parallel=True)[0]
    assert (one.batch, dp.batch) == (32, 64)
    assert (dp.cache_len, dp.best.weights_bytes, dp.best.kv_cache_bytes, dp.best.peak_bytes) == (
        one.cache_len, one.best.weights_bytes, one.best.kv_cache_bytes, one.best.peak_bytes)


def _fit_at(name: str, cache_len: int | None):
    plan = None if cache_len is None else type("P", (), {"cache_len": cache_len})()
    return ChoiceFit(CHOICES[name], plan, plan)


def test_recommend_prefers_bfp8_with_a_shorter_cache_over_bfp4_with_the_target_cache():
    config = type("C", (), {"max_position_embeddings": 32768})()
    results = [_fit_at("bf16", None), _fit_at("bfp8", 1024), _fit_at("bfp4", 2048)]
    assert recommend(results, config).choice.name == "bfp8"  # Arcee-Spark on n150
    results = [_fit_at("bf16", 512), _fit_at("bfp8", 2048), _fit_at("bfp4", 4096)]
    assert recommend(results, config).choice.name == "bfp8"  # the target reached decides among bf16 / bfp8
    results = [_fit_at("bf16", None), _fit_at("bfp8", None), _fit_at("bfp4", 256)]
    assert recommend(results, config).choice.name == "bfp4"  # only when nothing more precise fits
    assert recommend([_fit_at("bf16", None), _fit_at("bfp8", None), _fit_at("bfp4", None)], config) is None


def test_recommend_takes_a_usable_cache_over_precision_when_none_reaches_the_target():
    config = type("C", (), {"max_position_embeddings": 131072})()
    results = [_fit_at("bf16", 128), _fit_at("bfp8", 256), _fit_at("bfp4", 512)]
    assert recommend(results, config).choice.name == "bfp8"  # Phi-3-mini on n150: bf16's 128 tokens are too few
    results = [_fit_at("bf16", 512), _fit_at("bfp8", 1024), _fit_at("bfp4", 1024)]
    assert recommend(results, config).choice.name == "bf16"  # gemma-3 on n150, Phi-3-mini on n300: 512 is usable
    results = [_fit_at("bf16", 64), _fit_at("bfp8", 128), _fit_at("bfp4", 512)]
    assert recommend(results, config).choice.name == "bfp8"  # neither usable: the larger cache, still not bfp4
    results = [_fit_at("bf16", 128), _fit_at("bfp8", 128), _fit_at("bfp4", 512)]
    assert recommend(results, config).choice.name == "bf16"  # equal caches: the more precise
    short = type("C", (), {"max_position_embeddings": 128})()
    results = [_fit_at("bf16", 128), _fit_at("bfp8", 128), _fit_at("bfp4", 128)]
    assert recommend(results, short).choice.name == "bf16"  # the whole context is usable


NEW_PICKS = [(hf_id, "n150") for hf_id in NEW_MODELS] + [("microsoft/Phi-3-mini-128k-instruct", "n300")]


@pytest.mark.parametrize("hf_id,system", NEW_PICKS, ids=[f"{h.split('/')[1]}-{s}" for h, s in NEW_PICKS])
def test_recommend_picks_the_committed_generated_files_weights_and_cache(hf_id, system):
    from ttbringup.bringup.new import plan_bringup

    made = load(seed_dir(hf_id, system) / "model.py")
    pick = plan_bringup(read_config(hf_id), hf_id, system)
    assert (pick.choice.weight, pick.cache_len) == (made.WEIGHT_DTYPE, made.MAX_CACHE_LEN)
