"""The memos on the emulator's per-op path give what they memoise, keyed by everything it depends on."""

import copy
import dataclasses
import pickle

import torch

import ttbringup.emu as ttnn
from ttbringup.emu import memory, tensor
from ttbringup.emu.types import BufferType, MemoryConfig, Tile, TensorMemoryLayout, tile_padded_shape


def test_tile_padded_shape_memo_is_keyed_by_the_tile(device):
    x = torch.zeros(1, 1, 40, 40)
    shapes = {}
    for tile in (None, (16, 32), (32, 16), None):  # the default tile first: memoised, then other tiles, same dims
        t = ttnn.from_torch(x, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device,
                            tile=None if tile is None else ttnn.Tile(tile))
        assert tuple(t.padded_shape) == tile_padded_shape((1, 1, 40, 40), Tile() if tile is None else Tile(tile))
        shapes[tile] = tuple(t.padded_shape)
    assert shapes == {None: (1, 1, 64, 64), (16, 32): (1, 1, 48, 64), (32, 16): (1, 1, 64, 48)}


def test_tile_padded_shape_memo_stays_right_when_it_is_emptied(device, monkeypatch):
    monkeypatch.setattr(tensor, "_PADDED_CACHE_SIZE", 2)
    tensor._padded_of.clear()
    for rows in range(1, 70, 3):
        t = ttnn.from_torch(torch.zeros(rows, 50), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
        assert tuple(t.padded_shape) == tile_padded_shape((rows, 50))
        assert len(tensor._padded_of) <= 2


def test_buffer_size_is_the_buffer_request():
    config = ttnn.create_sharded_memory_config((64, 64), ttnn.CoreGrid(x=2, y=1), ttnn.ShardStrategy.HEIGHT)
    for mc in (ttnn.DRAM_MEMORY_CONFIG, ttnn.L1_MEMORY_CONFIG, config):
        args = ((1, 1, 64, 64), ttnn.bfloat16, ttnn.TILE_LAYOUT, Tile(), mc)
        request = memory.buffer_request(*args)
        assert tuple(request.values()) == memory.buffer_size(*args)
        assert request["size_per_bank"] == memory.bytes_per_bank(*args)
    assert memory.buffer_request(*args)["banks"] == 2


def test_memory_config_hash_memo_follows_the_fields():
    a = MemoryConfig(TensorMemoryLayout.INTERLEAVED, BufferType.DRAM)
    hash(a)  # memoised now
    b = MemoryConfig(TensorMemoryLayout.INTERLEAVED, BufferType.DRAM)
    assert a == b and hash(a) == hash(b) == hash((a.memory_layout, a.buffer_type, None, None))
    moved = dataclasses.replace(a, buffer_type=BufferType.L1)
    assert moved != a and moved == ttnn.L1_MEMORY_CONFIG and hash(moved) == hash(ttnn.L1_MEMORY_CONFIG)
    sharded = ttnn.create_sharded_memory_config((64, 64), ttnn.CoreGrid(x=2, y=1), ttnn.ShardStrategy.HEIGHT)
    assert sharded != a and {sharded: 1, a: 2}[dataclasses.replace(sharded)] == 1
    restored = pickle.loads(pickle.dumps(a))
    assert "_hash" not in restored.__dict__ and restored == a and hash(restored) == hash(a)
    assert copy.deepcopy(sharded) == sharded and hash(copy.deepcopy(sharded)) == hash(sharded)
    assert (a == "DRAM") is False and a.__eq__(3) is NotImplemented
