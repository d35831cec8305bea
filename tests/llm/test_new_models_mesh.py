"""The new architectures' tiny random checkpoints tensor-parallel on emulated meshes (n300 1x2, T3000 2x4) against
HF: the same ``check_config`` + ``build_decoder_lm`` as on one chip, logits PCC >= 0.99 at every prompt position and
for the decode steps. On 2x4 the KV heads are fewer than the chips (replicated, query groups padded with zero heads),
so the q/k/v biases, the padded head_dim and the per-layer RoPE go through the zero-padded head plans too.

A separate module from test_new_models.py: its module-wide single device would hold the chips a mesh needs.
"""

import pytest
import torch

import ttnn
from test_new_models import PROMPT, assert_logits_match, build, cached_logits, tiny, token_ids
from tiny_archs import NEW_ARCHS
from ttbringup.evaluation.device import opened_device

DECODE_STEPS = 8


@pytest.mark.parametrize("mesh_shape", [(1, 2), (2, 4)], ids=["n300", "t3000"])
@pytest.mark.parametrize("arch", NEW_ARCHS)
@torch.no_grad()
def test_tensor_parallel_logits_match_hf(arch, mesh_shape):
    hf = tiny(arch)
    ids = token_ids(hf, PROMPT + DECODE_STEPS)
    ref = cached_logits(hf, ids, PROMPT)
    with opened_device(ttnn, mesh_shape) as mesh:
        got = cached_logits(build(arch, mesh), ids, PROMPT)
    assert_logits_match(got, ref)
