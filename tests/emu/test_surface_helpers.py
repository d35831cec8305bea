"""Helpers around the ops, used the way tt-metal code uses them, checked against torch: ``slice_write``,
``fill_implicit_tile_padding``, ``scale_mask_softmax``, ``allocate_tensor_on_device``, ``is_tensor_storage_on_device``,
``NdShardSpec``, ``DispatchCoreConfig``, ``UnaryOpType`` / ``UnaryWithParam``, ``DumpTensorMode``."""

import pytest
import torch

import ttbringup.emu as ttnn
from ttbringup.emu.errors import NotEmulatedError

G = torch.Generator().manual_seed(2016)


def dev(device, x, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, mc=ttnn.DRAM_MEMORY_CONFIG):
    return ttnn.from_torch(x, dtype=dtype, layout=layout, device=device, memory_config=mc)


@pytest.mark.parametrize("dtype", [ttnn.bfloat16, ttnn.float32, ttnn.bfloat8_b])
def test_slice_write_writes_the_region_in_place(device, dtype):
    """Chunked prefill: each 32-row chunk is written into its rows of the full output."""
    full = torch.randn(1, 1, 96, 64, generator=G)
    chunk = torch.randn(1, 1, 32, 64, generator=G)
    out = dev(device, full, dtype)
    before = ttnn.to_torch(out).float()
    got = ttnn.experimental.slice_write(dev(device, chunk, dtype), out, [0, 0, 32, 0], [1, 1, 64, 64], [1, 1, 1, 1])
    assert got is out
    want = before.clone()
    want[:, :, 32:64] = ttnn.to_torch(ttnn.from_torch(chunk, dtype=dtype, layout=ttnn.TILE_LAYOUT)).float()
    assert torch.equal(ttnn.to_torch(out).float(), want)  # bfloat8_b blocks are 16 values of one row: others keep theirs


def test_slice_write_with_strides_and_row_major(device):
    dst = torch.zeros(1, 1, 8, 64)
    src = torch.arange(4 * 32, dtype=torch.float32).reshape(1, 1, 4, 32)
    out = dev(device, dst, ttnn.float32, ttnn.ROW_MAJOR_LAYOUT)
    ttnn.experimental.slice_write(dev(device, src, ttnn.float32, ttnn.ROW_MAJOR_LAYOUT), out, [0, 0, 0, 32], [1, 1, 8, 64],
                     [1, 1, 2, 1])
    want = dst.clone()
    want[:, :, 0:8:2, 32:64] = src
    assert torch.equal(ttnn.to_torch(out), want)


def test_slice_write_refuses_a_region_of_another_shape(device):
    out = dev(device, torch.zeros(1, 1, 64, 64))
    with pytest.raises(RuntimeError, match="Size of the slice being written"):
        ttnn.experimental.slice_write(dev(device, torch.zeros(1, 1, 32, 64)), out, [0, 0, 0, 0], [1, 1, 16, 64], [1, 1, 1, 1])


def test_fill_implicit_tile_padding_keeps_the_values(device):
    x = torch.randn(1, 1, 20, 40, generator=G)
    for dtype in (ttnn.bfloat16, ttnn.bfloat8_b):
        t = dev(device, x, dtype)
        filled = ttnn.fill_implicit_tile_padding(t, -1.0, memory_config=ttnn.L1_MEMORY_CONFIG)
        assert filled.padded_shape == t.padded_shape and filled.memory_config() == t.memory_config()  # as 0.81.1
        assert torch.equal(ttnn.to_torch(filled), ttnn.to_torch(t))
    with pytest.raises(RuntimeError, match="tile layout"):
        ttnn.fill_implicit_tile_padding(dev(device, x, layout=ttnn.ROW_MAJOR_LAYOUT), 0.0)


def test_scale_mask_softmax_equals_torch(device, pcc):
    """The attention-score pattern: softmax(scores * scale + mask), the mask broadcast over heads."""
    scores = torch.randn(1, 8, 32, 64, generator=G)
    mask = torch.triu(torch.full((32, 64), -1e9), diagonal=33).reshape(1, 1, 32, 64)
    out = ttnn.scale_mask_softmax(dev(device, scores), 0.125, dev(device, mask))
    want = torch.softmax(scores.bfloat16().float() * 0.125 + mask.bfloat16().float(), dim=-1)
    assert pcc(want, ttnn.to_torch(out).float()) >= 0.9999
    plain = ttnn.scale_mask_softmax(dev(device, scores))
    assert pcc(torch.softmax(scores.bfloat16().float(), -1), ttnn.to_torch(plain).float()) >= 0.9999
    with pytest.raises(RuntimeError, match="Scale value must not be set when mask is not present"):
        ttnn.scale_mask_softmax(dev(device, scores), 0.5)
    golden = ttnn.get_golden_function(ttnn.scale_mask_softmax)(scores, 0.125, mask)
    assert pcc(golden, ttnn.to_torch(out).float()) >= 0.999


def test_allocate_then_copy_is_the_trace_input_pattern(device):
    shape = ttnn.Shape([1, 1, 32, 64])
    persistent = ttnn.allocate_tensor_on_device(shape, ttnn.bfloat16, ttnn.TILE_LAYOUT, device, ttnn.L1_MEMORY_CONFIG)
    assert ttnn.is_tensor_storage_on_device(persistent) and persistent.memory_config() == ttnn.L1_MEMORY_CONFIG
    host = ttnn.from_torch(torch.randn(1, 1, 32, 64, generator=G), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT)
    assert not ttnn.is_tensor_storage_on_device(host)
    ttnn.copy_host_to_device_tensor(host, persistent)
    assert torch.equal(ttnn.to_torch(persistent), ttnn.to_torch(host))
    with pytest.raises(TypeError):
        ttnn.allocate_tensor_on_device(shape, ttnn.bfloat16, ttnn.TILE_LAYOUT, None)


def test_value_types_of_the_surface():
    grid = ttnn.CoreRangeSet({ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(3, 1))})
    nd = ttnn.NdShardSpec(ttnn.Shape([1, 32, 64]), grid, ttnn.ShardOrientation.ROW_MAJOR)
    assert nd.shard_shape == [1, 32, 64] and nd.num_cores() == 8
    assert nd.shard_distribution_strategy == ttnn.ShardDistributionStrategy.ROUND_ROBIN_1D
    mc = ttnn.MemoryConfig(ttnn.BufferType.L1, nd)  # placement: tests/emu/test_nd_sharding.py
    assert (mc.memory_layout, mc.buffer_type, mc.shard_spec, mc.nd_shard_spec) == (
        ttnn.TensorMemoryLayout.ND_SHARDED, ttnn.BufferType.L1, None, nd) and mc.is_sharded()
    cfg = ttnn.DispatchCoreConfig(ttnn.DispatchCoreType.WORKER, ttnn.DispatchCoreAxis.COL)
    assert (cfg.type, cfg.axis) == (ttnn.DispatchCoreType.WORKER, ttnn.DispatchCoreAxis.COL)
    with pytest.raises(NotEmulatedError, match="WORKER, COL"):  # a worker column shrinks the grid (7x9 on the mock)
        ttnn.open_device(device_id=0, dispatch_core_config=cfg)
    for ok in (ttnn.DispatchCoreConfig(), ttnn.DispatchCoreConfig(type=ttnn.DispatchCoreType.ETH)):
        d = ttnn.open_device(device_id=0, dispatch_core_config=ok)
        assert d.compute_with_storage_grid_size() == ttnn.CoreCoord(8, 8)  # as the 0.81.1 mock n150 reports
        ttnn.close_device(d)
    act = ttnn.UnaryWithParam(ttnn.UnaryOpType.RELU)
    assert act.op_type == ttnn.UnaryOpType.RELU and act.params == []
    assert ttnn.UnaryWithParam(ttnn.UnaryOpType.GELU, 1.0).params == [1.0]
    assert ttnn.DumpTensorMode.DISTRIBUTED_GATHER != ttnn.DumpTensorMode.LOCAL
