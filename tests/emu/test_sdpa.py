"""ttnn.transformer SDPA, prefill and decode, against float64 torch references."""

import math

import pytest
import torch

import ttbringup.emu as ttnn
from ttbringup.emu.core import height_sharded_config
from ttbringup.emu.errors import TTError

tr = ttnn.transformer


def to_dev(x, device, dtype=ttnn.bfloat16, **kw):
    return ttnn.from_torch(x, dtype=dtype, layout=ttnn.TILE_LAYOUT, device=device, **kw)


def on_card(x, dtype=ttnn.bfloat16):
    return ttnn.to_torch(ttnn.from_torch(x, dtype=dtype, layout=ttnn.TILE_LAYOUT)).double()


def reference_prefill(q, k, v, causal=True, mask=None, scale=None):
    group = q.shape[1] // k.shape[1]
    k, v = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)
    scores = q @ k.transpose(-1, -2) * (scale or 1 / math.sqrt(q.shape[-1]))
    if causal:
        sq, sk = scores.shape[-2:]
        scores = scores.masked_fill(torch.ones(sq, sk, dtype=torch.bool).triu(1), float("-inf"))
    if mask is not None:
        scores = scores + mask
    return torch.softmax(scores, -1) @ v


# ----------------------------------------------------------------------------- prefill


@pytest.mark.parametrize("nh,nkv", [(4, 4), (4, 2), (8, 2), (8, 1)])
@pytest.mark.parametrize("seq,hd", [(64, 64), (50, 128)])
def test_prefill_causal_gqa(device, pcc, nh, nkv, seq, hd):
    q, k, v = torch.randn(1, nh, seq, hd), torch.randn(1, nkv, seq, hd), torch.randn(1, nkv, seq, hd)
    out = tr.scaled_dot_product_attention(to_dev(q, device), to_dev(k, device), to_dev(v, device),
                                          scale=1 / math.sqrt(hd))
    assert out.shape == [1, nh, seq, hd] and out.padded_shape == [1, nh, -(-seq // 32) * 32, hd]
    assert out.dtype == ttnn.bfloat16 and out.layout == ttnn.TILE_LAYOUT
    assert out.memory_config() == ttnn.DRAM_MEMORY_CONFIG
    ref = reference_prefill(on_card(q), on_card(k), on_card(v))
    assert pcc(ref, ttnn.to_torch(out)) >= 0.999


def test_prefill_non_causal_with_mask_and_default_scale(device, pcc):
    q, k, v = torch.randn(2, 2, 32, 64), torch.randn(2, 2, 64, 64), torch.randn(2, 2, 64, 64)
    mask = torch.where(torch.rand(1, 1, 32, 64) < 0.3, -1e9, 0.0)
    out = tr.scaled_dot_product_attention(to_dev(q, device), to_dev(k, device), to_dev(v, device),
                                          attn_mask=to_dev(mask, device), is_causal=False)
    ref = reference_prefill(on_card(q), on_card(k), on_card(v), causal=False, mask=on_card(mask))
    assert pcc(ref, ttnn.to_torch(out)) >= 0.999


def test_prefill_bfloat8_b_inputs_and_concat_heads_output(device, pcc):
    q, k, v = torch.randn(1, 4, 32, 64), torch.randn(1, 2, 32, 64), torch.randn(1, 2, 32, 64)
    out = tr.scaled_dot_product_attention(*(to_dev(t, device, ttnn.bfloat8_b) for t in (q, k, v)),
                                          output_concat_heads=True)
    assert out.dtype == ttnn.bfloat8_b and out.shape == [1, 1, 32, 4 * 64]
    ref = reference_prefill(*(on_card(t, ttnn.bfloat8_b) for t in (q, k, v)))
    assert pcc(ref.transpose(1, 2).reshape(1, 1, 32, 256), ttnn.to_torch(out)) >= 0.999


@pytest.mark.parametrize("case,match", [
    ("mask_and_causal", "is_causal and attn_mask cannot both be present. Got is_causal: true, attn_mask: true"),
    ("fp32", "Data type of input tensor must be BFLOAT16, BFLOAT8_B, or BFLOAT4_B and is FLOAT32"),
    ("sharded", "Operands to SDPA need to be DRAM/L1 interleaved"),
    ("head_dim_pad", "Padding is not supported on the head_dim dimension"),
    ("causal_len", "Causal SDPA requires Q and K to have the same sequence length. Got Q: 32, K: 64"),
    ("gqa", "Q num_heads must be >= K num_heads and divisible by K num_heads. Got Q: 3, K: 2"),
    ("host", "Operands to SDPA need to be on device"),
])
def test_prefill_validation(device, case, match):
    x = torch.randn(1, 2, 32, 64)
    t = to_dev(x, device)
    with pytest.raises(TTError, match=match):
        if case == "mask_and_causal":
            tr.scaled_dot_product_attention(t, t, t, attn_mask=to_dev(torch.zeros(1, 1, 32, 32), device))
        elif case == "fp32":
            f = to_dev(x, device, ttnn.float32)
            tr.scaled_dot_product_attention(f, f, f)
        elif case == "sharded":
            s = to_dev(x, device, memory_config=height_sharded_config(2, (32, 64)))
            tr.scaled_dot_product_attention(s, t, t)
        elif case == "head_dim_pad":
            p = to_dev(torch.randn(1, 2, 32, 80), device)
            tr.scaled_dot_product_attention(p, p, p)
        elif case == "causal_len":
            long = to_dev(torch.randn(1, 2, 64, 64), device)
            tr.scaled_dot_product_attention(t, long, long)
        elif case == "gqa":
            tr.scaled_dot_product_attention(to_dev(torch.randn(1, 3, 32, 64), device), t, t)
        elif case == "host":
            h = ttnn.from_torch(x, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT)
            tr.scaled_dot_product_attention(h, t, t)


# ----------------------------------------------------------------------------- decode


def reference_decode(q, k, v, positions, scale=None):
    """q [1, B, nh, hd], k/v [B, nkv, S, hd]; user b attends 0..pos[b] inclusive; -1 -> zeros."""
    _, users, nh, hd = q.shape
    group = nh // k.shape[1]
    out = torch.zeros(1, users, nh, hd, dtype=torch.float64)
    for b, p in enumerate(positions):
        if p < 0:
            continue
        kb = k[b, :, :p + 1].repeat_interleave(group, dim=0)
        vb = v[b, :, :p + 1].repeat_interleave(group, dim=0)
        scores = (q[0, b].unsqueeze(1) @ kb.transpose(-1, -2)).squeeze(1) * (scale or 1 / math.sqrt(hd))
        out[0, b] = (torch.softmax(scores, -1).unsqueeze(1) @ vb).squeeze(1)
    return out


def decode_case(device, users, nh, nkv, hd, seq, cache_dtype=ttnn.bfloat16):
    q = torch.randn(1, users, nh, hd)
    k, v = torch.randn(users, nkv, seq, hd), torch.randn(users, nkv, seq, hd)
    tensors = (to_dev(q, device), to_dev(k, device, cache_dtype), to_dev(v, device, cache_dtype))
    return tensors, (on_card(q), on_card(k, cache_dtype), on_card(v, cache_dtype))


def positions_tensor(positions, device):
    return ttnn.from_torch(torch.tensor(positions, dtype=torch.int32), dtype=ttnn.int32, device=device)


@pytest.mark.parametrize("users,nh,nkv,hd", [(32, 8, 8, 64), (32, 8, 4, 128), (8, 16, 2, 64), (4, 8, 1, 64)])
def test_decode_equal_positions_like_the_models(device, pcc, users, nh, nkv, hd):
    (q, k, v), ref_in = decode_case(device, users, nh, nkv, hd, 128)
    positions = [45] * users
    out = tr.scaled_dot_product_attention_decode(q, k, v, cur_pos_tensor=positions_tensor(positions, device),
                                                 scale=1 / math.sqrt(hd))
    assert out.shape == [1, users, nh, hd] and out.padded_shape == [1, users, 32, hd]
    assert out.dtype == ttnn.bfloat16 and out.layout == ttnn.TILE_LAYOUT
    assert out.memory_config() == ttnn.DRAM_MEMORY_CONFIG
    assert pcc(reference_decode(*ref_in, positions), ttnn.to_torch(out)) >= 0.999


def test_decode_positions_are_inclusive(device):
    """At position 0 a user sees exactly one key: the output is that key's value row."""
    (q, k, v), (_, _, vr) = decode_case(device, 2, 4, 2, 64, 64)
    out = ttnn.to_torch(tr.scaled_dot_product_attention_decode(q, k, v, cur_pos=[0, 0])).double()
    expected = vr[:, :, 0].repeat_interleave(2, dim=1)  # [B, nh, hd]
    assert torch.allclose(out[0], expected, atol=1e-2)


def test_decode_mixed_positions_and_skipped_users(device, pcc):
    (q, k, v), ref_in = decode_case(device, 8, 8, 2, 64, 96)
    positions = [5, -1, 95, 0, 31, -1, 64, 7]
    out = ttnn.to_torch(tr.scaled_dot_product_attention_decode(q, k, v,
                                                               cur_pos_tensor=positions_tensor(positions, device)))
    ref = reference_decode(*ref_in, positions)
    assert torch.all(out[0, 1] == 0) and torch.all(out[0, 5] == 0)
    assert pcc(ref, out) >= 0.999


def test_decode_bfloat8_b_caches_and_position_list(device, pcc):
    (q, k, v), ref_in = decode_case(device, 8, 8, 8, 64, 64, ttnn.bfloat8_b)
    positions = [0, 3, 17, 31, 32, 40, 63, 63]
    out = tr.scaled_dot_product_attention_decode(q, k, v, cur_pos=positions)
    assert pcc(reference_decode(*ref_in, positions), ttnn.to_torch(out)) >= 0.999


def test_decode_height_sharded_q_from_create_heads(device, pcc):
    fused = torch.randn(1, 1, 32, (8 + 2 * 8) * 64)
    q, _, _ = ttnn.experimental.nlp_create_qkv_heads_decode(to_dev(fused, device), num_heads=8, num_kv_heads=8)
    k, v = torch.randn(32, 8, 64, 64), torch.randn(32, 8, 64, 64)
    out = tr.scaled_dot_product_attention_decode(q, to_dev(k, device), to_dev(v, device), cur_pos=[10] * 32)
    ref = reference_decode(ttnn.to_torch(q).double(), on_card(k), on_card(v), [10] * 32)
    assert pcc(ref, ttnn.to_torch(out)) >= 0.999


def test_decode_data_free(device):
    meta = torch.empty(32, 8, 256, 64, device="meta")
    q = to_dev(torch.empty(1, 32, 32, 64, device="meta"), device)
    k = to_dev(meta, device)
    pos = ttnn.from_torch(torch.empty(32, dtype=torch.int32, device="meta"), dtype=ttnn.int32, device=device)
    out = tr.scaled_dot_product_attention_decode(q, k, k, cur_pos_tensor=pos)
    assert out.shape == [1, 32, 32, 64] and out.is_data_free()


@pytest.mark.parametrize("case,match", [
    ("both_positions", "exactly one of cur_pos and cur_pos_tensor"),
    ("q_dim0", "Q tensor batch size must be 1 for decode mode but got 2"),
    ("cache_in_l1", "Input tensor 1 buffer type must be DRAM but got L1"),
    ("gqa_bf8_q", "GQA expects BFLOAT16 input tensor, but got BFLOAT8_B"),
    ("gqa_sharded_out", "Sharded output not supported for GQA"),
    ("pos_past_end", "cur_pos must be <= K sequence dim"),
    ("batch", r"K tensor batch size \(4\) must equal B \(8\)"),
    ("gqa_heads", "GQA expects Q to have a multiple of K heads, but got 6 and 4"),
    ("chunk", "Chunk size must be multiple of 32, but the maximum calculated k_chunk_size is: 2"),
    ("fp32_cache", "Unsupported data type FLOAT32."),
    ("short_pos_tensor", r"cur_pos tensor must have at least one position per batch \(8\), got shape Shape\(\[4\]\)"),
    ("causal_mask", "attn_mask must not be provided when is_causal=True"),
])
def test_decode_validation(device, case, match):
    q = to_dev(torch.randn(1, 8, 8, 64), device)
    k = to_dev(torch.randn(8, 2, 64, 64), device)
    with pytest.raises(TTError, match=match):
        if case == "both_positions":
            tr.scaled_dot_product_attention_decode(q, k, k, cur_pos=[1] * 8,
                                                   cur_pos_tensor=positions_tensor([1] * 8, device))
        elif case == "q_dim0":
            tr.scaled_dot_product_attention_decode(to_dev(torch.randn(2, 8, 8, 64), device), k, k, cur_pos=[1] * 8)
        elif case == "cache_in_l1":
            kl = to_dev(torch.randn(8, 2, 64, 64), device, memory_config=ttnn.L1_MEMORY_CONFIG)
            tr.scaled_dot_product_attention_decode(q, kl, k, cur_pos=[1] * 8)
        elif case == "gqa_bf8_q":
            qb = to_dev(torch.randn(1, 8, 8, 64), device, ttnn.bfloat8_b)
            tr.scaled_dot_product_attention_decode(qb, k, k, cur_pos=[1] * 8)
        elif case == "gqa_sharded_out":
            tr.scaled_dot_product_attention_decode(q, k, k, cur_pos=[1] * 8,
                                                   memory_config=height_sharded_config(8, (32, 64)))
        elif case == "pos_past_end":
            tr.scaled_dot_product_attention_decode(q, k, k, cur_pos=[64] * 8)
        elif case == "batch":
            k4 = to_dev(torch.randn(4, 2, 64, 64), device)
            tr.scaled_dot_product_attention_decode(q, k4, k4, cur_pos=[1] * 8)
        elif case == "gqa_heads":
            k4 = to_dev(torch.randn(8, 4, 64, 64), device)
            tr.scaled_dot_product_attention_decode(to_dev(torch.randn(1, 8, 6, 64), device), k4, k4, cur_pos=[1] * 8)
        elif case == "chunk":
            k50 = to_dev(torch.randn(8, 2, 50, 64), device)
            tr.scaled_dot_product_attention_decode(q, k50, k50, cur_pos=[1] * 8)
        elif case == "short_pos_tensor":
            tr.scaled_dot_product_attention_decode(q, k, k, cur_pos_tensor=positions_tensor([1] * 4, device))
        elif case == "causal_mask":
            mask = to_dev(torch.zeros(1, 8, 8, 64), device)
            tr.scaled_dot_product_attention_decode(q, k, k, cur_pos=[1] * 8, attn_mask=mask)
        elif case == "fp32_cache":
            kf = to_dev(torch.randn(8, 2, 64, 64), device, ttnn.float32)
            tr.scaled_dot_product_attention_decode(q, kf, kf, cur_pos=[1] * 8)


def test_decode_negative_position_list_is_a_type_error(device):
    q = to_dev(torch.randn(1, 2, 8, 64), device)
    k = to_dev(torch.randn(2, 8, 64, 64), device)
    with pytest.raises(TypeError):
        tr.scaled_dot_product_attention_decode(q, k, k, cur_pos=[3, -1])


def test_decode_padded_heads_switch(device, monkeypatch):
    from ttbringup.emu.transformer import sdpa_decode

    (q, k, v), _ = decode_case(device, 4, 8, 2, 64, 64)
    monkeypatch.setattr(sdpa_decode, "PAD_OUTPUT_HEADS", True)
    out = tr.scaled_dot_product_attention_decode(q, k, v, cur_pos=[3] * 4)
    assert out.shape == [1, 4, 32, 64] and torch.all(ttnn.to_torch(out)[:, :, 8:] == 0)


def window_reference(seq, window, causal):
    i, j = torch.arange(seq).unsqueeze(1), torch.arange(seq).unsqueeze(0)
    allowed = ((j <= i) & (j > i - window)) if causal else ((j - i).abs() <= window // 2)
    return torch.zeros(seq, seq, dtype=torch.float64).masked_fill(~allowed, float("-inf"))


@pytest.mark.parametrize("causal", [True, False])
def test_prefill_sliding_window(device, pcc, causal):
    q, k, v = torch.randn(1, 2, 64, 64), torch.randn(1, 1, 64, 64), torch.randn(1, 1, 64, 64)
    out = tr.scaled_dot_product_attention(to_dev(q, device), to_dev(k, device), to_dev(v, device),
                                          is_causal=causal, sliding_window_size=16)
    ref = reference_prefill(on_card(q), on_card(k), on_card(v), causal=False, mask=window_reference(64, 16, causal))
    assert pcc(ref, ttnn.to_torch(out)) >= 0.999


def test_decode_sliding_window(device, pcc):
    (q, k, v), (qr, kr, vr) = decode_case(device, 4, 4, 2, 64, 64)
    positions = [40, 10, 63, 3]
    out = ttnn.to_torch(tr.scaled_dot_product_attention_decode(q, k, v, cur_pos=positions, sliding_window_size=8))
    ref = torch.zeros(1, 4, 4, 64, dtype=torch.float64)
    for b, p in enumerate(positions):
        lo = max(0, p - 7)
        kb, vb = kr[b, :, lo:p + 1].repeat_interleave(2, 0), vr[b, :, lo:p + 1].repeat_interleave(2, 0)
        ref[0, b] = (torch.softmax((qr[0, b].unsqueeze(1) @ kb.transpose(-1, -2)) / 8, -1) @ vb).squeeze(1)
    assert pcc(ref, out) >= 0.999


def test_decode_non_causal_with_per_user_mask(device, pcc):
    (q, k, v), (qr, kr, vr) = decode_case(device, 4, 8, 1, 64, 64)
    mask = torch.where(torch.rand(4, 1, 8, 64) < 0.5, -1e9, 0.0)
    mask[..., 0] = 0.0  # every row keeps a key
    out = tr.scaled_dot_product_attention_decode(q, k, v, is_causal=False, attn_mask=to_dev(mask, device))
    mr = on_card(mask)
    ref = torch.zeros(1, 4, 8, 64, dtype=torch.float64)
    for b in range(4):
        scores = (qr[0, b] @ kr[b, 0].T) / 8 + mr[b, 0]
        ref[0, b] = torch.softmax(scores, -1) @ vr[b, 0]
    assert pcc(ref, ttnn.to_torch(out)) >= 0.999


def test_decode_in_several_user_blocks(device, pcc, monkeypatch):
    from ttbringup.emu.transformer import sdpa_decode

    monkeypatch.setattr(sdpa_decode, "_BLOCK_BYTES", 1)  # one user per block
    (q, k, v), ref_in = decode_case(device, 8, 8, 2, 64, 96, ttnn.bfloat8_b)
    positions = [5, -1, 95, 0, 31, -1, 64, 7]
    out = tr.scaled_dot_product_attention_decode(q, k, v, cur_pos_tensor=positions_tensor(positions, device))
    assert pcc(reference_decode(*ref_in, positions), ttnn.to_torch(out)) >= 0.999
