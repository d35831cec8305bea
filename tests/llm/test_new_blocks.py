"""The blocks the seeds do not use, each against the HF module of the architecture that needs it (tiny random
weights from ``tiny_archs``): Qwen2's q/k/v biases, Phi-3's fused qkv_proj and gate_up_proj and its LongRoPE tables,
Gemma-3's (1 + w) RMSNorm, GELU-tanh MLP, scaled embeddings, q/k-normed attention with a sliding window (across a
prompt longer than the window) and local or global RoPE, and its sandwich-norm decoder layer.

As in test_blocks.py: random activations, the HF module in float32 on the host with its own causal mask and
rotary embedding, the block on the emulated device; prefill of PROMPT rows then decode steps through the KV
cache; Pearson correlation over the real rows >= 0.99 at every position.
"""

import functools

import pytest
import torch
from transformers.masking_utils import create_causal_mask, create_sliding_window_causal_mask

import ttnn
from tiny_archs import GEMMA3_WINDOW, PHI3_SWITCH, random_tiny_model
from ttbringup.llm import (CACHE_BATCH, Attention, DecoderLayer, GeluTanhMLP, LayerKVCache, RMSNorm, RopeCache,
                           SwiGLUMLP, rope_tables)
from ttbringup.llm.build import embedding_table
from ttbringup.llm.head_pad import device_head_dim
from ttbringup.llm.decode_inputs import DecodeInputs
from ttbringup.evaluation.metrics import pcc

PROMPT, STEPS = 40, 4  # 40 real prompt rows, padded to 64 on the device
CACHE_LEN = 128


@functools.lru_cache(maxsize=None)
def tiny(arch):
    return random_tiny_model(arch, seed=0)


def activations(rows, width, seed=1):
    return torch.randn(1, rows, width, generator=torch.Generator().manual_seed(seed))


def to_device(x: torch.Tensor, device, rows=None):
    """Host ``[1, n, w]`` -> device ``[1, 1, rows, w]`` TILE bf16, zero rows appended up to ``rows``."""
    rows = rows or x.shape[1]
    padded = torch.zeros(1, 1, rows, x.shape[-1])
    padded[0, 0, : x.shape[1]] = x[0]
    return ttnn.from_torch(padded, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)


def host(t, n):
    return ttnn.to_torch(t).float().reshape(-1, t.shape[-1])[:n]


def hf_inputs(model, x, sliding=False):
    """What HF's model passes a layer for ``x`` at positions 0..n-1: ``(position_embeddings, attention_mask)``
    (its local rotary embedding and sliding-window mask for a sliding layer)."""
    n = x.shape[1]
    rotary = model.model.rotary_emb_local if sliding else model.model.rotary_emb
    make_mask = create_sliding_window_causal_mask if sliding else create_causal_mask
    mask = make_mask(config=model.config, input_embeds=x, attention_mask=None, cache_position=torch.arange(n),
                     past_key_values=None)
    return rotary(x, torch.arange(n)[None]), mask


def run_prefill_then_decode(block, x, device, config, rope, steps=STEPS):
    """Prefill the first PROMPT rows of ``x`` then decode the next ``steps``; device rows of each position."""
    cos, sin = rope.prefix(64)
    out = [host(block.prefill(to_device(x[:, :PROMPT], device, 64), cos, sin), PROMPT)]
    inputs = DecodeInputs(device, config.num_attention_heads, config.num_key_value_heads)
    for i in range(steps):
        pos = PROMPT + i
        inputs.write([0] * CACHE_BATCH, [pos] * CACHE_BATCH)
        rot = rope.decode_rows(inputs)
        out.append(host(block.decode(to_device(x[:, pos:pos + 1], device, CACHE_BATCH), inputs.cur_pos, rot), 1))
        rot.deallocate()
    return torch.cat(out)


def assert_rows_match(got, ref, threshold=0.99):
    for pos in range(got.shape[0]):
        assert pcc(got[pos], ref[pos]) >= threshold, f"position {pos}: PCC {pcc(got[pos], ref[pos]):.4f}"


def make_attention(model, device, layer=0, **kwargs):
    hf_attn = model.model.layers[layer].self_attn
    cache = LayerKVCache(model.config.num_key_value_heads, CACHE_LEN, device_head_dim(hf_attn.head_dim), device)
    return Attention(hf_attn, model.config, device, cache, **kwargs)


@torch.no_grad()
def test_attention_with_qkv_biases_matches_qwen2(device):
    model = tiny("qwen2")
    hf_attn = model.model.layers[0].self_attn
    assert all(p.bias is not None for p in (hf_attn.q_proj, hf_attn.k_proj, hf_attn.v_proj))
    x = activations(PROMPT + STEPS, model.config.hidden_size)
    position_embeddings, mask = hf_inputs(model, x)
    ref = hf_attn(x, position_embeddings=position_embeddings, attention_mask=mask)[0][0]
    attn = make_attention(model, device)
    got = run_prefill_then_decode(attn, x, device, model.config, RopeCache(model.config, CACHE_LEN, device))
    assert_rows_match(got, ref)


@torch.no_grad()
def test_attention_with_fused_qkv_matches_phi3(device):
    model = tiny("phi3")  # prompt and steps stay below the LongRoPE switch: short factors on both sides
    hf_attn = model.model.layers[0].self_attn
    x = activations(PROMPT + STEPS, model.config.hidden_size)
    position_embeddings, mask = hf_inputs(model, x)
    ref = hf_attn(x, position_embeddings=position_embeddings, attention_mask=mask)[0][0]
    attn = make_attention(model, device)
    got = run_prefill_then_decode(attn, x, device, model.config, RopeCache(model.config, CACHE_LEN, device))
    assert_rows_match(got, ref)


@pytest.mark.parametrize("weight_dtype", [ttnn.bfloat16, ttnn.bfloat8_b], ids=["bf16", "bfp8"])
@torch.no_grad()
def test_swiglu_mlp_with_fused_gate_up_matches_phi3(weight_dtype, device):
    model = tiny("phi3")
    hf_mlp = model.model.layers[0].mlp
    x = activations(PROMPT, model.config.hidden_size)
    got = host(SwiGLUMLP(hf_mlp, device, weight_dtype)(to_device(x, device, 64)), PROMPT)
    assert_rows_match(got, hf_mlp(x)[0])


def test_longrope_tables_match_hf_rotary_emb_on_both_sides_of_the_switch(device):
    """HF's rotary embedding in the forward that the device table stands for: a prefill of n tokens (short factors
    up to the switch, long past it) and a decode step at position p (a forward of length p + 1). The tables are
    in the device layout of head_dim 96 (head_pad: padded to 128, cos 1 and sin 0 in the padding)."""
    model = tiny("phi3")
    rotary, switch = model.model.rotary_emb, PHI3_SWITCH
    x = torch.zeros(1, 1, model.config.hidden_size)

    def hf(positions):
        cos, sin = rotary(x, torch.tensor([positions]))
        return cos[0], sin[0]

    def table(t, rows, pad_value):
        """The first ``rows`` rows of a device table, HF's 96 columns: its halves sit at columns 0 and 64 of 128
        (head_pad), the 16 columns after each must hold ``pad_value``."""
        values = ttnn.to_torch(t).float().reshape(-1, t.shape[-1])[:rows]
        assert values.shape[-1] == 128
        assert (values[:, 48:64] == pad_value).all() and (values[:, 112:] == pad_value).all()
        return torch.cat([values[:, :48], values[:, 64:112]], dim=-1)

    rope = RopeCache(model.config, CACHE_LEN, device)
    assert RopeCache(model.config, switch, device).long_cos is None  # a cache that never switches: short only
    short, long = hf(list(range(switch))), hf(list(range(CACHE_LEN)))
    assert not torch.allclose(short[0], long[0][:switch])  # the two factor sets differ: the switch is visible
    for tokens, (cos_ref, sin_ref) in ((40, short), (switch, short), (switch + 16, long)):
        cos, sin = rope.prefix(96, tokens)
        n = min(tokens, len(cos_ref))
        assert pcc(table(cos, n, 1), cos_ref[:n]) >= 0.9999 and pcc(table(sin, n, 0), sin_ref[:n]) >= 0.9999, tokens
        rope.release(cos, sin)
    for p in (0, switch - 1, switch, CACHE_LEN - 1):
        cos_ref, sin_ref = hf([p])
        torch.testing.assert_close(table(rope.cos_rows, CACHE_LEN, 1)[p], cos_ref[0], rtol=0, atol=1 / 128)
        torch.testing.assert_close(table(rope.sin_rows, CACHE_LEN, 0)[p], sin_ref[0], rtol=0, atol=1 / 128)
    cos_ref, _ = hf(list(range(CACHE_LEN)))
    torch.testing.assert_close(rope_tables(model.config, CACHE_LEN, context=switch + 1)[0], cos_ref, rtol=1e-5,
                               atol=1e-5)


# ---- Gemma-3 ----

def gemma_rope(model, layer, device):
    """The RopeCache of ``layer`` as build_decoder_lm makes it: HF's local config for sliding layers."""
    sliding = model.model.layers[layer].self_attn.is_sliding
    config = model.model.rotary_emb_local.config if sliding else model.config
    return RopeCache(config, CACHE_LEN, device)


def gemma_attention(model, layer, device):
    hf_attn = model.model.layers[layer].self_attn
    return make_attention(model, device, layer, qk_norm=True,
                          sliding_window=GEMMA3_WINDOW if hf_attn.is_sliding else None)


def gemma_layer(model, layer, device):
    hf_layer = model.model.layers[layer]
    norm = lambda name: RMSNorm.from_hf(getattr(hf_layer, name), device)  # noqa: E731
    return DecoderLayer(gemma_attention(model, layer, device), GeluTanhMLP(hf_layer.mlp, device),
                        norm("input_layernorm"), norm("pre_feedforward_layernorm"),
                        attn_out_norm=norm("post_attention_layernorm"), mlp_out_norm=norm("post_feedforward_layernorm"))


@torch.no_grad()
def test_gemma_rms_norm_scales_by_one_plus_weight(device):
    model = tiny("gemma3_text")
    x = activations(PROMPT, model.config.hidden_size) * 3
    for module in (model.model.norm, model.model.layers[0].self_attn.q_norm):
        width = module.weight.shape[0]
        got = host(RMSNorm.from_hf(module, device)(to_device(x[..., :width], device, 64)), PROMPT)
        assert pcc(got, module(x[..., :width])[0]) >= 0.999, type(module).__name__


@pytest.mark.parametrize("weight_dtype", [ttnn.bfloat16, ttnn.bfloat8_b], ids=["bf16", "bfp8"])
@torch.no_grad()
def test_gelu_tanh_mlp_matches_gemma3(weight_dtype, device):
    model = tiny("gemma3_text")
    hf_mlp = model.model.layers[0].mlp
    x = activations(PROMPT, model.config.hidden_size)
    got = host(GeluTanhMLP(hf_mlp, device, weight_dtype)(to_device(x, device, 64)), PROMPT)
    assert_rows_match(got, hf_mlp(x)[0])


def test_gemma_embedding_scale_is_folded_into_the_table():
    embed = tiny("gemma3_text").model.embed_tokens
    ids = torch.arange(50)
    torch.testing.assert_close(embedding_table(embed)[ids], embed(ids).detach(), rtol=0, atol=0)


@pytest.mark.parametrize("layer", [0, 1], ids=["sliding", "global"])
@torch.no_grad()
def test_gemma3_attention_with_qk_norm_and_its_window_and_rope(layer, device):
    """Layer 0 is a sliding layer (window 16 < the 40-token prompt: prefill and decode rows both see a window);
    layer 1 a global one with the linear-scaled global RoPE."""
    model = tiny("gemma3_text")
    hf_attn = model.model.layers[layer].self_attn
    assert hf_attn.is_sliding == (layer == 0)
    x = activations(PROMPT + STEPS, model.config.hidden_size)
    position_embeddings, mask = hf_inputs(model, x, sliding=hf_attn.is_sliding)
    ref = hf_attn(x, position_embeddings=position_embeddings, attention_mask=mask)[0][0]
    if hf_attn.is_sliding:  # the window changes the result, so matching it means the device applied it
        causal = hf_attn(x, position_embeddings=position_embeddings, attention_mask=hf_inputs(model, x)[1])[0][0]
        assert min(pcc(causal[p], ref[p]) for p in range(GEMMA3_WINDOW, PROMPT + STEPS)) < 0.99
    got = run_prefill_then_decode(gemma_attention(model, layer, device), x, device, model.config,
                                  gemma_rope(model, layer, device))
    assert_rows_match(got, ref)


@pytest.mark.parametrize("layer", [0, 1], ids=["sliding", "global"])
@torch.no_grad()
def test_gemma3_decoder_layer_with_sandwich_norms(layer, device):
    model = tiny("gemma3_text")
    hf_layer = model.model.layers[layer]
    x = activations(PROMPT + STEPS, model.config.hidden_size)
    global_rope, _ = hf_inputs(model, x)
    local_rope, mask = hf_inputs(model, x, sliding=hf_layer.self_attn.is_sliding)
    ref = hf_layer(x, position_embeddings_global=global_rope, position_embeddings_local=local_rope,
                   attention_mask=mask)
    ref = (ref[0] if isinstance(ref, tuple) else ref)[0]
    got = run_prefill_then_decode(gemma_layer(model, layer, device), x, device, model.config,
                                  gemma_rope(model, layer, device))
    assert_rows_match(got, ref)
