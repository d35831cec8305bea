"""Open the device a bringup asks for and always close it.

A model file that declares ``MESH_SHAPE = (rows, cols)`` gets
``ttnn.open_mesh_device(ttnn.MeshShape(rows, cols))``; any other gets
``ttnn.open_device(device_id=...)``.
"""

from __future__ import annotations

import contextlib
from types import ModuleType


@contextlib.contextmanager
def opened_device(ttnn: ModuleType, mesh_shape: tuple[int, int] | None = None, device_id: int = 0):
    """Yield an open device (or mesh device); it is closed when the block ends, however it ends."""
    if mesh_shape is not None:
        device = ttnn.open_mesh_device(ttnn.MeshShape(*mesh_shape))
        close = ttnn.close_mesh_device
    else:
        device = ttnn.open_device(device_id=device_id)
        close = ttnn.close_device
    try:
        yield device
    finally:
        close(device)
