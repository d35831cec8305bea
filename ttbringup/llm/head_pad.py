"""Heads padded to a width ``rotary_embedding`` takes (Phi-3's head_dim 96 -> 128), done at upload.

``ttnn.experimental.rotary_embedding`` needs a head width of 32 or a multiple of 64: the rotate-half midpoint must
fall on a tile boundary (shared/docs/ttnn-op-facts.md 2.4). A head of another even width ``d`` is laid out on the
device ``w = device_head_dim(d)`` wide, each half padded to ``w / 2``::

    [x_0 .. x_{d/2-1}, 0 ... 0, x_{d/2} .. x_{d-1}, 0 ... 0]

so rotate-half still pairs ``x_i`` with ``x_{i+d/2}`` and the zero columns pair with each other. The q/k/v
projection rows are rearranged this way (zero rows for the padding), the o_proj input columns likewise (zero
columns), and the cos/sin tables are padded with cos 1 and sin 0: the padding stays 0 through RoPE, adds 0 to
every q.k dot product, and attends to 0 values, so the attention output is HF's with zero columns in between.
The softmax scale is the HF module's (1/sqrt(d), not 1/sqrt(w)). The KV cache holds ``w`` columns per head.
"""

from __future__ import annotations

import torch

PAD = -1  # a padded (all-zero) row or column


def device_head_dim(head_dim: int) -> int:
    """``head_dim`` when rotary_embedding takes it (32 or a multiple of 64), else rounded up to a multiple of 64."""
    return head_dim if head_dim == 32 or head_dim % 64 == 0 else -(-head_dim // 64) * 64


def padded_positions(head_dim: int) -> list[int]:
    """For each of the ``device_head_dim(head_dim)`` device columns of one head, its HF column, or ``PAD``."""
    half, pad = head_dim // 2, (device_head_dim(head_dim) - head_dim) // 2
    return list(range(half)) + [PAD] * pad + list(range(half, head_dim)) + [PAD] * pad


def pad_table(table: torch.Tensor, fill: float) -> torch.Tensor:
    """A ``[..., head_dim]`` cos or sin table in the device layout, the padding set to ``fill``."""
    head_dim = table.shape[-1]
    if device_head_dim(head_dim) == head_dim:
        return table
    half, pad = head_dim // 2, (device_head_dim(head_dim) - head_dim) // 2
    filler = torch.full((*table.shape[:-1], pad), fill, dtype=table.dtype)
    return torch.cat([table[..., :half], filler, table[..., half:], filler], dim=-1)
