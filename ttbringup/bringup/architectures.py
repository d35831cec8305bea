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
}

# model_type -> the block it still lacks (issue 15 item 3); a refusal names it.
MISSING_BLOCKS = {
    "mistral": "a table entry checked against HF (Llama-shaped, sliding_window off)",
    "qwen2": "q/k/v attention biases (Qwen2)",
    "phi3": "fused qkv_proj / gate_up_proj weights and LongRoPE scaling (Phi-3)",
    "gemma3_text": "Gemma-3 blocks: sandwich norms, (1 + w) RMSNorm, scaled embeddings, GELU-tanh MLP, q/k norm, "
                   "sliding-window layers with their own RoPE base",
    "gemma3": "Gemma-3 blocks (and only the text model of a gemma3 checkpoint)",
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
