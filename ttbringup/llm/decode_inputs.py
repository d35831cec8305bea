"""The decode step's inputs as persistent device tensors, written from the host before each step.

A traced decode replays on the buffers fixed at its capture, so whatever changes from step to step must live in
device tensors that persist across steps and get new contents with ``copy_host_to_device_tensor`` (a host write,
done before the step, never inside it):

* ``ids``: the 32 users' token ids, ``[1, 1, 1, 32]`` uint32;
* ``cur_pos``: their positions, ``[32]`` int32, -1 for an idle user (the cache ops and SDPA decode skip it);
* ``q_rows`` / ``k_rows``: the rotary table row of every (user, head) row of q and of k, ``[1, 1, 1, 32 * heads]``
  uint32 (an idle user reads row 0), from which the rotation is looked up on the device
  (:meth:`RopeCache.decode_rows`).

Nothing in the step then depends on a host-side position, so it runs eagerly or traced alike.
"""

from __future__ import annotations

import torch
import ttnn

from .kv_cache import CACHE_BATCH


class DecodeInputs:
    """Persistent decode inputs on ``device`` for ``n_heads`` / ``n_kv_heads`` heads per chip."""

    def __init__(self, device, n_heads: int, n_kv_heads: int, host_device="cpu"):
        self.n_heads, self.n_kv_heads = n_heads, n_kv_heads
        self.ids = _persistent(torch.zeros(1, 1, 1, CACHE_BATCH, dtype=torch.int32), ttnn.uint32, device, host_device)
        self.cur_pos = _persistent(torch.full((CACHE_BATCH,), -1, dtype=torch.int32), ttnn.int32, device, host_device)
        self.q_rows = _persistent(torch.zeros(1, 1, 1, CACHE_BATCH * n_heads, dtype=torch.int32), ttnn.uint32,
                                  device, host_device)
        self.k_rows = _persistent(torch.zeros(1, 1, 1, CACHE_BATCH * n_kv_heads, dtype=torch.int32), ttnn.uint32,
                                  device, host_device)

    def write(self, tokens: list[int], positions: list[int]) -> None:
        """Set the step's inputs: one token and one position per user (32 each; position -1 = idle)."""
        if len(tokens) != CACHE_BATCH or len(positions) != CACHE_BATCH:
            raise ValueError(f"a decode step takes {CACHE_BATCH} tokens and positions, got {len(tokens)} and "
                             f"{len(positions)}")
        pos = torch.tensor(positions, dtype=torch.int32)
        rows = pos.clamp(min=0)
        _copy(torch.tensor(tokens, dtype=torch.int32).reshape(1, 1, 1, -1), ttnn.uint32, self.ids)
        _copy(pos, ttnn.int32, self.cur_pos)
        _copy(rows.repeat_interleave(self.n_heads).reshape(1, 1, 1, -1), ttnn.uint32, self.q_rows)
        _copy(rows.repeat_interleave(self.n_kv_heads).reshape(1, 1, 1, -1), ttnn.uint32, self.k_rows)


def _persistent(values: torch.Tensor, dtype, device, host_device):
    return ttnn.from_torch(values.to(host_device), dtype=dtype, device=device)


def _copy(values: torch.Tensor, dtype, target) -> None:
    ttnn.copy_host_to_device_tensor(ttnn.from_torch(values, dtype=dtype), target)
