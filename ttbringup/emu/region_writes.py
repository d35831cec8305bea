"""``ttnn.slice_write`` and ``ttnn.fill_implicit_tile_padding``: writes into an existing tensor's region.

Contracts (0.81.1, checked in the conformance lane):

* ``slice_write(input_tensor, output_tensor, begins, ends, strides)`` writes ``input_tensor`` into
  ``output_tensor[begins:ends:strides]`` in place (values rounded to the output's dtype) and returns
  ``output_tensor``. Both on device, same rank; the slice must lie inside the output and have the input's shape.
* ``fill_implicit_tile_padding(input_tensor, fill_value, *, memory_config=None)``: a copy of a TILE device tensor
  whose tile padding holds ``fill_value``. Block-float tensors store their padding and keep the value; for other
  dtypes the emulator stores only the logical region, so the padding still reads as zeros where a later op turns
  it into data (a slice into the padding); ops that reduce over a row never read padding here.
"""

from __future__ import annotations

import builtins

import torch

from .errors import check
from .per_chip import per_chip
from .tensor import BlockFloat, Tensor, encode, new_tensor
from .types import Layout
from .validate import on_device, tensor_arg

SLICE_WRITE = "ttnn.slice_write"
FILL = "ttnn.fill_implicit_tile_padding"


@per_chip(writes_first=True)
def slice_write(input_tensor, output_tensor, begins, ends, strides, *, memory_config=None) -> Tensor:
    """``output_tensor[begins:ends:strides] = input_tensor`` in place (see the module docstring)."""
    op = SLICE_WRITE
    x, out = tensor_arg(input_tensor, op, "input_tensor"), tensor_arg(output_tensor, op, "output_tensor")
    on_device(x, op, "Input tensor must be on device")
    on_device(out, op, "Output tensor must be on device")
    rank = len(out.shape)
    check(len(x.shape) == rank == len(begins) == len(ends) == len(strides), op,
          f"Input rank ({len(x.shape)}), output rank ({rank}) and the lengths of begins ({len(begins)}), ends "
          f"({len(ends)}) and strides ({len(strides)}) must all be equal")
    sizes = []
    for i, (b, e, s, dim) in enumerate(zip(begins, ends, strides, out.shape)):
        check(s > 0, op, f"Step({i}) = {s} should be positive")
        check(0 <= b < e <= dim, op, f"Slice [{b}, {e}) of dim {i} must lie inside the output dim ({dim})")
        sizes.append(len(range(b, e, s)))
    check(sizes == list(x.shape), op, f"The slice shape {sizes} must equal the input shape {list(x.shape)}")
    index = tuple(builtins.slice(b, e, s) for b, e, s in zip(begins, ends, strides))
    if x.is_data_free() or out.is_data_free():
        return out
    store = out._value
    if isinstance(store, BlockFloat):  # re-block the whole tensor: a write regroups the shared exponents
        values = store.decode()
        values[index] = x._values(op)
        fresh = encode(values, out.dtype, out.layout, out.tile)
        store.mant.copy_(fresh.mant)
        store.exp.copy_(fresh.exp)
    else:
        store[index] = encode(x._native(op), out.dtype, out.layout, out.tile).to(store.dtype)
    return out


@per_chip
def fill_implicit_tile_padding(input_tensor, fill_value: float, *, memory_config=None) -> Tensor:
    """A copy of a TILE tensor with ``fill_value`` in its tile padding (see the module docstring)."""
    op = FILL
    x = tensor_arg(input_tensor, op, "input_tensor")
    on_device(x, op, "Input tensor must be on device")
    check(x.layout == Layout.TILE, op, "Input tensor must be in TILE layout")
    values = x._native(op)
    if not values.is_meta:
        values = values.clone(memory_format=torch.contiguous_format)
    return new_tensor(values, dtype=x.dtype, layout=x.layout, device=x.device(),
                      memory_config=memory_config or x.memory_config(), tile=x.tile, pad_value=float(fill_value))
