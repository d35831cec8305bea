"""Differential cases for tile padding values (issue 16, step 3): what ``to_torch_with_padded_shape`` reads from the
padding of a host TILE tensor made by ``from_torch(pad_value=...)`` or ``to_layout(pad_value=...)``, and the host
ROW_MAJOR padding members ``pad_to_tile`` / ``unpad`` / ``unpad_from_tile``. Host tensors hold real bytes in mock
mode, so these cases compare values: the distinct values read (the logical values are all 1), or every value.

Registered into ``cases.CASES`` (``cases.py`` imports this module).
"""

from __future__ import annotations

import torch

from cases import ERR, OK, case


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


# ---- host ROW_MAJOR padding: Tensor.pad_to_tile / unpad / unpad_from_tile, values compared element by element
def _grid(ttnn, dtype="bfloat16", rows=5, cols=7):
    src = torch.arange(rows * cols, dtype=torch.int32 if dtype == "uint32" else torch.float32).reshape(1, 1, rows, cols)
    return ttnn.from_torch(src, dtype=getattr(ttnn, dtype))


def _values(t):
    r = t.to_torch_with_padded_shape()
    return tuple(t.shape), tuple(t.padded_shape), str(t.layout).split(".")[-1], tuple(r.double().flatten().tolist())


for _dtype in ("bfloat16", "float32", "uint32"):
    def _fn(ttnn, d, _dtype=_dtype):
        return _values(_grid(ttnn, _dtype).pad_to_tile(4))
    case("padding_values", f"pad_to_tile_{_dtype}", OK)(_fn)


@case("padding_values", "pad_to_tile_1d", OK)
def _(ttnn, d):
    return _values(ttnn.from_torch(torch.arange(30, dtype=torch.float32), dtype=ttnn.bfloat16).pad_to_tile(2.0))


@case("padding_values", "pad_to_tile_of_a_tile_tensor", OK)
def _(ttnn, d):
    return _values(_ones(ttnn, "bfloat16", pad_value=3.0).pad_to_tile(1.0))


@case("padding_values", "pad_to_tile_keyword", ERR)
def _(ttnn, d):
    return _grid(ttnn).pad_to_tile(pad_value=4.0)


@case("padding_values", "pad_to_tile_then_to_layout_tile", OK)
def _(ttnn, d):
    return _values(ttnn.to_layout(_grid(ttnn).pad_to_tile(4.0), ttnn.TILE_LAYOUT))


@case("padding_values", "pad_from_the_origin", OK)
def _(ttnn, d):
    return _values(_grid(ttnn).pad([1, 1, 8, 9], [0, 0, 0, 0], 6.0))


@case("padding_values", "pad_then_unpad", OK)
def _(ttnn, d):
    return _values(_grid(ttnn).pad([1, 1, 8, 9], [0, 0, 0, 0], 6.0).unpad([0, 0, 0, 0], [1, 1, 7, 9]))


@case("padding_values", "unpad_from_tile_of_padding_not_whole_tiles", ERR)
def _(ttnn, d):
    return _grid(ttnn).pad([1, 1, 8, 9], [0, 0, 0, 0], 6.0).unpad_from_tile([1, 1, 7, 9])


@case("padding_values", "unpad_from_tile_into_the_padding", OK)
def _(ttnn, d):
    return _values(_grid(ttnn).pad_to_tile(4.0).unpad_from_tile([1, 1, 6, 9]))


@case("padding_values", "unpad_from_tile_smaller", OK)
def _(ttnn, d):
    return _values(_grid(ttnn).pad_to_tile(4.0).unpad_from_tile([1, 1, 3, 4]))


@case("padding_values", "unpad_from_tile_of_a_tile_tensor", ERR)
def _(ttnn, d):
    return _ones(ttnn, "bfloat16").unpad_from_tile([1, 1, 30, 60])


@case("padding_values", "unpad_window", OK)
def _(ttnn, d):
    return _values(_grid(ttnn).unpad([0, 0, 1, 2], [1, 1, 3, 5]))


@case("padding_values", "unpad_of_a_tile_tensor", ERR)
def _(ttnn, d):
    return _ones(ttnn, "bfloat16").unpad([0, 0, 0, 0], [1, 1, 16, 16])


@case("padding_values", "storage_type_enum", OK)
def _(ttnn, d):
    host = _grid(ttnn)
    dev = ttnn.to_device(host, d)
    return (host.storage_type() == ttnn.StorageType.HOST, dev.storage_type() == ttnn.StorageType.DEVICE,
            tuple(sorted(ttnn.StorageType.__members__)))
