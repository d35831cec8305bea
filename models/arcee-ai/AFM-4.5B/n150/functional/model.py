"""arcee-ai/AFM-4.5B on one n150 (Wormhole, 12 GB).

What is special: the MLP has no gate, ``down(relu(up(x))**2)`` ("relu2", intermediate 18432); YaRN RoPE
(factor 20 over 4096 original positions) whose attention factor scales cos/sin exactly as transformers does;
GQA 20 query / 4 KV heads of head_dim 128; untied lm_head. Weights, lm_head and the embedding table (TILE) are
bfloat8_b so the 4.6B parameters take ~4.9 GB; the cache is capped at 2048 tokens.
"""

import ttnn

from ttbringup.llm import build_decoder_lm, check_config

EMBEDDING_DTYPE, EMBEDDING_LAYOUT = ttnn.bfloat8_b, ttnn.TILE_LAYOUT
WEIGHT_DTYPE = ttnn.bfloat8_b
MAX_CACHE_LEN = 2048  # tokens; the memory plan in MODEL_BRINGUP.md shows what this costs


def build_model(hf_model, tt_device, max_seq_len):
    check_config(hf_model.config, model_types=("arcee",), hidden_act="relu2", rope_types=("yarn",))
    return build_decoder_lm(
        hf_model, tt_device, max_seq_len,
        cache_cap=MAX_CACHE_LEN,
        weight_dtype=WEIGHT_DTYPE,
        embedding_dtype=EMBEDDING_DTYPE, embedding_layout=EMBEDDING_LAYOUT,
    )
