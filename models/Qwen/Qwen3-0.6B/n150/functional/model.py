"""Qwen/Qwen3-0.6B on one n150 (Wormhole, 12 GB).

What is special: per-head RMSNorm of q and k before RoPE (``self_attn.q_norm/k_norm``, weight of size head_dim);
head_dim 128 with hidden 1024, so 16 heads x 128 = 2048 is wider than the hidden size; tied embeddings; plain RoPE
(theta 1e6). Everything in bfloat16; the embedding table stays ROW_MAJOR. Sliding window is off in this config
and not supported.
"""

import ttnn

from ttbringup.llm import build_decoder_lm, check_config

EMBEDDING_DTYPE, EMBEDDING_LAYOUT = ttnn.bfloat16, ttnn.ROW_MAJOR_LAYOUT
WEIGHT_DTYPE = ttnn.bfloat16
MAX_CACHE_LEN = 2048  # tokens; the memory plan in MODEL_BRINGUP.md shows what this costs


def build_model(hf_model, tt_device, max_seq_len):
    check_config(hf_model.config, model_types=("qwen3",), hidden_act="silu", rope_types=("default",))
    return build_decoder_lm(
        hf_model, tt_device, max_seq_len,
        cache_cap=MAX_CACHE_LEN,
        weight_dtype=WEIGHT_DTYPE,
        embedding_dtype=EMBEDDING_DTYPE, embedding_layout=EMBEDDING_LAYOUT,
        qk_norm=True,
    )
