"""Host memory of an eval: the plan and its one-line refusal, the float32 reference on stored weights, and the
HF layers freed as the bringup uploads them. Each is checked against the plain whole-float32 path."""

from __future__ import annotations

import pytest
import torch

from ttbringup import backend
from ttbringup.evaluation import host_memory
from ttbringup.evaluation.cli import CliError
from ttbringup.evaluation.loading import load_model_module, load_reference
from ttbringup.evaluation.pipeline import EvalRequest, run_eval
from ttbringup.evaluation.reference import greedy_reference
from ttbringup.evaluation.release import ReleasedWeightsError, releasing_layers
from ttbringup.evaluation.teacher_forcing import hf_teacher_forced_logits
from ttbringup.fixtures import tiny_checkpoint_dir

from conftest import REPO

GB = 10**9
PROMPT = [0, 17, 230, 41, 99, 512, 7, 300, 1000, 64, 12]


def allam_7b(bringup: int) -> host_memory.ModelBytes:
    """ALLaM-7B's sizes: 7.0 G parameters stored in bfloat16, 0.52 G outside the layers, lm_head the largest."""
    return host_memory.ModelBytes(params=6_738_415_616, stored_element=2, non_layer_params=524_292_096,
                                  largest_module_params=262_144_000, bringup=bringup, activations=124_000_000)


def test_plan_picks_the_first_that_fits():
    m = allam_7b(bringup=11_750_000_000)
    need = host_memory.needs(m)
    assert need["float32"] > need["stored"] > need["stored+release"]
    assert host_memory.plan(m, backend="emu", available=100 * GB).name == "float32"
    assert host_memory.plan(m, backend="emu", available=need["stored"]).name == "stored"
    chosen = host_memory.plan(m, backend="emu", allow_release=True, available=need["stored+release"])
    assert chosen.name == "stored+release" and chosen.release_layers and not chosen.reference_float32
    # The 7B eval fits a 20 GB budget only by freeing the HF layers as they are uploaded.
    assert need["stored+release"] < 20 * GB < need["stored"]


def test_plan_refuses_in_one_line_with_bytes_and_options():
    m = allam_7b(bringup=11_750_000_000)
    with pytest.raises(CliError) as err:
        host_memory.plan(m, backend="emu", allow_release=False, available=8 * GB)
    text = str(err.value)
    assert "\n" not in text
    assert text.startswith("not enough host memory: this eval needs about ")
    assert "8.0 GB is available" in text and "run on a card (--backend ttnn" in text
    assert f"{host_memory.needs(m)['stored'] / 1e9:.1f} GB" in text  # the least that would do without release


def test_budget_from_the_environment(monkeypatch):
    monkeypatch.setenv(host_memory.BUDGET_ENV, "1.5G")
    assert host_memory.available_bytes() == int(1.5 * 2**30)
    monkeypatch.setenv(host_memory.BUDGET_ENV, "lots")
    with pytest.raises(CliError, match="is not a size"):
        host_memory.available_bytes()


@pytest.mark.parametrize("hf_id", ["meta-llama/Llama-3.2-1B", "Qwen/Qwen3-0.6B"])
def test_reference_on_stored_weights_equals_the_float32_model(hf_id):
    """bfloat16 checkpoint: widened module by module, the reference computes bit for bit what float32 whole does."""
    ckpt = str(tiny_checkpoint_dir(hf_id))
    whole = load_reference(ckpt, float32_whole=True)
    stored = load_reference(ckpt, float32_whole=False)
    assert next(stored.model.parameters()).dtype == torch.bfloat16 and stored.precision.startswith("float32 compute")
    ids_whole = greedy_reference(whole.model, PROMPT, 12, progress=False)
    ids_stored = greedy_reference(stored.model, PROMPT, 12, progress=False)
    assert ids_stored == ids_whole
    logits_whole = hf_teacher_forced_logits(whole.model, PROMPT, ids_whole)
    logits_stored = hf_teacher_forced_logits(stored.model, PROMPT, ids_stored)
    assert torch.equal(logits_stored, logits_whole)
    assert next(stored.model.parameters()).dtype == torch.bfloat16  # the stored tensors are back after forward


def _build(hf_model, release: bool):
    ttnn = backend.load("emu", announce=False)
    module = load_model_module(str(REPO / "models" / "Qwen" / "Qwen3-0.6B" / "n150" / "functional" / "model.py"))
    device = ttnn.open_device(device_id=0)
    try:
        if release:
            with releasing_layers(hf_model) as hf:
                tt = module.build_model(hf, device, 256)
        else:
            tt = module.build_model(hf_model, device, 256)
        with torch.no_grad():
            return tt(torch.tensor([PROMPT])).logits[0].float()
    finally:
        ttnn.close_device(device)


def test_freeing_layers_during_the_build_changes_nothing_and_frees_everything():
    ckpt = str(tiny_checkpoint_dir("Qwen/Qwen3-0.6B"))
    kept = _build(load_reference(ckpt).model, release=False)
    hf = load_reference(ckpt).model
    freed = _build(hf, release=True)
    assert torch.equal(freed, kept)
    assert all(p.numel() == 0 for p in hf.parameters())
    with pytest.raises(ReleasedWeightsError, match="layer 0 of the HF model was freed"):
        hf.model.layers[0].self_attn


def test_eval_that_must_free_layers_scores_like_one_that_keeps_them(monkeypatch):
    """run_eval on the tightest budget that fits (the release plan) gives the same tokens and logits PCC."""
    req = dict(model_py=str(REPO / "models" / "Qwen" / "Qwen3-0.6B" / "n150" / "functional" / "model.py"),
               model=str(tiny_checkpoint_dir("Qwen/Qwen3-0.6B")), prompt_ids=PROMPT, max_new_tokens=8,
               backend="emu", progress=False)
    roomy = run_eval(EvalRequest(**req))
    assert roomy.reference_precision == "float32"

    real_plan = host_memory.plan

    def tightest(m, *, backend, allow_release=False, available=None):
        return real_plan(m, backend=backend, allow_release=allow_release,
                         available=host_memory.needs(m)["stored+release"])

    monkeypatch.setattr(host_memory, "plan", tightest)
    tight = run_eval(EvalRequest(**req))
    assert tight.reference_precision == "float32 compute on bfloat16 weights as stored"
    assert tight.result.ref_ids == roomy.result.ref_ids
    assert tight.result.predicted_ids == roomy.result.predicted_ids
    assert tight.result.logits_pcc == roomy.result.logits_pcc


def test_eval_cli_stops_in_one_line_when_the_host_is_too_small(run, tiny):
    r = run("eval.py", str(tiny.models / "test-org" / "tiny-llama" / "n150" / "functional" / "model.py"),
            "--model", str(tiny.ckpt), TTBRINGUP_HOST_MEMORY="64M")
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert lines[-1].startswith("error: not enough host memory: this eval needs about ")
    assert "67 MB is available" in lines[-1]  # 64 MiB
    assert "Top-1" not in r.stdout
