"""Differential cases for tile padding values (issue 16, step 3): what ``to_torch_with_padded_shape`` reads from the
padding of a host TILE tensor made by ``from_torch(pad_value=...)`` or ``to_layout(pad_value=...)``. Host tensors
hold real bytes in mock mode, so these cases compare values: each returns the padded shape, the torch dtype and the
distinct values read (the logical values are all 1).

Registered into ``cases.CASES`` (``cases.py`` imports this module).
"""

from __future__ import annotations

import torch

from cases import OK, case


def _read(t):
    r = t.to_torch_with_padded_shape()
    return tuple(r.shape), str(r.dtype), tuple(sorted(set(r.double().flatten().tolist())))


def _ones(ttnn, dtype, **kw):
    src = torch.ones(1, 1, 30, 60, dtype=torch.int32 if dtype in ("uint32", "int32") else torch.float32)
    return ttnn.from_torch(src, dtype=getattr(ttnn, dtype), layout=ttnn.TILE_LAYOUT, **kw)


for _dtype in ("bfloat16", "float32", "bfloat8_b", "bfloat4_b", "uint32"):
    def _fn(ttnn, d, _dtype=_dtype):
        return _read(_ones(ttnn, _dtype, pad_value=3.0 if "float" in _dtype else 7))
    case("padding_values", f"from_torch_pad_value_{_dtype}", OK)(_fn)


@case("padding_values", "from_torch_default_is_zero", OK)
def _(ttnn, d):
    return _read(_ones(ttnn, "bfloat16"))


@case("padding_values", "negative_pad_value", OK)
def _(ttnn, d):
    return _read(_ones(ttnn, "bfloat16", pad_value=-2.5))


@case("padding_values", "tile_multiple_has_no_padding", OK)
def _(ttnn, d):
    return _read(ttnn.from_torch(torch.ones(1, 1, 32, 64), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, pad_value=3.0))


@case("padding_values", "row_major_has_no_padding", OK)
def _(ttnn, d):
    return _read(ttnn.from_torch(torch.ones(1, 1, 30, 60), dtype=ttnn.bfloat16, pad_value=3.0))


@case("padding_values", "to_layout_pad_value", OK)
def _(ttnn, d):
    rm = ttnn.from_torch(torch.ones(1, 1, 30, 60), dtype=ttnn.bfloat16)
    return _read(ttnn.to_layout(rm, ttnn.TILE_LAYOUT, pad_value=5.0)), _read(ttnn.to_layout(rm, ttnn.TILE_LAYOUT))


@case("padding_values", "to_layout_row_major_drops_it", OK)
def _(ttnn, d):
    return _read(ttnn.to_layout(_ones(ttnn, "bfloat16", pad_value=3.0), ttnn.ROW_MAJOR_LAYOUT))


@case("padding_values", "tile_16x32", OK)
def _(ttnn, d):
    t = ttnn.from_torch(torch.ones(1, 1, 10, 20), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT,
                        tile=ttnn.Tile((16, 32)), pad_value=3.0)
    return _read(t)


@case("padding_values", "device_tensor_padded_shape", OK)
def _(ttnn, d):  # a mock device reads back zeros: only the shape and dtype are compared
    r = ttnn.to_device(_ones(ttnn, "bfloat16", pad_value=3.0), d).to_torch_with_padded_shape()
    return tuple(r.shape), str(r.dtype)
