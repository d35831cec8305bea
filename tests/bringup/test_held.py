"""``ttbringup new``'s check with block-float weights: its reference is HF on the weights as the file holds them
(``held.held_reference``). Those values are the device's own; against that reference a correct bfloat8_b file
passes where HF on the checkpoint's own weights cannot tell it from its dtype's cost; a broken one still fails."""

import pytest
import torch
import ttnn  # the emulator: conftest.py registered it

from helpers import run_cli, seed_dir
from ttbringup.bringup import new
from ttbringup.bringup.configs import read_config
from ttbringup.bringup.held import held_reference
from ttbringup.bringup.memory import CHOICES
from ttbringup.bringup.tiny import build_tiny_checkpoint
from ttbringup.evaluation.device import opened_device
from ttbringup.llm import attention
from ttbringup.llm.weights import linear_weight

PHI3 = "microsoft/Phi-3-mini-128k-instruct"


@pytest.fixture(scope="module")
def phi3_tiny(tmp_path_factory):
    return build_tiny_checkpoint(read_config(PHI3).config, tmp_path_factory.mktemp("tiny") / "phi3")


def test_bf16_weights_need_no_held_reference(phi3_tiny):
    assert held_reference(phi3_tiny, CHOICES["bf16"]) is None


def test_held_values_are_the_ones_the_device_holds(phi3_tiny):
    held = held_reference(phi3_tiny, CHOICES["bfp8"])
    hf_proj = phi3_tiny.model.layers[0].mlp.down_proj.weight
    held_proj = held.model.layers[0].mlp.down_proj.weight
    assert not torch.equal(held_proj, hf_proj)  # bfloat8_b did round
    with opened_device(ttnn, None) as device:
        on_device = ttnn.to_torch(linear_weight(hf_proj, device, ttnn.bfloat8_b)).reshape(hf_proj.T.shape).float()
    assert torch.equal(held_proj.T, on_device)
    assert held.lm_head.weight is not held.model.embed_tokens.weight


def test_a_correct_bfp8_file_passes_against_the_held_weights_and_shows_its_dtypes_cost(phi3_tiny):
    check = new.check_on_tiny(seed_dir(PHI3, "n150") / "model.py", phi3_tiny, "n150", CHOICES["bfp8"])
    assert min(check["prefill_pcc"], check["decode_pcc"]) >= new.PCC_MIN, check
    assert check["float_decode_pcc"] < check["decode_pcc"], check


def test_a_broken_bfp8_file_still_fails_against_the_held_weights(phi3_tiny, monkeypatch):
    split = attention.qkv_projections

    def k_and_v_swapped(hf_attn, q_width, kv_width):
        q, k, v = split(hf_attn, q_width, kv_width)
        return [q, v, k]

    monkeypatch.setattr(attention, "qkv_projections", k_and_v_swapped)
    check = new.check_on_tiny(seed_dir(PHI3, "n150") / "model.py", phi3_tiny, "n150", CHOICES["bfp8"])
    assert min(check["prefill_pcc"], check["decode_pcc"]) < new.PCC_MIN, check


def test_new_on_phi3_n150_passes_and_notes_what_bfp8_costs(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    models = tmp_path / "models"
    code, out, _ = run_cli(capsys, "new", PHI3, "--system", "n150", "--models-dir", models)
    assert code == 0, out
    assert "bfp8 weights, 256-token cache" in out and "(pass, threshold 0.99; HF on the weights as" in out
    assert "note: below 0.99 on random weights" in out
    doc = (models / PHI3 / "n150" / "functional" / "MODEL_BRINGUP.md").read_text()
    assert "what BFLOAT8_B costs on random weights" in doc and "below 0.99: whether this dtype" in doc
