"""``ttnn.experimental.slice_write`` and ``ttnn.fill_implicit_tile_padding``: writes into a tensor's region.

Contracts (0.81.1, checked in the conformance lane):

* ``ttnn.experimental.slice_write(input_tensor, output_tensor, start, end, step)`` writes ``input_tensor`` into
  ``output_tensor[start:end:step]`` in place and returns ``output_tensor``. Both on device with the same dtype and
  rank; ``end`` within the output; the slice has the input's shape. (0.81.1 documents ROW_MAJOR bf16 rank-4 unit
  steps only, and accepts TILE, other ranks, steps and mixed layouts; so does the emulator.) A sharded output
  (2-D or ND) is refused.
* ``fill_implicit_tile_padding(input_tensor, fill_value, *, memory_config=None)``: a copy of a TILE device tensor
  whose tile padding holds ``fill_value`` (``padding_values``), placed like the input (0.81.1 ignores
  ``memory_config``).
"""

from __future__ import annotations

import builtins

import torch

from .errors import check
from .per_chip import per_chip
from .tensor import BlockFloat, Tensor, encode, new_tensor
from .types import Layout
from .validate import on_device, tensor_arg

SLICE_WRITE = "ttnn.experimental.slice_write"
FILL = "ttnn.fill_implicit_tile_padding"


@per_chip(writes_first=True)
def slice_write(input_tensor, output_tensor, start, end, step=None, *, memory_config=None) -> Tensor:
    """``output_tensor[start:end:step] = input_tensor`` in place (see the module docstring)."""
    op = SLICE_WRITE
    x, out = tensor_arg(input_tensor, op, "input_tensor"), tensor_arg(output_tensor, op, "output_tensor")
    on_device(x, op, "Expects Input on Device")
    on_device(out, op, "Expects Output on Device")
    check(not out.is_sharded(), op, "Slice Write currently doesn't support sharded output tensors.")
    check(x.dtype == out.dtype, op, "Input & output should have the same element size")
    rank = len(out.shape)
    step = [1] * rank if step is None else list(step)
    check(len(x.shape) == rank == len(start) == len(end) == len(step), op,
          f"Input rank ({len(x.shape)}), output rank ({rank}) and the lengths of start ({len(start)}), end "
          f"({len(end)}) and step ({len(step)}) must all be equal")
    for i, (b, e, s, dim) in enumerate(zip(start, end, step, out.shape)):
        check(e <= dim, op, f"Ends {e} must be less than or equal to the shape of the tensor {dim}")
        check(0 <= b <= e and s > 0, op, f"Slice [{b}, {e}) with step {s} of dim {i} is empty or reversed")
        size = len(range(b, e, s))
        check(size == x.shape[i], op, f"Size of the slice being written {size} should match the size of the input "
                                      f"tensor {x.shape[i]} at dim {i}")
    index = tuple(builtins.slice(b, e, s) for b, e, s in zip(start, end, step))
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
    on_device(x, op, "Device Operations expect device tensors as inputs")
    check(x.layout == Layout.TILE, op, "FillPad should only be used for tile layout")
    values = x._native(op)
    if not values.is_meta:
        values = values.clone(memory_format=torch.contiguous_format)
    return new_tensor(values, dtype=x.dtype, layout=x.layout, device=x.device(), memory_config=x.memory_config(),
                      tile=x.tile, pad_value=float(fill_value))
