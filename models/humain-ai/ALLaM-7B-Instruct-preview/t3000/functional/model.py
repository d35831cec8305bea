"""humain-ai/ALLaM-7B-Instruct-preview on a T3000 (eight Wormhole chips as a 2x4 mesh, 12 GB each), tensor-parallel.

The n150 blocks split over all eight chips (``ttbringup.llm.parallel``): 4 of the 32 heads (query and KV) per chip.
The extra chips buy both precision and context: bfloat16 weights everywhere and the config's whole 4096-token
context in the cache (the n150 bringup: bfloat8_b weights and 256 tokens). K/V are height-sharded one head per
core before ``fill_cache`` as on n150 (4 cores now).
"""

import ttnn

from ttbringup.llm import build_decoder_lm, check_config

MESH_SHAPE = (2, 4)
EMBEDDING_DTYPE, EMBEDDING_LAYOUT = ttnn.bfloat16, ttnn.TILE_LAYOUT
WEIGHT_DTYPE = ttnn.bfloat16
MAX_CACHE_LEN = 4096  # tokens; the per-chip memory plan in MODEL_BRINGUP.md shows what this costs
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
