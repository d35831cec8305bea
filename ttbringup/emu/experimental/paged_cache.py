"""``paged_update_cache`` and ``paged_fill_cache``: in-place KV cache writes at per-user positions.

Non-paged, the cache is ``[B, nkv, S, hd]`` and user b's token at position p goes to
``cache[b, :, p, :]``. Paged, the cache is a pool of blocks ``[num_blocks, nkv, block_size, hd]``
and position p of user b lives at ``cache[page_table[b, p // block_size], :, p % block_size, :]``.
Both ops modify the cache's storage in place (only the rows they touch) and return the cache
tensor object itself.
"""

from __future__ import annotations

import torch

from ..errors import TTError, check, fatal
from ..kv_storage import int_values, is_data_free, write_rows, write_rows_all_chips
from ..tensor import Tensor, pad_to
from ..types import (
    TILE_SIZE,
    BufferType,
    DataType,
    Layout,
    ShardOrientation,
    TensorMemoryLayout,
)
from ..operands import not_emulated, on_device
from ..per_chip import chip_values, per_chip

_CACHE_DTYPES = (DataType.FLOAT32, DataType.BFLOAT16, DataType.BFLOAT8_B, DataType.BFLOAT4_B)

UPDATE = "ttnn.experimental.paged_update_cache"


def _update_on_all_chips(cache_tensor: Tensor, input_tensor: Tensor, *, update_idxs_tensor: Tensor | None = None,
                         page_table: Tensor | None = None, **rest):
    """Every chip's update at once: a distributed cache, the positions and page table (if any) replicated."""
    cache, x = cache_tensor, input_tensor
    mesh = cache.device() if isinstance(cache, Tensor) else None
    if (mesh is None or cache._shards is None or not isinstance(x, Tensor) or x.device() is not mesh
            or any(t is not None and (t._shards is not None or t.device() is not mesh)
                   for t in (update_idxs_tensor, page_table))):
        return NotImplemented
    chip0 = mesh.chip(0)
    on_chip0 = [None if t is None else t._chip_view(0, chip0) for t in (cache, x, update_idxs_tensor, page_table)]
    target = _update_target(*on_chip0, **rest)
    if target is not None and not is_data_free(x):
        index, active, heads = target
        rows = pad_to(torch.stack(chip_values(x, UPDATE)), (x.num_chips(),) + tuple(x.padded_shape))
        write_rows_all_chips(cache, index, rows[:, 0].index_select(1, active)[:, :, :heads], UPDATE)
    return cache


@per_chip(writes_first=True, all_chips=_update_on_all_chips)
def paged_update_cache(cache_tensor: Tensor, input_tensor: Tensor, *, update_idxs=[],  # noqa: B006 (real default)
                       update_idxs_tensor: Tensor | None = None, share_cache: bool | None = None,
                       page_table: Tensor | None = None, batch_offset: int = 0, compute_kernel_config=None,
                       mesh_coords=None, block_size: int | None = None, num_kv_heads: int | None = None,
                       cache_position_modulo: int | None = None) -> Tensor:
    """Write ``input_tensor[0, b, :nkv, :]`` (``[1, B, nkv (padded to 32), hd]``, sharded one user
    per core) into the cache at user b's position from ``update_idxs`` or ``update_idxs_tensor``
    (INT32 ROW_MAJOR); position -1 skips the user."""
    target = _update_target(cache_tensor, input_tensor, update_idxs_tensor, page_table, update_idxs=update_idxs,
                            share_cache=share_cache, batch_offset=batch_offset, mesh_coords=mesh_coords,
                            block_size=block_size, num_kv_heads=num_kv_heads,
                            cache_position_modulo=cache_position_modulo)
    if target is not None and not is_data_free(input_tensor):
        index, active, heads = target
        x = input_tensor
        rows = pad_to(x._values(UPDATE), tuple(x.padded_shape))[0].index_select(0, active)[:, :heads]
        write_rows(cache_tensor, index, rows, UPDATE)
    return cache_tensor


def _update_target(cache: Tensor, x: Tensor, update_idxs_tensor: Tensor | None, page_table: Tensor | None, *,
                   update_idxs=[], share_cache: bool | None = None, batch_offset: int = 0,  # noqa: B006
                   compute_kernel_config=None, mesh_coords=None, block_size: int | None = None,
                   num_kv_heads: int | None = None, cache_position_modulo: int | None = None):
    """Check an update as 0.81.1 does; what it writes: (cache index of the rows, the writing users, cache heads),
    or None when nothing is written (every user skipped, or data-free positions)."""
    op = UPDATE
    if mesh_coords is not None:
        not_emulated(op, "mesh_coords=...")
    if any(p < 0 for p in update_idxs):
        raise TypeError(f"{op}(): incompatible function arguments (update_idxs are uint32, got {list(update_idxs)})")
    check(cache.device() is not None and x.device() is not None, op, "Operands to update_cache need to be on device!")
    check(cache.device() is x.device(), op, "Operands to update_cache need to be on the same device!")
    on_device(cache, op, "Operands to update_cache need to be allocated in buffers on device!")
    on_device(x, op, "Operands to update_cache need to be allocated in buffers on device!")
    check(x.layout == Layout.TILE, op, "Input tensor in non-fused update_cache must be tilized")
    check(cache.layout == Layout.TILE, op, "Cache tensor in update_cache must be tilized")
    if cache.dtype not in _CACHE_DTYPES:  # the message only when raising: an enum's name costs per op
        raise fatal(op, f"Data type of cache tensor must be FLOAT32, BFLOAT16, BFLOAT8_B, or BFLOAT4_B and is "
                        f"{cache.dtype.name}")
    x_padded, cache_padded = tuple(x.padded_shape), tuple(cache.padded_shape)
    check(len(x_padded) == 4 and len(cache_padded) == 4, op, "Input and cache tensors must be 4D")
    check(x_padded[0] == 1, op, "Dim 0 of input tensor must be 1")
    check(cache.memory_config().memory_layout == TensorMemoryLayout.INTERLEAVED, op, "Only interleaved cache is supported")
    for name, value in (("block_size_override", block_size), ("num_kv_heads_override", num_kv_heads),
                        ("cache_position_modulo", cache_position_modulo)):
        if value is not None:
            check(page_table is not None, op,
                  f"{name} is only supported in paged mode (when page_table is provided)")
    if block_size is not None or num_kv_heads is not None:
        not_emulated(op, "block_size/num_kv_heads geometry overrides")
    head_dim = x_padded[-1]
    if page_table is None:
        check(head_dim == cache_padded[-1], op, f"Last dim of input tensor ({head_dim}) must match last dim of cache "
                                                f"tensor ({cache_padded[-1]}) in non-paged mode")
    else:
        _check_modulo(cache_position_modulo, cache_padded[2], op)
    check(head_dim % TILE_SIZE == 0, op,
          f"input_tensor last dim ({head_dim}) must be a multiple of TILE_WIDTH ({TILE_SIZE})")
    users = x_padded[1]
    if page_table is None:
        if share_cache:
            check(cache_padded[0] == 1, op, "Share cache feature expects cache tensor to have batch of 1")
        else:
            check(users == cache_padded[0], op, "Expect batch in input tensor match the batch in cache tensor")
    else:
        _check_page_table(page_table, share_cache, update_idxs_tensor, users, cache_padded, cache_position_modulo, op)
    check((update_idxs_tensor is not None) != (len(update_idxs) > 0), op,
          "Only an update tensor or an update vector can be provided. Not both or neither.")
    if update_idxs_tensor is not None:
        _check_index_tensor(update_idxs_tensor, x, op)
    else:
        check(users == len(update_idxs), op,
              f"Number of update_idxs ({len(update_idxs)}) should match batch size ({users})")
    _check_sharded_input(x, users, op)
    check(x.dtype in (DataType.FLOAT32, DataType.BFLOAT16), op,
          "Data type of input tensor for paged_update_cache must be FLOAT32 or BFLOAT16; decode update repacks into "
          "the cache dtype and should not receive low-precision packed input")
    check(batch_offset == 0, op, "batch_offset must be 0")
    check(cache_padded[1] <= x_padded[2], op, f"cache has {cache_padded[1]} heads but the input only "
                                              f"{x_padded[2]} (padded) head rows")

    if update_idxs_tensor is not None:
        positions = int_values(update_idxs_tensor, op)
        positions = None if positions is None else positions[:users]
    else:
        positions = torch.tensor(list(update_idxs), dtype=torch.int64)
    if positions is None or is_data_free(cache, page_table):
        return None
    active = torch.nonzero(positions != -1).flatten()
    if active.numel() == 0:
        return None
    pos = positions[active]
    if page_table is None:
        seq = cache_padded[2]
        _check_positions(pos, seq, op)
        target = torch.zeros_like(active) if share_cache else active
        index = (target, slice(None), pos)
    else:
        index = _paged_index(page_table, active, pos, cache_padded, cache_position_modulo, op)
    return index, active, cache_padded[1]


def _check_modulo(modulo, block: int, op: str) -> None:
    check(block % TILE_SIZE == 0, op,
          f"effective block_size ({block}) must be a multiple of TILE_HEIGHT ({TILE_SIZE})")
    if modulo is not None:
        check(modulo > 0 and modulo % block == 0, op,
              f"cache_position_modulo ({modulo}) must be a positive multiple of effective block_size ({block}); "
              "otherwise a wrapped position would split across blocks and the kernel can't address it.")


def _check_page_table(page_table: Tensor, share_cache, idx_tensor, users: int, cache_padded: tuple, modulo,
                      op: str) -> None:
    check(not share_cache, op, "share_cache not supported with paged cache")
    check(idx_tensor is not None, op, "Paged cache requires update_idxs tensor")
    if page_table.is_sharded():
        not_emulated(op, "sharded page_table")
    check(page_table.dtype == DataType.INT32, op, "Expect page table to have datatype INT32")
    check(page_table.layout == Layout.ROW_MAJOR, op, "Expect page table to have memory layout in ROW MAJOR")
    table = tuple(page_table.padded_shape)
    check(table[0] == users, op, "Batch size between page_table and input_tensor must match")
    if modulo is not None:
        bounded = modulo // cache_padded[2]
        check(bounded <= cache_padded[0], op,
              f"cache_position_modulo/block_size ({bounded}) must be <= max_num_blocks ({cache_padded[0]})")
    else:
        check(table[1] <= cache_padded[0], op, f"max_num_blocks_per_seq must be less than max_num_blocks: "
                                               f"max_num_blocks_per_seq={table[1]}, max_num_blocks={cache_padded[0]}")


def _check_index_tensor(idx: Tensor, x: Tensor, op: str) -> None:
    on_device(idx, op, "update_idxs_tensor must be on device")
    check(idx.dtype == DataType.INT32, op, "Expected update_idxs to have datatype INT32")
    check(idx.layout == Layout.ROW_MAJOR, op, "Expected update_idxs to have memory layout in ROW MAJOR")
    config = idx.memory_config()
    if idx.is_sharded():
        check(config.memory_layout == TensorMemoryLayout.HEIGHT_SHARDED, op,
              "Expect update_idxs to be HEIGHT SHARDED if sharded")
        check(config.buffer_type == BufferType.L1, op, "Expect update_idxs to have buffer type L1 if sharded")
        count = idx.shape[1] if len(idx.shape) > 1 else idx.shape[0]
        check(x.shape[1] == count, op, f"Number of update_idxs ({count}) should match batch size ({x.shape[1]}) "
                                       "if sharded")
        cores = config.shard_spec.num_cores()
        check(cores == idx.padded_shape[0], op, f"Number of cores sharded on L1 ({cores}) should match dimension of "
                                                f"update_idxs at 0 ({idx.padded_shape[0]})")
    else:
        check(config.memory_layout == TensorMemoryLayout.INTERLEAVED, op, "Expect update_idxs to be DRAM INTERLEAVED")
        check(config.buffer_type == BufferType.DRAM, op, "Expect update_idxs to have buffer type DRAM")
        count = idx.padded_shape[0]
        check(x.padded_shape[1] == count, op,
              f"Number of update_idxs ({count}) should match batch size ({x.padded_shape[1]})")


def _check_sharded_input(x: Tensor, users: int, op: str) -> None:
    check(x.is_sharded(), op, "Expect input_tensor to be sharded")
    config = x.memory_config()
    spec = config.shard_spec
    check(config.memory_layout != TensorMemoryLayout.WIDTH_SHARDED, op,
          "Expect input_tensor to NOT have memory layout WIDTH SHARDED")
    width = x.padded_shape[-1]
    check(spec.shape[1] == width, op, f"Expect input_tensor to have shard width ({spec.shape[1]}) equal to the last "
                                      f"dimension of the input tensor padded shape ({width})")
    height = x.volume() // width
    check(height % spec.shape[0] == 0, op, "Input tensor's height must be divisible by the number of shards along "
                                           f"the height dimension. Got height = {height}, number of shards = "
                                           f"{spec.shape[0]}.")
    check(spec.orientation == ShardOrientation.ROW_MAJOR, op, "Only ROW_MAJOR sharding is supported")
    cores = spec.num_cores()
    check(cores == users, op, f"Input tensor shard grid must have num_cores ({cores}) equal to the number of users / "
                              f"batch ({users}). The kernel dispatches one user per core; use a {{num_users, 1}} grid "
                              "(or any CoreRangeSet whose num_cores == num_users).")


def _check_positions(pos: torch.Tensor, limit: int, op: str) -> None:
    """Positions outside the cache would make the card write out of bounds; the emulator refuses."""
    bad = (pos < 0) | (pos >= limit)
    if bool(bad.any()):
        raise fatal(op, f"update position {int(pos[bad][0])} is outside the cache's sequence length {limit} "
                        "(the card would write out of bounds)")


def _paged_index(page_table: Tensor, users: torch.Tensor, pos: torch.Tensor, cache_padded: tuple, modulo,
                 op: str) -> tuple:
    block = cache_padded[2]
    table = page_table._native(op).to(torch.int64)
    if modulo is not None:
        pos = pos % modulo
    _check_positions(pos, block * table.shape[1], op)
    blocks = table[users, pos // block]
    if bool(((blocks < 0) | (blocks >= cache_padded[0])).any()):
        raise TTError(f"{op}: page_table names a block outside the cache's {cache_padded[0]} blocks")
    return blocks, slice(None), pos % block


# ----------------------------------------------------------------------------- prefill fill

FILL = "ttnn.experimental.paged_fill_cache"


@per_chip(writes_first=True)
def paged_fill_cache(cache_tensor: Tensor, input_tensor: Tensor, page_table: Tensor, *,
                     batch_idx_tensor: Tensor | None = None, batch_idx: int = 0, compute_kernel_config=None,
                     mesh_coords=None, block_size: int | None = None, cache_position_modulo: int | None = None,
                     valid_seq_len_tensor: Tensor | None = None) -> Tensor:
    """Write a prompt's K or V ``[1, nkv, S, hd]`` (whole padded rows) into the blocks
    ``page_table[batch_idx]`` names; in place, returns the cache."""
    op = FILL
    if mesh_coords is not None or block_size is not None or valid_seq_len_tensor is not None:
        not_emulated(op, "mesh_coords/block_size/valid_seq_len_tensor")
    cache, x = cache_tensor, input_tensor
    for t in (cache, x, page_table):
        on_device(t, op, "Operands to paged_fill_cache need to be on device!")
    check(cache.layout == Layout.TILE and x.layout == Layout.TILE, op, "Inputs to paged_fill_cache must be tilized")
    check(cache.dtype in _CACHE_DTYPES, op, "Data type of cache tensor for paged_fill_cache must be FLOAT32, BFLOAT16, "
                                            f"BFLOAT8_B, or BFLOAT4_B and is {cache.dtype.name}")
    check(x.dtype == cache.dtype, op, f"Input tensor dtype ({x.dtype.name}) must match cache tensor dtype "
                                      f"({cache.dtype.name}) for paged_fill_cache; cast prefill K/V to the cache "
                                      "dtype before filling the paged cache.")
    check(x.memory_config().memory_layout == TensorMemoryLayout.INTERLEAVED, op,
          "Expect input_tensor to have memory layout INTERLEAVED")
    check(page_table.memory_config().memory_layout == TensorMemoryLayout.INTERLEAVED, op,
          "Expect page_table_tensor to have memory layout INTERLEAVED")
    check(page_table.dtype == DataType.INT32, op, "Expect page_table_tensor to have datatype INT32")
    cache_padded, x_padded, table = (tuple(t.padded_shape) for t in (cache, x, page_table))
    check(batch_idx < table[0], op, "Batch idx must be within the page_table batch size")
    block = cache_padded[2]
    cache_elems = cache_padded[1] * block * cache_padded[3]
    view_elems = x_padded[1] * block * x_padded[3]
    check(view_elems == cache_elems, op,
          f"paged_fill_cache geometry mismatch: cache has {cache_elems} elems/block (kv_heads={cache_padded[1]}, "
          f"block_size={block}, head_dim={cache_padded[3]}) but input view is {view_elems} (kv_heads={x_padded[1]}, "
          f"block_size={block}, head_dim={x_padded[3]}).")
    check(x_padded[3] % TILE_SIZE == 0, op,
          f"input_tensor last dim ({x_padded[3]}) must be a multiple of TILE_WIDTH ({TILE_SIZE})")
    check(block % TILE_SIZE == 0, op, f"effective block_size ({block}) must be a multiple of TILE_HEIGHT ({TILE_SIZE})")
    if cache_position_modulo is not None:
        modulo = cache_position_modulo
        check(modulo > 0, op, "cache_position_modulo must be > 0 when provided")
        check(modulo % block == 0, op, f"cache_position_modulo ({modulo}) must be a positive multiple of effective "
                                       f"block_size ({block}); otherwise a wrapped position would split across "
                                       "blocks and the kernel can't address it.")
        check(modulo <= block * table[1], op, f"cache_position_modulo ({modulo}) must fit in max_num_blocks_per_seq "
                                              f"({table[1]}) * block_size ({block})")
    else:
        check(x_padded[2] <= block * table[1], op, f"Input seq_len ({x_padded[2]}) must fit in max_num_blocks_per_seq "
                                                   f"({table[1]}) * block_size ({block})")
    if batch_idx_tensor is not None:
        _check_batch_idx_tensor(batch_idx_tensor, x_padded[0], op)
    if x_padded[0] != 1 or x_padded[1] != cache_padded[1]:
        not_emulated(op, "input batch > 1 or head count differing from the cache")

    user = batch_idx
    if batch_idx_tensor is not None:
        values = int_values(batch_idx_tensor, op)
        user = None if values is None else int(values[0])
    if user is None or is_data_free(cache, x, page_table):
        return cache
    positions = torch.arange(x_padded[2])
    if cache_position_modulo is not None:
        positions = positions % cache_position_modulo
    blocks = page_table._native(op).to(torch.int64)[user, positions // block]
    if bool(((blocks < 0) | (blocks >= cache_padded[0])).any()):
        raise TTError(f"{op}: page_table names a block outside the cache's {cache_padded[0]} blocks")
    rows = pad_to(x._values(op), x_padded)[0].transpose(0, 1)  # [S, nkv, hd]
    write_rows(cache, (blocks, slice(None), positions % block), rows, op)
    return cache


def _check_batch_idx_tensor(t: Tensor, input_batch: int, op: str) -> None:
    check(t.volume() == input_batch, op,
          f"Batch idx tensor must have input_tensor batch dim ({input_batch}) elements, got {t.volume()}")
    check(t.dtype in (DataType.UINT32, DataType.INT32), op, "Batch idx tensor must be an integer type")
    check(t.layout == Layout.ROW_MAJOR, op, "Batch idx tensor must be in ROW_MAJOR layout")
    check(t.memory_config().memory_layout == TensorMemoryLayout.INTERLEAVED, op,
          "Batch idx tensor must have INTERLEAVED memory layout")
    check(t.memory_config().buffer_type == BufferType.DRAM, op, "Batch idx tensor must be DRAM-resident")
