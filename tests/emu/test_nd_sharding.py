"""ND sharding (``MemoryConfig(buffer_type, NdShardSpec)``): values against torch, the placement a tensor reports and
the bytes per bank, which the conformance lane checks against the real 0.81.1 mock (``tests/conformance/nd_cases.py``;
the per-bank figures below are the mock allocator's, from those cases)."""

import pytest
import torch

import ttbringup.emu as ttnn
from ttbringup.emu import memory
from ttbringup.emu.errors import NotEmulatedError, OutOfMemoryError

G = torch.Generator().manual_seed(163)
TML = ttnn.TensorMemoryLayout


def grid(x0, y0, x1, y1):
    return ttnn.CoreRangeSet({ttnn.CoreRange(ttnn.CoreCoord(x0, y0), ttnn.CoreCoord(x1, y1))})


def nd_config(shard, cores, buffer=ttnn.BufferType.L1, **kw):
    return ttnn.MemoryConfig(buffer, ttnn.NdShardSpec(ttnn.Shape(shard), grid(*cores), **kw))


def per_bank(device):
    chip = memory.usage(device)[0]
    return chip["dram"]["used"] // memory.DRAM_BANKS, chip["l1"]["used"] // memory.L1_BANKS


def place(device, x, mc, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT):
    return ttnn.from_torch(x, dtype=dtype, layout=layout, device=device, memory_config=mc)


@pytest.mark.parametrize("dtype,layout", [(ttnn.bfloat16, ttnn.TILE_LAYOUT), (ttnn.float32, ttnn.ROW_MAJOR_LAYOUT),
                                          (ttnn.bfloat8_b, ttnn.TILE_LAYOUT)])
def test_values_round_trip_as_interleaved(device, dtype, layout):
    x = torch.randn(2, 64, 128, generator=G)
    t = place(device, x, nd_config([1, 32, 64], (0, 0, 3, 1)), dtype, layout)
    assert t.memory_config().memory_layout == TML.ND_SHARDED and t.memory_config().shard_spec is None
    want = ttnn.to_torch(ttnn.from_torch(x, dtype=dtype, layout=layout))  # the same rounding on the host
    assert torch.equal(ttnn.to_torch(t), want)


def test_element_wise_ops_equal_torch_and_keep_the_nd_placement(device):
    x, y = torch.randn(2, 64, 128, generator=G), torch.randn(2, 64, 128, generator=G)
    mc = nd_config([1, 32, 64], (0, 0, 3, 1))
    a, b = place(device, x, mc, ttnn.float32), ttnn.from_torch(y, dtype=ttnn.float32, layout=ttnn.TILE_LAYOUT,
                                                               device=device)
    for got, want in ((ttnn.add(b, a), x + y), (ttnn.multiply(a, b), x * y), (a - 1.5, x - 1.5),
                      (ttnn.relu(a), torch.relu(x)), (ttnn.typecast(a, ttnn.bfloat16), x.bfloat16().float())):
        assert got.memory_config() == mc  # add(interleaved, nd): 0.81.1 places it like the ND operand
        assert torch.equal(ttnn.to_torch(got).float(), want)
    back = ttnn.to_memory_config(a, ttnn.DRAM_MEMORY_CONFIG)
    assert back.memory_config() == ttnn.DRAM_MEMORY_CONFIG and torch.equal(ttnn.to_torch(back), x)


@pytest.mark.parametrize("shape,shard,cores,buffer,layout,want", [
    ([2, 64, 128], [1, 32, 64], (0, 0, 3, 1), "L1", "TILE", (0, 4096)),  # 8 shards of 2 tiles, one a core
    ([2, 64, 128], [1, 32, 64], (0, 0, 1, 0), "L1", "TILE", (0, 16384)),  # four shards a core
    ([2, 64, 128], [1, 32, 64], (0, 0, 2, 0), "L1", "TILE", (0, 12288)),  # 8 shards on 3 cores: 3 on the fullest
    ([3, 32, 64], [64, 64], (0, 0, 0, 0), "L1", "TILE", (0, 16384)),  # leading dims merged: [96, 64], 2 shards
    ([3, 32, 64], [1, 64, 64], (0, 0, 0, 0), "L1", "TILE", (0, 24576)),  # 3 shards, the rows padded to 64
    ([2, 64, 100], [1, 16, 3], (0, 0, 3, 0), "L1", "ROW_MAJOR", (0, 17408)),  # 6-byte rows take 16 B in L1
    ([2, 64, 100], [1, 16, 50], (0, 0, 3, 0), "DRAM", "ROW_MAJOR", (8192, 0)),  # 100-byte rows take 128 B in DRAM
    ([2, 64, 128], [1, 32, 128], (0, 0, 3, 0), "L1", "TILE", (0, 8192)),  # reads as height sharded
])
def test_bytes_per_bank_as_the_mock_allocator_counts_them(device, shape, shard, cores, buffer, layout, want):
    before = per_bank(device)
    t = place(device, torch.zeros(shape), nd_config(shard, cores, getattr(ttnn.BufferType, buffer)),
              layout=getattr(ttnn.Layout, layout))
    assert tuple(a - b for a, b in zip(per_bank(device), before)) == want
    ttnn.deallocate(t)
    assert per_bank(device) == before


def test_the_layout_a_placed_tensor_reports(device):
    def placed(shape, shard, cores, layout=ttnn.TILE_LAYOUT):
        return place(device, torch.zeros(shape), nd_config(shard, cores), layout=layout).memory_config()

    height = placed([2, 64, 128], [1, 32, 128], (0, 0, 3, 0))  # whole width, one row block a core
    assert height.memory_layout == TML.HEIGHT_SHARDED and height.shard_spec.shape == (32, 128)
    assert height.nd_shard_spec.shard_shape == [1, 32, 128]
    width = placed([2, 64, 128], [2, 64, 32], (0, 0, 3, 0))  # whole (flattened) height
    assert width.memory_layout == TML.WIDTH_SHARDED and width.shard_spec.shape == (128, 32)
    assert placed([2, 64, 128], [1, 32, 128], (0, 0, 1, 0)).memory_layout == TML.ND_SHARDED  # 4 shards, 2 cores
    assert placed([2, 64, 128], [2, 32, 128], (0, 0, 3, 0)).memory_layout == TML.ND_SHARDED  # rows not contiguous
    rm = place(device, torch.zeros(2, 64, 100), nd_config([1, 16, 56], (0, 0, 3, 0)), layout=ttnn.ROW_MAJOR_LAYOUT)
    assert rm.padded_shape == [2, 64, 112]  # the last dim padded to the shard width


def test_height_sharded_result_runs_the_2d_sharded_ops(device):
    """A placement that reads as HEIGHT_SHARDED is an ordinary height-sharded tensor to the ops."""
    x = torch.randn(1, 1, 64, 128, generator=G)
    t = place(device, x, nd_config([1, 1, 32, 128], (0, 0, 1, 0)), ttnn.float32)
    out = ttnn.softmax(t, -1)  # refused for an ND_SHARDED input
    assert out.memory_config().memory_layout == TML.HEIGHT_SHARDED
    assert torch.allclose(ttnn.to_torch(out), torch.softmax(x, -1), atol=1e-6)


@pytest.mark.parametrize("shape,shard,cores,buffer,match", [
    ([2, 64, 128], [1, 1, 32, 64], (0, 0, 3, 1), "L1", "can't be less than shard shape rank"),
    ([2, 64, 128], [1, 20, 50], (0, 0, 3, 1), "L1", "must be tile"),
    ([2, 64, 128], [1, 32, 64], (0, 0, 8, 8), "L1", "has no L1 bank"),
    ([2, 64, 128], [1, 32, 64], (0, 0, 12, 0), "DRAM", "has no DRAM bank"),
])
def test_placements_0_81_1_refuses(device, shape, shard, cores, buffer, match):
    with pytest.raises(RuntimeError, match=match):
        place(device, torch.zeros(shape), nd_config(shard, cores, getattr(ttnn.BufferType, buffer)))


def test_out_of_l1_as_on_the_card(device):
    with pytest.raises(OutOfMemoryError):  # 32 shards of 2048x64 bf16 (256 KiB each) on 2 cores
        place(device, torch.zeros(32, 2048, 64, device="meta"), nd_config([1, 2048, 64], (0, 0, 1, 0)))


def test_other_ops_refuse_nd_sharded_inputs_as_not_emulated(device):
    t = place(device, torch.zeros(2, 64, 128), nd_config([1, 32, 64], (0, 0, 3, 1)))
    w = ttnn.from_torch(torch.zeros(128, 64), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    for call in (lambda: ttnn.matmul(t, w), lambda: ttnn.softmax(t, -1), lambda: ttnn.reshape(t, [1, 128, 128]),
                 lambda: t[:, :32, :]):
        with pytest.raises(NotEmulatedError, match="ND-sharded"):
            call()


def test_grid_2d_distribution_is_not_emulated(device):
    mc = nd_config([32, 64], (0, 0, 1, 1), shard_distribution_strategy=ttnn.ShardDistributionStrategy.GRID_2D)
    with pytest.raises(NotEmulatedError, match="GRID_2D"):
        place(device, torch.zeros(64, 128), mc)


def test_tensor_files_and_the_as_tensor_cache_keep_the_nd_placement(device, tmp_path):
    x = torch.randn(2, 64, 128, generator=G)
    mc = nd_config([1, 32, 64], (0, 0, 3, 1))
    t = place(device, x, mc, ttnn.float32)
    ttnn.dump_tensor(tmp_path / "t.tensorbin", t)
    back = ttnn.load_tensor(tmp_path / "t.tensorbin", device=device)
    assert back.memory_config() == mc and torch.equal(ttnn.to_torch(back), x)
    kw = dict(dtype=ttnn.float32, layout=ttnn.TILE_LAYOUT, device=device, memory_config=mc,
              cache_file_name=str(tmp_path / "w"))
    ttnn.as_tensor(x, **kw)
    hit = ttnn.as_tensor(torch.zeros(2, 64, 128), **kw)  # a hit loads the file and ignores the input
    assert hit.memory_config() == mc and torch.equal(ttnn.to_torch(hit), x)
