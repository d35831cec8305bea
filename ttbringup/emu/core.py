"""Host/device transfer, layout, dtype and memory-config conversions (``ttnn/operations/core``).

``from_torch``, ``as_tensor``, ``to_torch``, ``to_device``, ``from_device``, ``to_layout``,
``to_dtype``, ``typecast``, ``to_memory_config``, ``get_memory_config``, ``deallocate``,
``create_sharded_memory_config``.
"""

from __future__ import annotations

import numpy as np
import torch

from . import distributed, events, tensor_file
from .cores import num_cores_to_corerangeset  # noqa: F401 (ttnn.core exports it)
from .errors import check, not_emulated_getattr
from .per_chip import copy_storage, like_chip_zero, per_chip
from .tensor import BlockFloat, Tensor, new_tensor, stack_storages
from .trace import refuse_during_capture
from .types import (
    BLOCK_FLOAT_DTYPES,
    DEFAULT_TILE,
    DRAM_MEMORY_CONFIG,
    BufferType,
    CoreCoord,
    CoreGrid,
    CoreRange,
    CoreRangeSet,
    DataType,
    DumpTensorMode,
    Layout,
    MemoryConfig,
    ShardOrientation,
    ShardSpec,
    ShardStrategy,
    TensorMemoryLayout,
    Tile,
)

TORCH_TO_TTNN = {
    torch.float32: DataType.FLOAT32,
    torch.bfloat16: DataType.BFLOAT16,
    torch.float16: DataType.BFLOAT16,
    torch.float64: DataType.FLOAT32,
    torch.int32: DataType.INT32,
    torch.int64: DataType.UINT32,
    torch.int16: DataType.UINT16,
    torch.uint8: DataType.UINT8,
    torch.int8: DataType.INT8,
    torch.bool: DataType.UINT8,
}
TTNN_TO_TORCH = {
    DataType.BFLOAT16: torch.bfloat16,
    DataType.FLOAT32: torch.float32,
    DataType.BFLOAT8_B: torch.float32,
    DataType.BFLOAT4_B: torch.float32,
    DataType.INT32: torch.int32,
    DataType.UINT32: torch.uint32,
    DataType.UINT16: torch.uint16,
    DataType.UINT8: torch.uint8,
    DataType.INT8: torch.int8,
}


def _check_memory_config(memory_config: MemoryConfig, op: str) -> None:
    if memory_config.is_sharded():
        check(memory_config.shard_spec is not None or memory_config.nd_shard_spec is not None, op,
              "sharded memory_config requires a shard spec")


def from_torch(tensor, dtype: DataType | None = None, *, spec=None, tile: Tile | None = None,
               pad_value: float | None = None, layout: Layout | None = None, device=None,
               memory_config: MemoryConfig | None = None, mesh_mapper=None, cq_id=None,
               preserve_nan_values: bool = False, col_tilize: bool = False, enable_bfloat_opt: bool = False):
    """Convert a torch tensor (or numpy array) into a ttnn tensor, on host or on ``device``."""
    if tensor is None:
        return None
    if spec is not None:  # the spec fixes dtype, layout, tile and placement; the shape must match it
        for name, value in (("dtype", dtype), ("layout", layout), ("tile", tile), ("memory_config", memory_config)):
            check(value is None, "ttnn.from_torch", f"{name} must be None when spec is specified")
        check(tuple(spec.shape) == tuple(tensor.shape), "ttnn.from_torch",
              f"spec shape {spec.shape} must be the same as tensor shape {tensor.shape}")
        dtype, layout, tile, memory_config = spec.dtype, spec.layout, spec.tile, spec.memory_config
    if isinstance(tensor, np.ndarray):
        tensor = torch.from_numpy(tensor)
    if dtype is None:
        dtype = TORCH_TO_TTNN.get(tensor.dtype)
        check(dtype is not None, "ttnn.from_torch", f"unsupported torch dtype {tensor.dtype}")
    if layout is None:  # block floats exist only in TILE layout, so they default to it
        layout = Layout.TILE if dtype in BLOCK_FLOAT_DTYPES else Layout.ROW_MAJOR
    tile = tile or DEFAULT_TILE
    if device is not None:
        memory_config = memory_config or DRAM_MEMORY_CONFIG
        _check_memory_config(memory_config, "ttnn.from_torch")
    parts = distributed.distribute(tensor, mesh_mapper, "ttnn.from_torch")
    if parts is None:
        data = _host_tensor(tensor, dtype, layout, tile, pad_value)
    else:  # one storage per chip, stacked; shape, dtype and layout are the per-chip ones
        chips = [_host_tensor(p, dtype, layout, tile, pad_value, _K_MAJOR_MIN_ELEMENTS // len(parts)) for p in parts]
        data = chips[0]
        data._value, data._shards = None, stack_storages([c._value for c in chips])
    return to_device(data, device, memory_config=memory_config, queue_id=cq_id) if device is not None else data


def _host_tensor(tensor: torch.Tensor, dtype, layout, tile, pad_value,
                 k_major_min: int | None = None) -> Tensor:
    data = new_tensor(tensor, dtype=dtype, layout=layout, device=None, memory_config=None, tile=tile,
                      pad_value=pad_value or 0.0)
    if isinstance(data._value, torch.Tensor) and not tensor.is_meta and data._value.data_ptr() == tensor.data_ptr():
        data._value = data._value.clone()  # own the storage: in-place cache ops must not write into the caller's tensor
    data._value = _k_major_if_weight(data._value, layout, k_major_min or _K_MAJOR_MIN_ELEMENTS)
    return data


# bf16 matrices at least this large (leading dims 1) are stored K-major; smaller ones stay row-major.
_K_MAJOR_MIN_ELEMENTS = 1 << 18


def _k_major_if_weight(value, layout: Layout, min_elements: int = _K_MAJOR_MIN_ELEMENTS):
    """A large bf16 TILE matrix (leading dims 1) stored with its second-last dim contiguous (a shard of a large
    weight counts as large: ``min_elements`` is divided by the chip count).

    Host storage order is invisible through the API (values, shapes and views are unchanged); K-major is
    what torch's bf16 kernel reads fast, so emulated decode ``linear`` uses it (see ``matmul``).
    """
    if (not isinstance(value, torch.Tensor) or value.dtype != torch.bfloat16 or layout != Layout.TILE
            or value.dim() < 2 or value.numel() < min_elements or value.is_meta
            or value.numel() != value.shape[-2] * value.shape[-1]):
        return value
    return value.mT.contiguous().mT


def as_tensor(tensor, dtype: DataType | None = None, *, layout: Layout | None = Layout.ROW_MAJOR, device=None,
              memory_config: MemoryConfig | None = None, cache_file_name=None, preprocess=None, mesh_mapper=None,
              cache_dump_mode: DumpTensorMode = DumpTensorMode.DISTRIBUTED_GATHER):
    """``from_torch`` after ``preprocess``; with ``cache_file_name``, through a tensor file that a later call loads
    instead of converting its input (``tensor_file.cached_tensor``)."""
    if device is not None and memory_config is None:
        raise RuntimeError("memory_config must be specified when device is specified")
    if cache_file_name is not None:
        return tensor_file.cached_tensor(tensor, dtype, layout, device, memory_config, cache_file_name, preprocess,
                                         mesh_mapper, cache_dump_mode)
    if preprocess is not None:
        tensor = preprocess(tensor)
    return from_torch(tensor, dtype=dtype, layout=layout, device=device, memory_config=memory_config,
                      mesh_mapper=mesh_mapper)


def to_torch(tensor: Tensor, dtype: torch.dtype | None = None, *, torch_rank: int | None = None,
             mesh_composer=None, device=None, cq_id=None) -> torch.Tensor:
    """The logical (unpadded) values as a torch tensor.

    A tensor on several chips (a multi-chip mesh, or a host tensor with one shard per chip) needs a
    ``mesh_composer``, replicated ones included, as in 0.81.1; one from ``ttnn.get_device_tensors`` is one chip's.
    """
    tensor._check_alive("ttnn.to_torch")
    refuse_during_capture(tensor._device, "Reads")
    _transfer(tensor, tensor._device, cq_id, "ttnn.to_torch", read=True)
    want = TTNN_TO_TORCH[tensor.dtype]

    def host(value):
        out = value.decode() if isinstance(value, BlockFloat) else value
        if out.dtype != want:
            return out.to(want)
        return out.clone(memory_format=torch.contiguous_format)  # the caller owns a plain copy of our storage

    if tensor._chip is None and tensor.num_chips() > 1:
        out = distributed.compose(tensor, mesh_composer, host)
    else:
        out = host(tensor._value)
    if torch_rank is not None:
        while out.dim() > torch_rank:
            if out.shape[0] != 1:
                raise RuntimeError("ttnn: Unable to squeeze to desired rank!")
            out = out.squeeze(0)
    return out.to(dtype) if dtype is not None else out


def to_device(tensor: Tensor, device, memory_config: MemoryConfig | None = None, *, queue_id=None,
              cq_id=None) -> Tensor:
    """Place a host tensor on ``device``: replicated on every chip of a mesh, or one shard per chip when the host
    tensor was made with a sharding mesh_mapper (its shard count must be the mesh's)."""
    if tensor.device() is not None:
        return tensor if memory_config is None else to_memory_config(tensor, memory_config)
    refuse_during_capture(device, "Writes")
    placed = place_on_device(tensor, device, memory_config)
    _transfer(placed, device, _either(queue_id, cq_id), "ttnn.to_device", read=False)
    return placed


def place_on_device(tensor: Tensor, device, memory_config: MemoryConfig | None = None) -> Tensor:
    """``to_device`` without the host write: allocate ``tensor``'s spec on ``device`` (its values are what the
    emulator keeps; ``ttnn.empty`` uses this, a card would leave the buffer uninitialised)."""
    tensor._check_alive("ttnn.to_device")
    memory_config = memory_config or DRAM_MEMORY_CONFIG
    _check_memory_config(memory_config, "ttnn.to_device")
    _check_shard_fits(tensor, memory_config, "ttnn.to_device")
    if tensor._shards is not None:
        check(tensor.num_chips() == device.get_num_devices(), "ttnn.to_device",
              f"a host tensor of {tensor.num_chips()} device shards cannot go to a mesh of "
              f"{device.get_num_devices()} devices")
    placed = Tensor._make(tensor._value, tensor.shape, tensor.dtype, tensor.layout, tile=tensor.tile, device=device,
                          memory_config=memory_config, padded_shape=tensor._padded)
    placed._shards, placed._pad_value = tensor._shards, tensor._pad_value
    return placed


def copy_host_to_device_tensor(host_tensor: Tensor, device_tensor: Tensor, cq_id=None) -> None:
    """Write a host tensor's values into an allocated device tensor of the same shape, dtype and layout; the device
    buffer stays where it is (how a trace's persistent inputs get new contents between replays)."""
    op = "ttnn.copy_host_to_device_tensor"
    for name, t in (("host_tensor", host_tensor), ("device_tensor", device_tensor)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): incompatible function arguments: {name} must be a ttnn.Tensor")
    check(host_tensor.device() is None, op, "host_tensor must be a host tensor")
    check(device_tensor.device() is not None, op, "device_tensor must be on device")
    device = device_tensor.device()
    cq = device._queues.queue(cq_id, op)
    refuse_during_capture(device, "Writes")
    host_tensor._check_alive(op)
    device_tensor._check_alive(op)
    check(host_tensor.shape == device_tensor.shape and host_tensor.dtype == device_tensor.dtype
          and host_tensor.layout == device_tensor.layout, op,
          "Host and Device tensors must be the same shape, have the same datatype, and have the same data layout "
          f"(host {list(host_tensor.shape)} {host_tensor.dtype} {host_tensor.layout}, device "
          f"{list(device_tensor.shape)} {device_tensor.dtype} {device_tensor.layout})")
    chips = device.get_num_devices()
    if host_tensor._shards is not None:
        check(host_tensor.num_chips() == chips, op, f"a host tensor of {host_tensor.num_chips()} device shards "
                                                    f"cannot go to a mesh of {chips} devices")
        device_tensor._value, device_tensor._shards = None, copy_storage(host_tensor._shards)
    else:
        device_tensor._value, device_tensor._shards = copy_storage(host_tensor._value), None
    device_tensor._pad_value = host_tensor._pad_value
    device._queues.access(cq, (), (device_tensor,), op)


def from_device(tensor: Tensor, blocking: bool = True, *, queue_id=None, cq_id=None) -> Tensor:
    """Back to the host; a tensor from several chips stays one shard per chip (``to_torch`` needs a composer).
    Non-blocking: the host tensor is readable once the host has waited for the queue (``events``)."""
    tensor._check_alive("ttnn.from_device")
    refuse_during_capture(tensor._device, "Reads")
    cq = _transfer(tensor, tensor._device, _either(queue_id, cq_id), "ttnn.from_device", read=True,
                   blocking=blocking)
    host = Tensor._make(tensor._value, tensor.shape, tensor.dtype, tensor.layout, tile=tensor.tile,
                        padded_shape=tensor._padded)
    host._pad_value = tensor._pad_value
    chips = tensor.num_chips()
    if tensor._shards is not None:
        host._value, host._shards = None, tensor._shards
    elif chips > 1:
        host._value, host._shards = None, _expanded(tensor._value, chips)
    if not blocking and tensor._device is not None:
        events.mark_pending(host, tensor._device, cq)
    return host


def _expanded(storage, chips: int):
    """A replicated storage seen as ``chips`` stacked copies without copying (read-only host use)."""
    if isinstance(storage, BlockFloat):
        return BlockFloat(storage.mant.unsqueeze(0).expand(chips, *storage.mant.shape),
                          storage.exp.unsqueeze(0).expand(chips, *storage.exp.shape), storage.bits, storage.logical_shape)
    return storage.unsqueeze(0).expand(chips, *storage.shape)


@per_chip
def to_layout(tensor: Tensor, layout: Layout, dtype: DataType | None = None, memory_config: MemoryConfig | None = None,
              sub_core_grids=None, pad_value: float = 0.0) -> Tensor:
    """TILE pads the last two dims to the tile; ROW_MAJOR drops padding. Values are unchanged.

    ``dtype`` as the real 0.81.1 treats it: ignored on host and when the layout does not change; on device it is
    applied going to TILE, and going to ROW_MAJOR it must equal the tensor's dtype, except bfloat8_b -> bfloat16.
    """
    op = "ttnn.to_layout"
    tensor._check_alive(op)
    check(layout in (Layout.ROW_MAJOR, Layout.TILE), op,
          f"ttnn::to_layout: Unsupported layout conversion from {tensor.layout} to {layout}!")
    if memory_config is not None:
        _check_memory_config(memory_config, op)
    on_device = tensor.device() is not None
    if not on_device or layout == tensor.layout:
        dtype = tensor.dtype
    elif layout == Layout.ROW_MAJOR:
        check(not (on_device and tensor.dtype == DataType.BFLOAT4_B), op, "Only TILE layout is supported for BFLOAT8_B dtype!")
        check(dtype in (None, tensor.dtype) or (tensor.dtype == DataType.BFLOAT8_B and dtype == DataType.BFLOAT16), op,
              "dtype cannot be different from tensor dtype when converting to ROW_MAJOR_LAYOUT on device (allowed "
              "exception: BFLOAT8_B -> BFLOAT16, which untilize handles natively)!")
        dtype = tensor.dtype
    else:
        dtype = dtype or tensor.dtype
    if layout == Layout.ROW_MAJOR and dtype in BLOCK_FLOAT_DTYPES:
        dtype = DataType.BFLOAT16  # block floats exist only in TILE layout
    if layout == tensor.layout and dtype == tensor.dtype and memory_config in (None, tensor.memory_config()):
        return tensor
    values = tensor._native("ttnn.to_layout")
    if layout == Layout.TILE and tensor._padded is not None and not pad_value:
        pad_value = tensor._pad_value  # a row-major tensor padded by pad_to_tile keeps its padding
    return new_tensor(values, dtype=dtype, layout=layout, device=tensor.device(),
                      memory_config=memory_config or tensor.memory_config(), tile=tensor.tile, pad_value=pad_value)


@per_chip
def to_dtype(tensor: Tensor, dtype: DataType) -> Tensor:
    """Convert a host tensor's dtype (real 0.81.1 refuses device tensors, even when the dtype already matches).

    A ROW_MAJOR tensor converted to bfloat8_b/bfloat4_b is tilized; that must not need padding.
    """
    op = "ttnn.to_dtype"
    check(tensor.device() is None, op, "tensor must be on the host: Expected Tensor with HostStorage, got "
                                       "StorageType::DEVICE")
    if dtype == tensor.dtype:
        return tensor
    layout = tensor.layout
    if dtype in BLOCK_FLOAT_DTYPES and layout == Layout.ROW_MAJOR:
        dims = tuple(tensor.shape)
        height, width = (int(np.prod(dims[:-1])) if len(dims) > 1 else 1), (dims[-1] if dims else 1)
        tile = tensor.tile
        padded = (-(-height // tile.height) * tile.height, -(-width // tile.width) * tile.width)
        check(padded == (height, width), op,
              f"to_dtype: Converting layout to Layout::TILE implicitly changed physical shape from ({height}, {width}) "
              f"to {padded} due to alignment constraints. This is currently unsupported. Please pad the tensor "
              "explicitly before conversion.")
        layout = Layout.TILE
    return new_tensor(tensor._native(op), dtype=dtype, layout=layout, device=None, memory_config=None,
                      tile=tensor.tile)


@per_chip
def typecast(input_tensor: Tensor, dtype: DataType, *args, memory_config: MemoryConfig | None = None,
             output_tensor=None, sub_core_grids=None) -> Tensor:
    """Elementwise dtype conversion on host or device; float -> unsigned truncates and clamps at 0."""
    if args:  # overload (input, input_dtype, output_dtype)
        dtype = args[0]
    values = input_tensor._native("ttnn.typecast")
    if dtype in (DataType.UINT32, DataType.UINT16, DataType.UINT8) and values.is_floating_point():
        values = values.float().trunc().clamp(min=0)
    if dtype in BLOCK_FLOAT_DTYPES:
        check(input_tensor.layout == Layout.TILE, "ttnn.typecast", "bfloat8_b/bfloat4_b require TILE layout")
    return new_tensor(values, dtype=dtype, layout=input_tensor.layout, device=input_tensor.device(),
                      memory_config=memory_config or input_tensor.memory_config(), tile=input_tensor.tile)


def _check_shard_fits(tensor: Tensor, memory_config: MemoryConfig, op: str) -> None:
    spec = memory_config.shard_spec
    if not memory_config.is_sharded() or spec is None or memory_config.nd_shard_spec is not None:
        return  # ND configs: checked where the tensor is made (nd_sharding.check_placement)
    # DRAM width sharding is the DRAM-sharded matmul's weight layout (one shard per DRAM bank)
    check(memory_config.buffer_type == BufferType.L1 or memory_config.memory_layout in (
        TensorMemoryLayout.HEIGHT_SHARDED, TensorMemoryLayout.WIDTH_SHARDED),
          op, "only L1 (or DRAM height- or width-sharded) sharding is supported")
    padded = tuple(tensor.padded_shape)
    width = padded[-1]
    height = 1
    for d in padded[:-1]:
        height *= d
    shard_h, shard_w = spec.shape
    if tensor.layout == Layout.TILE:
        check(shard_h % tensor.tile.height == 0 and shard_w % tensor.tile.width == 0, op,
              f"For sharding tiled tensors, the shard shape must fit neatly into tiles but shard shape is "
              f"[{shard_h}, {shard_w}] and tile shape is {list(tensor.tile.tile_shape)}")
    shards = -(-height // shard_h) * -(-width // shard_w)
    check(shards <= spec.num_cores(), op,
          f"Number of shards along height/width ({shards}) must not exceed number of cores ({spec.num_cores()})")


def _to_memory_config_on_all_chips(tensor, memory_config, dtype=None, output_tensor=None):
    """A placement change that keeps the values (same dtype) moves every chip's storage as it is."""
    if not isinstance(tensor, Tensor) or tensor._device is None or output_tensor is not None:
        return NotImplemented
    view = tensor._chip_view(0, tensor._device.chip(0))
    result = to_memory_config(view, memory_config, dtype)
    if result is view:
        return tensor
    if result._value is not view._value:
        return NotImplemented
    return like_chip_zero(result, tensor._device, tensor._shards)


@per_chip(all_chips=_to_memory_config_on_all_chips)
def to_memory_config(tensor: Tensor, memory_config: MemoryConfig, dtype: DataType | None = None,
                     output_tensor=None) -> Tensor:
    """Move between DRAM/L1 and interleaved/sharded placements; values unchanged."""
    tensor._check_alive("ttnn.to_memory_config")
    check(tensor.device() is not None, "ttnn.to_memory_config", "tensor must be on device")
    _check_memory_config(memory_config, "ttnn.to_memory_config")
    dtype = dtype or tensor.dtype
    if memory_config == tensor.memory_config() and dtype == tensor.dtype:
        return tensor
    _check_shard_fits(tensor, memory_config, "ttnn.to_memory_config")
    if dtype == tensor.dtype:  # a move: the bytes, tile padding included, are copied
        moved = Tensor._make(tensor._value, tensor.shape, dtype, tensor.layout, tile=tensor.tile,
                             device=tensor.device(), memory_config=memory_config, padded_shape=tensor._padded)
        moved._pad_value = tensor._pad_value
        return moved
    return new_tensor(tensor._native(), dtype=dtype, layout=tensor.layout, device=tensor.device(),
                      memory_config=memory_config, tile=tensor.tile)


def is_tensor_storage_on_device(tensor: Tensor) -> bool:
    """True for a tensor held in device memory (``storage_type()`` is DEVICE), False for a host tensor."""
    return tensor.device() is not None


def get_memory_config(tensor: Tensor) -> MemoryConfig | None:
    """The device placement, or None for a host tensor (whose ``memory_config()`` says DRAM interleaved)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"ttnn.get_memory_config(): incompatible function arguments: {type(tensor).__name__}")
    return tensor._memory_config if tensor.device() is not None else None


def deallocate(tensor: Tensor, force: bool = True) -> None:
    """Free the tensor's device buffer now; the tensor and all its views become unusable."""
    if tensor._buffer is not None:
        tensor._buffer.free()
    tensor._freed = True


def create_sharded_memory_config(shape, core_grid, strategy: ShardStrategy, orientation: ShardOrientation | None = None,
                                 use_height_and_width_as_shard_shape: bool = False) -> MemoryConfig:
    """An L1 sharded MemoryConfig splitting ``shape`` (flattened to 2-D) over ``core_grid``."""
    orientation = orientation or ShardOrientation.ROW_MAJOR
    dims = tuple(shape)
    width = dims[-1]
    height = 1
    for d in dims[:-1]:
        height *= d
    if isinstance(core_grid, CoreGrid):
        grid = CoreRangeSet([CoreRange(CoreCoord(0, 0), CoreCoord(core_grid.x - 1, core_grid.y - 1))])
        gx, gy = core_grid.x, core_grid.y
    else:
        check(use_height_and_width_as_shard_shape, "ttnn.create_sharded_memory_config",
              "a CoreRangeSet requires use_height_and_width_as_shard_shape=True")
        grid = core_grid
        gx = gy = None
    if use_height_and_width_as_shard_shape:
        shard = (dims[-2], dims[-1]) if orientation == ShardOrientation.ROW_MAJOR else (dims[-1], dims[-2])
    else:
        cores = gx * gy
        if strategy == ShardStrategy.HEIGHT:
            ok, shard = height % cores == 0, (height // cores, width)
        elif strategy == ShardStrategy.WIDTH:
            ok, shard = width % cores == 0, (height, width // cores)
        elif orientation == ShardOrientation.ROW_MAJOR:
            ok, shard = height % gy == 0 and width % gx == 0, (height // gy, width // gx)
        else:
            ok, shard = height % gx == 0 and width % gy == 0, (height // gx, width // gy)
        if not ok:
            raise RuntimeError("Invalid sharding core_grid")
    layout = {ShardStrategy.HEIGHT: TensorMemoryLayout.HEIGHT_SHARDED,
              ShardStrategy.WIDTH: TensorMemoryLayout.WIDTH_SHARDED,
              ShardStrategy.BLOCK: TensorMemoryLayout.BLOCK_SHARDED}[strategy]
    return MemoryConfig(layout, BufferType.L1, ShardSpec(grid, shard, orientation))


def height_sharded_config(num_cores: int, shard_shape: tuple, grid_x: int = 8) -> MemoryConfig:
    """Emulator helper: an L1 height-sharded config over the first ``num_cores`` cores, row-major."""
    ranges = []
    full_rows, rest = divmod(num_cores, grid_x)
    if full_rows:
        ranges.append(CoreRange(CoreCoord(0, 0), CoreCoord(grid_x - 1, full_rows - 1)))
    if rest:
        ranges.append(CoreRange(CoreCoord(0, full_rows), CoreCoord(rest - 1, full_rows)))
    return MemoryConfig(TensorMemoryLayout.HEIGHT_SHARDED, BufferType.L1,
                        ShardSpec(CoreRangeSet(ranges), shard_shape, ShardOrientation.ROW_MAJOR))


def _either(queue_id, cq_id):
    """0.81.1's to_device / from_device take the queue as ``queue_id`` (documented) or ``cq_id`` (also accepted)."""
    return cq_id if queue_id is None else queue_id


def _transfer(t: Tensor, device, cq_id, op: str, *, read: bool, blocking: bool = True):
    """Account a host transfer of ``t`` on queue ``cq_id`` (``events``); returns the queue index. A host tensor
    being read must not wait on a non-blocking read the host has not synchronised."""
    if device is None:
        if read:
            events.check_host_ready(t, op)
        return 0
    queues = device._queues
    cq = queues.queue(cq_id, op)
    if queues.count > 1:
        queues.access(cq, (t,) if read else (), () if read else (t,), op)
    if read and blocking:
        events.host_read(device, cq)
    return cq


__getattr__ = not_emulated_getattr("ttnn.core", also_in="ttbringup.emu")  # also ttnn.operations.core
