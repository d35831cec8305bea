"""Tensor files (``ttnn.dump_tensor`` / ``ttnn.load_tensor``) and the ``as_tensor`` file cache.

Contracts (0.81.1 ``ttnn/operations/core.py``):

* ``dump_tensor(file_name, tensor, *, mode=DumpTensorMode.DISTRIBUTED_GATHER)`` writes a host copy of ``tensor``
  (a device tensor is read back first) to ``file_name``, which must end in ``.tensorbin``.
* ``load_tensor(file_name, *, device=None)`` reads it back: a host tensor, or with ``device`` the tensor placed on
  it with the memory config it was written with (a device tensor's own; a host tensor's is DRAM interleaved, or
  for an ``as_tensor`` cache file the ``memory_config`` of the call that wrote it).
* ``cached_tensor(...)`` is ``as_tensor`` with a ``cache_file_name``: the file is
  ``{cache_file_name}_dtype_{DTYPE}_layout_{LAYOUT}.tensorbin`` (dtype and layout by name, or ``None``). A miss
  converts the input on host (a replicating mesh mapper is dropped, so the file holds the whole tensor), writes the
  file, creating its folders, and places the tensor as asked; a hit loads the file and ignores the input,
  ``preprocess`` and ``memory_config`` (the tensor goes where the writing call asked). A file that does not load is
  rebuilt from the input.

The file holds the emulator's own storage (``torch.save``), not the card's flatbuffer, so emulator files and card
files cannot be mixed; a data-free tensor stays data-free through a file.
"""

from __future__ import annotations

import pathlib
import warnings

import torch

from .errors import check
from .tensor import BlockFloat, Tensor
from .types import DRAM_MEMORY_CONFIG, BufferType, DataType, DumpTensorMode, Layout, MemoryConfig, ShardOrientation
from .types import NdShardSpec, Shape, ShardDistributionStrategy, ShardSpec, TensorMemoryLayout, Tile
from .cores import CoreCoord, CoreRange, CoreRangeSet

FORMAT = "ttbringup-emu-tensorbin-1"
SUFFIX = ".tensorbin"


def _check_name(file_name) -> pathlib.Path:
    path = pathlib.Path(file_name)
    if not str(path).endswith(SUFFIX):
        raise RuntimeError(f"File {path} must have {SUFFIX} extension")
    return path


def _storage_record(storage):
    if isinstance(storage, BlockFloat):
        return {"mant": storage.mant, "exp": storage.exp, "bits": storage.bits, "logical": storage.logical_shape}
    return storage


def _storage_from(record):
    if isinstance(record, dict):
        return BlockFloat(record["mant"], record["exp"], record["bits"], record["logical"])
    return record


def _host_copy(tensor: Tensor) -> Tensor:
    from .core import from_device

    return from_device(tensor) if tensor.device() is not None else tensor


def _ranges(grid) -> list:
    return [((r.start.x, r.start.y), (r.end.x, r.end.y)) for r in grid.ranges()]


def _grid(ranges) -> CoreRangeSet:
    return CoreRangeSet([CoreRange(CoreCoord(*a), CoreCoord(*b)) for a, b in ranges])


def _config_record(mc: MemoryConfig):
    nd = mc.nd_shard_spec
    if nd is not None:  # the config it was made with; placing it again gives the layout it reads as
        return ("ND", mc.buffer_type.name, (list(nd.shard_shape), _ranges(nd.grid), nd.orientation.name,
                                            nd.shard_distribution_strategy.name))
    spec = mc.shard_spec
    shard = None if spec is None else (_ranges(spec.grid), tuple(spec.shape), spec.orientation.name)
    return mc.memory_layout.name, mc.buffer_type.name, shard


def _config_from(record) -> MemoryConfig:
    layout, buffer, shard = record
    if layout == "ND":
        shape, ranges, orientation, strategy = shard
        nd = NdShardSpec(Shape(shape), _grid(ranges), ShardOrientation[orientation],
                         ShardDistributionStrategy[strategy])
        return MemoryConfig(BufferType[buffer], nd)
    spec = None
    if shard is not None:
        ranges, shape, orientation = shard
        spec = ShardSpec(_grid(ranges), shape, ShardOrientation[orientation])
    return MemoryConfig(TensorMemoryLayout[layout], BufferType[buffer], spec)


def dump_tensor(file_name, tensor: Tensor, *, mode: DumpTensorMode = DumpTensorMode.DISTRIBUTED_GATHER) -> None:
    """Write ``tensor`` to ``file_name`` (see the module docstring); returns None."""
    write(file_name, tensor, tensor.memory_config() if isinstance(tensor, Tensor) else None)


def write(file_name, tensor: Tensor, memory_config: MemoryConfig) -> None:
    """``dump_tensor`` recording ``memory_config`` as the placement ``load_tensor`` gives the tensor back."""
    path = _check_name(file_name)
    check(isinstance(tensor, Tensor), "ttnn.dump_tensor", f"expected a ttnn.Tensor, got {type(tensor).__name__}")
    tensor._check_alive("ttnn.dump_tensor")
    host = _host_copy(tensor)
    record = {"format": FORMAT, "shape": tuple(host.shape), "padded": host._padded, "dtype": host.dtype.name,
              "layout": host.layout.name, "tile": tuple(host.tile.tile_shape),
              "memory_config": _config_record(memory_config or DRAM_MEMORY_CONFIG),
              "value": None if host._value is None else _storage_record(host._value),
              "shards": None if host._shards is None else _storage_record(host._shards)}
    torch.save(record, path)


def load_tensor(file_name, *, device=None) -> Tensor:
    """The tensor in ``file_name``, on host or placed on ``device`` (see the module docstring)."""
    from .core import to_device

    path = _check_name(file_name)
    if not path.exists():
        raise RuntimeError(f"Unable to load the tensor from {path}.  The file does not exist.")
    if not path.is_file():
        raise RuntimeError(f"Unable to load the tensor from {path}.  The file is not a file.")
    try:
        record = torch.load(path, weights_only=False)
    except Exception as e:  # a truncated or foreign file: as_tensor rebuilds it
        raise RuntimeError(f"Unable to load the tensor from {path}: {e}") from e
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise RuntimeError(f"Unable to load the tensor from {path}: not a tensor file written by ttbringup's emulator")
    host = Tensor._make(_storage_from(record["value"]), record["shape"], DataType[record["dtype"]],
                        Layout[record["layout"]], tile=Tile(record["tile"]), padded_shape=record["padded"])
    if record["shards"] is not None:
        host._shards = _storage_from(record["shards"])
    if device is None:
        return host
    return to_device(host, device, memory_config=_config_from(record["memory_config"]))


def cache_path(cache_file_name, dtype: DataType | None, layout: Layout | None) -> pathlib.Path:
    """The file ``as_tensor`` keeps a cached tensor in (0.81.1 naming)."""
    dtype_name = dtype.name if dtype is not None else "None"
    layout_name = layout.name if layout is not None else "None"
    return pathlib.Path(f"{cache_file_name}_dtype_{dtype_name}_layout_{layout_name}{SUFFIX}")


def cached_tensor(tensor, dtype, layout, device, memory_config, cache_file_name, preprocess, mesh_mapper,
                  mode: DumpTensorMode) -> Tensor:
    """``as_tensor`` with a cache file (see the module docstring)."""
    from .core import from_torch, to_device
    from .distributed import ReplicateTensorToMeshWrapper

    path = cache_path(cache_file_name, dtype, layout)

    def build_and_dump() -> Tensor:
        source = preprocess(tensor) if preprocess is not None else tensor
        mapper = None if isinstance(mesh_mapper, ReplicateTensorToMeshWrapper) else mesh_mapper
        host = from_torch(source, dtype=dtype, layout=layout, mesh_mapper=mapper)
        path.parent.mkdir(parents=True, exist_ok=True)
        write(path, host, memory_config)
        return to_device(host, device, memory_config=memory_config) if device is not None else host

    if not path.is_file():
        return build_and_dump()
    try:
        return load_tensor(path, device=device)
    except RuntimeError as e:
        warnings.warn(f"Failed to load cache for {path}: {e}", stacklevel=3)
        return build_and_dump()
