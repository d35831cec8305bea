"""Each decoder block against the matching HF module of every seed architecture (tiny random weights).

Inputs are random activations; the HF module runs in float32 on the host, the block on the emulated device with the
weight dtype its seed model file uses. Every comparison is a Pearson correlation over the real rows >= 0.99.
"""

import functools

import pytest
import torch

import ttnn
from ttbringup.fixtures import SEED_MODELS, random_tiny_model
from ttbringup.llm import (CACHE_BATCH, Attention, DecoderLayer, LayerKVCache, RMSNorm, Relu2MLP, RopeCache,
                           SwiGLUMLP, UnsupportedModelError, kv_shard_grid, rope_tables)
from ttbringup.llm.build import check_config
from ttbringup.llm.decode_inputs import DecodeInputs

WEIGHT_DTYPE = {  # as in each seed's model.py
    "meta-llama/Llama-3.2-1B": ttnn.bfloat16,
    "Qwen/Qwen3-0.6B": ttnn.bfloat16,
    "humain-ai/ALLaM-7B-Instruct-preview": ttnn.bfloat8_b,
    "arcee-ai/AFM-4.5B": ttnn.bfloat8_b,
}
PROMPT = 40  # real prompt rows (padded to 64 on the device)
CACHE_LEN = 128


def pcc(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.double().flatten(), b.double().flatten()
    return torch.corrcoef(torch.stack([a, b]))[0, 1].item()


@functools.lru_cache(maxsize=None)
def hf(hf_id):
    return random_tiny_model(hf_id, seed=0)


def activations(rows, width, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(1, rows, width, generator=g)


def to_device(x: torch.Tensor, device, rows=None):
    """Host ``[1, n, w]`` -> device ``[1, 1, rows, w]`` TILE bf16, zero rows appended up to ``rows``."""
    rows = rows or x.shape[1]
    padded = torch.zeros(1, 1, rows, x.shape[-1])
    padded[0, 0, : x.shape[1]] = x[0]
    return ttnn.from_torch(padded, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)


def host(t, n):
    return ttnn.to_torch(t).float().reshape(-1, t.shape[-1])[:n]


def hf_rope(model, n):
    x = torch.zeros(1, n, model.config.hidden_size)
    return model.model.rotary_emb(x, torch.arange(n)[None])


def layer0(model):
    return model.model.layers[0]


ARCHS = pytest.mark.parametrize("hf_id", SEED_MODELS)


@ARCHS
def test_rms_norm(hf_id, device):
    model = hf(hf_id)
    x = activations(PROMPT, model.config.hidden_size) * 3
    norm = RMSNorm.from_hf(model.model.norm, device)
    got = host(norm(to_device(x, device, 64)), PROMPT)
    assert pcc(got, model.model.norm(x)[0].detach()) >= 0.999


@ARCHS
def test_rope_tables_match_hf_rotary_emb(hf_id, device):
    model = hf(hf_id)
    cos_ref, sin_ref = hf_rope(model, CACHE_LEN)
    cos, sin = rope_tables(model.config, CACHE_LEN)
    torch.testing.assert_close(cos, cos_ref[0], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(sin, sin_ref[0], rtol=1e-5, atol=1e-5)
    rope = RopeCache(model.config, CACHE_LEN, device)
    assert tuple(rope.cos.shape) == (1, 1, CACHE_LEN, cos.shape[-1])
    assert pcc(ttnn.to_torch(rope.cos).float()[0, 0], cos_ref[0]) >= 0.9999
    assert pcc(ttnn.to_torch(rope.sin).float()[0, 0], sin_ref[0]) >= 0.9999


def test_yarn_attention_factor_is_applied_to_cos_sin():
    config = hf("arcee-ai/AFM-4.5B").config
    cos, _ = rope_tables(config, 1)
    assert cos[0, 0].item() == pytest.approx(0.1 * torch.log(torch.tensor(20.0)).item() + 1.0, rel=1e-6)


def make_attention(hf_id, device, shard_kv=False):
    model = hf(hf_id)
    attn = layer0(model).self_attn
    cache = LayerKVCache(model.config.num_key_value_heads, CACHE_LEN, attn.head_dim, device)
    grid = kv_shard_grid(device, model.config.num_key_value_heads) if shard_kv else None
    return Attention(attn, model.config, device, cache, weight_dtype=WEIGHT_DTYPE[hf_id],
                     qk_norm=model.config.model_type == "qwen3", shard_kv_grid=grid)


def run_prefill_then_decode(block_prefill, block_decode, x, device, config, steps):
    """Prefill the first PROMPT rows of ``x`` then decode the next ``steps``; device rows of each position."""
    rope = RopeCache(config, CACHE_LEN, device)
    cos, sin = rope.prefix(64)
    out = [host(block_prefill(to_device(x[:, :PROMPT], device, 64), cos, sin), PROMPT)]
    inputs = DecodeInputs(device, config.num_attention_heads, config.num_key_value_heads)
    for i in range(steps):
        pos = PROMPT + i
        inputs.write([0] * CACHE_BATCH, [pos] * CACHE_BATCH)
        row = to_device(x[:, pos:pos + 1], device, CACHE_BATCH)
        rot = rope.decode_rows(inputs)
        out.append(host(block_decode(row, inputs.cur_pos, rot), 1))
        rot.deallocate()
    return torch.cat(out)


@pytest.mark.parametrize("hf_id,shard_kv", [(h, False) for h in SEED_MODELS]
                         + [("humain-ai/ALLaM-7B-Instruct-preview", True)])  # sharding K/V is ALLaM's option
def test_attention_prefill_and_decode(hf_id, shard_kv, device):
    model, steps = hf(hf_id), 4
    x = activations(PROMPT + steps, model.config.hidden_size)
    ref = layer0(model).self_attn(x, position_embeddings=hf_rope(model, PROMPT + steps), attention_mask=None)[0]
    attn = make_attention(hf_id, device, shard_kv)
    got = run_prefill_then_decode(attn.prefill, attn.decode, x, device, model.config, steps)
    for pos in range(PROMPT + steps):
        assert pcc(got[pos], ref[0, pos].detach()) >= 0.99, f"position {pos}"


@ARCHS
def test_mlp(hf_id, device):
    model = hf(hf_id)
    hf_mlp = layer0(model).mlp
    block = (Relu2MLP if model.config.hidden_act == "relu2" else SwiGLUMLP)(hf_mlp, device, WEIGHT_DTYPE[hf_id])
    x = activations(PROMPT, model.config.hidden_size)
    assert pcc(host(block(to_device(x, device, 64)), PROMPT), hf_mlp(x)[0].detach()) >= 0.99


@ARCHS
def test_decoder_layer(hf_id, device):
    model, steps = hf(hf_id), 4
    hf_layer = layer0(model)
    mlp_class = Relu2MLP if model.config.hidden_act == "relu2" else SwiGLUMLP
    layer = DecoderLayer(make_attention(hf_id, device), mlp_class(hf_layer.mlp, device, WEIGHT_DTYPE[hf_id]),
                         RMSNorm.from_hf(hf_layer.input_layernorm, device),
                         RMSNorm.from_hf(hf_layer.post_attention_layernorm, device))
    x = activations(PROMPT + steps, model.config.hidden_size)
    ref = hf_layer(x, position_embeddings=hf_rope(model, PROMPT + steps), attention_mask=None)
    ref = ref[0] if isinstance(ref, tuple) else ref
    got = run_prefill_then_decode(layer.prefill, layer.decode, x, device, model.config, steps)
    for pos in range(PROMPT + steps):
        assert pcc(got[pos], ref[0, pos].detach()) >= 0.99, f"position {pos}"


@pytest.mark.parametrize("change,match", [
    (dict(model_type="mistral"), "model_type"),
    (dict(hidden_act="gelu"), "hidden_act"),
    (dict(rope_scaling={"rope_type": "dynamic", "factor": 2.0}), "rope_type"),
    (dict(attention_bias=True), "attention_bias"),
])
def test_check_config_rejects_what_the_blocks_do_not_implement(change, match):
    config = hf("meta-llama/Llama-3.2-1B").config
    saved = {k: getattr(config, k) for k in change}
    try:
        for k, v in change.items():
            setattr(config, k, v)
        with pytest.raises(UnsupportedModelError, match=match):
            check_config(config, model_types=("llama",), hidden_act="silu", rope_types=("llama3",))
    finally:
        for k, v in saved.items():
            setattr(config, k, v)
