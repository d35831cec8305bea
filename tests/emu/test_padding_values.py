"""Tile padding values, checked against torch's padding of the same values: set by ``from_torch`` / ``to_layout``
``pad_value``, ``fill_implicit_tile_padding`` and ``Tensor.pad_to_tile``, kept by moves, read by
``to_torch_with_padded_shape``, ``unpad`` / ``unpad_from_tile`` and the ops that turn padding into data (host cases
against the real 0.81.1: ``tests/conformance/padding_cases.py``)."""

import pytest
import torch
import torch.nn.functional as F

import ttbringup.emu as ttnn

G = torch.Generator().manual_seed(4016)


def padded(x, value, to=(32, 64)):
    """torch's picture of a [.., 30, 60] tensor tile-padded with ``value``."""
    return F.pad(x, (0, to[1] - x.shape[-1], 0, to[0] - x.shape[-2]), value=value)


@pytest.mark.parametrize("dtype", [ttnn.bfloat16, ttnn.float32, ttnn.bfloat8_b])
def test_from_torch_pad_value_fills_the_padding(dtype):
    x = torch.randn(1, 1, 30, 60, generator=G)
    for value in (-3.0, None):  # (bfloat8_b: the padding shares exponents with the last logical columns)
        t = ttnn.from_torch(x, dtype=dtype, layout=ttnn.TILE_LAYOUT, pad_value=value)
        want = padded(ttnn.to_torch(t).float(), value or 0.0)
        assert torch.equal(t.to_torch_with_padded_shape().float(), want)


def test_to_layout_pad_value_and_row_major_has_none():
    x = torch.randn(1, 1, 30, 60, generator=G).bfloat16()
    rm = ttnn.from_torch(x, dtype=ttnn.bfloat16)
    assert torch.equal(rm.to_torch_with_padded_shape(), x)
    assert torch.equal(ttnn.to_layout(rm, ttnn.TILE_LAYOUT, pad_value=5.0).to_torch_with_padded_shape(), padded(x, 5.0))


def test_moves_keep_the_padding_and_ops_write_zero(device):
    x = torch.randn(1, 1, 30, 60, generator=G).bfloat16()
    t = ttnn.from_torch(x, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device, pad_value=2.0)
    for moved in (t, ttnn.to_memory_config(t, ttnn.L1_MEMORY_CONFIG), ttnn.from_device(t)):
        assert torch.equal(moved.to_torch_with_padded_shape(), padded(x, 2.0))
    persistent = ttnn.allocate_tensor_on_device(t.shape, t.dtype, t.layout, device)
    ttnn.copy_host_to_device_tensor(ttnn.from_device(t), persistent)
    assert torch.equal(persistent.to_torch_with_padded_shape(), padded(x, 2.0))
    assert torch.equal(ttnn.add(t, t).to_torch_with_padded_shape(), padded(x + x, 0.0))  # unspecified on a card


def test_fill_implicit_tile_padding_is_what_a_slice_into_the_padding_reads(device):
    x = torch.randn(1, 1, 30, 60, generator=G).bfloat16()
    t = ttnn.from_torch(x, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    filled = ttnn.fill_implicit_tile_padding(t, -1.0)
    want = padded(x, -1.0)
    assert torch.equal(filled.to_torch_with_padded_shape(), want)
    assert torch.equal(ttnn.to_torch(ttnn.slice(filled, [0, 0, 0, 0], [1, 1, 32, 64])), want)
    grown = ttnn.reshape(filled, ttnn.Shape([1, 1, 32, 64]), ttnn.Shape([1, 1, 32, 64]))  # padding becomes data
    assert torch.equal(ttnn.to_torch(grown), want)
    assert torch.equal(ttnn.to_torch(ttnn.slice(t, [0, 0, 0, 0], [1, 1, 32, 64])), padded(x, 0.0))


def test_block_floats_keep_the_value_in_their_blocks(device):
    x = torch.randn(1, 1, 30, 60, generator=G)
    t = ttnn.from_torch(x, dtype=ttnn.bfloat8_b, layout=ttnn.TILE_LAYOUT, device=device, pad_value=1.0)
    want = padded(ttnn.to_torch(t), 1.0)
    assert torch.equal(ttnn.to_torch(ttnn.slice(t, [0, 0, 0, 0], [1, 1, 32, 64])), want)


def test_host_row_major_padding_members():
    x = torch.randn(1, 1, 5, 7, generator=G).bfloat16()
    rm = ttnn.from_torch(x, dtype=ttnn.bfloat16)
    padded_rm = rm.pad_to_tile(4.0)
    assert padded_rm.layout == ttnn.ROW_MAJOR_LAYOUT and padded_rm.padded_shape == [1, 1, 32, 32]
    want = padded(x, 4.0, (32, 32))
    assert torch.equal(ttnn.to_torch(padded_rm), x) and torch.equal(padded_rm.to_torch_with_padded_shape(), want)
    assert torch.equal(ttnn.to_layout(padded_rm, ttnn.TILE_LAYOUT).to_torch_with_padded_shape(), want)
    assert torch.equal(ttnn.to_torch(padded_rm.unpad_from_tile([1, 1, 6, 9])), want[:, :, :6, :9])
    assert torch.equal(ttnn.to_torch(rm.unpad([0, 0, 1, 2], [1, 1, 3, 5])), x[:, :, 1:3, 2:5])
    grown = rm.pad([1, 1, 8, 9], [0, 0, 0, 0], 6.0)
    assert torch.equal(grown.to_torch_with_padded_shape(), padded(x, 6.0, (8, 9)))
    assert torch.equal(ttnn.to_torch(grown.unpad([0, 0, 0, 0], [1, 1, 7, 9])), padded(x, 6.0, (7, 9)))
    with pytest.raises(RuntimeError, match="multiples of 32"):
        grown.unpad_from_tile([1, 1, 7, 9])
    tiled = ttnn.from_torch(x, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT)
    assert tiled.pad_to_tile(1.0) is tiled  # already padded: 0.81.1 leaves it as it is
    with pytest.raises(RuntimeError, match="ROW_MAJOR"):
        tiled.unpad([0, 0, 0, 0], [1, 1, 2, 2])
    with pytest.raises(RuntimeError, match="padded shape"):  # 0.81.1 reads past the buffer unchecked
        rm.unpad([0, 0, 0, 0], [1, 1, 6, 7])
    with pytest.raises(TypeError):
        rm.pad_to_tile(pad_value=4.0)  # positional only, as the real member
    assert rm.storage_type() == ttnn.StorageType.HOST and rm.storage_type() == "HOST"
