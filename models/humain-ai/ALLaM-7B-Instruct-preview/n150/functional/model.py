"""humain-ai/ALLaM-7B-Instruct-preview on one n150 (Wormhole, 12 GB).

What is special: a Llama-2-7B-shaped model with full multi-head attention (32 KV heads), so the KV cache is four
times a GQA model's: 16 MiB per cached position for the 32-row decode batch. To fit 12 GB the weights, the
untied lm_head and the embedding table (TILE) are bfloat8_b, and the cache is capped at 256 tokens. K/V are
height-sharded one head per core before ``fill_cache``: 0.81.1 does not need it, but older tt-metal builds
cap an interleaved fill at n_kv_heads * S_pad / 32 <= cores (S <= 64 with 32 heads), and the copy is cheap.
"""

import ttnn

from ttbringup.llm import build_decoder_lm, check_config

EMBEDDING_DTYPE, EMBEDDING_LAYOUT = ttnn.bfloat8_b, ttnn.TILE_LAYOUT
WEIGHT_DTYPE = ttnn.bfloat8_b
MAX_CACHE_LEN = 256  # tokens; 4096 (the config's context) would need 64 GiB of cache
SHARD_KV = True


def build_model(hf_model, tt_device, max_seq_len):
    check_config(hf_model.config, model_types=("llama",), hidden_act="silu", rope_types=("default",))
    return build_decoder_lm(
        hf_model, tt_device, max_seq_len,
        cache_cap=MAX_CACHE_LEN,
        weight_dtype=WEIGHT_DTYPE,
        embedding_dtype=EMBEDDING_DTYPE, embedding_layout=EMBEDDING_LAYOUT,
        shard_kv=SHARD_KV,
    )
