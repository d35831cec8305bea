"""The n300 (1x2) and T3000 (2x4) bringups of the four seeds on emulated meshes, tensor-parallel.

* each against its n150 sibling with the n150's dtypes, on a tiny random checkpoint: logits PCC >= 0.999 at every
  prompt position and for 32 decode steps;
* against HF on the trained tiny checkpoints: teacher forcing at the n150 thresholds, ``generate()`` = HF greedy;
* per chip memory at real shape, data-free: the plan MODEL_BRINGUP.md states; what n300 buys (ALLaM-7B in bfloat16)
  runs out of memory on n150, naming the chip.
"""

import functools

import pytest
import torch

from seed_helpers import REPO, load_by_path, model_py
from test_seed_models import DECODE_STEPS, PROMPT_LEN, pcc, reference_continuation, trained
from ttbringup.emu.errors import OutOfMemoryError
from ttbringup.evaluation.device import opened_device
from ttbringup.evaluation.teacher_forcing import teacher_force
from ttbringup.fixtures import SEED_MODELS, load_prompt, random_tiny_model

MESHES = pytest.mark.parametrize("system", ["n300", "t3000"])
SEEDS = pytest.mark.parametrize("hf_id", SEED_MODELS)


@pytest.fixture
def mesh_of():
    """``mesh_of(module)``: open the mesh a model file declares (with its fabric); closed after the test."""
    import ttnn

    opened = []

    def open_for(module):
        ctx = opened_device(ttnn, tuple(module.MESH_SHAPE))
        opened.append(ctx)
        return ctx.__enter__()

    yield open_for
    for ctx in reversed(opened):
        ctx.__exit__(None, None, None)


def _same_dtypes(mesh_module, n150_module):
    for name in ("WEIGHT_DTYPE", "EMBEDDING_DTYPE", "EMBEDDING_LAYOUT"):
        setattr(mesh_module, name, getattr(n150_module, name))


def _logits(tt, ids):
    out = tt(ids[:, :PROMPT_LEN])
    logits, cache = [out.logits[0]], out.past_key_values
    for i in range(PROMPT_LEN, ids.shape[1]):
        out = tt(ids[:, i:i + 1], past_key_values=cache)
        cache = out.past_key_values
        logits.append(out.logits[0])
    return torch.cat(logits)


@SEEDS
@MESHES
@torch.no_grad()
def test_mesh_bringup_matches_its_n150_sibling(hf_id, system, mesh_of):
    import ttnn

    hf = random_tiny_model(hf_id, seed=0)
    ids = torch.randint(3, hf.config.vocab_size, (1, PROMPT_LEN + DECODE_STEPS),
                        generator=torch.Generator().manual_seed(0))
    single = model_py(hf_id)
    mesh_module = model_py(hf_id, system)
    _same_dtypes(mesh_module, single)
    with opened_device(ttnn) as device:  # closed before the mesh claims every chip
        want = _logits(single.build_model(hf, device, max_seq_len=128), ids)
    got = _logits(mesh_module.build_model(hf, mesh_of(mesh_module), max_seq_len=128), ids)
    assert got.shape == want.shape
    worst = min(range(len(got)), key=lambda p: pcc(got[p], want[p]))
    assert pcc(got[worst], want[worst]) >= 0.999, f"worst position {worst}: PCC {pcc(got[worst], want[worst]):.5f}"


@SEEDS
@MESHES
def test_mesh_teacher_forcing_on_trained_tiny_checkpoint(hf_id, system, mesh_of):
    hf, _ = trained(hf_id)
    prompt, ref = reference_continuation(hf_id)
    module = model_py(hf_id, system)
    tt = module.build_model(hf, mesh_of(module), max_seq_len=256)
    result = teacher_force(hf, tt, prompt[0].tolist(), ref.tolist(), progress=False)
    assert result.total == 100
    assert result.top1 >= 0.95 and result.top5 >= 0.99, (result.top1, result.top5, result.first_mismatch)


@MESHES
@torch.no_grad()
def test_mesh_generate_reproduces_hf_greedy(system, mesh_of):
    hf_id = "arcee-ai/AFM-4.5B"  # t3000: replicated KV heads and zero-padded query heads
    hf, tokenizer = trained(hf_id)
    module = model_py(hf_id, system)
    tt = module.build_model(hf, mesh_of(module), max_seq_len=256)
    prompt = tokenizer(load_prompt("bringup_eval_long"), return_tensors="pt").input_ids
    want = hf.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=16, do_sample=False,
                       pad_token_id=hf.config.eos_token_id)
    got = tt.generate(prompt, max_new_tokens=16, do_sample=False, pad_token_id=hf.config.eos_token_id)
    assert got.tolist() == want.tolist()


@SEEDS
@MESHES
@torch.no_grad()
def test_mesh_forward_frees_every_device_tensor_it_allocates(hf_id, system, mesh_of):
    from ttbringup.emu.memory import usage

    module = model_py(hf_id, system)
    mesh = mesh_of(module)
    tt = module.build_model(random_tiny_model(hf_id), mesh, max_seq_len=64)
    built = usage(mesh)
    out = tt(torch.arange(3, 43)[None])
    tt(torch.tensor([[5, 6]]), past_key_values=out.past_key_values)
    after = usage(mesh)
    assert [c["dram"]["used"] for c in after] == [c["dram"]["used"] for c in built]
    assert all(c["l1"]["used"] == 0 for c in after)


# ---- real shapes, data-free, per chip ----

@functools.lru_cache(maxsize=None)
def memory_plan_module():
    return load_by_path(REPO / "scripts" / "memory_plan.py")


@SEEDS
@MESHES
def test_real_shape_mesh_memory_plan_is_the_one_model_bringup_states(hf_id, system):
    plan_mod = memory_plan_module()
    plan = plan_mod.memory_plan(hf_id, system)
    assert plan["chips"] == {"n300": 2, "t3000": 8}[system]
    assert plan["peak_bytes"] <= plan["capacity_bytes"] and plan["headroom_bytes"] > 0
    doc = (plan_mod.model_dir(hf_id, system) / "MODEL_BRINGUP.md").read_text()
    assert plan_mod.render_markdown(plan) in doc, "MODEL_BRINGUP.md is stale: run scripts/memory_plan.py --write"


def test_sharded_weights_cost_a_chip_its_share():
    """Same model, same dtypes: per chip, the n300 weights are about half the n150's (the replicated embedding
    table and norms are whole on each chip)."""
    import ttnn

    plans = memory_plan_module()
    bf16 = {"WEIGHT_DTYPE": ttnn.bfloat16, "EMBEDDING_DTYPE": ttnn.bfloat16, "MAX_CACHE_LEN": 2048}
    one = plans.memory_plan("arcee-ai/AFM-4.5B", "n150", overrides={**bf16, "WEIGHT_DTYPE": ttnn.bfloat8_b},
                            run=False)
    two = plans.memory_plan("arcee-ai/AFM-4.5B", "n300", overrides={**bf16, "WEIGHT_DTYPE": ttnn.bfloat8_b},
                            run=False)
    table = 128004 * 2560 * 2  # bf16 embedding table, replicated
    assert abs(two["kv_cache_bytes"] * 2 - one["kv_cache_bytes"]) < 0.001 * one["kv_cache_bytes"]  # bank rounding
    assert abs((two["weights_bytes"] - table) * 2 - (one["weights_bytes"] - table)) < 0.01 * one["weights_bytes"]


def test_allam_in_bf16_fits_n300_and_runs_out_of_memory_on_n150():
    import ttnn

    plans = memory_plan_module()
    n300 = plans.memory_plan("humain-ai/ALLaM-7B-Instruct-preview", "n300", run=False)
    assert n300["weight_dtype"] == "BFLOAT16" and n300["headroom_bytes"] > 0
    with pytest.raises(OutOfMemoryError, match="on chip 0"):
        plans.memory_plan("humain-ai/ALLaM-7B-Instruct-preview", "n150", run=False,
                          overrides={"WEIGHT_DTYPE": ttnn.bfloat16, "EMBEDDING_DTYPE": ttnn.bfloat16})
