"""``ttbringup new``: on each seed config it regenerates a file that makes the hand-written one's calls (same blocks
and choices), with the seed's memory plan; the generated file matches HF on its tiny random checkpoint; it refuses a
mixture-of-experts config in one line and never overwrites a bringup without ``--force``."""

import json

import pytest

from helpers import SEED_SYSTEMS, calls_of, one_error_line, run_cli, seed_dir
from ttbringup.bringup.configs import read_config
from ttbringup.bringup.generate import BEGIN, END, render_model_py
from ttbringup.bringup.new import plan_bringup
from ttbringup.fixtures import SEED_MODELS
from ttbringup.llm import rope_type

N150 = pytest.mark.parametrize("hf_id", SEED_MODELS, ids=[h.split("/")[1] for h in SEED_MODELS])


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the tiny checkpoints go there


def _same_calls(generated, seed, config):
    """Same build_decoder_lm keywords and mesh; check_config of both accepts the same family, activation, RoPE."""
    assert generated["build"] == seed["build"]
    assert generated["MESH_SHAPE"] == seed["MESH_SHAPE"]
    for key in ("model_types", "hidden_act"):
        assert generated["check_config"][key] == seed["check_config"][key]
    assert rope_type(config) in generated["check_config"]["rope_types"]
    assert set(generated["check_config"]["rope_types"]) <= set(seed["check_config"]["rope_types"])


def _section(text):
    return text[text.index(BEGIN):text.index(END)]


@N150
def test_new_regenerates_the_hand_written_n150_file(hf_id, tmp_path, capsys):
    models = tmp_path / "models"
    code, out, _ = run_cli(capsys, "new", hf_id, "--system", "n150", "--models-dir", models)
    assert code == 0, out
    config = read_config(hf_id).config
    made = models / hf_id / "n150" / "functional"
    _same_calls(calls_of(made / "model.py", config), calls_of(seed_dir(hf_id, "n150") / "model.py", config), config)
    # the same choices cost the same bytes: the memory-plan section is the seed's, verbatim
    assert _section((made / "MODEL_BRINGUP.md").read_text()) == _section(
        (seed_dir(hf_id, "n150") / "MODEL_BRINGUP.md").read_text())
    assert "PCC vs HF on it" in out and "(pass," in out
    assert "eval.py" in out and "compare_layers.py" in out


MESH_CASES = [(h, s) for h in SEED_MODELS for s in SEED_SYSTEMS[1:]]


@pytest.mark.parametrize("hf_id,system", MESH_CASES, ids=[f"{h.split('/')[1]}-{s}" for h, s in MESH_CASES])
def test_new_on_a_mesh_picks_the_seed_blocks_and_weights(hf_id, system, tmp_path):
    """Blocks, mesh and weights dtype as the hand-written mesh file (its cache cap and table layout were chosen by
    hand with more margin; see the report of ``fit`` for what they leave)."""
    source = read_config(hf_id)
    b = plan_bringup(source, hf_id, system)
    path = tmp_path / "model.py"
    path.write_text(render_model_py(b))
    got, want = calls_of(path, source.config), calls_of(seed_dir(hf_id, system) / "model.py", source.config)
    for key in ("weight_dtype", "qk_norm", "shard_kv"):
        assert got["build"].get(key) == want["build"].get(key), key
    assert got["MESH_SHAPE"] == want["MESH_SHAPE"]
    assert b.cache_len >= want["build"]["cache_cap"]


def test_new_refuses_a_mixture_of_experts_config_in_one_line(tmp_path, capsys):
    moe = tmp_path / "mixtral.json"
    moe.write_text(json.dumps({"model_type": "mixtral", "num_local_experts": 8}))
    code, _, err = run_cli(capsys, "new", moe, "--system", "n150", "--name", "x/moe", "--models-dir", tmp_path / "m")
    assert code == 2 and "mixture-of-experts" in one_error_line(err)
    assert not (tmp_path / "m").exists()


def test_new_never_overwrites_without_force(tmp_path, capsys):
    hf_id = "Qwen/Qwen3-0.6B"
    made = tmp_path / "models" / hf_id / "n150" / "functional"
    made.mkdir(parents=True)
    (made / "model.py").write_text("# hand edits\n")
    code, _, err = run_cli(capsys, "new", hf_id, "--system", "n150", "--models-dir", tmp_path / "models")
    assert code == 2 and "--force" in one_error_line(err)
    assert (made / "model.py").read_text() == "# hand edits\n" and not (made / "MODEL_BRINGUP.md").exists()
    code, out, _ = run_cli(capsys, "new", hf_id, "--system", "n150", "--models-dir", tmp_path / "models", "--force")
    assert code == 0, out
    assert "build_decoder_lm" in (made / "model.py").read_text() and (made / "MODEL_BRINGUP.md").exists()


def test_new_needs_a_name_when_the_config_has_none(tmp_path, capsys):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"model_type": "llama"}))
    code, _, err = run_cli(capsys, "new", path, "--system", "n150", "--models-dir", tmp_path / "m")
    assert code == 2 and "--name" in one_error_line(err)


def test_new_on_a_mesh_checks_the_file_on_the_mesh(tmp_path, capsys):
    hf_id = "Qwen/Qwen3-0.6B"
    code, out, _ = run_cli(capsys, "new", hf_id, "--system", "t3000", "--models-dir", tmp_path / "models")
    assert code == 0, out
    made = tmp_path / "models" / hf_id / "t3000" / "functional"
    assert "MESH_SHAPE = (2, 4)" in (made / "model.py").read_text()
    doc = (made / "MODEL_BRINGUP.md").read_text()
    assert "weights per chip" in doc and "data-parallel" not in doc and "(pass," in out


@pytest.mark.parametrize("name", ["a/..", "a/b/c", "../x"])
def test_new_refuses_a_name_that_is_not_org_model(name, tmp_path, capsys):
    code, _, err = run_cli(capsys, "new", "Qwen/Qwen3-0.6B", "--system", "n150", "--name", name,
                           "--models-dir", tmp_path / "m")
    assert code == 2 and "is not ORG/MODEL" in one_error_line(err)
    assert not (tmp_path / "m").exists()
