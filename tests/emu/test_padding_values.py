"""Tile padding values, checked against torch's padding of the same values: set by ``from_torch`` / ``to_layout``
``pad_value`` and ``fill_implicit_tile_padding``, kept by moves, read by ``to_torch_with_padded_shape`` and by the
ops that turn padding into data (host cases against the real 0.81.1: ``tests/conformance/padding_cases.py``)."""

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
