"""ttnn.experimental.rotary_embedding: HF rotate-half, prefill and decode, padding turned logical."""

import pytest
import torch

import ttbringup.emu as ttnn
from ttbringup.emu.errors import TTError

rotary = ttnn.experimental.rotary_embedding


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


def cos_sin(length, head_dim, base=10000.0):
    inv = 1.0 / base ** (torch.arange(0, head_dim, 2).float() / head_dim)
    freqs = torch.outer(torch.arange(length).float(), inv)
    emb = torch.cat([freqs, freqs], dim=-1)
    return emb.cos()[None, None], emb.sin()[None, None]


def to_dev(x, device, dtype=ttnn.bfloat16, **kw):
    return ttnn.from_torch(x, dtype=dtype, layout=ttnn.TILE_LAYOUT, device=device, **kw)


def dev_values(x, dtype=ttnn.bfloat16):
    """The values a tensor takes on the card (bf16 rounding), as float32."""
    return ttnn.to_torch(ttnn.from_torch(x, dtype=dtype, layout=ttnn.TILE_LAYOUT)).float()


@pytest.mark.parametrize("head_dim", [64, 128])
@pytest.mark.parametrize("seq", [20, 64])
def test_prefill_matches_hf_and_pads_to_tile_rows(device, pcc, head_dim, seq):
    x = torch.randn(1, 4, seq, head_dim)
    cos, sin = cos_sin(128, head_dim)
    out = rotary(to_dev(x, device), to_dev(cos, device), to_dev(sin, device))
    seq_pad = -(-seq // 32) * 32
    assert out.shape == [1, 4, seq_pad, head_dim] and out.padded_shape == [1, 4, seq_pad, head_dim]
    assert out.dtype == ttnn.bfloat16 and out.layout == ttnn.TILE_LAYOUT
    assert out.memory_config() == ttnn.DRAM_MEMORY_CONFIG
    got = ttnn.to_torch(out).float()
    xv, cv, sv = dev_values(x), dev_values(cos)[..., :seq, :], dev_values(sin)[..., :seq, :]
    ref = xv * cv + rotate_half(xv) * sv
    assert pcc(ref, got[:, :, :seq]) >= 0.9999
    assert torch.all(got[:, :, seq:] == 0)  # the padded rows come back as logical zero rows


def test_prefill_with_pre_sliced_cache_like_the_models(device, pcc):
    x = torch.randn(1, 2, 32, 64)
    cos, sin = cos_sin(256, 64)
    out = rotary(to_dev(x, device), to_dev(cos[:, :, :32], device), to_dev(sin[:, :, :32], device))
    ref = dev_values(x) * dev_values(cos)[:, :, :32] + rotate_half(dev_values(x)) * dev_values(sin)[:, :, :32]
    assert pcc(ref, ttnn.to_torch(out)) >= 0.9999


def test_decode_rotates_every_row_by_one_position_and_zero_fills_padded_heads(device, pcc):
    """[1, B, nh(pad 32), hd] with token_index: all rows use row p; output is [1, B, 32, hd]."""
    x = torch.randn(1, 32, 8, 128)
    cos, sin = cos_sin(256, 128)
    p = 77
    out = rotary(to_dev(x, device), to_dev(cos, device), to_dev(sin, device), p)
    assert out.shape == [1, 32, 32, 128] and out.padded_shape == [1, 32, 32, 128]
    got = ttnn.to_torch(out).float()
    xv = dev_values(x)
    ref = xv * dev_values(cos)[0, 0, p] + rotate_half(xv) * dev_values(sin)[0, 0, p]
    assert pcc(ref, got[:, :, :8]) >= 0.9999
    assert torch.all(got[:, :, 8:] == 0)


def test_decode_keeps_height_sharded_input_placement(device):
    qkv = torch.randn(1, 1, 32, (4 + 2 * 2) * 64)
    q, k, _ = ttnn.experimental.nlp_create_qkv_heads_decode(to_dev(qkv, device), num_heads=4, num_kv_heads=2)
    cos, sin = cos_sin(64, 64)
    out = rotary(k, to_dev(cos, device), to_dev(sin, device), 3)
    assert out.memory_config() == k.memory_config()
    assert out.shape == [1, 32, 32, 64]


def test_single_tile_width_and_bfloat8_b(device, pcc):
    x = torch.randn(1, 1, 32, 32)
    cos, sin = cos_sin(32, 32)
    out = rotary(to_dev(x, device, ttnn.bfloat8_b), to_dev(cos, device), to_dev(sin, device))
    assert out.dtype == ttnn.bfloat8_b
    xv = dev_values(x, ttnn.bfloat8_b)
    ref = xv * dev_values(cos) + rotate_half(xv) * dev_values(sin)
    assert pcc(ref, ttnn.to_torch(out)) >= 0.999


def test_row_major_input_is_tilized(device):
    x = torch.randn(1, 1, 5, 64)
    cos, sin = cos_sin(32, 64)
    out = rotary(ttnn.from_torch(x, dtype=ttnn.bfloat16, device=device), to_dev(cos, device), to_dev(sin, device))
    assert out.layout == ttnn.TILE_LAYOUT and out.shape == [1, 1, 32, 64]


def test_data_free_inputs_give_shapes_only(device):
    x = to_dev(torch.empty(1, 8, 64, 64, device="meta"), device)
    cos = to_dev(torch.empty(1, 1, 128, 64, device="meta"), device)
    out = rotary(x, cos, cos)
    assert out.shape == [1, 8, 64, 64] and out.is_data_free()
    out = rotary(to_dev(torch.empty(1, 32, 8, 64, device="meta"), device), cos, cos, 9)
    assert out.shape == [1, 32, 32, 64]


@pytest.mark.parametrize("case,match", [
    ("width", r"Input X dimension \(96\) must be either 32 \(single tile\) or divisible by 64"),
    ("mismatch", "Cosine and Sine cache dimensions must match"),
    ("cos_width", r"Cosine cache dimensions must match input dimensions. Expected \(1, 1, 64\)"),
    ("prefill_len", "Cosine cache must cover the input sequence length. Input sequence length: 64, "
                    "Cos cache sequence length: 32."),
    ("token_len", "Cosine cache must cover the token index. Token index: 40, Cos cache sequence length: 32."),
    ("token_dim0", "When token index is provided, sequence length must be 1"),
    ("dtypes", "Cos and Sin dtypes must match"),
    ("host", "Input tensor must be on device"),
])
def test_validation_errors(device, case, match):
    cos, sin = cos_sin(32, 64)
    cos_t, sin_t = to_dev(cos, device), to_dev(sin, device)
    x = to_dev(torch.randn(1, 2, 32, 64), device)
    with pytest.raises(TTError, match=match):
        if case == "width":
            rotary(to_dev(torch.randn(1, 1, 32, 96), device), cos_t, sin_t)
        elif case == "mismatch":
            rotary(x, cos_t, to_dev(torch.randn(1, 1, 64, 64), device))
        elif case == "cos_width":
            c = to_dev(torch.randn(1, 1, 32, 128), device)
            rotary(x, c, c)
        elif case == "prefill_len":
            rotary(to_dev(torch.randn(1, 1, 64, 64), device), cos_t, sin_t)
        elif case == "token_len":
            rotary(to_dev(torch.randn(1, 1, 32, 64), device), cos_t, sin_t, 40)
        elif case == "token_dim0":
            rotary(to_dev(torch.randn(2, 1, 32, 64), device), cos_t, sin_t, 1)
        elif case == "dtypes":
            rotary(x, cos_t, to_dev(sin, device, ttnn.bfloat8_b))
        elif case == "host":
            rotary(ttnn.from_torch(torch.randn(1, 1, 32, 64), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT),
                   cos_t, sin_t)


def test_width_sharded_output_is_rejected(device):
    cos, sin = cos_sin(32, 64)
    width_sharded = ttnn.MemoryConfig(ttnn.TensorMemoryLayout.WIDTH_SHARDED, ttnn.BufferType.L1)
    with pytest.raises(TTError, match="Output memory config layout must not be WIDTH_SHARDED"):
        rotary(to_dev(torch.randn(1, 1, 32, 64), device), to_dev(cos, device), to_dev(sin, device),
               memory_config=width_sharded)
