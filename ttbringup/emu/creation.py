"""Tensor creation (``ttnn/operations/creation``): ``zeros``, ``ones``, ``full``, ``empty``."""

from __future__ import annotations

import torch

from .tensor import Tensor, new_tensor
from .types import DRAM_MEMORY_CONFIG, DataType, Layout, MemoryConfig


def full(shape, fill_value: float, dtype: DataType | None = None, layout: Layout | None = None, device=None,
         memory_config: MemoryConfig | None = None) -> Tensor:
    """A tensor of ``shape`` filled with ``fill_value`` (bfloat16 and ROW_MAJOR unless given)."""
    values = torch.full(tuple(shape), float(fill_value), dtype=torch.float32)
    if device is not None:
        memory_config = memory_config or DRAM_MEMORY_CONFIG
    return new_tensor(values, dtype=dtype or DataType.BFLOAT16, layout=layout or Layout.ROW_MAJOR, device=device,
                      memory_config=memory_config)


def zeros(shape, dtype: DataType | None = None, layout: Layout | None = None, device=None,
          memory_config: MemoryConfig | None = None) -> Tensor:
    return full(shape, 0.0, dtype, layout, device, memory_config)


def ones(shape, dtype: DataType | None = None, layout: Layout | None = None, device=None,
         memory_config: MemoryConfig | None = None) -> Tensor:
    return full(shape, 1.0, dtype, layout, device, memory_config)


def empty(shape, dtype: DataType = DataType.BFLOAT16, layout: Layout = Layout.ROW_MAJOR, device=None,
          memory_config: MemoryConfig = DRAM_MEMORY_CONFIG) -> Tensor:
    """An allocated tensor whose contents are unspecified (zeros here)."""
    return full(shape, 0.0, dtype, layout, device, memory_config)
