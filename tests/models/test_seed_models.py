"""The four seed bringups (models/<org>/<model>/n150/functional/model.py) against HF, on the emulator.

* tiny random checkpoints, each model.py with its own dtypes: logits PCC >= 0.99 at every prompt position and
  for 32 decode steps, with one-pass prefill and with token-by-token prefill;
* trained tiny checkpoints: teacher forcing 100 reference tokens after prompts/bringup_eval_long.txt, top-1 >= 95%
  and top-5 >= 99%; with all-bf16 weights ``generate()`` reproduces HF greedy tokens;
* real shapes, data-free: each model builds on one emulated n150 with the memory plan its MODEL_BRINGUP.md
  states, and a bringup that cannot fit fails with the emulator's OutOfMemoryError.
"""

import functools

import pytest
import torch
import ttnn  # the emulator: conftest.py registered it
from transformers import AutoModelForCausalLM, AutoTokenizer

from seed_helpers import REPO, load_by_path, model_py
from ttbringup.emu.errors import OutOfMemoryError
from ttbringup.evaluation.teacher_forcing import teacher_force
from ttbringup.fixtures import SEED_MODELS, load_prompt, random_tiny_model, tiny_checkpoint_dir
from ttbringup.llm import TTCache, UnsupportedModelError

SEEDS = pytest.mark.parametrize("hf_id", SEED_MODELS)
ALLAM = "humain-ai/ALLaM-7B-Instruct-preview"
PROMPT_LEN, DECODE_STEPS = 40, 32


def pcc(a, b) -> float:
    return torch.corrcoef(torch.stack([a.double().flatten(), b.double().flatten()]))[0, 1].item()


@functools.lru_cache(maxsize=None)
def trained(hf_id):
    path = tiny_checkpoint_dir(hf_id)
    if not (path / "config.json").exists():
        pytest.skip(f"trained tiny checkpoint of {hf_id} not built yet")
    return AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval(), AutoTokenizer.from_pretrained(path)


@functools.lru_cache(maxsize=None)
def reference_continuation(hf_id, n=100):
    model, tokenizer = trained(hf_id)
    prompt = tokenizer(load_prompt("bringup_eval_long"), return_tensors="pt").input_ids
    out = model.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=n, do_sample=False,
                         pad_token_id=model.config.eos_token_id)
    return prompt, out[0, prompt.shape[1]:]


@SEEDS
@pytest.mark.parametrize("prefill_by_decode", [False, True], ids=["prefill", "prefill_by_decode"])
@torch.no_grad()
def test_logits_match_hf_on_tiny_random_model(hf_id, prefill_by_decode, device):
    hf = random_tiny_model(hf_id, seed=0)
    ids = torch.randint(3, hf.config.vocab_size, (1, PROMPT_LEN + DECODE_STEPS), generator=torch.Generator().manual_seed(0))
    ref = hf(ids).logits[0]
    tt = model_py(hf_id).build_model(hf, device, max_seq_len=128)
    tt.prefill_by_decode = prefill_by_decode
    out = tt(ids[:, :PROMPT_LEN])
    assert out.logits.shape == (1, PROMPT_LEN, hf.config.vocab_size) and out.logits.dtype == torch.float32
    logits = [out.logits[0]]
    cache = out.past_key_values
    for i in range(PROMPT_LEN, PROMPT_LEN + DECODE_STEPS):
        out = tt(ids[:, i:i + 1], past_key_values=cache)
        cache = out.past_key_values
        logits.append(out.logits[0])
    got = torch.cat(logits)
    worst = min(range(len(got)), key=lambda p: pcc(got[p], ref[p]))
    assert pcc(got[worst], ref[worst]) >= 0.99, f"worst position {worst}: PCC {pcc(got[worst], ref[worst]):.4f}"


@SEEDS
@torch.no_grad()
def test_traced_decode_gives_the_eager_logits_bit_for_bit(hf_id):
    """trace_decode: step 1 eager (warm-up), step 2 captured then replayed, steps 3+ replayed on new inputs."""
    hf = random_tiny_model(hf_id, seed=0)
    ids = torch.randint(3, hf.config.vocab_size, (1, 24), generator=torch.Generator().manual_seed(2))
    runs = {}
    for traced in (False, True):
        dev = ttnn.open_device(device_id=0, trace_region_size=8 << 20)
        try:
            tt = model_py(hf_id).build_model(hf, dev, max_seq_len=64)
            tt.trace_decode = traced
            out = tt(ids[:, :16])
            logits = [out.logits[0]]
            for i in range(16, 24):
                out = tt(ids[:, i:i + 1], past_key_values=out.past_key_values)
                logits.append(out.logits[0])
            runs[traced] = torch.cat(logits)
            assert (tt._trace is not None) == traced
        finally:
            ttnn.close_device(dev)
    assert torch.equal(runs[True], runs[False])


@SEEDS
@torch.no_grad()
def test_hidden_states_follow_hf_layout(hf_id, device):
    hf = random_tiny_model(hf_id, seed=0)
    ids = torch.randint(3, hf.config.vocab_size, (1, 12), generator=torch.Generator().manual_seed(1))
    ref = hf(ids, output_hidden_states=True).hidden_states
    out = model_py(hf_id).build_model(hf, device, max_seq_len=64)(ids, output_hidden_states=True)
    assert len(out.hidden_states) == len(ref)
    for got, want in zip(out.hidden_states, ref):
        assert got.shape == want.shape and pcc(got, want) >= 0.99


@SEEDS
def test_teacher_forcing_on_trained_tiny_checkpoint(hf_id, device):
    hf, _ = trained(hf_id)
    prompt, ref = reference_continuation(hf_id)
    tt = model_py(hf_id).build_model(hf, device, max_seq_len=256)
    result = teacher_force(hf, tt, prompt[0].tolist(), ref.tolist(), progress=False)
    assert result.total == 100
    assert result.top1 >= 0.95 and result.top5 >= 0.99, (result.top1, result.top5, result.first_mismatch)


@SEEDS
@torch.no_grad()
def test_generate_reproduces_hf_greedy_with_bf16_weights(hf_id, device):
    import ttnn

    hf, tokenizer = trained(hf_id)
    module = model_py(hf_id)
    module.WEIGHT_DTYPE = module.EMBEDDING_DTYPE = ttnn.bfloat16
    tt = module.build_model(hf, device, max_seq_len=256)
    prompt = tokenizer(load_prompt("bringup_eval_long"), return_tensors="pt").input_ids
    want = hf.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=16, do_sample=False,
                       pad_token_id=hf.config.eos_token_id)
    got = tt.generate(prompt, max_new_tokens=16, do_sample=False, pad_token_id=hf.config.eos_token_id)
    assert got.tolist() == want.tolist()
    again = tt.generate(prompt, max_new_tokens=16, do_sample=False, pad_token_id=hf.config.eos_token_id)
    assert again.tolist() == want.tolist()  # a second call starts a fresh sequence


@torch.no_grad()
def test_cache_limits_and_stale_caches_raise(device):
    hf_id = "meta-llama/Llama-3.2-1B"
    tt = model_py(hf_id).build_model(random_tiny_model(hf_id), device, max_seq_len=40)
    assert tt.max_cache_len == 40
    with pytest.raises(ValueError, match="max_cache_len=40"):
        tt(torch.ones(1, 41, dtype=torch.long))
    out = tt(torch.ones(1, 39, dtype=torch.long))
    assert isinstance(out.past_key_values, TTCache) and out.past_key_values.get_seq_length() == 39
    tt(torch.ones(1, 1, dtype=torch.long), past_key_values=out.past_key_values)
    with pytest.raises(ValueError, match="exceeds the KV cache"):
        tt(torch.ones(1, 1, dtype=torch.long), past_key_values=out.past_key_values)
    from transformers import DynamicCache

    fresh = tt(torch.ones(1, 3, dtype=torch.long), past_key_values=DynamicCache())  # generate()'s first-call cache
    assert fresh.past_key_values.get_seq_length() == 3
    with pytest.raises(ValueError, match="empty"):
        tt(torch.ones(1, 0, dtype=torch.long))
    with pytest.raises(ValueError, match="stale"):
        tt(torch.ones(1, 1, dtype=torch.long), past_key_values=out.past_key_values)
    assert fresh.past_key_values.is_current()


@SEEDS
@torch.no_grad()
def test_forward_frees_every_device_tensor_it_allocates(hf_id, device):
    """Only weights, RoPE tables and KV caches stay on the device, so the memory plan's peak is the real one."""
    from ttbringup.emu.memory import usage

    tt = model_py(hf_id).build_model(random_tiny_model(hf_id), device, max_seq_len=64)
    built = usage(device)[0]
    out = tt(torch.arange(3, 43)[None])
    tt(torch.tensor([[5, 6]]), past_key_values=out.past_key_values)
    after = usage(device)[0]
    assert after["dram"]["used"] == built["dram"]["used"] and after["l1"]["used"] == built["l1"]["used"] == 0


def test_model_files_reject_other_architectures(device):
    with pytest.raises(UnsupportedModelError, match="model_type 'llama'"):
        model_py("Qwen/Qwen3-0.6B").build_model(random_tiny_model("meta-llama/Llama-3.2-1B"), device, 64)
    with pytest.raises(UnsupportedModelError, match="hidden_act"):
        model_py("arcee-ai/AFM-4.5B").build_model(_with(random_tiny_model("arcee-ai/AFM-4.5B"), hidden_act="silu"),
                                                  device, 64)


def _with(model, **changes):
    for k, v in changes.items():
        setattr(model.config, k, v)
    return model


# ---- real shapes, data-free ----

@functools.lru_cache(maxsize=None)
def memory_plan_module():
    return load_by_path(REPO / "scripts" / "memory_plan.py")


@SEEDS
def test_real_shape_memory_plan_is_the_one_model_bringup_states(hf_id):
    plan_mod = memory_plan_module()
    plan = plan_mod.memory_plan(hf_id)
    assert plan["peak_bytes"] <= plan["capacity_bytes"] and plan["headroom_bytes"] > 0
    assert plan["weights_bytes"] > 0 and plan["kv_cache_bytes"] > 0
    doc = (plan_mod.model_dir(hf_id) / "MODEL_BRINGUP.md").read_text()
    assert plan_mod.render_markdown(plan) in doc, "MODEL_BRINGUP.md is stale: run scripts/memory_plan.py --write"


@pytest.mark.parametrize("overrides", [{"MAX_CACHE_LEN": 4096}, "bf16"], ids=["uncapped_cache", "bf16_weights"])
def test_allam_that_cannot_fit_fails_with_out_of_memory(overrides):
    import ttnn

    if overrides == "bf16":
        overrides = {"WEIGHT_DTYPE": ttnn.bfloat16, "EMBEDDING_DTYPE": ttnn.bfloat16}
    with pytest.raises(OutOfMemoryError):
        memory_plan_module().memory_plan(ALLAM, overrides=overrides, run=False)
