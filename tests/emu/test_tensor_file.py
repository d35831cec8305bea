"""Tensor files: ``dump_tensor`` / ``load_tensor`` round trips and ``as_tensor(cache_file_name=...)`` with the
0.81.1 semantics (one file per name, dtype and layout; a hit loads the file and ignores the new input)."""

import pytest
import torch

import ttbringup.emu as ttnn


@pytest.mark.parametrize("dtype, layout", [
    (ttnn.bfloat16, ttnn.TILE_LAYOUT), (ttnn.bfloat16, ttnn.ROW_MAJOR_LAYOUT), (ttnn.float32, ttnn.TILE_LAYOUT),
    (ttnn.bfloat8_b, ttnn.TILE_LAYOUT), (ttnn.bfloat4_b, ttnn.TILE_LAYOUT), (ttnn.uint32, ttnn.ROW_MAJOR_LAYOUT),
])
def test_dump_load_round_trip_is_bit_exact(tmp_path, dtype, layout):
    x = torch.randn(1, 2, 40, 72) * 10
    if dtype == ttnn.uint32:
        x = x.abs().to(torch.int64)
    t = ttnn.from_torch(x, dtype=dtype, layout=layout)
    path = tmp_path / "t.tensorbin"
    assert ttnn.dump_tensor(path, t) is None
    back = ttnn.load_tensor(path)
    assert (back.shape, back.padded_shape, back.dtype, back.layout) == (t.shape, t.padded_shape, dtype, layout)
    assert back.storage_type() == "HOST"
    assert torch.equal(ttnn.to_torch(back), ttnn.to_torch(t))


def test_dump_reads_a_device_tensor_back_and_load_places_it(tmp_path, device):
    x = torch.randn(1, 1, 32, 64)
    t = ttnn.from_torch(x, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device,
                        memory_config=ttnn.L1_MEMORY_CONFIG)
    ttnn.dump_tensor(str(tmp_path / "d.tensorbin"), t)
    back = ttnn.load_tensor(str(tmp_path / "d.tensorbin"), device=device)
    assert back.device() is device and back.memory_config() == ttnn.L1_MEMORY_CONFIG  # where it was dumped from
    assert torch.equal(ttnn.to_torch(back), x.to(torch.bfloat16))


def test_tensor_files_need_the_tensorbin_suffix_and_an_existing_file(tmp_path):
    t = ttnn.from_torch(torch.zeros(2, 2), dtype=ttnn.bfloat16)
    with pytest.raises(RuntimeError, match="must have .tensorbin extension"):
        ttnn.dump_tensor(tmp_path / "t.bin", t)
    with pytest.raises(RuntimeError, match="The file does not exist"):
        ttnn.load_tensor(tmp_path / "missing.tensorbin")
    (tmp_path / "junk.tensorbin").write_bytes(b"junk")
    with pytest.raises(RuntimeError, match="Unable to load the tensor"):
        ttnn.load_tensor(tmp_path / "junk.tensorbin")


def test_as_tensor_cache_hit_loads_the_file_and_ignores_the_new_input(tmp_path, device):
    """The tt_transformers weight-cache pattern: prepare once, then a later run passes a dummy and gets the weight."""
    weight = torch.randn(1, 1, 64, 128)
    name = tmp_path / "cache" / "layers.0.wq"
    first = ttnn.as_tensor(weight, dtype=ttnn.bfloat8_b, layout=ttnn.TILE_LAYOUT, device=device,
                           memory_config=ttnn.DRAM_MEMORY_CONFIG, cache_file_name=name)
    files = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert files == ["layers.0.wq_dtype_BFLOAT8_B_layout_TILE.tensorbin"]
    calls = []
    again = ttnn.as_tensor(torch.zeros(1, 1, 32, 32), dtype=ttnn.bfloat8_b, layout=ttnn.TILE_LAYOUT, device=device,
                           memory_config=ttnn.DRAM_MEMORY_CONFIG, cache_file_name=name,
                           preprocess=lambda t: calls.append(t) or t)
    assert calls == []  # a hit never converts its input
    assert list(again.shape) == [1, 1, 64, 128] and again.device() is device
    assert torch.equal(ttnn.to_torch(again), ttnn.to_torch(first))
    # the values are the bfloat8_b rounding of the first input, as a plain from_torch gives them
    plain = ttnn.from_torch(weight, dtype=ttnn.bfloat8_b, layout=ttnn.TILE_LAYOUT)
    assert torch.equal(ttnn.to_torch(again), ttnn.to_torch(plain))


def test_as_tensor_cache_is_keyed_by_dtype_and_layout(tmp_path):
    x = torch.randn(32, 64)
    name = str(tmp_path / "w")
    a = ttnn.as_tensor(x, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, cache_file_name=name)
    b = ttnn.as_tensor(x * 2, dtype=ttnn.float32, layout=ttnn.TILE_LAYOUT, cache_file_name=name)
    c = ttnn.as_tensor(x * 3, cache_file_name=name)  # dtype None, layout ROW_MAJOR (the default)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["w_dtype_BFLOAT16_layout_TILE.tensorbin", "w_dtype_FLOAT32_layout_TILE.tensorbin",
                     "w_dtype_None_layout_ROW_MAJOR.tensorbin"]
    assert torch.equal(ttnn.to_torch(b), x * 2) and torch.equal(ttnn.to_torch(c), x * 3)
    assert torch.equal(ttnn.to_torch(a), x.to(torch.bfloat16))


def test_as_tensor_cache_miss_applies_preprocess_and_a_broken_file_is_rebuilt(tmp_path):
    name = tmp_path / "p"
    t = ttnn.as_tensor(torch.ones(4, 4), dtype=ttnn.float32, cache_file_name=name, preprocess=lambda x: x * 5)
    assert torch.equal(ttnn.to_torch(t), torch.full((4, 4), 5.0))
    path = tmp_path / "p_dtype_FLOAT32_layout_ROW_MAJOR.tensorbin"
    path.write_bytes(b"truncated")
    with pytest.warns(UserWarning, match="Failed to load cache"):
        rebuilt = ttnn.as_tensor(torch.ones(4, 4) * 7, dtype=ttnn.float32, cache_file_name=name)
    assert torch.equal(ttnn.to_torch(rebuilt), torch.full((4, 4), 7.0))
    assert torch.equal(ttnn.to_torch(ttnn.load_tensor(path)), torch.full((4, 4), 7.0))


def test_as_tensor_cache_on_a_mesh_keeps_the_sharding(tmp_path):
    mesh = ttnn.open_mesh_device(ttnn.MeshShape(1, 2))
    try:
        x = torch.arange(2 * 64.0).reshape(1, 1, 2, 64)
        kwargs = dict(dtype=ttnn.bfloat16, layout=ttnn.ROW_MAJOR_LAYOUT, device=mesh,
                      memory_config=ttnn.DRAM_MEMORY_CONFIG, mesh_mapper=ttnn.ShardTensorToMesh(mesh, dim=3),
                      cache_file_name=tmp_path / "sharded")
        ttnn.as_tensor(x, **kwargs)
        hit = ttnn.as_tensor(torch.zeros(1, 1, 2, 64), **kwargs)
        assert list(hit.shape) == [1, 1, 2, 32]
        assert torch.equal(ttnn.to_torch(hit, mesh_composer=ttnn.ConcatMeshToTensor(mesh, dim=3)), x)
    finally:
        ttnn.close_mesh_device(mesh)
