"""Build a device ``TTCausalLM`` from an HF Llama-family model (Llama, Qwen3, Arcee/AFM and look-alikes).

A seed ``model.py`` is ``check_config(...)`` (what its config must say) plus ``build_decoder_lm(...)`` with the
choices that differ for its model: weight dtype, embedding table format, MLP kind, q/k norm, KV sharding, cache cap.
Everything else (pre-norm layer layout, RoPE from the config, tied or untied lm_head) is common. On a mesh
device the same blocks run tensor-parallel over all its chips (``parallel``); an n300 or T3000 model file adds
only its ``MESH_SHAPE`` and the dtypes and cache length its extra memory allows.
"""

from __future__ import annotations

import ttnn

from .attention import Attention, kv_shard_grid
from .causal_lm import TTCausalLM
from .decoder import DecoderLayer
from .errors import UnsupportedModelError
from .kv_cache import LayerKVCache, round_up
from .mlp import Relu2MLP, SwiGLUMLP
from .norm import RMSNorm
from .parallel import DataParallel, TensorParallel
from .precision import for_class
from .decode_inputs import DecodeInputs
from .rope import RopeCache, check_rope
from .weights import embedding_weight, host_device, layer_progress

MLP_FOR_ACTIVATION = {"silu": SwiGLUMLP, "relu2": Relu2MLP}


def check_config(config, *, model_types, hidden_act, rope_types, qk_norm: bool = False) -> None:
    """Raise ``UnsupportedModelError`` (one line) unless ``config`` is the architecture a model file supports."""
    if config.model_type not in model_types:
        raise UnsupportedModelError(f"model_type {config.model_type!r} is not supported (expected {' or '.join(model_types)})")
    if config.hidden_act != hidden_act:
        raise UnsupportedModelError(f"hidden_act {config.hidden_act!r} is not supported (expected {hidden_act!r})")
    check_rope(config, rope_types)
    for flag in ("attention_bias", "mlp_bias"):
        if getattr(config, flag, False):
            raise UnsupportedModelError(f"{flag}=True is not supported (the blocks have no biases)")
    if getattr(config, "use_sliding_window", False) or "sliding_attention" in (getattr(config, "layer_types", None) or ()):
        raise UnsupportedModelError("sliding-window attention is not supported")
    if config.num_attention_heads % config.num_key_value_heads:
        raise UnsupportedModelError("num_attention_heads must be a multiple of num_key_value_heads")
    if config.num_attention_heads > 32:  # a mesh splits the heads, but the n150 file of every model must work too
        raise UnsupportedModelError("more than 32 attention heads per device is not supported by the decode ops")
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    if head_dim != 32 and head_dim % 64:
        raise UnsupportedModelError(f"head_dim {head_dim} is not supported (rotary_embedding needs 32 or a multiple of 64)")


def build_decoder_lm(hf_model, device, max_seq_len: int, *, cache_cap: int, weight_dtype=ttnn.bfloat16,
                     embedding_dtype=ttnn.bfloat16, embedding_layout=ttnn.ROW_MAJOR_LAYOUT, lm_head_dtype=None,
                     qk_norm: bool = False, shard_kv: bool = False, data_parallel: bool = False) -> TTCausalLM:
    """Upload ``hf_model`` (an HF ``*ForCausalLM``) to ``device``; the cache holds ``min(max_seq_len, cache_cap)``.

    ``weight_dtype``: projections and MLP; ``lm_head_dtype`` defaults to it. ``qk_norm``: per-head RMSNorm of
    q and k (``self_attn.q_norm/k_norm``). ``shard_kv``: height-shard K/V (one head per core) before fill_cache.
    ``data_parallel``: on a mesh, a whole model per chip and 32 users each (``DataParallel``) instead of one model
    split over the chips. Inside ``precision.overridden(...)`` the attention and MLP linears take the weight dtype
    and compute kernel config given there (see ``precision``).
    """
    config = hf_model.config
    mlp_class = MLP_FOR_ACTIVATION.get(config.hidden_act)
    if mlp_class is None:
        raise UnsupportedModelError(f"hidden_act {config.hidden_act!r} has no MLP block here")
    cache_len = min(int(max_seq_len), int(cache_cap))
    staging = host_device(hf_model)
    tp = DataParallel(device) if data_parallel else TensorParallel(device)
    heads = tp.heads(config.num_attention_heads, config.num_key_value_heads)
    kv_heads = heads.kv_per_chip
    rope = RopeCache(config, round_up(cache_len), device, staging)
    grid = kv_shard_grid(device, kv_heads) if shard_kv else None
    if shard_kv and grid is None:
        raise UnsupportedModelError(f"cannot shard {kv_heads} KV heads one per core on this device")
    body = hf_model.model
    attn_dtype, attn_config = for_class("attention", weight_dtype)
    mlp_dtype, mlp_config = for_class("mlp", weight_dtype)
    layers = []
    for hf_layer in layer_progress(body.layers):
        attn = hf_layer.self_attn
        cache = LayerKVCache(kv_heads, cache_len, attn.head_dim, device, staging)
        layers.append(DecoderLayer(
            Attention(attn, config, device, cache, weight_dtype=attn_dtype, qk_norm=qk_norm, shard_kv_grid=grid,
                      tp=tp, compute_kernel_config=attn_config),
            mlp_class(hf_layer.mlp, device, mlp_dtype, tp, compute_kernel_config=mlp_config),
            RMSNorm.from_hf(hf_layer.input_layernorm, device),
            RMSNorm.from_hf(hf_layer.post_attention_layernorm, device),
        ))
    # A tied lm_head is the embedding table, but the matmul wants it transposed and tiled: upload it again.
    # On a mesh it is column-parallel over the vocabulary, padded with zero columns to a multiple of the chips.
    head = hf_model.lm_head.weight
    return TTCausalLM(
        config, device,
        embed=embedding_weight(body.embed_tokens.weight, device, embedding_dtype, embedding_layout),
        layers=layers,
        norm=RMSNorm.from_hf(body.norm, device),
        lm_head=tp.column(head, lm_head_dtype or weight_dtype, tp.padded(head.shape[0])),
        tp=tp,
        rope=rope,
        inputs=DecodeInputs(device, heads.q_per_chip, heads.kv_per_chip, staging, tp),
        max_cache_len=cache_len,
        generation_config=getattr(hf_model, "generation_config", None),
        host_device=staging,
    )
