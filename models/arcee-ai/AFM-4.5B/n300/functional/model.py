"""arcee-ai/AFM-4.5B on an n300 (two Wormhole chips as a 1x2 mesh, 12 GB each), tensor-parallel.

The n150 blocks split over both chips (``ttbringup.llm.parallel``): 10 query / 2 KV heads per chip, the relu2
MLP's up column-parallel (9216 columns each) and down row-parallel with an all_reduce, the vocabulary split in two.
The second chip buys precision: weights, lm_head and embedding table in bfloat16 (n150: bfloat8_b), cache 2048.
"""

import ttnn

from ttbringup.llm import build_decoder_lm, check_config

MESH_SHAPE = (1, 2)
EMBEDDING_DTYPE, EMBEDDING_LAYOUT = ttnn.bfloat16, ttnn.TILE_LAYOUT
WEIGHT_DTYPE = ttnn.bfloat16
MAX_CACHE_LEN = 2048  # tokens; the per-chip memory plan in MODEL_BRINGUP.md shows what this costs


def build_model(hf_model, tt_device, max_seq_len):
    check_config(hf_model.config, model_types=("arcee",), hidden_act="relu2", rope_types=("yarn",))
    return build_decoder_lm(
        hf_model, tt_device, max_seq_len,
        cache_cap=MAX_CACHE_LEN,
        weight_dtype=WEIGHT_DTYPE,
        embedding_dtype=EMBEDDING_DTYPE, embedding_layout=EMBEDDING_LAYOUT,
    )
