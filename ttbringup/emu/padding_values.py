"""Tile padding values: what the padding of a TILE tensor holds, and where it shows.

Contracts (0.81.1; the host cases are checked in the conformance lane, ``padding_values`` in ``nd_cases``: a mock
device reads back zeros, a host tensor its real bytes):

* ``from_torch(..., layout=TILE, pad_value=v)`` and ``to_layout(t, TILE, pad_value=v)`` fill the padding with ``v``
  (0 unless given), in every dtype; ``fill_implicit_tile_padding(t, v)`` gives a copy whose padding holds ``v``.
  Moves keep it (``to_device``, ``from_device``, ``to_memory_config``, ``copy_host_to_device_tensor``, views).
* ``Tensor.to_torch_with_padded_shape()`` returns the values over the padded shape, padding included; a
  ROW_MAJOR tensor has none (its logical values).
* Ops that turn padding into data read it: ``slice`` past the logical end, the 3-argument ``reshape`` that grows
  the logical shape into the padding.
* Every other op's output padding is unspecified on a card (whatever its kernels wrote); the emulator writes 0.

The emulator keeps one value per tensor (``Tensor._pad_value``): padding is only ever filled whole. Block floats
also keep it in their blocks, as the card does.
"""

from __future__ import annotations

import torch

from .core import to_torch
from .tensor import BlockFloat, Tensor, pad_to
from .types import Layout


def to_torch_with_padded_shape(tensor: Tensor) -> torch.Tensor:
    """``Tensor.to_torch_with_padded_shape()``: the values over the padded shape (see the module docstring)."""
    logical = to_torch(tensor)
    if tensor.layout != Layout.TILE:
        return logical
    padded = tuple(tensor.padded_shape)
    if isinstance(tensor._value, BlockFloat) and not tensor.is_distributed():
        from . import numerics

        value = tensor._value
        return numerics.bfp_dequantize(value.mant, value.exp, value.bits).reshape(padded).to(logical.dtype)
    return pad_to(logical, padded, tensor._pad_value)
