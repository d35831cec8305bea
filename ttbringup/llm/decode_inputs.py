"""The decode step's inputs as persistent device tensors, written from the host before each step.

A traced decode replays on the buffers fixed at its capture, so whatever changes from step to step must live in
device tensors that persist across steps and get new contents with ``copy_host_to_device_tensor`` (a host write,
done before the step, never inside it):

* ``ids``: the 32 users' token ids, ``[1, 1, 1, 32]`` uint32;
* ``cur_pos``: their positions, ``[32]`` int32, -1 for an idle user (the cache ops and SDPA decode skip it);
* ``q_rows`` / ``k_rows``: the rotary table row of every (user, head) row of q and of k, ``[1, 1, 1, 32 * heads]``
  uint32 (an idle user reads row 0), from which the rotation is looked up on the device
  (:meth:`RopeCache.decode_rows`).

Shapes are per chip; with data parallelism every chip holds its own 32 users' values (``DataParallel``).

Nothing in the step then depends on a host-side position, so it runs eagerly or traced alike.
"""

from __future__ import annotations

import torch
import ttnn

from .parallel import TensorParallel


class DecodeInputs:
    """Persistent decode inputs on ``device`` for ``n_heads`` / ``n_kv_heads`` heads per chip and the ``tp.users``
    users of ``tp`` (a ``TensorParallel`` or ``DataParallel``)."""

    def __init__(self, device, n_heads: int, n_kv_heads: int, host_device="cpu", tp: TensorParallel | None = None):
        self.tp = tp or TensorParallel(device)
        self.n_heads, self.n_kv_heads, self.users = n_heads, n_kv_heads, self.tp.users
        users = self.users

        def persistent(values, dtype, dim):
            return self.tp.user_values(values.to(host_device), dtype, dim, device)

        self.ids = persistent(torch.zeros(1, 1, 1, users, dtype=torch.int32), ttnn.uint32, 3)
        self.cur_pos = persistent(torch.full((users,), -1, dtype=torch.int32), ttnn.int32, 0)
        self.q_rows = persistent(torch.zeros(1, 1, 1, users * n_heads, dtype=torch.int32), ttnn.uint32, 3)
        self.k_rows = persistent(torch.zeros(1, 1, 1, users * n_kv_heads, dtype=torch.int32), ttnn.uint32, 3)

    def write(self, tokens: list[int], positions: list[int], cq_id: int = 0) -> None:
        """Set the step's inputs: one token and one position per user (``users`` each; position -1 = idle),
        written on command queue ``cq_id`` (the caller orders it against the step with events)."""
        if len(tokens) != self.users or len(positions) != self.users:
            raise ValueError(f"a decode step takes {self.users} tokens and positions, got {len(tokens)} and "
                             f"{len(positions)}")
        pos = torch.tensor(positions, dtype=torch.int32)
        rows = pos.clamp(min=0)
        self._copy(torch.tensor(tokens, dtype=torch.int32).reshape(1, 1, 1, -1), ttnn.uint32, 3, self.ids, cq_id)
        self._copy(pos, ttnn.int32, 0, self.cur_pos, cq_id)
        self._copy(rows.repeat_interleave(self.n_heads).reshape(1, 1, 1, -1), ttnn.uint32, 3, self.q_rows, cq_id)
        self._copy(rows.repeat_interleave(self.n_kv_heads).reshape(1, 1, 1, -1), ttnn.uint32, 3, self.k_rows, cq_id)

    def _copy(self, values: torch.Tensor, dtype, dim: int, target, cq_id: int) -> None:
        ttnn.copy_host_to_device_tensor(self.tp.user_values(values, dtype, dim), target, cq_id=cq_id)
