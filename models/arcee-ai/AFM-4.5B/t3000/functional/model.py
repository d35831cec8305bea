"""arcee-ai/AFM-4.5B on a T3000 (eight Wormhole chips as a 2x4 mesh, 12 GB each), tensor-parallel.

20 query / 4 KV heads do not divide over 8 chips: each KV head is replicated on 2 chips, which split its group of
5 query heads as 3 + 2 plus one zero head (``ttbringup.llm.parallel.head_plan``; 24 head slots, 3 per chip; the zero
head's o_proj rows are zero, so it adds nothing). The vocabulary (128004) is padded to 128008 columns for an even
split; the padding logits are dropped on the host. The extra chips buy precision and context: bfloat16 weights and
an 8192-token cache (n150: bfloat8_b, 2048).
"""

import ttnn

from ttbringup.llm import build_decoder_lm, check_config

MESH_SHAPE = (2, 4)
EMBEDDING_DTYPE, EMBEDDING_LAYOUT = ttnn.bfloat16, ttnn.TILE_LAYOUT
WEIGHT_DTYPE = ttnn.bfloat16
MAX_CACHE_LEN = 8192  # tokens; the per-chip memory plan in MODEL_BRINGUP.md shows what this costs


def build_model(hf_model, tt_device, max_seq_len):
    check_config(hf_model.config, model_types=("arcee",), hidden_act="relu2", rope_types=("yarn",))
    return build_decoder_lm(
        hf_model, tt_device, max_seq_len,
        cache_cap=MAX_CACHE_LEN,
        weight_dtype=WEIGHT_DTYPE,
        embedding_dtype=EMBEDDING_DTYPE, embedding_layout=EMBEDDING_LAYOUT,
    )
