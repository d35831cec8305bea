"""Open the device a bringup asks for and always close it.

A model file that declares ``MESH_SHAPE = (rows, cols)`` gets
``ttnn.open_mesh_device(ttnn.MeshShape(rows, cols))``; any other gets
``ttnn.open_device(device_id=...)``. A mesh of several chips is opened the way a real multi-chip run needs it:
``set_fabric_config(FABRIC_1D)`` first (the collectives run on the fabric; without it every one of them fails),
and ``set_fabric_config(DISABLED)`` after ``close_mesh_device``. ``trace_region_size``: DRAM set aside for metal
traces (``TRACE_REGION_SIZE`` is what the evals reserve when asked to trace the decode).
"""

from __future__ import annotations

import contextlib
from types import ModuleType

TRACE_REGION_SIZE = 64 << 20  # room for a decode trace of any seed (the emulator charges 4 KiB per traced op)


@contextlib.contextmanager
def opened_device(ttnn: ModuleType, mesh_shape: tuple[int, int] | None = None, device_id: int = 0,
                  trace_region_size: int = 0):
    """Yield an open device (or mesh device); it is closed when the block ends, however it ends."""
    fabric = mesh_shape is not None and mesh_shape[0] * mesh_shape[1] > 1
    if fabric:
        ttnn.set_fabric_config(ttnn.FabricConfig.FABRIC_1D)
    try:
        if mesh_shape is not None:
            device = ttnn.open_mesh_device(ttnn.MeshShape(*mesh_shape), trace_region_size=trace_region_size)
            close = ttnn.close_mesh_device
        else:
            device = ttnn.open_device(device_id=device_id, trace_region_size=trace_region_size)
            close = ttnn.close_device
        try:
            yield device
        finally:
            close(device)
    finally:
        if fabric:
            ttnn.set_fabric_config(ttnn.FabricConfig.DISABLED)
