"""Whole models of the new architectures (tiny random checkpoints from ``tiny_archs``) built from the shared blocks
with ``check_config`` + ``build_decoder_lm``, as a model.py would, against HF on the emulator.

The reference is HF's own cached generation path: one forward over the prompt, then one forward per token with its
``past_key_values``. Logits PCC >= 0.99 at every prompt position and every decode step. The tiny Phi-3's decode
steps cross its LongRoPE switch (position 64): HF's cached forward changes factors there, and so must the device.
The tiny Gemma-3's and Mistral's 40-token prompts are longer than their sliding windows (16 on local layers, 24
on every layer).
"""

import functools

import pytest
import torch

from tiny_archs import PHI3_SWITCH, random_tiny_model
from ttbringup.llm import build_decoder_lm, check_config
from ttbringup.evaluation.metrics import pcc

PROMPT, DECODE_STEPS = 40, 32
CHECKS = {  # what the model.py of each architecture states about its config
    "qwen2": dict(model_types=("qwen2",), hidden_act="silu", rope_types=("default",)),
    "phi3": dict(model_types=("phi3",), hidden_act="silu", rope_types=("longrope",)),
    "gemma3_text": dict(model_types=("gemma3_text",), hidden_act="gelu_pytorch_tanh", rope_types=("linear",)),
    "mistral": dict(model_types=("mistral",), hidden_act="silu", rope_types=("default",)),
}


@functools.lru_cache(maxsize=None)
def tiny(arch):
    return random_tiny_model(arch, seed=0)


def token_ids(model, n, seed=0):
    return torch.randint(3, model.config.vocab_size, (1, n), generator=torch.Generator().manual_seed(seed))


def cached_logits(model, ids, prompt: int) -> torch.Tensor:
    """Logits ``[n, vocab]`` of a prefill over ``ids[:, :prompt]`` then one call per further token with the cache
    the previous call returned (``model`` is the HF model or the device one: same calling convention)."""
    out = model(ids[:, :prompt], use_cache=True)
    logits, cache = [out.logits[0]], out.past_key_values
    for i in range(prompt, ids.shape[1]):
        out = model(ids[:, i:i + 1], past_key_values=cache, use_cache=True)
        logits.append(out.logits[0])
        cache = out.past_key_values
    return torch.cat(logits).float()


def build(arch, device, max_seq_len=128, **choices):
    hf = tiny(arch)
    check_config(hf.config, **CHECKS[arch])
    return build_decoder_lm(hf, device, max_seq_len, cache_cap=max_seq_len, **choices)


def assert_logits_match(got, ref):
    worst = min(range(len(got)), key=lambda p: pcc(got[p], ref[p]))
    assert pcc(got[worst], ref[worst]) >= 0.99, f"worst position {worst}: PCC {pcc(got[worst], ref[worst]):.4f}"


@pytest.mark.parametrize("arch", list(CHECKS))
@torch.no_grad()
def test_logits_match_hf_prefill_and_decode(arch, device):
    hf = tiny(arch)
    ids = token_ids(hf, PROMPT + DECODE_STEPS)
    ref = cached_logits(hf, ids, PROMPT)
    got = cached_logits(build(arch, device), ids, PROMPT)
    assert got.shape == ref.shape
    assert_logits_match(got, ref)


@torch.no_grad()
def test_phi3_prompt_past_the_longrope_switch(device):
    """A prompt longer than original_max_position_embeddings: HF rotates all of it with the long factors, and so
    does the device prefill; the decode steps after it stay on the long factors. (The default test's prompt is
    below the switch and its decode steps cross it.)"""
    hf = tiny("phi3")
    prompt = PHI3_SWITCH + 16
    ids = token_ids(hf, prompt + 8, seed=1)
    ref = cached_logits(hf, ids, prompt)
    assert_logits_match(cached_logits(build("phi3", device), ids, prompt), ref)


@torch.no_grad()
def test_gemma3_prefill_by_decode(device):
    """Every token through the decode path: the sliding window and both RoPE tables from position 0 on."""
    hf = tiny("gemma3_text")
    ids = token_ids(hf, PROMPT, seed=2)
    ref = cached_logits(hf, ids, PROMPT)
    tt = build("gemma3_text", device)
    tt.prefill_by_decode = True
    assert_logits_match(cached_logits(tt, ids, PROMPT), ref)


@pytest.mark.parametrize("arch", list(CHECKS))
@torch.no_grad()
def test_forward_frees_every_device_tensor_it_allocates(arch, device):
    """Only weights, RoPE tables and KV caches stay on the device after a forward: nothing else is kept referenced
    (the Phi-3 prompt passes its LongRoPE switch, so its prefill takes the long-factor table's path)."""
    from ttbringup.emu.memory import usage

    tt = build(arch, device)
    built = usage(device)[0]
    prompt = PHI3_SWITCH + 16 if arch == "phi3" else PROMPT
    out = tt(torch.arange(3, 3 + prompt)[None])
    tt(torch.tensor([[5, 6]]), past_key_values=out.past_key_values)
    after = usage(device)[0]
    assert after["dram"]["used"] == built["dram"]["used"] and after["l1"]["used"] == built["l1"]["used"] == 0
