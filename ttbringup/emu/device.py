"""Emulated Wormhole B0 devices: ``open_device`` (a 1x1 mesh, as in 0.81.1) and mesh devices.

Each chip of a mesh has its own DRAM and L1 allocators (see ``memory``); a mesh tensor is charged on every chip
for that chip's part. Chips are numbered row-major over the mesh shape (chip ``r * cols + c`` sits at
``MeshCoordinate(r, c)``), the order the mappers, composers and collectives use. ``ChipDevice`` is one chip of a
mesh as an op sees it while it runs per chip (``per_chip``); users never hold one.

``set_fabric_config`` records the fabric the collectives need (0.81.1 opens a mesh without one, but every
collective then fails: "Trying to get un-initialized fabric context").
"""

from __future__ import annotations

import enum

from .errors import NotEmulated, check, not_emulated_getattr, not_emulated_members
from .memory import DRAM_BANK_SIZE, DRAM_BANKS, ChipMemory
from .events import CommandQueues
from .trace import DeviceTraces, region_bytes_per_bank
from .types import CoreCoord, CoreGrid, FabricConfig, MeshCoordinate, MeshShape

MAX_CHIPS = 8  # the largest system the kit targets (T3000)
COMPUTE_GRID = (8, 8)  # n150/n300 Wormhole worker grid


class Arch(enum.Enum):
    WORMHOLE_B0 = 0
    BLACKHOLE = 1
    QUASAR = 2


class DispatchCoreType(enum.Enum):
    WORKER = 0
    ETH = 1


class DispatchCoreAxis(enum.Enum):
    ROW = 0
    COL = 1


class DispatchCoreConfig:
    """``ttnn.DispatchCoreConfig(type=None, axis=None)`` (WORKER, ROW by default): which cores run the command
    dispatchers. Ethernet or a worker row leave the 8x8 worker grid the emulator has (as on the 0.81.1 mock n150);
    a worker column changes the grid and is not emulated (``open_device`` refuses it)."""

    def __init__(self, type: DispatchCoreType | None = None, axis: DispatchCoreAxis | None = None):
        self.type = type if type is not None else DispatchCoreType.WORKER
        self.axis = axis if axis is not None else DispatchCoreAxis.ROW

    def __repr__(self):
        return f"DispatchCoreConfig(type={self.type}, axis={self.axis})"


class MeshDevice:
    """The device object ttnn hands out; ``ttnn.Device`` is this class too."""

    # members of the real 0.81.1 MeshDevice the emulator lacks (the program-cache API among them)
    __getattr__ = not_emulated_members("ttnn.MeshDevice", """
        clear_loaded_sub_device_manager create_sub_device_manager create_submesh
        create_submeshes dram_core_from_logical_core dram_grid_size
        get_fabric_node_id get_optimal_dram_bank_to_logical_worker_assignment get_submeshes
        get_system_mesh_id get_view load_sub_device_manager logical_core_from_worker_core
        quiesce_devices remove_sub_device_manager reset_sub_device_stall_group reshape
        set_program_cache_misses_allowed set_sub_device_stall_group sfpu_eps sfpu_inf sfpu_nan
        worker_core_from_logical_core""")

    def __init__(self, mesh_shape: MeshShape, device_ids: list[int], trace_region_size: int = 0,
                 num_command_queues: int = 1):
        self._shape = mesh_shape
        self._device_ids = list(device_ids)
        reserved = region_bytes_per_bank(trace_region_size, DRAM_BANKS)
        self._chips = [ChipMemory(i, reserved) for i in device_ids]
        self._traces = DeviceTraces(trace_region_size)
        self._queues = CommandQueues(num_command_queues)
        self._chip_devices = [ChipDevice(self, i) for i in range(len(self._chips))]
        self.is_open = True

    # ---- the program cache (ops compiled per op and tensor specs; see trace.DeviceTraces) ----
    def enable_program_cache(self) -> None:
        """Cache compiled programs (the default)."""
        self._traces.cache_enabled = True

    def disable_and_clear_program_cache(self) -> None:
        """Forget the compiled programs and compile every op anew from now on (a trace capture then refuses)."""
        self._traces.cache_enabled = False
        self._traces.programs.clear()

    def clear_program_cache(self) -> None:
        self._traces.programs.clear()

    def num_program_cache_entries(self) -> int:
        """Distinct (op, tensor specs) run so far: an upper bound of the card's count, where one program may serve
        several shapes (0.81.1 mock: ``add`` on [32, 32] and on [32, 64] is one entry, here two)."""
        return self._traces.program_count()

    def chip(self, index: int) -> "ChipDevice":
        """Emulator only: chip ``index`` (row-major) as an op running on that chip sees the device."""
        return self._chip_devices[index]

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

    def rows_cols(self) -> tuple[int, int]:
        """Emulator only: the mesh as (rows, cols); a 1-D mesh of n chips is one row of n."""
        shape = tuple(self._shape)
        return (shape[0], shape[1]) if len(shape) == 2 else (1, shape[0])

    def get_device_id(self, coord: MeshCoordinate) -> int:
        rows, cols = self.rows_cols()
        r, c = (coord[0], coord[1]) if len(coord) > 1 else (0, coord[0])
        check(0 <= r < rows and 0 <= c < cols, "ttnn.MeshDevice.get_device_id", f"{coord} is outside the mesh {self._shape}")
        return self._device_ids[r * cols + c]

    def id(self) -> int:
        return self._device_ids[0]

    def arch(self) -> Arch:
        return Arch.WORMHOLE_B0

    def dram_size_per_bank(self) -> int:
        return self._chips[0].dram.bank_size

    def l1_size_per_core(self) -> int:
        return self._chips[0].l1.bank_size

    def max_l1_space(self) -> int:
        """Emulator only: per-core L1 bytes below the lowest L1 buffer, which ttnn's matmul config heuristics
        allow for circular buffers (tt-metal: lowest occupied L1 address minus the allocator base). A card
        allocates L1 buffers from the top down, the emulator from 0 up, so it is the space above the highest used
        byte; the chips of a mesh allocate alike."""
        return self._chips[0].l1.unused_above()

    def __repr__(self):
        return f"MeshDevice({'x'.join(map(str, self._shape))} emulated Wormhole B0)"


class ChipDevice:
    """One chip of a mesh while an op runs on it: allocations go to that chip alone; the rest is the mesh's."""

    def __init__(self, mesh: MeshDevice, index: int):
        self.mesh = mesh
        self.index = index
        self._chips = [mesh._chips[index]]

    @property
    def is_open(self) -> bool:
        return self.mesh.is_open

    def __getattr__(self, name):
        return getattr(self.mesh, name)

    def __repr__(self):
        return f"ChipDevice(chip {self.index} of {self.mesh!r})"


Device = MeshDevice
_open_ids: set[int] = set()
_fabric = FabricConfig.DISABLED


def _claim(ids: list[int]) -> None:
    for i in ids:
        check(0 <= i < MAX_CHIPS, "ttnn.open_device", f"device id {i} does not exist (emulated system has {MAX_CHIPS} chips)")
        check(i not in _open_ids, "ttnn.open_device", f"device {i} is already open")
    _open_ids.update(ids)


def open_device(*, device_id: int = 0, l1_small_size: int = 0, trace_region_size: int = 0,
                dispatch_core_config=None, worker_l1_size: int = 0) -> MeshDevice:
    _check_trace_region(trace_region_size, "ttnn.open_device")
    _check_dispatch(dispatch_core_config, "ttnn.open_device")
    _claim([device_id])
    return MeshDevice(MeshShape(1, 1), [device_id], trace_region_size)


def open_mesh_device(mesh_shape: MeshShape = None, l1_small_size: int = 0, trace_region_size: int = 0,
                     num_command_queues: int = 1, dispatch_core_config=None, offset=None,
                     physical_device_ids: list[int] = [], worker_l1_size: int = 0) -> MeshDevice:
    mesh_shape = mesh_shape or MeshShape(1, 1)
    n = mesh_shape.mesh_size()
    ids = list(physical_device_ids) or list(range(n))
    check(len(ids) == n, "ttnn.open_mesh_device", f"{len(ids)} physical_device_ids for a mesh of {n} devices")
    _check_trace_region(trace_region_size, "ttnn.open_mesh_device")
    _check_dispatch(dispatch_core_config, "ttnn.open_mesh_device")
    check(num_command_queues in (1, 2), "ttnn.open_mesh_device",
          f"num_command_queues must be 1 or 2 (a device has at most two command queues), got {num_command_queues}")
    _claim(ids)
    return MeshDevice(mesh_shape, ids, trace_region_size, num_command_queues)


def _check_dispatch(config, op: str) -> None:
    """Dispatch on a worker column shrinks the worker grid (7x9 on the 0.81.1 mock n150); the emulated grid is 8x8."""
    if config is not None and (config.type, config.axis) == (DispatchCoreType.WORKER, DispatchCoreAxis.COL):
        NotEmulated(f"{op}(dispatch_core_config=DispatchCoreConfig(WORKER, COL))")()


def _check_trace_region(size: int, op: str) -> None:
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise TypeError(f"{op}(): incompatible function arguments: trace_region_size must be a non-negative int, "
                        f"got {size!r}")
    check(region_bytes_per_bank(size, DRAM_BANKS) < DRAM_BANK_SIZE, op,
          f"trace_region_size {size} B does not leave any DRAM for buffers")


def close_device(device: MeshDevice) -> None:
    if device.is_open:
        device.is_open = False
        _open_ids.difference_update(device._device_ids)


close_mesh_device = close_device


def set_fabric_config(config: FabricConfig, reliability_mode=None, num_planes=None, fabric_tensix_config=None,
                      fabric_udm_mode=None, fabric_manager_mode=None, router_config=None) -> None:
    """Set the fabric the collectives run on (DISABLED turns it off again)."""
    global _fabric
    if not isinstance(config, FabricConfig):
        raise TypeError(f"set_fabric_config(): incompatible function arguments: {config!r} is not a FabricConfig")
    _fabric = config


def get_fabric_config() -> FabricConfig:
    return _fabric


def GetNumAvailableDevices() -> int:
    return MAX_CHIPS


__getattr__ = not_emulated_getattr("ttnn.device", also_in="ttbringup.emu")
