"""Tile padding values: what the padding of a TILE tensor holds, and where it shows.

Contracts (0.81.1; the host cases are checked in the conformance lane, ``tests/conformance/padding_cases.py``: a mock
device reads back zeros, a host tensor its real bytes):

* ``from_torch(..., layout=TILE, pad_value=v)`` and ``to_layout(t, TILE, pad_value=v)`` fill the padding with ``v``
  (0 unless given), in every dtype; ``fill_implicit_tile_padding(t, v)`` gives a copy whose padding holds ``v``.
  Moves keep it (``to_device``, ``from_device``, ``to_memory_config``, ``copy_host_to_device_tensor``, views).
* ``Tensor.to_torch_with_padded_shape()`` returns the values over the padded shape, padding included (a
  ROW_MAJOR tensor has padding only after ``pad_to_tile``).
* Host ROW_MAJOR padding (``Tensor`` members, positional only): ``pad_to_tile(v)`` pads the last two dims up to
  the tile with ``v`` (a TILE tensor comes back as it is; 1-D pads to ``[32, 32]``); ``pad(padded_shape, [0, ...],
  v)`` pads to a larger shape (another start, which moves the data, and TILE are not emulated; a smaller shape,
  which 0.81.1 takes, is refused); ``to_layout(TILE)`` keeps that padding. ``unpad(start, end)`` and
  ``unpad_from_tile(shape)`` cut ``[start:end]`` (from 0) out of the padded values, padding included
  (``unpad_from_tile`` needs whole-tile padding); both refuse TILE. (0.81.1 reads past the padded shape without a
  check; the emulator refuses that.)
* Ops that turn padding into data read it: ``slice`` past the logical end, the 3-argument ``reshape`` that grows
  the logical shape into the padding.
* Every other op's output padding is unspecified on a card (whatever its kernels wrote); the emulator writes 0.

The emulator keeps one value per tensor (``Tensor._pad_value``): padding is only ever filled whole. Block floats
also keep it in their blocks, as the card does.
"""

from __future__ import annotations

import torch

from .core import to_torch
from .errors import check
from .tensor import BlockFloat, Tensor, pad_to
from .types import DEFAULT_TILE, Layout, tile_padded_shape


def to_torch_with_padded_shape(tensor: Tensor) -> torch.Tensor:
    """``Tensor.to_torch_with_padded_shape()``: the values over the padded shape (see the module docstring)."""
    logical = to_torch(tensor)
    padded = tuple(tensor.padded_shape)
    if padded == tuple(tensor.shape):
        return logical
    if isinstance(tensor._value, BlockFloat) and not tensor.is_distributed():
        from . import numerics

        value = tensor._value
        return numerics.bfp_dequantize(value.mant, value.exp, value.bits).reshape(padded).to(logical.dtype)
    return pad_to(logical, padded, tensor._pad_value)


def pad_to_tile(tensor: Tensor, pad_value: float) -> Tensor:
    """``Tensor.pad_to_tile(v)`` (see the module docstring)."""
    op = "ttnn.Tensor.pad_to_tile"
    check(tensor.device() is None, op, "pad_to_tile works on host tensors")
    if tensor.layout == Layout.TILE:
        return tensor
    padded = tile_padded_shape(tuple(tensor.shape), DEFAULT_TILE)
    out = Tensor._make(tensor._native(op).clone(), tuple(tensor.shape), tensor.dtype, tensor.layout,
                       tile=tensor.tile, padded_shape=padded)
    out._pad_value = float(pad_value)
    return out


def pad(tensor: Tensor, padded_shape, start, value: float) -> Tensor:
    """``Tensor.pad(padded_shape, start, v)`` with ``start`` all zeros (see the module docstring)."""
    op = "ttnn.Tensor.pad"
    check(tensor.device() is None, op, "pad works on host tensors")
    if tensor.layout != Layout.ROW_MAJOR or any(int(s) for s in start):
        from .errors import NotEmulated

        NotEmulated("ttnn.Tensor.pad of a TILE tensor or with a nonzero start")()
    padded = tuple(int(d) for d in padded_shape)
    check(len(padded) == len(tensor.shape) and all(p >= d for p, d in zip(padded, tensor.shape)), op,
          f"padded shape {list(padded)} must have the tensor's rank and hold its shape {list(tensor.shape)}")
    out = Tensor._make(tensor._native(op).clone(), tuple(tensor.shape), tensor.dtype, tensor.layout,
                       tile=tensor.tile, padded_shape=padded)
    out._pad_value = float(value)
    return out


def unpad(tensor: Tensor, start, end, name: str) -> Tensor:
    """``Tensor.unpad(start, end)`` / ``unpad_from_tile(shape)``: ``padded values[start:end]`` on the host."""
    op = f"ttnn.Tensor.{name}"
    check(tensor.device() is None, op, f"{name} works on host tensors")
    check(tensor.layout == Layout.ROW_MAJOR, op, "TT_FATAL: tensor.layout() == Layout::ROW_MAJOR")
    padded = tuple(tensor.padded_shape)
    if name == "unpad_from_tile":
        check(len(padded) >= 2 and padded[-2] % 32 == 0 and padded[-1] % 32 == 0, op,
              "Last 2 dims of input shape must be multiples of 32")
    start, end = [int(s) for s in start], [int(e) for e in end]
    check(len(start) == len(end) == len(padded), op, f"start and end must have the tensor's rank ({len(padded)})")
    check(all(0 <= s < e <= p for s, e, p in zip(start, end, padded)), op,
          f"[{start}, {end}) must lie inside the padded shape {list(padded)} (0.81.1 reads past it unchecked)")
    values = pad_to(tensor._native(op), padded, tensor._pad_value)
    window = values[tuple(slice(s, e) for s, e in zip(start, end))].clone()
    return Tensor._make(window, tuple(window.shape), tensor.dtype, tensor.layout, tile=tensor.tile)
