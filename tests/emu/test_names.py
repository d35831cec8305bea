"""Names of the 0.81.1 surface: enums the ops take, exported as real code spells them, and members of the real
classes the emulator lacks, which raise the not-emulated error rather than a bare AttributeError."""

import pytest
import torch

import ttbringup.emu as ttnn
from ttbringup.emu.errors import NotEmulatedError


def test_tile_reshape_map_mode_is_exported_and_accepted(device):
    assert [m.name for m in ttnn.TileReshapeMapMode] == ["CACHE", "RECREATE"]
    x = torch.randn(1, 1, 64, 64)
    t = ttnn.from_torch(x, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    out = ttnn.reshape(t, (1, 2, 32, 64), reshape_tile_mode=ttnn.TileReshapeMapMode.RECREATE)
    assert torch.equal(ttnn.to_torch(out), x.reshape(1, 2, 32, 64).bfloat16())


def test_embeddings_type_is_exported_and_accepted(device):
    assert [m.name for m in ttnn.EmbeddingsType] == ["GENERIC", "PADDED", "BINARY"]
    assert ttnn.EmbeddingsType is ttnn.operations.embedding.EmbeddingsType  # where 0.81.1 also has it
    table = torch.randn(64, 32)
    ids = torch.tensor([[0, 3, 5, 3]], dtype=torch.int32)
    w = ttnn.from_torch(table, dtype=ttnn.bfloat16, layout=ttnn.ROW_MAJOR_LAYOUT, device=device)
    i = ttnn.from_torch(ids, dtype=ttnn.uint32, layout=ttnn.ROW_MAJOR_LAYOUT, device=device)
    out = ttnn.to_torch(ttnn.embedding(i, w, padding_idx=3, embeddings_type=ttnn.EmbeddingsType.PADDED))
    assert torch.equal(out[0, 0], table[0].bfloat16()) and not out[0, 1].any() and not out[0, 3].any()
    two = ttnn.from_torch(table[:2], dtype=ttnn.bfloat16, layout=ttnn.ROW_MAJOR_LAYOUT, device=device)
    bits = ttnn.from_torch(torch.tensor([[1, 0, 1, 1]], dtype=torch.int32), dtype=ttnn.uint32, device=device)
    binary = ttnn.to_torch(ttnn.embedding(bits, two, embeddings_type=ttnn.EmbeddingsType.BINARY))
    assert torch.equal(binary[0], table[[1, 0, 1, 1]].bfloat16())
    with pytest.raises(RuntimeError, match="must have 2 embeddings"):
        ttnn.embedding(bits, w, embeddings_type=ttnn.EmbeddingsType.BINARY)


@pytest.mark.parametrize("member", ["to_json", "from_json"])  # bounding_box, merge, ...: tests/emu/test_cores.py
def test_core_range_set_members_the_emulator_lacks(member):
    crs = ttnn.CoreRangeSet([ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(7, 3))])
    assert crs.num_cores() == 32
    with pytest.raises(NotEmulatedError, match=f"ttnn.CoreRangeSet.{member} is not emulated"):
        getattr(crs, member)()


def test_the_program_cache_api_counts_distinct_op_signatures(device):
    device.enable_program_cache()  # tt_transformers-style setup code calls it first
    x = ttnn.from_torch(torch.ones(32, 32), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    y = ttnn.from_torch(torch.ones(32, 64), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    ttnn.add(x, x)
    ttnn.add(x, x)  # the same program again
    assert device.num_program_cache_entries() == 1
    ttnn.relu(x)
    assert device.num_program_cache_entries() == 2  # as the 0.81.1 mock counts it
    ttnn.add(y, y)  # new tensor specs: a new entry here (the mock reuses add's program: an upper bound)
    assert device.num_program_cache_entries() == 3
    device.clear_program_cache()
    assert device.num_program_cache_entries() == 0
    device.disable_and_clear_program_cache()
    ttnn.add(x, x)
    assert device.num_program_cache_entries() == 0


def test_device_and_tensor_members_the_emulator_lacks(device):
    with pytest.raises(NotEmulatedError, match="ttnn.MeshDevice.create_submesh"):
        device.create_submesh(ttnn.MeshShape(1, 1))
    t = ttnn.from_torch(torch.ones(3, 5), dtype=ttnn.bfloat16)
    with pytest.raises(NotEmulatedError, match="ttnn.Tensor.tensor_topology"):
        t.tensor_topology()
    with pytest.raises(NotEmulatedError, match="ttnn.TensorSpec.width_sharded"):
        t.spec.width_sharded(ttnn.CoreRangeSet({ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(1, 0))}))
    with pytest.raises(NotEmulatedError, match="ttnn.Tile.get_tile_size"):
        t.tile.get_tile_size(ttnn.bfloat16)
    with pytest.raises(NotEmulatedError, match="ttnn.MemoryConfig.to_json"):
        ttnn.DRAM_MEMORY_CONFIG.to_json()


def test_names_the_real_classes_lack_stay_attribute_errors(device):
    t = ttnn.from_torch(torch.ones(3, 5), dtype=ttnn.bfloat16)
    for obj, name in ((t, "no_such_member"), (device, "open"), (ttnn.CoreCoord(0, 0), "z"),
                      (ttnn.DRAM_MEMORY_CONFIG, "buffer"), (t, "_private")):
        with pytest.raises(AttributeError):
            getattr(obj, name)
    assert not hasattr(t, "neg")
