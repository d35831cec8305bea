"""Emulated Wormhole B0 devices: ``open_device`` (a 1x1 mesh, as in 0.81.1) and mesh devices.

Each chip of a mesh has its own DRAM and L1 allocators (see ``memory``). A tensor placed on a
mesh is replicated on every chip, so it is charged on every chip.
"""

from __future__ import annotations

import enum

from .errors import check
from .memory import ChipMemory
from .types import CoreCoord, CoreGrid, MeshShape

MAX_CHIPS = 8  # the largest system the kit targets (T3000)
COMPUTE_GRID = (8, 8)  # n150/n300 Wormhole worker grid


class Arch(enum.Enum):
    WORMHOLE_B0 = 0
    BLACKHOLE = 1
    QUASAR = 2


class MeshDevice:
    """The device object ttnn hands out; ``ttnn.Device`` is this class too."""

    def __init__(self, mesh_shape: MeshShape, device_ids: list[int]):
        self._shape = mesh_shape
        self._device_ids = list(device_ids)
        self._chips = [ChipMemory(i) for i in device_ids]
        self.is_open = True

    def _check_open(self):
        check(self.is_open, "ttnn.MeshDevice", "device is closed")

    @property
    def shape(self) -> MeshShape:
        return self._shape

    @property
    def core_grid(self) -> CoreGrid:
        return CoreGrid(x=COMPUTE_GRID[0], y=COMPUTE_GRID[1])

    def compute_with_storage_grid_size(self) -> CoreCoord:
        return CoreCoord(*COMPUTE_GRID)

    def get_num_devices(self) -> int:
        return len(self._chips)

    def get_device_ids(self) -> list[int]:
        return list(self._device_ids)

    def id(self) -> int:
        return self._device_ids[0]

    def arch(self) -> Arch:
        return Arch.WORMHOLE_B0

    def dram_size_per_bank(self) -> int:
        return self._chips[0].dram.bank_size

    def l1_size_per_core(self) -> int:
        return self._chips[0].l1.bank_size

    def __repr__(self):
        return f"MeshDevice({'x'.join(map(str, self._shape))} emulated Wormhole B0)"


Device = MeshDevice
_open_ids: set[int] = set()


def _claim(ids: list[int]) -> None:
    for i in ids:
        check(0 <= i < MAX_CHIPS, "ttnn.open_device", f"device id {i} does not exist (emulated system has {MAX_CHIPS} chips)")
        check(i not in _open_ids, "ttnn.open_device", f"device {i} is already open")
    _open_ids.update(ids)


def open_device(*, device_id: int = 0, l1_small_size: int = 0, trace_region_size: int = 0,
                dispatch_core_config=None, worker_l1_size: int = 0) -> MeshDevice:
    _claim([device_id])
    return MeshDevice(MeshShape(1, 1), [device_id])


def open_mesh_device(mesh_shape: MeshShape = None, l1_small_size: int = 0, trace_region_size: int = 0,
                     num_command_queues: int = 1, dispatch_core_config=None, offset=None,
                     physical_device_ids: list[int] = [], worker_l1_size: int = 0) -> MeshDevice:
    mesh_shape = mesh_shape or MeshShape(1, 1)
    n = mesh_shape.mesh_size()
    ids = list(physical_device_ids) or list(range(n))
    check(len(ids) == n, "ttnn.open_mesh_device", f"{len(ids)} physical_device_ids for a mesh of {n} devices")
    _claim(ids)
    return MeshDevice(mesh_shape, ids)


def close_device(device: MeshDevice) -> None:
    if device.is_open:
        device.is_open = False
        _open_ids.difference_update(device._device_ids)


close_mesh_device = close_device


def set_fabric_config(config, *args, **kwargs) -> None:
    """Recorded nowhere: the emulator has no fabric."""


def GetNumAvailableDevices() -> int:
    return MAX_CHIPS
