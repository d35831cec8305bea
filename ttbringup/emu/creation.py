"""Tensor creation (``ttnn/operations/creation``): ``zeros``, ``ones``, ``full``, ``empty``, and
``allocate_tensor_on_device`` (``ttnn/operations/core`` in the real package)."""

from __future__ import annotations

import torch

from .errors import not_emulated_getattr
from .tensor import Tensor, new_tensor
from .tensor_spec import TensorSpec
from .types import BLOCK_FLOAT_DTYPES, DRAM_MEMORY_CONFIG, DataType, Layout, MemoryConfig


def full(shape, fill_value: float, dtype: DataType | None = None, layout: Layout | None = None, device=None,
         memory_config: MemoryConfig | None = None) -> Tensor:
    """A tensor of ``shape`` filled with ``fill_value`` (bfloat16 unless given; ROW_MAJOR unless given, TILE for
    bfloat8_b/bfloat4_b). On a device the memory config is checked as ``to_device`` checks it (shard spec, shard
    shape against the tiles, shard count against the grid)."""
    from .core import to_device

    dtype = dtype or DataType.BFLOAT16
    layout = layout or (Layout.TILE if dtype in BLOCK_FLOAT_DTYPES else Layout.ROW_MAJOR)
    values = torch.full(tuple(shape), float(fill_value), dtype=torch.float32)
    host = new_tensor(values, dtype=dtype, layout=layout, device=None, memory_config=None)
    if device is None:
        return host
    return to_device(host, device, memory_config=memory_config or DRAM_MEMORY_CONFIG)


def zeros(shape, dtype: DataType | None = None, layout: Layout | None = None, device=None,
          memory_config: MemoryConfig | None = None) -> Tensor:
    return full(shape, 0.0, dtype, layout, device, memory_config)


def ones(shape, dtype: DataType | None = None, layout: Layout | None = None, device=None,
         memory_config: MemoryConfig | None = None) -> Tensor:
    return full(shape, 1.0, dtype, layout, device, memory_config)


def empty(shape, dtype: DataType = DataType.BFLOAT16, layout: Layout = Layout.ROW_MAJOR, device=None,
          memory_config: MemoryConfig = DRAM_MEMORY_CONFIG) -> Tensor:
    """An allocated device tensor whose contents are unspecified (zeros here); real 0.81.1 requires a device."""
    from .core import place_on_device

    if device is None:
        raise TypeError("ttnn.empty(): incompatible function arguments: device must be a MeshDevice, got None")
    host = full(shape, 0.0, dtype, layout)
    return place_on_device(host, device, memory_config=memory_config or DRAM_MEMORY_CONFIG)  # allocation, no write


def allocate_tensor_on_device(*args, **kwargs) -> Tensor:
    """An allocated device tensor whose contents are unspecified (zeros here), as ``empty``; the usual way to make
    the persistent input of a trace, filled later by ``copy_host_to_device_tensor``. The two 0.81.1 overloads:
    ``(tensor_spec, mesh_device)`` and ``(shape, dtype, layout, mesh_device, memory_config=None)``."""
    first = args[0] if args else kwargs.get("tensor_spec")
    if isinstance(first, TensorSpec):
        spec, mesh_device = _bound(args, kwargs, ("tensor_spec", "mesh_device"))
        shape, dtype, layout, memory_config = spec.shape, spec.dtype, spec.layout, spec.memory_config
    else:
        shape, dtype, layout, mesh_device, memory_config = _bound(
            args, kwargs, ("shape", "dtype", "layout", "mesh_device", "memory_config"), optional=1)
    if mesh_device is None:
        raise TypeError("ttnn.allocate_tensor_on_device(): incompatible function arguments: mesh_device must be a "
                        "MeshDevice, got None")
    return empty(shape, dtype, layout, mesh_device, memory_config or DRAM_MEMORY_CONFIG)


def _bound(args: tuple, kwargs: dict, names: tuple, optional: int = 0) -> list:
    """The arguments of one overload by position and keyword; the last ``optional`` names default to None."""
    if len(args) > len(names) or set(kwargs) - set(names) or set(kwargs) & set(names[:len(args)]):
        raise TypeError("ttnn.allocate_tensor_on_device(): incompatible function arguments")
    bound = {**dict(zip(names, args)), **kwargs}
    missing = [n for n in names[:len(names) - optional] if n not in bound]
    if missing:
        raise TypeError(f"ttnn.allocate_tensor_on_device(): incompatible function arguments: missing {missing}")
    return [bound.get(n) for n in names]

__getattr__ = not_emulated_getattr("ttnn")
