"""ND sharding: ``MemoryConfig(buffer_type, NdShardSpec)`` placed as 0.81.1 places it, and the bytes a bank holds.

Contracts (measured on the 0.81.1 mock, n150; conformance cases ``nd_sharding`` in ``surface_cases``):

* A shard shape of lower rank than the tensor shards it with the leading dims merged into the first
  (``[3,32,64]`` by ``[64,64]`` shards ``[96,64]``: 2 shards); a higher rank is refused. TILE: the shard's last two
  dims must be whole tiles. ROW_MAJOR: any shard; the padded last dim becomes a multiple of the shard width.
* Shards go round-robin (or contiguously; the fullest core holds as many) over the grid: a bank holds
  ``ceil(shards / cores)`` shards. A shard is its pages (tiles, or rows of shard width), each aligned to 32 B
  (16 B for L1 rows). A DRAM grid names banks (x < 12, y = 0); an L1 grid must lie in the worker grid.
* A placed tensor reports the 2-D layout its ND shards amount to, when they do (one shard per core): WIDTH_SHARDED
  when a shard spans the whole flattened height, HEIGHT_SHARDED when it spans the whole width and its leading dims
  are 1 up to one dim after which it spans the tensor; else ND_SHARDED, with no 2-D ``shard_spec``.
* ``GRID_2D`` distribution (which 0.81.1 turns into block sharding) is not emulated.

The ops the emulator runs on ND_SHARDED tensors are :data:`ND_SHARDED_OPS` (placement, element-wise, typecast,
to_layout, the region writes), whose outputs keep the input's ND spec as 0.81.1's do; any other op given one raises
the not-emulated error. (The real 0.81.1 also takes slice, reshape, transpose, permute, concat and reductions, and
derives their outputs' shard shapes by rules not modelled here; it refuses matmul, linear, the norms, softmax,
clone and embedding.)
"""

from __future__ import annotations

import math

from .errors import NotEmulated, check, fatal
from .types import (
    BufferType,
    Layout,
    MemoryConfig,
    ShardDistributionStrategy,
    ShardSpec,
    TensorMemoryLayout,
    round_up,
)

DRAM_BANKS = 12  # memory.DRAM_BANKS (memory imports this module)
L1_ROW_ALIGNMENT = 16
PAGE_ALIGNMENT = 32
placed_any = False  # set by the first ND-sharded placement: until then no op input can be ND-sharded

ND_SHARDED_OPS = frozenset(
    "ttnn.add ttnn.subtract ttnn.multiply ttnn.silu ttnn.relu ttnn.gelu ttnn.typecast ttnn.to_layout "
    "ttnn.to_memory_config ttnn.slice_write ttnn.fill_implicit_tile_padding".split())


def _flattened(dims: tuple, rank: int) -> tuple:
    """``dims`` with its leading dims merged so it has ``rank`` dims."""
    lead = len(dims) - rank + 1
    return (math.prod(dims[:lead]),) + tuple(dims[lead:])


def shard_grid(padded_shape, shard_shape, op: str) -> tuple:
    """(the tensor's dims at the shard's rank, shards along each dim)."""
    tensor, shard = tuple(padded_shape), tuple(shard_shape)
    if len(tensor) < len(shard):
        raise fatal(op, f"Tensor shape rank ({len(tensor)}) can't be less than shard shape rank ({len(shard)})!")
    check(all(s > 0 for s in shard), op, f"Shard shape {list(shard)} has an empty dim")
    dims = _flattened(tensor, len(shard))
    return dims, tuple(-(-d // s) for d, s in zip(dims, shard))


def check_placement(padded_shape, layout: Layout, tile, memory_config: MemoryConfig, device, op: str) -> None:
    """Refuse an ND-sharded placement 0.81.1 refuses (see the module docstring)."""
    global placed_any
    placed_any = True
    check_shard_shape(padded_shape, layout, tile, memory_config, op)
    nd = memory_config.nd_shard_spec
    if memory_config.buffer_type == BufferType.DRAM:
        banks, bad = f"DRAM bank on this device, which has {DRAM_BANKS}", lambda c: c.y != 0 or c.x >= DRAM_BANKS
    else:
        grid = device.compute_with_storage_grid_size()
        banks = f"L1 bank on this device, which has {grid.x * grid.y}"
        bad = lambda c: c.x >= grid.x or c.y >= grid.y  # noqa: E731
    for r in nd.grid.ranges():
        for c in (r.start, r.end):
            if bad(c):
                raise fatal(op, f"Invalid shard grid: shard core ({c.x}, {c.y}) has no {banks} of them.")


def check_shard_shape(padded_shape, layout: Layout, tile, memory_config: MemoryConfig, op: str) -> None:
    """The device-independent half of :func:`check_placement`: distribution, rank, whole tiles."""
    nd = memory_config.nd_shard_spec
    if nd.shard_distribution_strategy == ShardDistributionStrategy.GRID_2D:
        NotEmulated("ND sharding with ShardDistributionStrategy.GRID_2D")()
    shard = tuple(nd.shard_shape)
    shard_grid(padded_shape, shard, op)
    if layout == Layout.TILE:
        h = shard[-2] if len(shard) > 1 else 1
        if h % tile.height or shard[-1] % tile.width:
            raise fatal(op, f"Physical shard shape Shape({list(shard)}) must be tile {{{tile.height}, {tile.width}}} "
                            "sized!")


def padded_shape(logical_padded: tuple, layout: Layout, memory_config: MemoryConfig) -> tuple:
    """A ROW_MAJOR tensor's last dim padded to a multiple of the shard width; TILE keeps its tile padding."""
    if layout != Layout.ROW_MAJOR or not logical_padded:
        return tuple(logical_padded)
    width = memory_config.nd_shard_spec.shard_shape[-1]
    return tuple(logical_padded[:-1]) + (round_up(logical_padded[-1], width),)


def resolved(padded, memory_config: MemoryConfig) -> MemoryConfig:
    """The config a tensor of ``padded`` shape placed with ``memory_config`` reports (see the module docstring)."""
    nd = memory_config.nd_shard_spec
    if memory_config.memory_layout != TensorMemoryLayout.ND_SHARDED:
        memory_config = MemoryConfig(buffer_type=memory_config.buffer_type, nd_shard_spec=nd)
    shard = tuple(nd.shard_shape)
    dims, counts = shard_grid(padded, shard, "ttnn.MemoryConfig")
    if math.prod(counts) > nd.num_cores():
        return memory_config
    shard_height = math.prod(shard[:-1])
    if all(s >= d for s, d in zip(shard[:-1], dims[:-1])):
        layout = TensorMemoryLayout.WIDTH_SHARDED
    elif shard[-1] >= dims[-1] and _spans_after_one_dim(dims[:-1], shard[:-1]):
        layout = TensorMemoryLayout.HEIGHT_SHARDED
    else:
        return memory_config
    two_d = ShardSpec(nd.grid, (shard_height, shard[-1]), nd.orientation)
    return MemoryConfig(layout, memory_config.buffer_type, two_d, nd)


def _spans_after_one_dim(dims: tuple, shard: tuple) -> bool:
    """Leading shard dims are 1 up to one dim, and every dim after it spans the tensor's."""
    i = next((k for k, s in enumerate(shard) if s != 1), len(shard))
    return all(s >= d for s, d in zip(shard[i + 1:], dims[i + 1:]))


def bytes_per_bank(padded, dtype, layout: Layout, tile, memory_config: MemoryConfig, tile_bytes: dict,
                   element_bytes: dict) -> int:
    """What the fullest bank holds of the tensor (``tile_bytes`` / ``element_bytes``: memory's tables)."""
    nd = memory_config.nd_shard_spec
    shard = tuple(nd.shard_shape)
    _, counts = shard_grid(padded, shard, "ttnn.MemoryConfig")
    if layout == Layout.TILE:
        h = shard[-2] if len(shard) > 1 else 1
        pages = math.prod(shard[:-2]) * (h // tile.height) * (shard[-1] // tile.width)
        page = round_up(tile_bytes[dtype] * tile.height * tile.width // 1024, PAGE_ALIGNMENT)
    else:
        alignment = L1_ROW_ALIGNMENT if memory_config.buffer_type == BufferType.L1 else PAGE_ALIGNMENT
        pages, page = math.prod(shard[:-1]), round_up(shard[-1] * element_bytes[dtype], alignment)
    return -(-math.prod(counts) // nd.num_cores()) * pages * page


def check_op_inputs(name: str, tensors) -> None:
    """Refuse, as not emulated, an op outside :data:`ND_SHARDED_OPS` given an ND_SHARDED tensor."""
    if name in ND_SHARDED_OPS:
        return
    for t in tensors:
        config = t._memory_config
        if config is not None and config.memory_layout == TensorMemoryLayout.ND_SHARDED:
            NotEmulated(f"{name} of an ND-sharded tensor")()
