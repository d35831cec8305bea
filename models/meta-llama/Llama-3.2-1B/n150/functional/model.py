"""meta-llama/Llama-3.2-1B on one n150 (Wormhole, 12 GB).

What is special: llama3 RoPE frequency scaling (factor 32, read from the config by transformers' own init
function); tied embeddings (the lm_head is the embedding table, uploaded a second time transposed and tiled);
GQA 32 query / 8 KV heads of head_dim 64. Everything in bfloat16; the embedding table stays ROW_MAJOR.
"""

import ttnn

from ttbringup.llm import build_decoder_lm, check_config

EMBEDDING_DTYPE, EMBEDDING_LAYOUT = ttnn.bfloat16, ttnn.ROW_MAJOR_LAYOUT
WEIGHT_DTYPE = ttnn.bfloat16
MAX_CACHE_LEN = 4096  # tokens; the memory plan in MODEL_BRINGUP.md shows what this costs


def build_model(hf_model, tt_device, max_seq_len):
    check_config(hf_model.config, model_types=("llama",), hidden_act="silu", rope_types=("llama3", "default"))
    return build_decoder_lm(
        hf_model, tt_device, max_seq_len,
        cache_cap=MAX_CACHE_LEN,
        weight_dtype=WEIGHT_DTYPE,
        embedding_dtype=EMBEDDING_DTYPE, embedding_layout=EMBEDDING_LAYOUT,
    )
