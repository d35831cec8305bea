"""Tensor parallelism of the shared blocks over every chip of a mesh (Megatron style), in plain ttnn calls.

The blocks ask a ``TensorParallel`` for their weights and reductions instead of uploading weights themselves, so
one block serves one chip and a mesh alike:

* column-parallel (q/k/v, gate/up, lm_head): ``[out, in]`` -> ``[1, 1, in, out / chips]`` per chip
  (``ShardTensorToMesh(mesh, dim=3)``), a bias likewise ``[1, 1, 1, out / chips]``; each chip computes its share of
  the outputs;
* row-parallel (o_proj, down_proj): ``[out, in]`` -> ``[1, 1, in / chips, out]`` per chip (``dim=2``); each chip
  computes a partial sum that ``all_reduce`` adds up over the mesh, so the residual stream is replicated;
* everything else (norms, embedding table, RoPE tables, token ids, positions) is replicated, which is what
  ``from_torch`` / ``as_tensor`` do on a mesh without a mapper.

Attention heads go to chips whole (``HeadPlan``): with ``n_kv`` divisible by the chip count each chip gets
``n_kv / chips`` KV heads and their query heads; with fewer KV heads than chips (AFM-4.5B's 4 on 8 chips) each
KV head is replicated on ``chips / n_kv`` chips, which split its query group, padded with zero heads when the
group does not divide (their zero o_proj rows add nothing). On one chip every method is the plain upload and
``all_reduce`` is the identity, so single-chip bringups run exactly the ops they always did.

``DataParallel`` is the other way to use a mesh, for models that fit one chip: every chip holds the whole model
(weights replicated, no collectives) and its own 32 users, so a mesh of ``n`` chips decodes ``32 n`` users. The
per-user inputs (token ids, positions, rotary rows) are sharded over the chips, user ``u`` on chip ``u // 32`` in
its row ``u % 32``, and results come back chip after chip along the rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import ttnn

from .errors import UnsupportedModelError
from .head_pad import PAD, padded_positions
from .kv_cache import CACHE_BATCH
from .weights import DRAM, bias_weight, linear_weight


@dataclass(frozen=True)
class HeadPlan:
    """Which query and KV heads each chip holds: ``q_heads`` / ``kv_heads`` list them chip after chip
    (``q_per_chip`` / ``kv_per_chip`` per chip; ``PAD`` is a zero head)."""

    q_per_chip: int
    kv_per_chip: int
    q_heads: tuple[int, ...]
    kv_heads: tuple[int, ...]


def head_plan(n_heads: int, n_kv_heads: int, chips: int) -> HeadPlan:
    """Split ``n_heads`` query heads in ``n_kv_heads`` GQA groups over ``chips`` chips (see module doc)."""
    group = n_heads // n_kv_heads
    if n_kv_heads % chips == 0:
        kv = n_kv_heads // chips
        return HeadPlan(group * kv, kv, tuple(range(n_heads)), tuple(range(n_kv_heads)))
    if chips % n_kv_heads:
        raise UnsupportedModelError(f"{n_kv_heads} KV heads cannot be split over {chips} chips, nor replicated evenly")
    copies = chips // n_kv_heads
    per_chip = -(-group // copies)
    q_heads, kv_heads = [], []
    for chip in range(chips):
        kv_head, part = divmod(chip, copies)
        kv_heads.append(kv_head)
        for i in range(part * per_chip, (part + 1) * per_chip):
            q_heads.append(kv_head * group + i if i < group else PAD)
    return HeadPlan(per_chip, 1, tuple(q_heads), tuple(kv_heads))


def head_index(heads, head_dim: int) -> torch.Tensor:
    """Row indices of ``heads`` in a projection's output dim, each head in its device layout (``head_pad``: halves
    padded when rotary_embedding cannot take ``head_dim``); ``PAD`` heads and padding -> ``PAD`` rows."""
    within = padded_positions(head_dim)
    return torch.tensor([h * head_dim + i if h != PAD and i != PAD else PAD for h in heads for i in within])


def _take(weight: torch.Tensor, index: torch.Tensor | None, dim: int) -> torch.Tensor:
    """``weight`` with its ``dim`` rearranged by ``index`` (``PAD`` entries are zeros)."""
    if index is None:
        return weight
    zeros = torch.zeros_like(weight.narrow(dim, 0, 1))
    padded = torch.cat([weight, zeros], dim=dim)
    return padded.index_select(dim, torch.where(index == PAD, weight.shape[dim], index).to(weight.device))


class TensorParallel:
    """Weights, reductions and host reads of the shared blocks on ``device`` (one chip or a whole mesh).

    ``replicas``: independent copies of the model on the device (1 here: the chips share one model);
    ``users``: decode rows over all of them."""

    replicas = 1

    def __init__(self, device):
        self.device = device
        self.chips = device.get_num_devices()

    @property
    def users(self) -> int:
        return CACHE_BATCH * self.replicas

    def user_values(self, values: torch.Tensor, dtype, dim: int, device=None):
        """Per-user values, replica after replica along ``dim``, as a ttnn tensor (on ``device`` if given; a host
        tensor to ``copy_host_to_device_tensor`` from otherwise). Here every chip gets them all."""
        return ttnn.from_torch(values, dtype=dtype, device=device)

    def heads(self, n_heads: int, n_kv_heads: int) -> HeadPlan:
        return head_plan(n_heads, n_kv_heads, self.chips)

    def column(self, weight: torch.Tensor, dtype, rows: torch.Tensor | None = None):
        """HF ``[out, in]`` (out rearranged by ``rows``) -> ``[1, 1, in, out / chips]`` on each chip."""
        weight = _take(weight.detach(), rows, 0)
        if self.chips == 1:
            return linear_weight(weight, self.device, dtype)
        return self._sharded(weight.transpose(0, 1), dtype, dim=3)

    def column_bias(self, bias: torch.Tensor, rows: torch.Tensor | None = None):
        """The HF bias ``[out]`` of a column-parallel linear (rearranged by ``rows`` like its weight) ->
        ``[1, 1, 1, out / chips]`` TILE bfloat16 on each chip, the chip's share of the outputs."""
        bias = _take(bias.detach(), rows, 0)
        if self.chips == 1:
            return bias_weight(bias, self.device)
        return self._sharded(bias.reshape(1, -1), ttnn.bfloat16, dim=3)

    def row(self, weight: torch.Tensor, dtype, cols: torch.Tensor | None = None):
        """HF ``[out, in]`` (in rearranged by ``cols``) -> ``[1, 1, in / chips, out]`` on each chip."""
        weight = _take(weight.detach(), cols, 1)
        if self.chips == 1:
            return linear_weight(weight, self.device, dtype)
        return self._sharded(weight.transpose(0, 1), dtype, dim=2)

    def _sharded(self, matrix: torch.Tensor, dtype, dim: int):
        if matrix.shape[dim - 2] % self.chips:
            raise UnsupportedModelError(f"a weight dim of {matrix.shape[dim - 2]} does not split over {self.chips} chips")
        host = matrix.contiguous().reshape(1, 1, *matrix.shape)
        return ttnn.as_tensor(host, dtype=dtype, layout=ttnn.TILE_LAYOUT, device=self.device, memory_config=DRAM,
                              mesh_mapper=ttnn.ShardTensorToMesh(self.device, dim=dim))

    def padded(self, size: int) -> torch.Tensor | None:
        """Indices of ``size`` columns padded with ``PAD`` up to a multiple of the chip count (None: no padding)."""
        extra = -size % self.chips
        return None if extra == 0 else torch.cat([torch.arange(size), torch.full((extra,), PAD)])

    def all_reduce(self, partial):
        """Sum the chips' partial results (a row-parallel output); ``partial`` is consumed."""
        if self.chips == 1:
            return partial
        total = ttnn.all_reduce(partial, memory_config=DRAM)
        ttnn.deallocate(partial)
        return total

    def to_host(self, t, sharded: bool = False) -> torch.Tensor:
        """A device tensor on the host: a replicated one as chip 0 holds it; a column-parallel (``sharded``) one
        put back together along its last dim."""
        if self.chips == 1:
            return ttnn.to_torch(t)
        if sharded:
            return ttnn.to_torch(t, mesh_composer=ttnn.ConcatMeshToTensor(self.device, dim=len(t.shape) - 1))
        return ttnn.to_torch(ttnn.get_device_tensors(t)[0])


class DataParallel(TensorParallel):
    """Every chip of ``device`` holds the whole model and 32 users of its own (see module doc)."""

    def __init__(self, device):
        super().__init__(device)
        self.replicas = self.chips

    def heads(self, n_heads: int, n_kv_heads: int) -> HeadPlan:
        return head_plan(n_heads, n_kv_heads, 1)

    def column(self, weight: torch.Tensor, dtype, rows: torch.Tensor | None = None):
        return linear_weight(_take(weight.detach(), rows, 0), self.device, dtype)

    def column_bias(self, bias: torch.Tensor, rows: torch.Tensor | None = None):
        return bias_weight(_take(bias.detach(), rows, 0), self.device)

    def row(self, weight: torch.Tensor, dtype, cols: torch.Tensor | None = None):
        return linear_weight(_take(weight.detach(), cols, 1), self.device, dtype)

    def padded(self, size: int) -> None:
        return None

    def all_reduce(self, partial):
        return partial  # each chip's result is already its users' whole result

    def user_values(self, values: torch.Tensor, dtype, dim: int, device=None):
        if self.chips == 1:
            return super().user_values(values, dtype, dim, device)
        return ttnn.from_torch(values, dtype=dtype, device=device, mesh_mapper=ttnn.ShardTensorToMesh(self.device, dim=dim))

    def to_host(self, t, sharded: bool = False) -> torch.Tensor:
        """Every chip's rows, chip after chip (``sharded`` makes no difference: each chip holds whole rows)."""
        if self.chips == 1:
            return ttnn.to_torch(t)
        return ttnn.to_torch(t, mesh_composer=ttnn.ConcatMeshToTensor(self.device, dim=len(t.shape) - 2))
