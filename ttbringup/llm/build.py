"""Build a device ``TTCausalLM`` from an HF decoder-only model (Llama, Qwen2/3, Arcee/AFM, Phi-3, Gemma-3 text and
look-alikes).

A seed ``model.py`` is ``check_config(...)`` (what its config must say) plus ``build_decoder_lm(...)`` with the
choices that differ for its model: weight dtype, embedding table format, MLP kind, q/k norm, KV sharding, cache cap.
Everything else is read from the HF modules and config: the MLP block from the activation, q/k/v biases, fused
projections, q/k norms, Gemma's (1 + w) and sandwich norms, embedding scale, per-layer sliding windows and local
RoPE, RoPE from the config, tied or untied lm_head. On a mesh device the same blocks run tensor-parallel over all
its chips (``parallel``); an n300 or T3000 model file adds only its ``MESH_SHAPE`` and the dtypes and cache
length its extra memory allows.

``check_blocks(config)`` refuses, in one line naming the missing piece, an architecture these blocks cannot run
(mixture-of-experts, soft-capping, an o_proj bias, ...); ``check_config`` adds what one model file expects.
A head_dim that rotary_embedding cannot take (Phi-3's 96) is padded at upload (``head_pad``).
"""

from __future__ import annotations

import ttnn

from .attention import Attention, kv_shard_grid
from .causal_lm import TTCausalLM
from .decoder import DecoderLayer
from .errors import UnsupportedModelError
from .head_pad import device_head_dim
from .kv_cache import LayerKVCache, round_up
from .mlp import GeluTanhMLP, Relu2MLP, SwiGLUMLP
from .norm import RMSNorm
from .parallel import DataParallel, TensorParallel
from .precision import for_class
from .decode_inputs import DecodeInputs
from .rope import RopeCache, check_rope
from .weights import embedding_weight, host_device, layer_progress

MLP_FOR_ACTIVATION = {"silu": SwiGLUMLP, "relu2": Relu2MLP, "gelu_pytorch_tanh": GeluTanhMLP}
MOE_KEYS = ("num_local_experts", "num_experts", "n_routed_experts", "moe_num_experts")
LAYER_TYPES = ("full_attention", "sliding_attention")


def hidden_activation(config) -> str:
    """The MLP activation HF applies (Gemma's ``hidden_activation``, else ``hidden_act``)."""
    return getattr(config, "hidden_activation", None) or config.hidden_act


def check_blocks(config) -> None:
    """Raise ``UnsupportedModelError`` (one line naming the missing piece) unless the shared blocks can run
    ``config``'s architecture, whatever model file asks for it."""
    for key in MOE_KEYS:
        if getattr(config, key, None):
            raise UnsupportedModelError(f"mixture-of-experts ({key}={getattr(config, key)}) is not supported: "
                                        "the blocks have one dense MLP per layer")
    if hasattr(config, "vision_config"):
        raise UnsupportedModelError("a multimodal config (vision_config) is not supported: build the text model "
                                    "from its text_config")
    act = hidden_activation(config)
    if act not in MLP_FOR_ACTIVATION:
        blocks = ", ".join(MLP_FOR_ACTIVATION)
        raise UnsupportedModelError(f"hidden_act {act!r} is not supported (MLP blocks: {blocks})")
    check_rope(config)
    if getattr(config, "attention_bias", False):  # Qwen2's q/k/v biases are no config flag
        raise UnsupportedModelError("attention_bias=True is not supported (it biases o_proj too; q/k/v biases are)")
    if getattr(config, "mlp_bias", False):
        raise UnsupportedModelError("mlp_bias=True is not supported (the MLP blocks have no biases)")
    for key in ("attn_logit_softcapping", "final_logit_softcapping"):
        if getattr(config, key, None) is not None:
            raise UnsupportedModelError(f"{key}={getattr(config, key)} is not supported (no soft-capping op here)")
    if getattr(config, "use_bidirectional_attention", False):
        raise UnsupportedModelError("use_bidirectional_attention=True is not supported (the blocks are causal)")
    for kind in dict.fromkeys(getattr(config, "layer_types", None) or ()):
        if kind not in LAYER_TYPES:
            raise UnsupportedModelError(f"layer type {kind!r} is not supported (only {' and '.join(LAYER_TYPES)})")
    if config.num_attention_heads % config.num_key_value_heads:
        raise UnsupportedModelError("num_attention_heads must be a multiple of num_key_value_heads")
    if config.num_attention_heads > 32:  # a mesh splits the heads, but the n150 file of every model must work too
        raise UnsupportedModelError("more than 32 attention heads per device is not supported by the decode ops")
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    if head_dim % 2:  # other widths are padded for rotary_embedding (head_pad), but a head has two halves
        raise UnsupportedModelError(f"head_dim {head_dim} is not supported (rotate-half needs an even head_dim)")


def check_config(config, *, model_types, hidden_act, rope_types, qk_norm: bool = False) -> None:
    """Raise ``UnsupportedModelError`` (one line) unless the blocks can run ``config`` (``check_blocks``) and it is
    the architecture a model file supports: one of ``model_types``, activation ``hidden_act``, RoPE one of
    ``rope_types``."""
    check_blocks(config)
    if config.model_type not in model_types:
        expected = " or ".join(model_types)
        raise UnsupportedModelError(f"model_type {config.model_type!r} is not supported (expected {expected})")
    act = hidden_activation(config)
    if act != hidden_act:
        raise UnsupportedModelError(f"hidden_act {act!r} is not supported (expected {hidden_act!r})")
    check_rope(config, rope_types)


def layer_window(hf_attn, config, cache_len: int) -> int | None:
    """One layer's sliding window as HF applies it: the attention module's own ``sliding_window`` (Qwen2, Gemma-3:
    None on full-attention layers), else the config's on every layer (Mistral, Phi-3). None without one, or when it
    covers the whole cache (a window of at least ``cache_len`` positions hides nothing)."""
    window = hf_attn.sliding_window if hasattr(hf_attn, "sliding_window") else getattr(config, "sliding_window", None)
    return window if window is not None and window < cache_len else None


def build_decoder_lm(hf_model, device, max_seq_len: int, *, cache_cap: int, weight_dtype=ttnn.bfloat16,
                     embedding_dtype=ttnn.bfloat16, embedding_layout=ttnn.ROW_MAJOR_LAYOUT, lm_head_dtype=None,
                     qk_norm: bool = False, shard_kv: bool = False, data_parallel: bool = False) -> TTCausalLM:
    """Upload ``hf_model`` (an HF ``*ForCausalLM``) to ``device``; the cache holds ``min(max_seq_len, cache_cap)``.

    ``weight_dtype``: projections and MLP; ``lm_head_dtype`` defaults to it. ``qk_norm``: per-head RMSNorm of
    q and k (``self_attn.q_norm/k_norm``; also on whenever the attention module has them). ``shard_kv``:
    height-shard K/V (one head per core) before fill_cache. ``data_parallel``: on a mesh, a whole model per chip and
    32 users each (``DataParallel``) instead of one model split over the chips.
    Inside ``precision.overridden(...)`` the attention and MLP linears take the weight dtype and compute kernel
    config given there (see ``precision``).
    """
    config = hf_model.config
    mlp_class = MLP_FOR_ACTIVATION.get(hidden_activation(config))
    if mlp_class is None:
        raise UnsupportedModelError(f"hidden_act {hidden_activation(config)!r} has no MLP block here")
    cache_len = min(int(max_seq_len), int(cache_cap))
    staging = host_device(hf_model)
    tp = DataParallel(device) if data_parallel else TensorParallel(device)
    heads = tp.heads(config.num_attention_heads, config.num_key_value_heads)
    kv_heads = heads.kv_per_chip
    body = hf_model.model
    rope = RopeCache(config, round_up(cache_len), device, staging)
    # Gemma-3's local layers: HF's own copy of the config with the local base (rotary_emb_local.config).
    local = getattr(body, "rotary_emb_local", None)
    local_rope = RopeCache(local.config, round_up(cache_len), device, staging) if local is not None else None
    grid = kv_shard_grid(device, kv_heads) if shard_kv else None
    if shard_kv and grid is None:
        raise UnsupportedModelError(f"cannot shard {kv_heads} KV heads one per core on this device")
    attn_dtype, attn_config = for_class("attention", weight_dtype)
    mlp_dtype, mlp_config = for_class("mlp", weight_dtype)
    _, sdpa_config = for_class("sdpa", None)
    layers = []
    for hf_layer in layer_progress(body.layers):
        attn = hf_layer.self_attn
        cache = LayerKVCache(kv_heads, cache_len, device_head_dim(attn.head_dim), device, staging)
        norm = lambda name: RMSNorm.from_hf(getattr(hf_layer, name), device)  # noqa: E731
        sandwich = hasattr(hf_layer, "pre_feedforward_layernorm")
        layers.append(DecoderLayer(
            Attention(attn, config, device, cache, weight_dtype=attn_dtype,
                      qk_norm=qk_norm or hasattr(attn, "q_norm"), shard_kv_grid=grid, tp=tp,
                      sliding_window=layer_window(attn, config, cache_len), compute_kernel_config=attn_config,
                      sdpa_config=sdpa_config),
            mlp_class(hf_layer.mlp, device, mlp_dtype, tp, compute_kernel_config=mlp_config),
            norm("input_layernorm"),
            norm("pre_feedforward_layernorm" if sandwich else "post_attention_layernorm"),
            attn_out_norm=norm("post_attention_layernorm") if sandwich else None,
            mlp_out_norm=norm("post_feedforward_layernorm") if sandwich else None,
        ))
    # A tied lm_head is the embedding table, but the matmul wants it transposed and tiled: upload it again.
    # On a mesh it is column-parallel over the vocabulary, padded with zero columns to a multiple of the chips.
    head = hf_model.lm_head.weight
    return TTCausalLM(
        config, device,
        embed=embedding_weight(embedding_table(body.embed_tokens), device, embedding_dtype, embedding_layout),
        layers=layers,
        norm=RMSNorm.from_hf(body.norm, device),
        lm_head=tp.column(head, lm_head_dtype or weight_dtype, tp.padded(head.shape[0])),
        tp=tp,
        rope=rope,
        local_rope=local_rope,
        inputs=DecodeInputs(device, heads.q_per_chip, heads.kv_per_chip, staging, tp),
        max_cache_len=cache_len,
        generation_config=getattr(hf_model, "generation_config", None),
        host_device=staging,
    )


def embedding_table(embed_tokens):
    """The table whose rows are what the HF embedding module returns: Gemma's scaled embedding multiplies by
    ``embed_scale`` (sqrt(hidden), in the weight's dtype as HF does), folded into the table so no op runs for it."""
    scale = getattr(embed_tokens, "embed_scale", None)
    weight = embed_tokens.weight.detach()
    return weight if scale is None else weight * scale.to(weight.dtype).to(weight.device)
