"""humain-ai/ALLaM-7B-Instruct-preview on an n300 (two Wormhole chips as a 1x2 mesh, 12 GB each), tensor-parallel.

The n150 blocks split over both chips (``ttbringup.llm.parallel``): 16 of the 32 heads (query and KV) per chip.
The second chip buys precision: every weight, the lm_head and the embedding table in bfloat16 (the n150 bringup
needs bfloat8_b to fit at all), still with the n150's 256-token cache. K/V are height-sharded one head per core
before ``fill_cache`` as on n150 (16 cores now).
"""

import ttnn

from ttbringup.llm import build_decoder_lm, check_config

MESH_SHAPE = (1, 2)
EMBEDDING_DTYPE, EMBEDDING_LAYOUT = ttnn.bfloat16, ttnn.TILE_LAYOUT
WEIGHT_DTYPE = ttnn.bfloat16
MAX_CACHE_LEN = 256  # tokens; the per-chip memory plan in MODEL_BRINGUP.md shows what this costs
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
