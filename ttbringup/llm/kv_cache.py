"""Per-layer device KV cache: ``[32, n_kv_heads, length, head_dim]`` TILE bfloat16 in DRAM, one pair per layer.

Row ``u`` holds user ``u`` of the 32-row decode batch: its prefill writes it with ``ttnn.fill_cache(batch_idx=u)``,
each decode step writes the active users' rows with ``paged_update_cache`` (an idle user, at position -1, is
skipped). ``length`` is rounded up to a tile so a padded prompt always fits.
"""

from __future__ import annotations

import torch
import ttnn

CACHE_BATCH = 32  # decode runs a 32-row batch (one tile of users)


def round_up(n: int, multiple: int = 32) -> int:
    return -(-n // multiple) * multiple


def device_zeros(shape, device, host_device="cpu", dtype=ttnn.bfloat16):
    """A zero TILE tensor in DRAM; staged through a data-free host tensor when ``host_device`` is ``meta``."""
    if torch.device(host_device).type == "meta":
        host = torch.zeros(tuple(shape), dtype=torch.bfloat16, device="meta")
        return ttnn.as_tensor(host, dtype=dtype, layout=ttnn.TILE_LAYOUT, device=device,
                              memory_config=ttnn.DRAM_MEMORY_CONFIG)
    return ttnn.zeros(tuple(shape), dtype=dtype, layout=ttnn.TILE_LAYOUT, device=device,
                      memory_config=ttnn.DRAM_MEMORY_CONFIG)


class LayerKVCache:
    """The K and V caches of one layer. ``length``: positions it holds (rounded up to 32 on the device)."""

    def __init__(self, n_kv_heads: int, length: int, head_dim: int, device, host_device="cpu", dtype=ttnn.bfloat16):
        shape = (CACHE_BATCH, n_kv_heads, round_up(length), head_dim)
        self.k = device_zeros(shape, device, host_device, dtype)
        self.v = device_zeros(shape, device, host_device, dtype)
