"""Data movement of the emulator: concat, slice, __getitem__, reshape, transpose, permute (exact)."""

import inspect

import pytest
import torch

import ttbringup.emu as ttnn
from ttbringup.emu.errors import NotEmulatedError, TTError


def dev_tensor(x, device, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, **kw):
    return ttnn.from_torch(x, dtype=dtype, layout=layout, device=device, **kw)


def host(t):
    return ttnn.to_torch(t)


def bf16(x):
    return x.bfloat16()


# ----------------------------------------------------------------------------- concat


def test_concat_qkv_last_dim(device):
    q, k, v = (torch.randn(1, 1, 32, w) for w in (128, 64, 64))
    out = ttnn.concat([dev_tensor(t, device) for t in (q, k, v)], dim=-1)
    assert out.shape == [1, 1, 32, 256] and out.padded_shape == [1, 1, 32, 256]
    assert out.dtype == ttnn.bfloat16 and out.layout == ttnn.TILE_LAYOUT
    assert torch.equal(host(out), bf16(torch.cat([q, k, v], -1)))


def test_concat_non_tile_aligned_widths_and_default_dim(device):
    a, b = torch.randn(2, 1, 40, 48), torch.randn(2, 1, 40, 16)
    out = ttnn.concat([dev_tensor(a, device), dev_tensor(b, device)], dim=3)
    assert out.shape == [2, 1, 40, 64] and out.padded_shape == [2, 1, 64, 64]
    assert torch.equal(host(out), bf16(torch.cat([a, b], 3)))
    assert inspect.signature(ttnn.concat).parameters["dim"].default == 0
    rows = ttnn.concat([dev_tensor(a, device), dev_tensor(a, device)])
    assert rows.shape == [4, 1, 40, 48] and torch.equal(host(rows), bf16(torch.cat([a, a])))


def test_concat_memory_config_and_bf8(device):
    a = dev_tensor(torch.randn(1, 1, 32, 64), device, dtype=ttnn.bfloat8_b, memory_config=ttnn.L1_MEMORY_CONFIG)
    out = ttnn.concat([a, a], dim=2)
    assert out.memory_config() == ttnn.DRAM_MEMORY_CONFIG and out.dtype == ttnn.bfloat8_b
    assert torch.equal(host(out), torch.cat([host(a), host(a)], 2))  # tile-aligned: codes unchanged
    assert ttnn.concat([a, a], dim=2, memory_config=ttnn.L1_MEMORY_CONFIG).memory_config() == ttnn.L1_MEMORY_CONFIG


def test_concat_validation(device):
    a = dev_tensor(torch.randn(1, 1, 32, 64), device)
    with pytest.raises(TTError, match="non-empty list"):
        ttnn.concat([], dim=0)
    with pytest.raises(TTError, match="All Tensors should have same dtypes."):
        ttnn.concat([a, dev_tensor(torch.randn(1, 1, 32, 64), device, dtype=ttnn.float32)], dim=-1)
    rm = dev_tensor(torch.randn(1, 1, 32, 64), device, layout=ttnn.ROW_MAJOR_LAYOUT)
    assert ttnn.concat([a, rm], dim=-1).layout == ttnn.TILE_LAYOUT  # whole tiles: the first input's layout
    assert ttnn.concat([rm, a], dim=-1).layout == ttnn.ROW_MAJOR_LAYOUT
    rows20 = [dev_tensor(torch.randn(1, 1, 20, 64), device, layout=lay) for lay in (ttnn.TILE_LAYOUT, ttnn.ROW_MAJOR_LAYOUT)]
    assert ttnn.concat(rows20, dim=-1).layout == ttnn.ROW_MAJOR_LAYOUT  # not whole tiles: ROW_MAJOR
    with pytest.raises(TTError, match="expected all input tensors to be in tile layout"):
        ttnn.concat([dev_tensor(torch.randn(1, 1, 32, 48), device),
                     dev_tensor(torch.randn(1, 1, 32, 16), device, layout=ttnn.ROW_MAJOR_LAYOUT)], dim=-1)
    with pytest.raises(TTError, match="Input tensor ranks must be equal"):
        ttnn.concat([a, dev_tensor(torch.randn(1, 32, 64), device)], dim=-1)
    with pytest.raises(TTError, match="All dimensions must be the same size except"):
        ttnn.concat([a, dev_tensor(torch.randn(1, 1, 64, 64), device)], dim=-1)
    with pytest.raises(TTError, match="Dimension out of range"):
        ttnn.concat([a, a], dim=4)
    with pytest.raises(TTError, match="Operand to concat needs to be on device."):
        ttnn.concat([a, ttnn.from_torch(torch.randn(1, 1, 32, 64), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT)])
    with pytest.raises(NotEmulatedError):
        ttnn.concat([a, a], dim=0, groups=2)


# ----------------------------------------------------------------------------- slice / getitem


def test_slice_trims_width(device):
    x = torch.randn(1, 1, 32, 320)
    out = ttnn.slice(dev_tensor(x, device), (0, 0, 0, 0), (1, 1, 32, 300))
    assert out.shape == [1, 1, 32, 300] and out.padded_shape == [1, 1, 32, 320]
    assert torch.equal(host(out), bf16(x[..., :300]))


def test_slice_unaligned_starts_and_steps(device):
    x = torch.randn(2, 3, 50, 70)
    t = dev_tensor(x, device)
    out = ttnn.slice(t, [1, 0, 5, 17], [2, 3, 45, 66], [1, 2, 3, 1])
    assert out.shape == [1, 2, 14, 49] and out.padded_shape == [1, 2, 32, 64]
    assert torch.equal(host(out), bf16(x[1:2, 0:3:2, 5:45:3, 17:66]))


def test_slice_validation(device):
    t = dev_tensor(torch.randn(1, 1, 32, 64), device)
    with pytest.raises(TTError, match="must all be equal"):
        ttnn.slice(t, (0, 0, 0), (1, 1, 32))
    with pytest.raises(TTError, match="Ends 65 must be less than or equal to the shape of the tensor 64"):
        ttnn.slice(t, (0, 0, 0, 0), (1, 1, 32, 65))
    with pytest.raises(TTError, match="must be less than input tensor shape"):
        ttnn.slice(t, (0, 0, 40, 0), (1, 1, 48, 64))
    assert ttnn.slice(t, (0, 0, -1, 0), (1, 1, 32, -16)).shape == [1, 1, 1, 48]  # negatives count from the end
    with pytest.raises(TTError, match=r"must be <= slice end"):
        ttnn.slice(t, (0, 0, 16, 0), (1, 1, 8, 64))
    with pytest.raises(TTError, match="should be positive"):
        ttnn.slice(t, (0, 0, 0, 0), (1, 1, 32, 64), (1, 1, 0, 1))
    bf8 = dev_tensor(torch.randn(1, 1, 32, 64), device, dtype=ttnn.bfloat8_b)
    with pytest.raises(TTError, match="BFLOAT8_B"):
        ttnn.slice(bf8, (0, 0, 0, 0), (1, 1, 32, 64), (1, 1, 2, 1))
    with pytest.raises(TTError, match="Operands to unpad need to be on device!"):
        ttnn.slice(ttnn.from_torch(torch.randn(4, 4), dtype=ttnn.bfloat16), (0, 0), (2, 2))


def test_getitem_on_device_is_slice(device):
    x = torch.randn(1, 1, 2048, 128)
    cos = dev_tensor(x, device)
    out = cos[:, :, :64, :]
    assert out.shape == [1, 1, 64, 128] and torch.equal(host(out), bf16(x[:, :, :64, :]))
    assert torch.equal(host(cos[..., 3:9]), bf16(x[..., 3:9]))
    row = cos[0, 0, -1]
    assert row.shape == [128] and torch.equal(host(row), bf16(x[0, 0, -1]))


def test_getitem_errors_and_host_tensors(device):
    x = torch.randn(3, 5, 7)
    with pytest.raises(TypeError):  # real 0.81.1 has no __getitem__ for host tensors
        ttnn.from_torch(x, dtype=ttnn.bfloat16)[1:, 2]
    t = dev_tensor(x, device, layout=ttnn.ROW_MAJOR_LAYOUT)
    assert torch.equal(host(t[1:, 2]), bf16(x[1:, 2]))
    with pytest.raises(TTError, match="out of bounds"):
        t[3]
    assert torch.equal(host(t[-2:]), bf16(x[-2:]))  # ttnn.slice counts negative bounds from the end
    with pytest.raises(TTError, match="0-d"):
        t[0, 0, 0]
    with pytest.raises(NotEmulatedError):
        t[None]


def test_slice_from_aligned_starts_reaches_into_tile_padding(device):
    """Real 0.81.1: with tile-aligned starts, ends are checked against the padded shape and padding becomes
    logical (zeros here); from an unaligned start the logical shape bounds the slice."""
    x = torch.randn(1, 1, 20, 64)
    t = dev_tensor(x, device)
    out = ttnn.slice(t, (0, 0, 0, 0), (1, 1, 32, 64))
    assert out.shape == [1, 1, 32, 64] and torch.equal(host(out)[:, :, :20], bf16(x))
    assert not host(out)[:, :, 20:].any()
    with pytest.raises(TTError, match="Ends 32 must be less than or equal to the shape of the tensor 20"):
        ttnn.slice(t, (0, 0, 16, 0), (1, 1, 32, 64))


def test_reshape_three_arg_new_logical_window_on_the_same_buffer(device):
    """Real 0.81.1: the 3-arg form may change the logical volume while the padded shape fits the buffer; an
    unusable padded shape is ignored (the computed padding is used)."""
    x = torch.randn(1, 1, 32, 32)
    t = dev_tensor(x, device)
    out = ttnn.reshape(t, ttnn.Shape((1, 1, 24, 32)), ttnn.Shape((1, 1, 32, 32)))
    assert out.shape == [1, 1, 24, 32] and out.padded_shape == [1, 1, 32, 32] and out._buffer is t._buffer
    assert torch.equal(host(out), bf16(x)[:, :, :24])
    with pytest.raises(TTError, match="MeshBuffer must be large enough"):
        ttnn.reshape(t, ttnn.Shape((1, 1, 40, 32)), ttnn.Shape((1, 1, 64, 32)))
    sq = dev_tensor(torch.randn(1, 1, 64, 64), device)
    assert ttnn.reshape(sq, ttnn.Shape((1, 1, 64, 64)), ttnn.Shape((1, 1, 32, 64))).padded_shape == [1, 1, 64, 64]


# ----------------------------------------------------------------------------- reshape


def test_reshape_decode_trick_round_trip(device):
    """[1,32,8,128] (heads padded to 32) -> [1,1,256,128] moves data; back with the 3-arg form."""
    x = torch.randn(1, 32, 8, 128)
    t = dev_tensor(x, device)
    flat = ttnn.reshape(t, (1, 1, 256, 128))
    assert flat.shape == [1, 1, 256, 128] and flat.padded_shape == [1, 1, 256, 128]
    assert flat._buffer is not t._buffer
    back = ttnn.reshape(flat, ttnn.Shape([1, 32, 8, 128]), ttnn.Shape([1, 32, 32, 128]))
    assert back.shape == [1, 32, 8, 128] and back.padded_shape == [1, 32, 32, 128]
    assert torch.equal(host(back), bf16(x))


def test_reshape_view_shares_buffer(device):
    x = torch.randn(2, 3, 20, 64)
    t = dev_tensor(x, device)
    view = ttnn.reshape(t, (6, 20, 64))
    assert view._buffer is t._buffer and view.padded_shape == [6, 32, 64]
    assert torch.equal(host(view), bf16(x.reshape(6, 20, 64)))
    ttnn.deallocate(t)
    with pytest.raises(TTError, match="not allocated"):
        ttnn.add(view, view)


def test_reshape_recomputes_padding_and_infers(device):
    x = torch.randn(2, 3, 4, 5)
    out = ttnn.reshape(dev_tensor(x, device), (2, 3, 20))
    assert out.shape == [2, 3, 20] and out.padded_shape == [2, 32, 32]
    assert torch.equal(host(out), bf16(x.reshape(2, 3, 20)))
    inferred = dev_tensor(x, device).reshape(-1, 5)
    assert inferred.shape == [24, 5] and torch.equal(host(inferred), bf16(x.reshape(24, 5)))
    assert ttnn.reshape(out, (2, 3, 20)) is out


def test_reshape_three_arg_keeps_padded_when_tile_aligned(device):
    t = dev_tensor(torch.randn(1, 1, 24, 5), device)
    out = ttnn.reshape(t, (1, 1, 24, 5), (1, 1, 32, 32))
    assert out.padded_shape == [1, 1, 32, 32]
    wide = dev_tensor(torch.randn(1, 2, 32, 64), device)
    assert ttnn.reshape(wide, (1, 1, 64, 64), (1, 1, 64, 64)).padded_shape == [1, 1, 64, 64]


def test_reshape_bf8_view_and_move_keep_values(device):
    x = torch.randn(1, 4, 32, 64)
    t = dev_tensor(x, device, dtype=ttnn.bfloat8_b)
    view = ttnn.reshape(t, (1, 1, 128, 64))
    assert view._buffer is t._buffer and torch.equal(host(view), host(t).reshape(1, 1, 128, 64))
    moved = ttnn.reshape(t, (1, 1, 32, 256))
    assert moved.dtype == ttnn.bfloat8_b and moved.shape == [1, 1, 32, 256]
    # each 16-value block of the result comes whole from one block of the source: codes carry over
    assert torch.equal(host(moved), host(t).reshape(1, 1, 32, 256))


def test_reshape_row_major_and_host(device):
    x = torch.randn(4, 6)
    rm = dev_tensor(x, device, layout=ttnn.ROW_MAJOR_LAYOUT)
    assert torch.equal(host(ttnn.reshape(rm, (2, 12))), bf16(x.reshape(2, 12)))
    h = ttnn.from_torch(x, dtype=ttnn.bfloat16)
    assert torch.equal(host(h.reshape(3, 8)), bf16(x.reshape(3, 8)))


def test_reshape_validation(device):
    t = dev_tensor(torch.randn(1, 1, 32, 64), device)
    with pytest.raises(TTError, match="Invalid arguments to reshape"):  # the list/tuple overload's text
        ttnn.reshape(t, (1, 1, 32, 32))
    with pytest.raises(TTError, match="Invalid arguments to reshape"):
        t.reshape(1, 1, 32, 32)
    with pytest.raises(TTError, match="different volumes"):  # the ttnn.Shape overload's
        ttnn.reshape(t, ttnn.Shape((1, 1, 16, 64)))
    with pytest.raises(TTError, match="Only one dimension can be inferred"):
        ttnn.reshape(t, (-1, -1, 64))
    ttnn.deallocate(t)
    with pytest.raises(TTError, match="not allocated"):
        ttnn.reshape(t, (32, 64))


def test_reshape_to_a_smaller_window_inside_the_padding_is_a_view(device):
    """[1,4,32,128] -> logical [1,4,8,128] padded [1,4,32,128]: each head keeps its tile row; the first 8 rows
    are the logical data (the decode-heads idiom). The list form of the same call is refused, as on 0.81.1."""
    x = torch.randn(1, 4, 32, 128)
    t = dev_tensor(x, device)
    v = ttnn.reshape(t, [1, 4, 8, 128], [1, 4, 32, 128])
    assert list(v.shape) == [1, 4, 8, 128] and list(v.padded_shape) == [1, 4, 32, 128]
    assert torch.equal(host(v), bf16(x[:, :, :8]))
    w = ttnn.reshape(t, ttnn.Shape([4, 1, 128]), ttnn.Shape([4, 32, 128]))  # rank changes too
    assert torch.equal(host(w), bf16(x[0, :, :1]))
    ttnn.deallocate(v)
    assert not t.is_allocated()  # one buffer
    with pytest.raises(TTError, match="Invalid arguments to reshape"):
        ttnn.reshape(dev_tensor(x, device), [1, 4, 8, 128])


def test_reshape_window_growing_back_into_the_padding(device):
    x = torch.randn(1, 4, 8, 128)
    v = ttnn.reshape(dev_tensor(x, device), ttnn.Shape([1, 4, 20, 128]), ttnn.Shape([1, 4, 32, 128]))
    assert list(v.shape) == [1, 4, 20, 128] and list(v.padded_shape) == [1, 4, 32, 128]
    assert torch.equal(host(v)[:, :, :8], bf16(x))


def test_reshape_shape_form_of_smaller_whole_tiles_is_a_view(device):
    """0.81.1 views a ttnn.Shape reshape that passes its view rule even when the volume shrinks (issue 15558)."""
    x = torch.randn(1, 4, 32, 128)
    v = ttnn.reshape(dev_tensor(x, device), ttnn.Shape([1, 2, 32, 128]))
    assert list(v.padded_shape) == [1, 2, 32, 128] and torch.equal(host(v), bf16(x[:, :2]))


@pytest.mark.parametrize("logical, padded, message", [
    ([1, 4, 8, 128], [1, 4, 64, 128], "MeshBuffer must be large enough"),  # padding past the buffer
    ([1, 8, 8, 128], [1, 8, 32, 128], "MeshBuffer must be large enough"),  # more tile rows than the buffer
    ([1, 4, 8, 128], [1, 4, 8, 128], "different volumes"),  # padded shape not whole tiles
    ([1, 4, 8, 64], [1, 4, 32, 64], "different volumes"),  # a different padded width
])
def test_reshape_window_refusals(device, logical, padded, message):
    t = dev_tensor(torch.randn(1, 4, 32, 128), device)
    with pytest.raises(TTError, match=message):
        ttnn.reshape(t, logical, padded)


# ----------------------------------------------------------------------------- transpose / permute


def test_transpose_decode_heads(device):
    x = torch.randn(1, 32, 8, 128)
    out = ttnn.transpose(dev_tensor(x, device), 1, 2)
    assert out.shape == [1, 8, 32, 128] and out.padded_shape == [1, 8, 32, 128]
    assert out.dtype == ttnn.bfloat16 and out.layout == ttnn.TILE_LAYOUT
    assert torch.equal(host(out), bf16(x.transpose(1, 2)))


@pytest.mark.parametrize("dtype", [ttnn.bfloat16, ttnn.float32, ttnn.bfloat8_b])
def test_transpose_wh_and_negative_dims(device, dtype):
    x = torch.randn(2, 37, 50)
    t = dev_tensor(x, device, dtype=dtype)
    out = ttnn.transpose(t, -2, -1)
    assert out.shape == [2, 50, 37] and out.padded_shape == [2, 64, 64] and out.dtype == dtype
    # bfloat8_b blocks run along rows, so a WH transpose re-quantises the moved values (as the card
    # does when it packs the transposed tile): compare with the transposed values re-encoded
    expected = host(dev_tensor(host(t).transpose(-2, -1), device, dtype=dtype))
    assert torch.equal(host(out), expected)


def test_permute(device):
    x = torch.randn(2, 3, 33, 40)
    out = ttnn.permute(dev_tensor(x, device), (0, 2, -1, 1))
    assert out.shape == [2, 33, 40, 3] and out.padded_shape == [2, 33, 64, 32]
    assert torch.equal(host(out), bf16(x.permute(0, 2, 3, 1)))


def test_transpose_permute_validation(device):
    t = dev_tensor(torch.randn(1, 2, 32, 64), device)
    with pytest.raises(TTError, match="Dimension out of range"):
        ttnn.transpose(t, 1, 4)
    with pytest.raises(TTError, match="must list each"):
        ttnn.permute(t, (0, 1, 1, 2))
    with pytest.raises(TTError, match="^ttnn.permute: The number of dimensions in the tensor input does not match "
                                      "the length of the desired ordering$"):  # 0.81.1's text: code matches on it
        ttnn.permute(t, (0, 1, 2))
    with pytest.raises(TTError, match="Index is out of bounds for the rank, should be between 0 and 3 however is 4"):
        ttnn.permute(t, (0, 1, 2, 4))
    with pytest.raises(TTError, match="on device"):
        ttnn.permute(ttnn.from_torch(torch.randn(2, 2), dtype=ttnn.bfloat16), (1, 0))


def test_outputs_do_not_alias_inputs(device):
    """Cache ops write in place; a moved tensor must not see later writes to its source."""
    t = dev_tensor(torch.randn(1, 1, 32, 64), device)
    for out in (ttnn.transpose(t, 0, 1), ttnn.permute(t, (0, 1, 2, 3)), t[:, :, :, :]):
        assert out._value.data_ptr() != t._value.data_ptr()


def test_data_free_inputs_give_shapes(device):
    t = dev_tensor(torch.empty(1, 32, 8, 128, device="meta"), device)
    real = dev_tensor(torch.randn(1, 32, 8, 128), device)
    outs = {
        "concat": ttnn.concat([t, real], dim=-1),
        "slice": ttnn.slice(t, (0, 0, 0, 0), (1, 32, 8, 64)),
        "getitem": t[:, :16],
        "reshape": ttnn.reshape(t, (1, 1, 256, 128)),
        "transpose": ttnn.transpose(t, 1, 2),
        "permute": ttnn.permute(t, (0, 2, 1, 3)),
    }
    shapes = {"concat": [1, 32, 8, 256], "slice": [1, 32, 8, 64], "getitem": [1, 16, 8, 128],
              "reshape": [1, 1, 256, 128], "transpose": [1, 8, 32, 128], "permute": [1, 8, 32, 128]}
    for name, out in outs.items():
        assert out.is_data_free() and out.shape == shapes[name], name
