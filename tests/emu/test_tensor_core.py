"""Tensor basics of the emulator: shapes and padding, conversions, deallocation, not-emulated names."""

import pytest
import torch

import ttbringup.emu as ttnn
from ttbringup.emu.errors import NotEmulatedError, TTError


@pytest.fixture
def dev():
    d = ttnn.open_device(device_id=0)
    yield d
    ttnn.close_device(d)


def test_tile_padding_and_shape_equality(dev):
    t = ttnn.from_torch(torch.randn(2, 3, 37, 50), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=dev)
    assert t.shape == [2, 3, 37, 50] and t.shape == (2, 3, 37, 50)
    assert t.padded_shape == [2, 3, 64, 64]
    assert t.shape[-1] == 50 and len(t.shape) == 4 and t.shape.rank == 4
    assert t.dtype == ttnn.bfloat16 and t.layout == ttnn.TILE_LAYOUT
    assert t.memory_config() == ttnn.DRAM_MEMORY_CONFIG


def test_row_major_is_unpadded_and_default_layout():
    t = ttnn.from_torch(torch.randn(3, 5, 7), dtype=ttnn.bfloat16)
    assert t.layout == ttnn.ROW_MAJOR_LAYOUT and t.padded_shape == [3, 5, 7]
    assert t.storage_type() == "HOST" and ttnn.get_memory_config(t) is None
    assert t.memory_config() == ttnn.DRAM_MEMORY_CONFIG  # what real 0.81.1 reports for a host tensor


def test_vector_is_one_row_of_tiles():
    x = torch.randn(40)
    t = ttnn.from_torch(x, dtype=ttnn.bfloat8_b, layout=ttnn.TILE_LAYOUT)
    assert t.shape == [40] and t.padded_shape == [32, 64]
    assert ttnn.to_torch(t).shape == (40,) and torch.allclose(ttnn.to_torch(t), x, atol=0.05)


def test_custom_tile_pads_to_its_granule():
    t = ttnn.from_torch(torch.randn(10, 20), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, tile=ttnn.Tile((16, 32)))
    assert t.padded_shape == [16, 32]


@pytest.mark.parametrize("dtype,torch_dtype", [(ttnn.bfloat16, torch.bfloat16), (ttnn.float32, torch.float32)])
def test_round_trip_is_exact(dev, dtype, torch_dtype):
    x = torch.randn(1, 1, 33, 65).to(torch_dtype)
    t = ttnn.from_torch(x, dtype=dtype, layout=ttnn.TILE_LAYOUT, device=dev)
    back = ttnn.to_torch(t)
    assert back.dtype == torch_dtype and torch.equal(back, x)


def test_bfloat8_b_holds_quantised_values_and_needs_tile(dev):
    x = torch.randn(64, 64)
    t = ttnn.from_torch(x, dtype=ttnn.bfloat8_b, layout=ttnn.TILE_LAYOUT, device=dev)
    back = ttnn.to_torch(t)
    assert back.dtype == torch.float32 and back.shape == x.shape
    assert not torch.equal(back, x) and torch.allclose(back, x, atol=0.05)
    again = ttnn.to_torch(ttnn.from_torch(back, dtype=ttnn.bfloat8_b, layout=ttnn.TILE_LAYOUT))
    assert torch.equal(again, back)  # quantised values are a fixed point
    with pytest.raises(TTError, match="Layout must be Layout::TILE"):
        ttnn.from_torch(x, dtype=ttnn.bfloat8_b, layout=ttnn.ROW_MAJOR_LAYOUT)


def test_integers_wrap_like_uint32_and_int32():
    big = torch.tensor([2**32 + 5, -1, 7], dtype=torch.int64)
    u = ttnn.from_torch(big, dtype=ttnn.uint32)
    assert u._value.tolist() == [5, 2**32 - 1, 7]
    i = ttnn.from_torch(torch.tensor([2**31, 3], dtype=torch.int64), dtype=ttnn.int32)
    assert ttnn.to_torch(i).tolist() == [-(2**31), 3]


def test_as_tensor_with_device_needs_memory_config(dev):
    with pytest.raises(RuntimeError, match="memory_config must be specified when device is specified"):
        ttnn.as_tensor(torch.randn(32, 32), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=dev)
    t = ttnn.as_tensor(torch.randn(32, 32), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=dev,
                       memory_config=ttnn.DRAM_MEMORY_CONFIG)
    assert t.storage_type() == "DEVICE"


def test_deallocated_tensor_and_its_views_raise(dev):
    from ttbringup.emu.tensor import view_of

    t = ttnn.from_torch(torch.randn(1, 1, 32, 64), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=dev)
    alias = view_of(t, t._value.reshape(1, 32, 64), (1, 32, 64))
    ttnn.deallocate(t)
    assert not t.is_allocated() and not alias.is_allocated()
    with pytest.raises(TTError, match="not allocated"):
        ttnn.to_torch(t)
    with pytest.raises(TTError, match="not allocated"):
        ttnn.to_torch(alias)


def test_layout_dtype_and_memory_conversions(dev):
    x = torch.randn(1, 1, 20, 40)
    t = ttnn.from_torch(x, dtype=ttnn.bfloat16, device=dev)
    tiled = ttnn.to_layout(t, ttnn.TILE_LAYOUT)
    assert tiled.padded_shape == [1, 1, 32, 64] and torch.equal(ttnn.to_torch(tiled), x.bfloat16())
    assert ttnn.to_layout(tiled, ttnn.ROW_MAJOR_LAYOUT).padded_shape == [1, 1, 20, 40]
    with pytest.raises(TTError, match="must be on the host"):
        ttnn.to_dtype(tiled, ttnn.bfloat16)  # real 0.81.1 refuses device tensors even when the dtype matches
    with pytest.raises(TTError, match="must be on the host"):
        ttnn.to_dtype(tiled, ttnn.float32)
    host = ttnn.from_torch(x, dtype=ttnn.bfloat16)
    assert ttnn.to_dtype(host, ttnn.bfloat16) is host
    l1 = ttnn.to_memory_config(tiled, ttnn.L1_MEMORY_CONFIG)
    assert ttnn.get_memory_config(l1) == ttnn.L1_MEMORY_CONFIG and torch.equal(ttnn.to_torch(l1), ttnn.to_torch(tiled))
    assert ttnn.get_memory_config(ttnn.from_torch(x)) is None
    f = ttnn.typecast(tiled, ttnn.float32)
    assert f.dtype == ttnn.float32 and torch.equal(ttnn.to_torch(f), x.bfloat16().float())


def test_create_sharded_memory_config_height():
    cfg = ttnn.create_sharded_memory_config((1, 8, 64, 128), ttnn.CoreGrid(x=8, y=1), ttnn.ShardStrategy.HEIGHT,
                                            ttnn.ShardOrientation.ROW_MAJOR)
    assert cfg.memory_layout == ttnn.TensorMemoryLayout.HEIGHT_SHARDED and cfg.buffer_type == ttnn.BufferType.L1
    assert cfg.shard_spec.shape == (64, 128) and cfg.shard_spec.num_cores() == 8
    with pytest.raises(RuntimeError, match="Invalid sharding core_grid"):
        ttnn.create_sharded_memory_config((1, 3, 32, 128), ttnn.CoreGrid(x=5, y=1), ttnn.ShardStrategy.HEIGHT)


def test_creation_ops(dev):
    z = ttnn.zeros([1, 1, 30, 60], layout=ttnn.TILE_LAYOUT, device=dev)
    assert z.dtype == ttnn.bfloat16 and z.padded_shape == [1, 1, 32, 64] and not ttnn.to_torch(z).any()
    f = ttnn.full([2, 3], 1.5, dtype=ttnn.float32)
    assert torch.equal(ttnn.to_torch(f), torch.full((2, 3), 1.5))


def test_unknown_names_fail_at_use_not_at_import():
    op = ttnn.rotary_embedding_llama_fused_qk  # resolving the name is fine ...
    with pytest.raises(NotEmulatedError, match="not emulated"):
        op(None)  # ... using it is not
    with pytest.raises(AttributeError):
        ttnn._private_thing


def test_device_facts():
    d = ttnn.open_device(device_id=0)
    try:
        assert tuple(d.shape) == (1, 1) and d.get_num_devices() == 1
        assert (d.core_grid.x, d.core_grid.y) == (8, 8)
        grid = d.compute_with_storage_grid_size()
        assert (grid.x, grid.y) == (8, 8) and d.arch() == ttnn.Arch.WORMHOLE_B0
        with pytest.raises(TTError, match="already open"):
            ttnn.open_device(device_id=0)
    finally:
        ttnn.close_device(d)
