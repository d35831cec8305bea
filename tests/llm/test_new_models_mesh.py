"""The new architectures' tiny random checkpoints tensor-parallel on emulated meshes (n300 1x2, T3000 2x4) against
HF: the same ``check_config`` + ``build_decoder_lm`` as on one chip, logits PCC >= 0.99 at every prompt position and
for the decode steps. On 2x4 the KV heads are fewer than the chips (replicated, query groups padded with zero heads),
so the q/k/v biases, the padded head_dim and the per-layer RoPE go through the zero-padded head plans too. And
data-parallel on 1x2 (a whole model per chip), a user on each chip.

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


@pytest.mark.parametrize("arch", NEW_ARCHS)
@torch.no_grad()
def test_data_parallel_users_on_both_chips_match_hf(arch):
    """``data_parallel=True`` on 1x2: a whole model per chip (weights and biases replicated); user 0 on chip 0 and
    user 32 on chip 1, each with its own prompt, both against HF."""
    hf = tiny(arch)
    prompts = [token_ids(hf, PROMPT + DECODE_STEPS, seed=s) for s in (3, 4)]
    refs = [cached_logits(hf, ids, PROMPT) for ids in prompts]
    with opened_device(ttnn, (1, 2)) as mesh:
        tt = build(arch, mesh, data_parallel=True)
        ids = torch.zeros(33, PROMPT + DECODE_STEPS, dtype=torch.long)
        mask = torch.zeros(33, PROMPT + DECODE_STEPS, dtype=torch.long)
        for user, prompt in zip((0, 32), prompts):
            ids[user], mask[user] = prompt[0], 1
        out = tt(ids[:, :PROMPT], attention_mask=mask[:, :PROMPT])
        logits = [out.logits]
        for i in range(PROMPT, PROMPT + DECODE_STEPS):
            out = tt(ids[:, i:i + 1], past_key_values=out.past_key_values, attention_mask=mask[:, :i + 1])
            logits.append(out.logits)
    got = torch.cat(logits, dim=1)
    for user, ref in zip((0, 32), refs):
        assert_logits_match(got[user], ref)
