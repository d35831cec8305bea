"""Device memory: real byte sizes per bank, out-of-memory like the card, freeing makes room."""

import pytest
import torch

import ttbringup.emu as ttnn
from ttbringup.emu.errors import OutOfMemoryError
from ttbringup.emu.memory import DRAM_BANK_SIZE, DRAM_BANKS, usage


def dram_used(device, chip=0):
    return usage(device)[chip]["dram"]["used"]


def meta(*shape):
    return torch.empty(*shape, device="meta")


@pytest.fixture
def dev():
    d = ttnn.open_device(device_id=0)
    yield d
    ttnn.close_device(d)


@pytest.mark.parametrize(
    "dtype,tile_bytes", [(ttnn.bfloat16, 2048), (ttnn.bfloat8_b, 1088), (ttnn.bfloat4_b, 576), (ttnn.float32, 4096)]
)
def test_tile_tensor_is_charged_its_tiles_spread_over_twelve_banks(dev, dtype, tile_bytes):
    t = ttnn.from_torch(meta(1, 1, 64, 2048), dtype=dtype, layout=ttnn.TILE_LAYOUT, device=dev,
                        memory_config=ttnn.DRAM_MEMORY_CONFIG)
    tiles = 2 * 64
    pages_per_bank = -(-tiles // DRAM_BANKS)
    aligned = -(-tile_bytes // 32) * 32
    assert dram_used(dev) == pages_per_bank * aligned * DRAM_BANKS
    ttnn.deallocate(t)
    assert dram_used(dev) == 0


def test_row_major_pages_are_rows(dev):
    t = ttnn.from_torch(meta(1, 1, 7, 100), dtype=ttnn.bfloat16, device=dev)  # noqa: F841 (held: dropping frees)
    pages_per_bank = 1  # 7 rows over 12 banks
    assert dram_used(dev) == pages_per_bank * 224 * DRAM_BANKS  # 200 B rows, 32-B aligned


def test_oom_names_chip_buffer_and_sizes_and_freeing_makes_room(dev):
    two_gib = (1, 1, 32768, 32768)  # bf16 TILE: 2 GiB each; a chip holds 12 x 1,072,693,184 B
    held = [ttnn.from_torch(meta(*two_gib), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=dev) for _ in range(5)]
    with pytest.raises(OutOfMemoryError, match=r"Out of Memory: Not enough space to allocate 2147483648 B DRAM buffer across 12 banks, where each bank needs to store 178958336 B, but bank size is 1072693184 B \(allocated: \d+ B, free: \d+ B, largest free block: \d+ B\) on chip 0"):
        ttnn.from_torch(meta(*two_gib), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=dev)
    peak = usage(dev)[0]["dram"]["peak"]
    assert peak == dram_used(dev) <= DRAM_BANKS * DRAM_BANK_SIZE
    ttnn.deallocate(held.pop())
    ttnn.from_torch(meta(*two_gib), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=dev)  # fits again


def test_l1_is_separate_and_smaller(dev):
    with pytest.raises(OutOfMemoryError, match="L1 buffer"):
        ttnn.from_torch(meta(1, 1, 8192, 8192), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=dev,
                        memory_config=ttnn.L1_MEMORY_CONFIG)  # 128 MiB > 64 x 1.39 MB
    t = ttnn.from_torch(meta(1, 1, 256, 2048), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=dev,  # noqa: F841
                        memory_config=ttnn.L1_MEMORY_CONFIG)
    assert usage(dev)[0]["l1"]["used"] == 1 * 2048 * 64 * 8  # 512 tiles over 64 banks
    assert dram_used(dev) == 0


def test_data_free_tensors_have_shapes_and_allocations_but_no_values(dev):
    t = ttnn.from_torch(meta(1, 1, 100, 300), dtype=ttnn.bfloat8_b, layout=ttnn.TILE_LAYOUT, device=dev)
    assert t.is_data_free() and t.padded_shape == [1, 1, 128, 320] and dram_used(dev) > 0
    assert ttnn.to_torch(t).is_meta


def test_mesh_charges_every_chip_and_close_frees():
    mesh = ttnn.open_mesh_device(ttnn.MeshShape(1, 2))
    try:
        assert mesh.get_num_devices() == 2 and tuple(mesh.shape) == (1, 2)
        t = ttnn.from_torch(meta(1, 1, 32, 32), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=mesh)  # noqa: F841
        assert dram_used(mesh, 0) == dram_used(mesh, 1) == 2048 * DRAM_BANKS
    finally:
        ttnn.close_mesh_device(mesh)
    again = ttnn.open_mesh_device(ttnn.MeshShape(1, 2))
    ttnn.close_mesh_device(again)


@pytest.mark.parametrize(
    "shape,dtype,layout,per_bank",
    [  # bytes per DRAM bank measured with the real ttnn 0.81.1 allocator (docs/ttnn-mock-findings.md)
        ((1, 1, 32, 32), ttnn.bfloat16, ttnn.TILE_LAYOUT, 2048),
        ((1, 1, 64, 2048), ttnn.bfloat16, ttnn.TILE_LAYOUT, 22528),
        ((1, 1, 2048, 8192), ttnn.bfloat8_b, ttnn.TILE_LAYOUT, 1486208),
        ((1, 1, 7, 100), ttnn.bfloat16, ttnn.ROW_MAJOR_LAYOUT, 224),
        ((1, 1, 1, 32), ttnn.uint32, ttnn.ROW_MAJOR_LAYOUT, 128),
        ((32,), ttnn.int32, ttnn.ROW_MAJOR_LAYOUT, 128),
    ],
)
def test_bytes_per_bank_match_the_real_allocator(dev, shape, dtype, layout, per_bank):
    t = ttnn.from_torch(meta(*shape), dtype=dtype, layout=layout, device=dev)  # noqa: F841 (held: dropping frees)
    assert usage(dev)[0]["dram"]["used"] == per_bank * DRAM_BANKS


def test_l1_pages_are_rounded_to_32_bytes_like_dram(dev):
    t = ttnn.from_torch(meta(1, 1, 7, 100), dtype=ttnn.bfloat16, device=dev,  # noqa: F841
                        memory_config=ttnn.L1_MEMORY_CONFIG)
    assert usage(dev)[0]["l1"]["used"] == 224 * 64  # 200-B rows take 224 B per bank (real 0.81.1), not 208


def test_dropping_the_last_reference_frees_device_memory(dev):
    import gc

    t = ttnn.from_torch(meta(1, 1, 64, 2048), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=dev)
    view = ttnn.reshape(t, (1, 64, 2048))
    del t
    gc.collect()
    assert dram_used(dev) == 22528 * DRAM_BANKS  # the view still holds the buffer
    del view
    gc.collect()
    assert dram_used(dev) == 0  # as on the card: no ttnn.deallocate needed


def test_eleven_one_gib_tensors_fit_and_the_twelfth_does_not(dev):
    one_gib = (1, 1, 16384, 32768)
    held = [ttnn.from_torch(meta(*one_gib), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=dev) for _ in range(11)]
    with pytest.raises(OutOfMemoryError, match=r"allocated: 984270848 B, free: 88422336 B"):
        ttnn.from_torch(meta(*one_gib), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=dev)
    assert len(held) == 11
