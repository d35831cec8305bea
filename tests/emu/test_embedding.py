"""ttnn.embedding of the emulator against torch.nn.functional.embedding on the decoded table."""

import pytest
import torch
import torch.nn.functional as F

import ttbringup.emu as ttnn
from ttbringup.emu.errors import TTError


def tokens(ids, device, dtype=ttnn.uint32):
    return ttnn.from_torch(ids, dtype=dtype, device=device)


def table(w, device, dtype=ttnn.bfloat16, layout=ttnn.ROW_MAJOR_LAYOUT):
    return ttnn.from_torch(w, dtype=dtype, layout=layout, device=device)


@pytest.mark.parametrize("dtype,layout", [(ttnn.bfloat16, ttnn.ROW_MAJOR_LAYOUT), (ttnn.bfloat16, ttnn.TILE_LAYOUT),
                                          (ttnn.bfloat8_b, ttnn.TILE_LAYOUT), (ttnn.bfloat4_b, ttnn.TILE_LAYOUT)])
def test_model_call_gives_rank3_bf16(device, dtype, layout):
    torch.manual_seed(0)
    ids = torch.randint(0, 100, (1, 1, 1, 64))
    w = table(torch.randn(1, 1, 100, 72), device, dtype, layout)
    out = ttnn.embedding(tokens(ids, device), w, layout=ttnn.TILE_LAYOUT)
    assert out.shape == [1, 64, 72] and out.padded_shape == [1, 64, 96]
    assert out.dtype == ttnn.bfloat16 and out.layout == ttnn.TILE_LAYOUT
    ref = F.embedding(ids.reshape(1, 64), ttnn.to_torch(w).float().reshape(100, 72))
    assert torch.equal(ttnn.to_torch(out).float(), ref)


def test_shapes_of_other_index_ranks(device):
    w = table(torch.randn(50, 32), device)
    out2 = ttnn.embedding(tokens(torch.randint(0, 50, (3, 7)), device), w)
    assert out2.shape == [3, 7, 32] and out2.layout == ttnn.ROW_MAJOR_LAYOUT
    out1 = ttnn.embedding(tokens(torch.randint(0, 50, (9,)), device), w)
    assert out1.shape == [9, 32]


def test_memory_config_follows_indices_and_dtype_for_tile(device):
    ids = ttnn.from_torch(torch.randint(0, 10, (1, 32)), dtype=ttnn.uint32, device=device,
                          memory_config=ttnn.L1_MEMORY_CONFIG)
    w = table(torch.randn(1, 1, 10, 64), device)
    out = ttnn.embedding(ids, w, layout=ttnn.TILE_LAYOUT, dtype=ttnn.bfloat8_b)
    assert out.memory_config() == ttnn.L1_MEMORY_CONFIG and out.dtype == ttnn.bfloat8_b
    with pytest.raises(TTError, match="Can only typecast output embeddings when producing TILE_LAYOUT output"):
        ttnn.embedding(ids, w, dtype=ttnn.bfloat8_b)


def test_padding_idx_and_bf16_indices(device):
    ids = torch.tensor([[0, 3, 1, 3]])
    w = torch.randn(5, 32)
    out = ttnn.embedding(tokens(ids.float(), device, ttnn.bfloat16), table(w, device), padding_idx=3)
    ref = F.embedding(ids, w.bfloat16().float(), padding_idx=3)
    ref[ids == 3] = 0
    assert torch.equal(ttnn.to_torch(out).float(), ref)


def test_validation(device):
    ids = tokens(torch.randint(0, 10, (1, 32)), device)
    with pytest.raises(TTError, match="Weights tensor must have BFLOAT16 dtype"):
        ttnn.embedding(ids, table(torch.randn(10, 32), device, dtype=ttnn.float32))
    with pytest.raises(TTError, match="UINT32 or BFLOAT16"):
        ttnn.embedding(ttnn.from_torch(torch.randint(0, 10, (1, 32)), dtype=ttnn.int32, device=device),
                       table(torch.randn(10, 32), device))
    with pytest.raises(TTError, match="leading dims 1"):
        ttnn.embedding(ids, table(torch.randn(2, 10, 32), device))
    with pytest.raises(TTError, match="out of range"):
        ttnn.embedding(tokens(torch.tensor([[11]]), device), table(torch.randn(10, 32), device))
    with pytest.raises(TTError, match="on device"):
        ttnn.embedding(ttnn.from_torch(torch.randint(0, 10, (1, 32)), dtype=ttnn.uint32),
                       table(torch.randn(10, 32), device))
    with pytest.raises(TTError, match="must have 2 embeddings"):  # BINARY: tests/emu/test_names.py
        ttnn.embedding(ids, table(torch.randn(3, 32), device), embeddings_type=ttnn.EmbeddingsType.BINARY)


def test_deallocated_table_raises(device):
    w = table(torch.randn(10, 32), device, ttnn.bfloat8_b, ttnn.TILE_LAYOUT)
    ttnn.deallocate(w)
    with pytest.raises(TTError, match="not allocated"):
        ttnn.embedding(tokens(torch.randint(0, 10, (1, 32)), device), w)


def test_data_free_table_gives_shape(device):
    ids = tokens(torch.zeros(1, 1, 1, 128, dtype=torch.int64), device)
    w = table(torch.empty(1, 1, 128256, 2048, device="meta"), device, ttnn.bfloat8_b, ttnn.TILE_LAYOUT)
    out = ttnn.embedding(ids, w, layout=ttnn.TILE_LAYOUT)
    assert out.is_data_free() and out.shape == [1, 128, 2048] and out.dtype == ttnn.bfloat16
