"""The HF reference for a bringup's block-float weights: the same model with every weight rounded to the dtype the
bringup holds it in, so a check against it measures the bringup, not what the dtype costs.

Why (bfloat8_b weights, ``ttbringup new``'s check on each of the nine architectures' tiny random checkpoints): HF
itself, in float32 on bfloat8_b-rounded weights, gives min logits PCC 0.989 (Phi-3-mini-128k) and 0.990 (gemma-3-4b)
against HF on the saved weights, below the check's 0.99; the emulated bringups give 0.988 / 0.989 there (the seven
others 0.9969-0.9997) but >= 0.9965 against the rounded HF, all nine. The threshold against the unrounded HF would
reject correct files for their dtype. (Phi-3's extra loss is LongRoPE's attention factor, 1.19 on cos and sin:
with it at 1, i.e. a context of 4096, the rounded HF gives 0.995.)
A dtype's cost, however large (bfloat4_b on Falcon3-7B's: 0.73 against the unrounded HF, 0.9997 against the
rounded one), then no longer fails the check: ``new`` reports it beside the check and notes it under 0.99.

``held_reference(hf, choice)``: a float32 copy of ``hf`` where the decoder layers' linears take ``choice.weight``,
``lm_head`` takes ``choice.lm_head or choice.weight`` and the embedding table ``choice.embedding`` (a tied
lm_head is untied first: the device holds two copies). Each value goes through ``ttnn.from_torch`` /
``ttnn.to_torch`` on the host in the layout the blocks upload it in (``weights.linear_weight``: ``[in, out]``
TILE; the embedding ``[vocab, hidden]`` TILE), so block-float values share their exponents with the same
neighbours as on the device. ``None`` when the choice holds everything in bfloat16 (the checkpoint is bf16).
"""

from __future__ import annotations

import copy

import torch
import ttnn

from .memory import Choice


def _held(values: torch.Tensor, dtype) -> torch.Tensor:
    t = ttnn.from_torch(values.reshape(1, 1, *values.shape).contiguous(), dtype=dtype, layout=ttnn.TILE_LAYOUT)
    return ttnn.to_torch(t).reshape(values.shape).float()


def rounds(choice: Choice) -> bool:
    """Whether ``choice`` holds any weight in a dtype other than bfloat16."""
    return any(d not in (None, ttnn.bfloat16) for d in (choice.weight, choice.embedding, choice.lm_head))


@torch.no_grad()
def held_reference(hf, choice: Choice):
    """See the module docstring."""
    if not rounds(choice):
        return None
    held = copy.deepcopy(hf).float().eval()
    embed, head = held.get_input_embeddings(), held.get_output_embeddings()
    if head.weight is embed.weight:
        head.weight = torch.nn.Parameter(embed.weight.detach().clone())
    for layer in held.model.layers:
        for linear in (m for m in layer.modules() if isinstance(m, torch.nn.Linear)):
            linear.weight.copy_(_held(linear.weight.T, choice.weight).T)
    head.weight.copy_(_held(head.weight.T, choice.lm_head or choice.weight).T)
    embed.weight.copy_(_held(embed.weight, choice.embedding))
    return held
