"""``ttnn.TensorSpec`` used the way tt-metal code uses it: built by one of its three constructors, read off a tensor
(``Tensor.spec``), and handed to ``allocate_tensor_on_device`` and ``from_torch(spec=...)``; values against torch.
The accepted and refused forms are checked against the real 0.81.1 in ``tests/conformance/nd_cases.py``."""

import pytest
import torch

import ttbringup.emu as ttnn
from ttbringup.emu.errors import NotEmulatedError

G = torch.Generator().manual_seed(1603)
S = ttnn.Shape
TML = ttnn.TensorMemoryLayout


def grid(x0, y0, x1, y1):
    return ttnn.CoreRangeSet({ttnn.CoreRange(ttnn.CoreCoord(x0, y0), ttnn.CoreCoord(x1, y1))})


def test_the_three_constructors():
    plain = ttnn.TensorSpec(S([1, 1, 30, 60]), ttnn.bfloat16, ttnn.TILE_LAYOUT, ttnn.BufferType.L1)
    assert (plain.shape, plain.dtype, plain.layout, plain.memory_config, plain.tile.tile_shape) == (
        [1, 1, 30, 60], ttnn.bfloat16, ttnn.TILE_LAYOUT, ttnn.L1_MEMORY_CONFIG, (32, 32))
    shard = ttnn.ShardSpec(grid(0, 0, 1, 0), [32, 64], ttnn.ShardOrientation.ROW_MAJOR)
    height = ttnn.TensorSpec(S([1, 1, 64, 64]), ttnn.bfloat16, ttnn.TILE_LAYOUT, TML.HEIGHT_SHARDED, shard,
                             ttnn.BufferType.L1)
    assert height.memory_config == ttnn.MemoryConfig(TML.HEIGHT_SHARDED, ttnn.BufferType.L1, shard)
    nd = ttnn.NdShardSpec(S([1, 32, 64]), grid(0, 0, 3, 1))
    nd_spec = ttnn.TensorSpec(S([2, 64, 128]), ttnn.bfloat16, ttnn.TILE_LAYOUT, nd)  # DRAM unless told
    assert nd_spec.memory_config == ttnn.MemoryConfig(ttnn.BufferType.DRAM, nd)
    tiny = ttnn.TensorSpec([2, 3], ttnn.float32, ttnn.ROW_MAJOR_LAYOUT, tile=ttnn.Tile((16, 32)))
    assert tiny.tile.tile_shape == (16, 32) and tiny.memory_config == ttnn.DRAM_MEMORY_CONFIG


def test_an_nd_spec_reads_as_the_2d_layout_it_amounts_to():
    nd = ttnn.NdShardSpec(S([1, 32, 128]), grid(0, 0, 3, 0))
    mc = ttnn.TensorSpec(S([2, 64, 128]), ttnn.bfloat16, ttnn.TILE_LAYOUT, nd, ttnn.BufferType.L1).memory_config
    assert (mc.memory_layout, mc.shard_spec.shape, mc.nd_shard_spec) == (TML.HEIGHT_SHARDED, (32, 128), nd)


def test_equality_and_the_spec_of_a_tensor(device):
    t = ttnn.from_torch(torch.zeros(1, 1, 30, 60), dtype=ttnn.bfloat8_b, layout=ttnn.TILE_LAYOUT, device=device,
                        memory_config=ttnn.L1_MEMORY_CONFIG)
    want = ttnn.TensorSpec(S([1, 1, 30, 60]), ttnn.bfloat8_b, ttnn.TILE_LAYOUT, ttnn.BufferType.L1)
    assert t.spec == want and t.spec != ttnn.TensorSpec(S([1, 1, 30, 60]), ttnn.bfloat8_b, ttnn.TILE_LAYOUT)
    assert ttnn.from_torch(torch.zeros(2, 3)).spec == ttnn.TensorSpec(S([2, 3]), ttnn.float32, ttnn.ROW_MAJOR_LAYOUT)


def test_persistent_trace_input_from_a_spec(device):
    """tt-metal's trace tests: allocate the input from the spec of a host tensor, copy it in, run the op."""
    x = torch.randn(1, 1, 32, 64, generator=G)
    host = ttnn.from_torch(x, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT)
    spec = ttnn.TensorSpec(host.shape, host.dtype, host.layout, ttnn.BufferType.L1)
    persistent = ttnn.allocate_tensor_on_device(spec, device)
    assert persistent.spec == spec and ttnn.allocate_tensor_on_device(tensor_spec=spec, mesh_device=device).spec == spec
    ttnn.copy_host_to_device_tensor(host, persistent)
    assert torch.equal(ttnn.to_torch(ttnn.silu(persistent)), ttnn.to_torch(ttnn.silu(ttnn.to_device(host, device))))
    with pytest.raises(TypeError):
        ttnn.allocate_tensor_on_device(spec, device, ttnn.L1_MEMORY_CONFIG)  # the spec form takes no memory config


def test_from_torch_with_a_spec(device):
    x = torch.randn(2, 64, 128, generator=G)
    nd = ttnn.NdShardSpec(S([1, 32, 64]), grid(0, 0, 3, 1))
    spec = ttnn.TensorSpec(S([2, 64, 128]), ttnn.float32, ttnn.TILE_LAYOUT, nd, ttnn.BufferType.L1)
    t = ttnn.from_torch(x, spec=spec, device=device)
    assert t.spec == spec and torch.equal(ttnn.to_torch(t), x)
    for kw in ({"dtype": ttnn.float32}, {"layout": ttnn.TILE_LAYOUT}, {"memory_config": ttnn.L1_MEMORY_CONFIG}):
        with pytest.raises(RuntimeError, match="must be None when spec is specified"):
            ttnn.from_torch(x, spec=spec, device=device, **kw)
    with pytest.raises(RuntimeError, match="must be the same as tensor shape"):
        ttnn.from_torch(x[:, :32], spec=spec, device=device)


def test_refused_specs_and_the_helpers_not_emulated():
    with pytest.raises(RuntimeError, match="TILE"):
        ttnn.TensorSpec(S([1, 1, 32, 64]), ttnn.bfloat8_b, ttnn.ROW_MAJOR_LAYOUT)
    with pytest.raises(RuntimeError, match="shard_spec"):
        ttnn.TensorSpec(S([1, 1, 64, 64]), ttnn.bfloat16, ttnn.TILE_LAYOUT, TML.HEIGHT_SHARDED)
    with pytest.raises(RuntimeError, match="must be tile"):
        ttnn.TensorSpec(S([2, 64, 128]), ttnn.bfloat16, ttnn.TILE_LAYOUT,
                        ttnn.NdShardSpec(S([1, 20, 128]), grid(0, 0, 3, 0)), ttnn.BufferType.L1)
    spec = ttnn.TensorSpec(S([1, 1, 64, 64]), ttnn.bfloat16, ttnn.TILE_LAYOUT)
    with pytest.raises(NotEmulatedError, match="ttnn.TensorSpec.height_sharded"):
        spec.height_sharded(grid(0, 0, 1, 0))
