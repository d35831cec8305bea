"""Qwen/Qwen3-0.6B on a T3000 (eight Wormhole chips as a 2x4 mesh, 12 GB each), tensor-parallel.

The n150 blocks split over all eight chips (``ttbringup.llm.parallel``): 2 query heads and 1 KV head per chip,
gate/up (384 columns each) and the vocabulary (18992 columns each) column-parallel, o_proj/down_proj row-parallel
with one all_reduce over the mesh. The extra chips buy context: a 16384-token cache (8x the n150 cap).
"""

import ttnn

from ttbringup.llm import build_decoder_lm, check_config

MESH_SHAPE = (2, 4)
EMBEDDING_DTYPE, EMBEDDING_LAYOUT = ttnn.bfloat16, ttnn.ROW_MAJOR_LAYOUT
WEIGHT_DTYPE = ttnn.bfloat16
MAX_CACHE_LEN = 16384  # tokens; the per-chip memory plan in MODEL_BRINGUP.md shows what this costs


def build_model(hf_model, tt_device, max_seq_len):
    check_config(hf_model.config, model_types=("qwen3",), hidden_act="silu", rope_types=("default",))
    return build_decoder_lm(
        hf_model, tt_device, max_seq_len,
        cache_cap=MAX_CACHE_LEN,
        weight_dtype=WEIGHT_DTYPE,
        embedding_dtype=EMBEDDING_DTYPE, embedding_layout=EMBEDDING_LAYOUT,
        qk_norm=True,
    )
