"""KV cache writes: fill_cache, update_cache, paged_update_cache, paged_fill_cache (in place, exact)."""

import pytest
import torch

import ttbringup.emu as ttnn
from ttbringup.emu.core import height_sharded_config
from ttbringup.emu.errors import TTError

exp = ttnn.experimental


def to_dev(x, device, dtype=ttnn.bfloat16, **kw):
    return ttnn.from_torch(x, dtype=dtype, layout=ttnn.TILE_LAYOUT, device=device, **kw)


def cache_of(shape, device, dtype=ttnn.bfloat16, fill=None):
    values = torch.randn(shape) if fill is None else torch.full(shape, float(fill))
    return to_dev(values, device, dtype)


def row_quantised(rows, dtype):
    """What rows [..., hd] read back as once stored in a ``dtype`` tile (rows quantise independently)."""
    flat = rows.reshape(-1, 1, rows.shape[-1])
    return ttnn.to_torch(ttnn.from_torch(flat, dtype=dtype, layout=ttnn.TILE_LAYOUT)).float().reshape(rows.shape)


def decode_input(users, heads, hd, device, dtype=ttnn.bfloat16):
    """[1, B, heads (pad 32), hd], L1 height-sharded one user per core, like nlp_create_qkv_heads_decode's k/v."""
    x = torch.randn(1, users, heads, hd)
    return x, to_dev(x, device, dtype, memory_config=height_sharded_config(users, (32, hd)))


def int32_tensor(values, device, **kw):
    return ttnn.from_torch(torch.tensor(values, dtype=torch.int32), dtype=ttnn.int32, device=device, **kw)


# ----------------------------------------------------------------------------- fill_cache


@pytest.mark.parametrize("seq", [64, 20])
def test_fill_cache_writes_whole_padded_rows_in_place(device, seq):
    cache = cache_of((4, 2, 128, 64), device)
    before = ttnn.to_torch(cache)
    x = torch.randn(1, 2, seq, 64).to(torch.bfloat16)
    result = ttnn.fill_cache(cache, to_dev(x, device), batch_idx=2, update_idx=32)
    assert result is cache
    assert cache.shape == [4, 2, 128, 64] and cache.dtype == ttnn.bfloat16
    after = ttnn.to_torch(cache)
    seq_pad = -(-seq // 32) * 32
    expected = before.clone()
    expected[2, :, 32:32 + seq_pad] = 0
    expected[2, :, 32:32 + seq] = x[0]
    assert torch.equal(after, expected)


def test_fill_cache_bfloat8_b_rewrites_only_the_written_rows(device):
    cache = cache_of((2, 2, 96, 64), device, ttnn.bfloat8_b)
    before = ttnn.to_torch(cache)
    x = to_dev(torch.randn(1, 2, 32, 64), device, ttnn.bfloat8_b)
    ttnn.fill_cache(cache, x, 1, update_idx=64)
    after = ttnn.to_torch(cache)
    assert torch.equal(after[1, :, 64:], ttnn.to_torch(x)[0])
    assert torch.equal(after[0], before[0]) and torch.equal(after[1, :, :64], before[1, :, :64])


def test_fill_cache_has_no_grid_limit_and_takes_height_sharded_input(device):
    cache = cache_of((1, 32, 256, 64), device, fill=0)
    x = torch.randn(1, 32, 256, 64).to(torch.bfloat16)
    ttnn.fill_cache(cache, to_dev(x, device), 0)  # 32 heads x 8 tiles > 64 cores: fine in 0.81.1
    sharded = ttnn.create_sharded_memory_config((1, 32, 256, 64), ttnn.CoreGrid(x=8, y=4), ttnn.ShardStrategy.HEIGHT,
                                                ttnn.ShardOrientation.ROW_MAJOR)
    cache2 = cache_of((1, 32, 256, 64), device, fill=0)
    ttnn.fill_cache(cache2, to_dev(x, device, memory_config=sharded), 0)
    assert torch.equal(ttnn.to_torch(cache), x[0:1]) and torch.equal(ttnn.to_torch(cache2), x[0:1])


def test_fill_cache_data_free(device):
    cache = to_dev(torch.empty(32, 8, 256, 64, device="meta"), device)
    x = to_dev(torch.empty(1, 8, 64, 64, device="meta"), device)
    assert ttnn.fill_cache(cache, x, 0) is cache


@pytest.mark.parametrize("case,match", [
    ("dtype", "Input and cache tensors must have same dtype!"),
    ("update_idx", r"Fill update_idx \(16\) must be a multiple of TILE_HEIGHT \(32\)"),
    ("overflow", r"Fill update_idx \(96\) \+ input tensor height \(64\) must be <= cache tensor height \(128\)"),
    ("batch_idx", r"Batch index \(4\) must be less than cache tensor batch size \(4\)"),
    ("width", r"Input tensor width \(128\) must equal cache tensor width \(64\)"),
    ("heads", r"Input tensor height \(4\) must equal cache tensor height \(2\)"),
    ("input_batch", "Input tensor batch size must be 1 but got 2"),
    ("layout", "Inputs to update_cache must be tilized"),
    ("host", "Operands to update_cache need to be on device!"),
    ("cache_l1_sharded", "Cache tensor memory layout must be INTERLEAVED, ND_SHARDED, or HEIGHT_SHARDED"),
    ("width_sharded", "Input tensor memory layout must not be WIDTH_SHARDED"),
])
def test_fill_cache_validation(device, case, match):
    cache = cache_of((4, 2, 128, 64), device)
    x = torch.randn(1, 2, 64, 64)
    with pytest.raises(TTError, match=match):
        if case == "dtype":
            ttnn.fill_cache(cache, to_dev(x, device, ttnn.bfloat8_b), 0)
        elif case == "update_idx":
            ttnn.fill_cache(cache, to_dev(x, device), 0, update_idx=16)
        elif case == "overflow":
            ttnn.fill_cache(cache, to_dev(x, device), 0, update_idx=96)
        elif case == "batch_idx":
            ttnn.fill_cache(cache, to_dev(x, device), 4)
        elif case == "width":
            ttnn.fill_cache(cache, to_dev(torch.randn(1, 2, 64, 128), device), 0)
        elif case == "heads":
            ttnn.fill_cache(cache, to_dev(torch.randn(1, 4, 64, 64), device), 0)
        elif case == "input_batch":
            ttnn.fill_cache(cache, to_dev(torch.randn(2, 2, 64, 64), device), 0)
        elif case == "layout":
            ttnn.fill_cache(cache, ttnn.from_torch(x, dtype=ttnn.bfloat16, device=device), 0)
        elif case == "host":
            ttnn.fill_cache(cache, ttnn.from_torch(x, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT), 0)
        elif case == "cache_l1_sharded":
            sharded = to_dev(torch.zeros(4, 2, 128, 64), device, memory_config=height_sharded_config(8, (128, 64)))
            ttnn.fill_cache(sharded, to_dev(x, device), 0)
        elif case == "width_sharded":
            cfg = ttnn.create_sharded_memory_config((1, 2, 64, 64), ttnn.CoreGrid(x=2, y=1), ttnn.ShardStrategy.WIDTH)
            ttnn.fill_cache(cache, to_dev(x, device, memory_config=cfg), 0)


# ----------------------------------------------------------------------------- update_cache


@pytest.mark.parametrize("users,offset", [(32, 0), (8, 16)])
def test_update_cache_writes_one_position_for_all_users(device, users, offset):
    cache = cache_of((users, 2, 64, 64), device)
    before = ttnn.to_torch(cache)
    x = torch.randn(1, 2, 32, 64).to(torch.bfloat16)
    assert ttnn.update_cache(cache, to_dev(x, device), 33, batch_offset=offset) is cache
    expected = before.clone()
    expected[:, :, 33] = x[0, :, offset:offset + users].transpose(0, 1)
    assert torch.equal(ttnn.to_torch(cache), expected)


def test_update_cache_converts_to_the_cache_dtype(device):
    cache = cache_of((32, 1, 32, 64), device, ttnn.bfloat8_b)
    x = torch.randn(1, 1, 32, 64)
    ttnn.update_cache(cache, to_dev(x, device, ttnn.float32), 5)
    assert torch.equal(ttnn.to_torch(cache)[:, 0, 5], row_quantised(x[0, 0], ttnn.bfloat8_b))


def test_update_cache_validation(device):
    cache = cache_of((32, 2, 64, 64), device)
    with pytest.raises(TTError, match="Batch offset must be 0 when cache tensor batch size >= 32"):
        ttnn.update_cache(cache, to_dev(torch.randn(1, 2, 32, 64), device), 0, batch_offset=1)
    with pytest.raises(TTError, match=r"Batch offset \(30\) \+ cache tensor batch size \(4\) must be <= 32"):
        ttnn.update_cache(cache_of((4, 2, 64, 64), device), to_dev(torch.randn(1, 2, 32, 64), device), 0,
                          batch_offset=30)


# ----------------------------------------------------------------------------- paged_update_cache


@pytest.mark.parametrize("users,nkv", [(32, 8), (8, 1)])
def test_paged_update_cache_non_paged_from_create_heads(device, users, nkv):
    """The models' call: k from nlp_create_qkv_heads_decode, positions from an int32 [B] tensor."""
    fused = torch.randn(1, 1, users, (8 + 2 * nkv) * 64)
    _, k, _ = exp.nlp_create_qkv_heads_decode(to_dev(fused, device), num_heads=8, num_kv_heads=nkv)
    cache = cache_of((users, nkv, 64, 64), device)
    before = ttnn.to_torch(cache)
    result = exp.paged_update_cache(cache, k, update_idxs_tensor=int32_tensor([17] * users, device))
    assert result is cache
    expected = before.clone()
    expected[:, :, 17] = ttnn.to_torch(k)[0]
    assert torch.equal(ttnn.to_torch(cache), expected)


def test_paged_update_cache_per_user_positions_and_skips(device):
    x, xt = decode_input(4, 2, 64, device)
    cache = cache_of((4, 2, 64, 64), device)
    before = ttnn.to_torch(cache)
    exp.paged_update_cache(cache, xt, update_idxs_tensor=int32_tensor([3, -1, 63, 0], device))
    expected = before.clone()
    for b, p in ((0, 3), (2, 63), (3, 0)):
        expected[b, :, p] = x[0, b].to(torch.bfloat16)
    assert torch.equal(ttnn.to_torch(cache), expected)


def test_paged_update_cache_with_position_list_and_bfloat8_b_cache(device):
    x, xt = decode_input(4, 2, 64, device)
    cache = cache_of((4, 2, 64, 64), device, ttnn.bfloat8_b)
    before = ttnn.to_torch(cache)
    exp.paged_update_cache(cache, xt, update_idxs=[5, 6, 7, 8])
    after = ttnn.to_torch(cache)
    stored = ttnn.to_torch(xt)[0]
    for b in range(4):
        assert torch.equal(after[b, :, 5 + b], row_quantised(stored[b], ttnn.bfloat8_b))
    touched = torch.zeros(64, dtype=torch.bool)
    touched[5:9] = True
    for b in range(4):  # every other row is bit-identical
        rows = torch.ones(64, dtype=torch.bool)
        rows[5 + b] = False
        assert torch.equal(after[b][:, rows], before[b][:, rows])


def test_paged_update_cache_with_page_table(device):
    users, block, blocks_per_user = 4, 32, 2
    x, xt = decode_input(users, 2, 64, device)
    cache = cache_of((users * blocks_per_user, 2, block, 64), device, fill=0)
    table = torch.randperm(users * blocks_per_user).reshape(users, blocks_per_user).to(torch.int32)
    positions = [0, 33, -1, 63]
    exp.paged_update_cache(cache, xt, update_idxs_tensor=int32_tensor(positions, device),
                           page_table=ttnn.from_torch(table, dtype=ttnn.int32, device=device))
    expected = torch.zeros(users * blocks_per_user, 2, block, 64, dtype=torch.bfloat16)
    for b, p in enumerate(positions):
        if p >= 0:
            expected[table[b, p // block], :, p % block] = x[0, b].to(torch.bfloat16)
    assert torch.equal(ttnn.to_torch(cache), expected)


def test_paged_update_cache_data_free_positions(device):
    _, xt = decode_input(4, 2, 64, device)
    cache = cache_of((4, 2, 64, 64), device)
    before = ttnn.to_torch(cache)
    pos = ttnn.from_torch(torch.empty(4, dtype=torch.int32, device="meta"), dtype=ttnn.int32, device=device)
    assert exp.paged_update_cache(cache, xt, update_idxs_tensor=pos) is cache
    assert torch.equal(ttnn.to_torch(cache), before)


@pytest.mark.parametrize("case,match", [
    ("interleaved_input", "Expect input_tensor to be sharded"),
    ("both", "Only an update tensor or an update vector can be provided. Not both or neither."),
    ("neither", "Only an update tensor or an update vector can be provided. Not both or neither."),
    ("idx_dtype", "Expected update_idxs to have datatype INT32"),
    ("idx_l1", "Expect update_idxs to have buffer type DRAM"),
    ("idx_count", r"Number of update_idxs \(3\) should match batch size \(4\)"),
    ("batch", "Expect batch in input tensor match the batch in cache tensor"),
    ("input_bf8", "Data type of input tensor for paged_update_cache must be FLOAT32 or BFLOAT16"),
    ("batch_offset", "batch_offset must be 0"),
    ("cores", r"Input tensor shard grid must have num_cores \(8\) equal to the number of users / batch \(4\)"),
    ("cache_sharded", "Only interleaved cache is supported"),
    ("width", r"Last dim of input tensor \(64\) must match last dim of cache tensor \(128\) in non-paged mode"),
    ("past_end", "outside the cache's sequence length 64"),
    ("modulo_unpaged", r"cache_position_modulo is only supported in paged mode"),
])
def test_paged_update_cache_validation(device, case, match):
    x, xt = decode_input(4, 2, 64, device)
    cache = cache_of((4, 2, 64, 64), device)
    idx = int32_tensor([1, 2, 3, 4], device)
    with pytest.raises(TTError, match=match):
        if case == "interleaved_input":
            exp.paged_update_cache(cache, to_dev(x, device), update_idxs_tensor=idx)
        elif case == "both":
            exp.paged_update_cache(cache, xt, update_idxs=[1, 2, 3, 4], update_idxs_tensor=idx)
        elif case == "neither":
            exp.paged_update_cache(cache, xt)
        elif case == "idx_dtype":
            u32 = ttnn.from_torch(torch.tensor([1, 2, 3, 4]), dtype=ttnn.uint32, device=device)
            exp.paged_update_cache(cache, xt, update_idxs_tensor=u32)
        elif case == "idx_l1":
            exp.paged_update_cache(cache, xt, update_idxs_tensor=int32_tensor([1, 2, 3, 4], device,
                                                                              memory_config=ttnn.L1_MEMORY_CONFIG))
        elif case == "idx_count":
            exp.paged_update_cache(cache, xt, update_idxs_tensor=int32_tensor([1, 2, 3], device))
        elif case == "batch":
            exp.paged_update_cache(cache_of((8, 2, 64, 64), device), xt, update_idxs_tensor=idx)
        elif case == "input_bf8":
            _, xb = decode_input(4, 2, 64, device, ttnn.bfloat8_b)
            exp.paged_update_cache(cache, xb, update_idxs_tensor=idx)
        elif case == "batch_offset":
            exp.paged_update_cache(cache, xt, update_idxs_tensor=idx, batch_offset=1)
        elif case == "cores":
            wide = to_dev(x, device, memory_config=height_sharded_config(8, (32, 64)))
            exp.paged_update_cache(cache, wide, update_idxs_tensor=idx)
        elif case == "cache_sharded":
            sharded = to_dev(torch.zeros(4, 2, 64, 64), device, memory_config=height_sharded_config(8, (64, 64)))
            exp.paged_update_cache(sharded, xt, update_idxs_tensor=idx)
        elif case == "width":
            exp.paged_update_cache(cache_of((4, 2, 64, 128), device), xt, update_idxs_tensor=idx)
        elif case == "past_end":
            exp.paged_update_cache(cache, xt, update_idxs=[1, 2, 64, 4])
        elif case == "modulo_unpaged":
            exp.paged_update_cache(cache, xt, update_idxs_tensor=idx, cache_position_modulo=64)


def test_paged_update_cache_negative_list_entry_is_a_type_error(device):
    _, xt = decode_input(4, 2, 64, device)
    with pytest.raises(TypeError):
        exp.paged_update_cache(cache_of((4, 2, 64, 64), device), xt, update_idxs=[1, -1, 2, 3])


# ----------------------------------------------------------------------------- paged_fill_cache


def test_paged_fill_cache_scatters_blocks(device):
    cache = cache_of((6, 2, 32, 64), device, fill=0)
    table = torch.tensor([[5, 0, 3], [1, 2, 4]], dtype=torch.int32)
    x = torch.randn(1, 2, 64, 64).to(torch.bfloat16)
    result = exp.paged_fill_cache(cache, to_dev(x, device), ttnn.from_torch(table, dtype=ttnn.int32, device=device),
                                  batch_idx=0)
    assert result is cache
    got = ttnn.to_torch(cache)
    assert torch.equal(got[5], x[0, :, :32]) and torch.equal(got[0], x[0, :, 32:])
    assert torch.all(got[[1, 2, 3, 4]] == 0)


def test_paged_fill_cache_requires_cache_dtype(device):
    cache = cache_of((4, 2, 32, 64), device, ttnn.bfloat8_b)
    table = ttnn.from_torch(torch.zeros(1, 4, dtype=torch.int32), dtype=ttnn.int32, device=device)
    with pytest.raises(TTError, match="must match cache tensor dtype"):
        exp.paged_fill_cache(cache, to_dev(torch.randn(1, 2, 32, 64), device), table)
