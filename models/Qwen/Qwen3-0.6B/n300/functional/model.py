"""Qwen/Qwen3-0.6B on an n300 (two Wormhole chips as a 1x2 mesh, 12 GB each), tensor-parallel.

The n150 blocks split over both chips (``ttbringup.llm.parallel``): 8 query / 4 KV heads per chip (q/k norms
replicated, they are per head), gate/up and the vocabulary column-parallel, o_proj/down_proj row-parallel with an
all_reduce. The second chip buys context: 4096 cached tokens instead of 2048.
"""

import ttnn

from ttbringup.llm import build_decoder_lm, check_config

MESH_SHAPE = (1, 2)
EMBEDDING_DTYPE, EMBEDDING_LAYOUT = ttnn.bfloat16, ttnn.ROW_MAJOR_LAYOUT
WEIGHT_DTYPE = ttnn.bfloat16
MAX_CACHE_LEN = 4096  # tokens; the per-chip memory plan in MODEL_BRINGUP.md shows what this costs


def build_model(hf_model, tt_device, max_seq_len):
    check_config(hf_model.config, model_types=("qwen3",), hidden_act="silu", rope_types=("default",))
    return build_decoder_lm(
        hf_model, tt_device, max_seq_len,
        cache_cap=MAX_CACHE_LEN,
        weight_dtype=WEIGHT_DTYPE,
        embedding_dtype=EMBEDDING_DTYPE, embedding_layout=EMBEDDING_LAYOUT,
        qk_norm=True,
    )
