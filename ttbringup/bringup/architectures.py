"""Which shared blocks (``ttbringup.llm``) an HF config needs, one table entry per ``model_type``.

``ARCHITECTURES[model_type]`` says what a generated ``model.py`` passes to ``check_config`` and to
``build_decoder_lm`` for that family, and what its ``MODEL_BRINGUP.md`` says is special and which traps it is
known for. Supporting a new family once its blocks exist in ``ttbringup.llm`` is one more entry (and the keyword
its block adds to ``build_decoder_lm`` in ``build_flags``). Families still missing a block are listed in
``MISSING_BLOCKS`` so the refusal names the piece, not just the model type.

``architecture_of(config)`` returns the entry or raises ``UnsupportedModelError`` with one line naming what is
missing; every other limit of the blocks is ``check_config``'s to refuse.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ttbringup.llm import UnsupportedModelError, check_config

# Traps every bringup on the shared blocks meets (from the seeds' MODEL_BRINGUP.md "Traps met on the way").
COMMON_TRAPS = (
    "transformers >= 4.54 `generate()` hands the model an empty `DynamicCache` on its first call; treating any cache "
    "as \"prompt already consumed\" silently drops the prompt. Only our own live `TTCache` continues a sequence.",
    "`rotary_embedding` in decode rotates whole padded tiles: q/k as `[1, 32, heads, hd]` with heads < 32 come back "
    "with 32 logical heads; the blocks merge to `[1, 1, 32 * heads, hd]` around the op.",
    "The decode batch is 32 rows, one user each, and the cache has the same 32 rows: a single-user run leaves 31 "
    "rows idle, so 31/32 of the KV memory then sits unused.",
    "On the shared 2-core machines torch's default 2 threads made each small emulated matmul ~100x slower; run "
    "tests with `torch.set_num_threads(1)`.",
)


@dataclass(frozen=True)
class Architecture:
    """One model family the blocks cover.

    ``hidden_act``: the activation its MLP block implements. ``build_flags``: extra ``build_decoder_lm`` keywords
    (``{"qk_norm": True}``). ``special``: what MODEL_BRINGUP.md lists under "What is special" (markdown).
    ``traps``: traps known for this family beyond ``COMMON_TRAPS``.
    """

    model_type: str
    hidden_act: str
    build_flags: dict = field(default_factory=dict)
    special: tuple[str, ...] = ()
    traps: tuple[str, ...] = ()


ARCHITECTURES = {
    "llama": Architecture(
        "llama", "silu",
        special=("Llama decoder: pre-norm RMSNorm, SwiGLU MLP (`SwiGLUMLP`), RoPE from transformers' own "
                 "`ROPE_INIT_FUNCTIONS`, so llama3 frequency scaling comes out as HF's bit for bit.",),
        traps=("Tied embeddings: the device needs the table twice (ROW_MAJOR `[V, H]` for the lookup, TILE `[H, V]` "
               "for the lm_head matmul), so a tied model pays for its embedding table twice.",),
    ),
    "qwen3": Architecture(
        "qwen3", "silu", build_flags={"qk_norm": True},
        special=("**q/k RMSNorm per head** before RoPE (`self_attn.q_norm` / `k_norm`, weight of size head_dim): "
                 "`qk_norm=True`.",
                 "head_dim is set by the config, not hidden/heads: the attention width may exceed the hidden size.",),
        traps=("`nlp_create_qkv_heads_decode` returns L1 height-sharded heads: rms_norm refuses height sharding, so "
               "q/k go to DRAM for the q/k norm and k goes back to the per-user sharding for `paged_update_cache`.",
               "Sliding window must stay off (`use_sliding_window`); `check_config` refuses it."),
    ),
    "arcee": Architecture(
        "arcee", "relu2",
        special=("**relu² MLP without a gate**: `down(relu(up(x))²)` (`Relu2MLP`).",),
        traps=("YaRN frequencies depend on the transformers version (from 4.56 the explicit factor is used); the "
               "pinned 4.57.6 and YaRN's attention factor multiplied into cos and sin match HF.",),
    ),
    "mistral": Architecture(
        "mistral", "silu",
        special=("Llama-shaped decoder (pre-norm RMSNorm, SwiGLU MLP, default RoPE); what differs is the "
                 "config-level `sliding_window`, which HF applies on every layer and the SDPA ops' "
                 "`sliding_window_size` applies when the window is shorter than the cache.",),
        traps=("Mistral-7B-v0.1 has `sliding_window: 4096`, v0.2/v0.3 `null`: a v0.1-style cache longer than the "
               "window matches HF only because every layer gets the window, in prefill and decode alike.",
               "The window is a mask, not a ring buffer: the cache still holds every position, so the KV memory is "
               "that of full attention."),
    ),
    "qwen2": Architecture(
        "qwen2", "silu",
        special=("**Biases on q/k/v** (none on o_proj), read from the HF modules and added after the projections.",
                 "A sliding window only with `use_sliding_window: true`, and then on the layers HF gives one "
                 "(`max_window_layers`): the attention module's own `sliding_window` decides.",),
        traps=("The q/k/v biases are no config flag (`attention_bias` does not exist for Qwen2): a config cannot "
               "tell they are there, only the checkpoint's modules can.",
               "`sliding_window` is set (131072) even when `use_sliding_window` is false: take the window from the "
               "attention module, not the config, or every layer gets one it does not have.",
               "HF initialises biases to zero, which would hide a dropped bias: the blocks' tests randomise them."),
    ),
    "phi3": Architecture(
        "phi3", "silu",
        special=("**Fused `qkv_proj` and `gate_up_proj`** weights, split into q/k/v and gate/up at upload.",
                 "**LongRoPE** (`rope_scaling` type `longrope`, legacy `su`): short factors up to "
                 "`original_max_position_embeddings`, long factors past it, and the attention factor "
                 "`sqrt(1 + ln(max / orig) / ln(orig))` in cos and sin.",
                 "head_dim 96, which `rotary_embedding` cannot take: heads and cache are padded to 128 at upload "
                 "(`head_pad`), so the KV cache costs 128/96 of the unpadded one.",),
        traps=("HF applies the long factors to the whole sequence once it is longer than the original context: a "
               "prompt past the switch is rotated with long factors from position 0, and decode changes tables "
               "when the sequence crosses it; check a prompt on each side of the switch.",
               "A reference that runs HF once over prompt + generated tokens is not what HF's own decode computes "
               "past the switch (the one pass rotates every position with long factors): compare with HF's "
               "incremental decode, or keep the check below the switch as `ttbringup new`'s 72 tokens are.",
               "The padded head lanes must stay zero through RoPE (cos 1, sin 0 there) or they leak into the "
               "attention scores; the softmax scale stays 1/sqrt(96), not 1/sqrt(128).",
               "`sliding_window` (262144) is longer than any cache here: it hides nothing.",
               "Full multi-head attention (32 KV heads): per token the KV cache costs 4x a GQA-8 model's of the "
               "same width."),
    ),
    "gemma3_text": Architecture(
        "gemma3_text", "gelu_pytorch_tanh", build_flags={"qk_norm": True},
        special=("**(1 + w) RMSNorm** everywhere (the stored gain is an offset around 0), **sandwich norms** "
                 "(post-attention and pre/post-feedforward norms) and **embeddings scaled by sqrt(hidden)**.",
                 "**GELU-tanh gated MLP** (`GeluTanhMLP`) and **q/k RMSNorm** per head: `qk_norm=True`.",
                 "Attention scale `query_pre_attn_scalar ** -0.5`, not head_dim's.",
                 "**Interleaved sliding-window and global layers** (`layer_types`): local layers use "
                 "`sliding_window` and their own RoPE base `rope_local_base_freq` without scaling, global ones "
                 "`rope_theta` with the config's scaling; two RoPE tables on the device.",),
        traps=("Only the text model: a `gemma3` checkpoint nests it as `text_config`; bring that up as a "
               "`gemma3_text` config (a config with `vision_config` is refused).",
               "The local layers differ from global ones only past the window: a check whose prompt is shorter than "
               "`sliding_window` cannot see a wrong window.",
               "Tied embeddings over a 262k vocabulary: the table is on the device twice (lookup and lm_head)."),
    ),
}

# model_type -> the block it still lacks (issue 15 item 3); a refusal names it.
MISSING_BLOCKS = {
    "gemma3": "the vision tower of a multimodal Gemma-3 (the blocks cover its text model: pass its text_config as a "
              "gemma3_text config)",
}

# Config keys that mean a mixture-of-experts MLP (Mixtral, Qwen-MoE, DeepSeek, ...).
MOE_KEYS = ("num_local_experts", "num_experts", "n_routed_experts", "moe_num_experts")


def _experts(config) -> tuple[str, int] | None:
    for key in MOE_KEYS:
        value = getattr(config, key, None)
        if isinstance(value, int) and value > 1:
            return key, value
    return None


def architecture_of(config) -> Architecture:
    """The table entry for ``config``; ``UnsupportedModelError`` naming what is missing when there is none,
    or when ``check_config`` refuses something the family's blocks do not do."""
    experts = _experts(config)
    if experts:
        raise UnsupportedModelError(f"mixture-of-experts MLP ({experts[0]}={experts[1]}) is not covered by the blocks "
                                    f"(they have one dense MLP per layer)")
    kind = getattr(config, "model_type", None)
    arch = ARCHITECTURES.get(kind)
    if arch is None:
        missing = MISSING_BLOCKS.get(kind)
        if missing:
            raise UnsupportedModelError(f"model_type {kind!r} needs {missing}, which ttbringup.llm does not have yet")
        raise UnsupportedModelError(f"model_type {kind!r} is not covered by the blocks "
                                    f"(covered: {', '.join(sorted(ARCHITECTURES))})")
    from ttbringup.llm.rope import check_rope

    check_rope(config)  # a file accepts its config's own RoPE type, so the blocks' list decides here
    check_config(config, **check_config_args(arch, config))
    return arch


def build_flags(arch: Architecture, config) -> dict:
    """The ``build_decoder_lm`` keywords beyond dtypes and cache: the family's, plus ``shard_kv`` for full
    multi-head attention. The ALLaM seed shards its 32 K/V heads one per core before ``fill_cache`` for older
    tt-metal builds, whose interleaved fill is capped at n_kv_heads x S_pad / 32 <= 64 cores (64 tokens with 32
    heads); without GQA that limit bites at the shortest prompts."""
    flags = dict(arch.build_flags)
    if config.num_key_value_heads == config.num_attention_heads:
        flags["shard_kv"] = True
    return flags


def check_config_args(arch: Architecture, config) -> dict:
    """The keywords a generated model.py passes to ``check_config``: the family, its activation, and the config's
    own RoPE type (a file accepts the RoPE it was generated for)."""
    from ttbringup.llm import rope_type

    return {"model_types": (arch.model_type,), "hidden_act": arch.hidden_act, "rope_types": (rope_type(config),)}
