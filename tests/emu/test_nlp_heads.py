"""Head split/merge ops: exact data movement, shapes, padding and placements."""

import pytest
import torch

import ttbringup.emu as ttnn
from ttbringup.emu.errors import TTError

exp = ttnn.experimental


def to_dev(x, device, dtype=ttnn.bfloat16, **kw):
    return ttnn.from_torch(x, dtype=dtype, layout=ttnn.TILE_LAYOUT, device=device, **kw)


def bf16(x):
    return x.to(torch.bfloat16)


def split_heads(fused, nh, nkv, hd):
    """Reference: [B, 1, S, (nh+2nkv)hd] -> q [B, nh, S, hd], k, v [B, nkv, S, hd]."""
    b, _, s, _ = fused.shape
    q, k, v = fused[..., :nh * hd], fused[..., nh * hd:(nh + nkv) * hd], fused[..., (nh + nkv) * hd:]
    return [t.reshape(b, s, -1, hd).transpose(1, 2) for t in (q, k, v)]


# ----------------------------------------------------------------------------- prefill split


@pytest.mark.parametrize("nh,nkv", [(8, 8), (8, 4), (8, 2), (8, 1)])
@pytest.mark.parametrize("hd,seq", [(64, 64), (128, 20)])
def test_create_heads_splits_exactly(device, nh, nkv, hd, seq):
    fused = bf16(torch.randn(1, 1, seq, (nh + 2 * nkv) * hd))
    q, k, v = exp.nlp_create_qkv_heads(to_dev(fused, device), num_heads=nh, num_kv_heads=nkv,
                                       transpose_k_heads=False, memory_config=ttnn.DRAM_MEMORY_CONFIG)
    rq, rk, rv = split_heads(fused, nh, nkv, hd)
    assert q.shape == [1, nh, seq, hd] and k.shape == [1, nkv, seq, hd] and v.shape == [1, nkv, seq, hd]
    assert q.padded_shape == [1, nh, -(-seq // 32) * 32, hd]
    assert q.dtype == ttnn.bfloat16 and q.layout == ttnn.TILE_LAYOUT and q.memory_config() == ttnn.DRAM_MEMORY_CONFIG
    for got, ref in ((q, rq), (k, rk), (v, rv)):
        assert torch.equal(ttnn.to_torch(got), ref)


def test_create_heads_transposes_k_by_default(device):
    fused = bf16(torch.randn(2, 1, 32, 3 * 4 * 32))
    q, k, v = exp.nlp_create_qkv_heads(to_dev(fused, device), num_heads=4)
    _, rk, _ = split_heads(fused, 4, 4, 32)
    assert k.shape == [2, 4, 32, 32]
    assert torch.equal(ttnn.to_torch(k), rk.transpose(-2, -1))


def test_create_heads_with_separate_kv_and_tied_kv(device):
    q_in, kv_in = bf16(torch.randn(1, 1, 32, 4 * 64)), bf16(torch.randn(1, 1, 32, 2 * 2 * 64))
    q, k, v = exp.nlp_create_qkv_heads(to_dev(q_in, device), to_dev(kv_in, device), num_heads=4, num_kv_heads=2,
                                       transpose_k_heads=False)
    assert torch.equal(ttnn.to_torch(q), q_in.reshape(1, 32, 4, 64).transpose(1, 2))
    assert torch.equal(ttnn.to_torch(v), kv_in[..., 128:].reshape(1, 32, 2, 64).transpose(1, 2))
    fused = bf16(torch.randn(1, 1, 32, (4 + 1) * 64))
    _, k, v = exp.nlp_create_qkv_heads(to_dev(fused, device), num_heads=4, num_kv_heads=1, kv_tied=True,
                                       transpose_k_heads=False)
    assert torch.equal(ttnn.to_torch(k), ttnn.to_torch(v))
    assert torch.equal(ttnn.to_torch(k), fused[..., 256:])
    with pytest.raises(TTError, match="Ambiguous kv_tied fused input shape: width 384 is divisible by both 6"):
        exp.nlp_create_qkv_heads(to_dev(torch.randn(1, 1, 32, 384), device), num_heads=4, num_kv_heads=2,
                                 kv_tied=True)


def test_create_heads_keeps_bfloat8_b_values(device):
    fused = torch.randn(1, 1, 32, 3 * 2 * 64)
    t = to_dev(fused, device, ttnn.bfloat8_b)
    q, k, v = exp.nlp_create_qkv_heads(t, num_heads=2, transpose_k_heads=False)
    assert q.dtype == ttnn.bfloat8_b
    rq, _, rv = split_heads(ttnn.to_torch(t), 2, 2, 64)
    assert torch.equal(ttnn.to_torch(q), rq) and torch.equal(ttnn.to_torch(v), rv)


@pytest.mark.parametrize("case,match", [
    ("width", "Unsupported input shape"),
    ("dim1", "Unsupported input sequence length 2 is not equal to 1"),
    ("layout", "Input tensor layout must be TILE but got ROW_MAJOR"),
    ("dtype", "Unsupported data format"),
    ("out_sharded", "Output memory config layout must be INTERLEAVED but got HEIGHT_SHARDED"),
    ("kv_head_dim", "Head dims must be the same for Q and K, V"),
])
def test_create_heads_validation(device, case, match):
    good = torch.randn(1, 1, 32, 3 * 2 * 64)
    with pytest.raises(TTError, match=match):
        if case == "width":
            exp.nlp_create_qkv_heads(to_dev(torch.randn(1, 1, 32, 320), device), num_heads=3, num_kv_heads=2)
        elif case == "dim1":
            exp.nlp_create_qkv_heads(to_dev(torch.randn(1, 2, 32, 384), device), num_heads=2)
        elif case == "layout":
            exp.nlp_create_qkv_heads(ttnn.from_torch(good, dtype=ttnn.bfloat16, device=device), num_heads=2)
        elif case == "dtype":
            exp.nlp_create_qkv_heads(to_dev(good, device, ttnn.bfloat4_b), num_heads=2)
        elif case == "out_sharded":
            cfg = ttnn.create_sharded_memory_config((1, 1, 32, 64), ttnn.CoreGrid(x=1, y=1), ttnn.ShardStrategy.HEIGHT)
            exp.nlp_create_qkv_heads(to_dev(good, device), num_heads=2, memory_config=cfg)
        elif case == "kv_head_dim":
            exp.nlp_create_qkv_heads(to_dev(torch.randn(1, 1, 32, 128), device),
                                     to_dev(torch.randn(1, 1, 32, 512), device), num_heads=2, num_kv_heads=2)


# ----------------------------------------------------------------------------- decode split


@pytest.mark.parametrize("users", [32, 8])
@pytest.mark.parametrize("nh,nkv,hd", [(8, 8, 64), (8, 2, 128), (32, 8, 64), (16, 2, 64)])
def test_create_heads_decode(device, users, nh, nkv, hd):
    fused = bf16(torch.randn(1, 1, users, (nh + 2 * nkv) * hd))
    q, k, v = exp.nlp_create_qkv_heads_decode(to_dev(fused, device), num_heads=nh, num_kv_heads=nkv,
                                              memory_config=ttnn.DRAM_MEMORY_CONFIG)
    rows = fused[0, 0].reshape(users, nh + 2 * nkv, hd)
    assert q.shape == [1, users, nh, hd] and q.padded_shape == [1, users, 32, hd]
    assert k.shape == [1, users, nkv, hd] and v.padded_shape == [1, users, 32, hd]
    assert torch.equal(ttnn.to_torch(q)[0], rows[:, :nh])
    assert torch.equal(ttnn.to_torch(k)[0], rows[:, nh:nh + nkv])
    assert torch.equal(ttnn.to_torch(v)[0], rows[:, nh + nkv:])
    for t in (q, k, v):  # DRAM request ignored: L1 height-sharded, one user per core
        cfg = t.memory_config()
        assert cfg.memory_layout == ttnn.TensorMemoryLayout.HEIGHT_SHARDED and cfg.buffer_type == ttnn.BufferType.L1
        assert cfg.shard_spec.num_cores() == users and cfg.shard_spec.shape == (32, hd)
        assert t.dtype == ttnn.bfloat16 and t.layout == ttnn.TILE_LAYOUT


def test_create_heads_decode_float32(device):
    fused = torch.randn(1, 1, 32, 3 * 2 * 32)
    q, _, _ = exp.nlp_create_qkv_heads_decode(to_dev(fused, device, ttnn.float32), num_heads=2)
    assert q.dtype == ttnn.float32 and torch.equal(ttnn.to_torch(q)[0], fused[0, 0, :, :64].reshape(32, 2, 32))


def test_create_heads_decode_more_than_32_q_heads(device):
    """Real 0.81.1 accepts nh > 32; each output's shard holds its own heads rounded up to whole tiles."""
    q, k, v = exp.nlp_create_qkv_heads_decode(to_dev(torch.randn(1, 1, 32, 56 * 32), device), num_heads=40,
                                              num_kv_heads=8)
    assert q.shape == [1, 32, 40, 32] and q.padded_shape == [1, 32, 64, 32]
    assert q.memory_config().shard_spec.shape == (64, 32) and k.memory_config().shard_spec.shape == (32, 32)
    assert k.shape == v.shape == [1, 32, 8, 32] and v.memory_config().shard_spec.shape == (32, 32)


@pytest.mark.parametrize("case,match", [
    ("bf8", "Unsupported data format"),
    ("width", r"Input shape 576 must be divisible by num_heads \+ 2\*num_kv_heads = 7"),
    ("fewer_q", "num_q_heads=2 must be greater than or equal to num_kv_heads=4"),
    ("users", r"Unsupported input shape = Shape\(\[1, 1, 40, 96\]\), num_users=40 exceeds max supported=32"),
])
def test_create_heads_decode_validation(device, case, match):
    with pytest.raises(TTError, match=match):
        if case == "bf8":
            exp.nlp_create_qkv_heads_decode(to_dev(torch.randn(1, 1, 32, 3 * 64), device, ttnn.bfloat8_b), num_heads=1)
        elif case == "width":
            exp.nlp_create_qkv_heads_decode(to_dev(torch.randn(1, 1, 32, 576), device), num_heads=3, num_kv_heads=2)
        elif case == "fewer_q":
            exp.nlp_create_qkv_heads_decode(to_dev(torch.randn(1, 1, 32, 10 * 32), device), num_heads=2,
                                            num_kv_heads=4)
        elif case == "users":
            exp.nlp_create_qkv_heads_decode(to_dev(torch.randn(1, 1, 40, 3 * 32), device), num_heads=1)


# ----------------------------------------------------------------------------- merge


@pytest.mark.parametrize("nh,seq,hd", [(4, 64, 64), (8, 20, 128)])
def test_concat_heads(device, nh, seq, hd):
    x = bf16(torch.randn(1, nh, seq, hd))
    out = exp.nlp_concat_heads(to_dev(x, device), memory_config=ttnn.DRAM_MEMORY_CONFIG)
    assert out.shape == [1, 1, seq, nh * hd] and out.padded_shape == [1, 1, -(-seq // 32) * 32, nh * hd]
    assert torch.equal(ttnn.to_torch(out), x.transpose(1, 2).reshape(1, 1, seq, nh * hd))


def test_concat_heads_uses_logical_head_count(device):
    """Decode: transpose(sdpa_out, 1, 2) gives [1, nh, 32, hd] with nh logical; width is nh * hd."""
    x = bf16(torch.randn(1, 8, 32, 64))
    out = exp.nlp_concat_heads(to_dev(x, device))
    assert out.shape == [1, 1, 32, 8 * 64]


@pytest.mark.parametrize("case,match", [
    ("layout", "Input tensor layout must be TILE but got ROW_MAJOR"),
    ("out_sharded", "Output memory config layout must be INTERLEAVED but got HEIGHT_SHARDED"),
])
def test_concat_heads_validation(device, case, match):
    x = torch.randn(1, 2, 32, 64)
    with pytest.raises(TTError, match=match):
        if case == "layout":
            exp.nlp_concat_heads(ttnn.from_torch(x, dtype=ttnn.bfloat16, device=device))
        else:
            cfg = ttnn.create_sharded_memory_config((1, 1, 32, 128), ttnn.CoreGrid(x=1, y=1), ttnn.ShardStrategy.HEIGHT)
            exp.nlp_concat_heads(to_dev(x, device), memory_config=cfg)


@pytest.mark.parametrize("users", [32, 8])
def test_concat_heads_decode(device, users):
    fused = bf16(torch.randn(1, 1, users, (8 + 2 * 2) * 64))
    q, _, _ = exp.nlp_create_qkv_heads_decode(to_dev(fused, device), num_heads=8, num_kv_heads=2)
    out = exp.nlp_concat_heads_decode(q, num_heads=8)
    assert out.shape == [1, 1, 32, 8 * 64]
    got = ttnn.to_torch(out)
    assert torch.equal(got[0, 0, :users], fused[0, 0, :, :8 * 64])
    assert torch.all(got[0, 0, users:] == 0)
    cfg = out.memory_config()
    assert cfg.memory_layout == ttnn.TensorMemoryLayout.WIDTH_SHARDED and cfg.shard_spec.num_cores() == 8


def test_concat_heads_decode_needs_sharded_input(device):
    with pytest.raises(TTError, match="Input tensor must be sharded"):
        exp.nlp_concat_heads_decode(to_dev(torch.randn(1, 32, 32, 64), device), num_heads=8)


def test_data_free_split_and_merge(device):
    def meta(*shape):
        return to_dev(torch.empty(*shape, device="meta"), device)

    q, k, v = exp.nlp_create_qkv_heads(meta(1, 1, 64, 12 * 64), num_heads=8, num_kv_heads=2, transpose_k_heads=False)
    assert q.shape == [1, 8, 64, 64] and k.shape == [1, 2, 64, 64] and q.is_data_free()
    assert exp.nlp_concat_heads(q).shape == [1, 1, 64, 512]
    q, k, _ = exp.nlp_create_qkv_heads_decode(meta(1, 1, 32, 12 * 64), num_heads=8, num_kv_heads=2)
    assert q.shape == [1, 32, 8, 64] and k.padded_shape == [1, 32, 32, 64]
    assert exp.nlp_concat_heads_decode(q, num_heads=8).shape == [1, 1, 32, 512]
