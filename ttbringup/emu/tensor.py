"""``ttnn.Tensor`` of the emulator: logical and padded shape, dtype, layout, placement, data.

Data is kept as the device would hold it, so values are exactly what a card computes with:
bfloat16 as ``torch.bfloat16``, float32 as ``torch.float32``, integers as torch integers, and
bfloat8_b/bfloat4_b as :class:`BlockFloat` (one int8 code per value plus one shared exponent per
16 values, over the tile-padded shape). Only the logical region is kept for non-block dtypes, with the one
value the tile padding holds (``_pad_value``, see ``padding_values``).

A tensor whose data lives on torch's ``meta`` device is *data-free*: it has shapes, dtypes and a
device allocation but no values, so a 7B model's memory plan can be checked in seconds.

Device tensors share a :class:`~ttbringup.emu.memory.Buffer` with their views; after
``deallocate`` every view raises on use.

On a mesh of several chips a tensor is *replicated* (``_shards`` is None: one storage serves every chip) or
*distributed* (``_shards`` holds every chip's storage stacked on a leading chip dim, ``_value`` is None). Its
shape, dtype, layout and memory config are the per-chip ones, the same on every chip, as in ttnn 0.81.1.
Ops never see a distributed tensor: ``per_chip`` hands them one chip's view at a time.
"""

from __future__ import annotations

import importlib

import torch

from . import nd_sharding, numerics
from .errors import TTError, check, not_emulated_members
from .memory import Buffer, buffer_size
from .types import (
    BLOCK_FLOAT_DTYPES,
    DEFAULT_TILE,
    DRAM_MEMORY_CONFIG,
    DataType,
    Layout,
    MemoryConfig,
    Shape,
    StorageType,
    Tile,
    tile_padded_shape,
)

STORAGE_TORCH_DTYPE = {
    DataType.BFLOAT16: torch.bfloat16,
    DataType.FLOAT32: torch.float32,
    DataType.INT32: torch.int32,
    DataType.UINT32: torch.int64,  # values 0 .. 2**32-1
    DataType.UINT16: torch.int32,
    DataType.UINT8: torch.uint8,
    DataType.INT8: torch.int8,
}
MANTISSA_BITS = {DataType.BFLOAT8_B: numerics.BFLOAT8_B_BITS, DataType.BFLOAT4_B: numerics.BFLOAT4_B_BITS}


class BlockFloat:
    """bfloat8_b / bfloat4_b data: int8 codes over the tile-padded shape plus shared exponents."""

    __slots__ = ("mant", "exp", "bits", "logical_shape")

    def __init__(self, mant: torch.Tensor, exp: torch.Tensor, bits: int, logical_shape: tuple):
        self.mant, self.exp, self.bits, self.logical_shape = mant, exp, bits, tuple(logical_shape)

    @classmethod
    def encode(cls, x: torch.Tensor, dtype: DataType, tile: Tile, pad_value: float = 0.0) -> "BlockFloat":
        logical = tuple(x.shape)
        padded = pad_to(x.float(), tile_padded_shape(logical, tile), pad_value)
        mant, exp = numerics.bfp_quantize(padded, MANTISSA_BITS[dtype])
        return cls(mant, exp, MANTISSA_BITS[dtype], logical)

    def decode(self) -> torch.Tensor:
        full = numerics.bfp_dequantize(self.mant, self.exp, self.bits)
        return crop_to(full, self.logical_shape)

    @property
    def is_meta(self) -> bool:
        return self.mant.is_meta


def stack_storages(parts: list):
    """One storage per chip -> the chips' storages stacked on a new leading dim (block floats: mant and exp)."""
    if isinstance(parts[0], BlockFloat):
        return BlockFloat(torch.stack([p.mant for p in parts]), torch.stack([p.exp for p in parts]), parts[0].bits,
                          parts[0].logical_shape)
    first = parts[0]
    if first.dim() >= 2 and first.stride(-2) == 1 and not first.is_contiguous():  # K-major weights stay K-major
        return torch.stack([p.mT for p in parts]).mT
    return torch.stack(parts)


def chip_storage(stacked, chip: int):
    """Chip ``chip``'s storage of a stacked one (a view: in-place writes reach the stack)."""
    if isinstance(stacked, BlockFloat):
        return BlockFloat(stacked.mant[chip], stacked.exp[chip], stacked.bits, stacked.logical_shape)
    return stacked[chip]


def num_stacked(stacked) -> int:
    return (stacked.mant if isinstance(stacked, BlockFloat) else stacked).shape[0]


def pad_to(x: torch.Tensor, padded_shape: tuple, value: float = 0.0) -> torch.Tensor:
    """Pad ``x`` at the end of each dim up to ``padded_shape`` (ranks may differ for 1-D)."""
    if len(padded_shape) != x.dim():
        x = x.reshape((1,) * (len(padded_shape) - x.dim()) + tuple(x.shape))
    if tuple(x.shape) == tuple(padded_shape):
        return x
    pads = []
    for have, want in zip(reversed(x.shape), reversed(padded_shape)):
        pads += [0, want - have]
    return torch.nn.functional.pad(x, pads, value=value)


def crop_to(x: torch.Tensor, logical_shape: tuple) -> torch.Tensor:
    """Undo ``pad_to``: the logical region of a padded tensor (a 1-D tensor is padded row 0)."""
    logical_shape = tuple(logical_shape)
    if tuple(x.shape) == logical_shape:
        return x
    if len(logical_shape) < x.dim():
        x = x.reshape(-1, x.shape[-1])[0]
        return x[: logical_shape[0]] if logical_shape else x[0]
    return x[tuple(slice(0, d) for d in logical_shape)]


def encode(values: torch.Tensor, dtype: DataType, layout: Layout, tile: Tile = DEFAULT_TILE, pad_value: float = 0.0):
    """Round torch ``values`` into the storage of ``dtype`` (bit-exact with the card)."""
    if dtype in BLOCK_FLOAT_DTYPES:
        check(layout == Layout.TILE, "ttnn.Tensor", "Layout must be Layout::TILE for bfloat8_b or bfloat4_b")
        return BlockFloat.encode(values, dtype, tile, pad_value)
    target = STORAGE_TORCH_DTYPE.get(dtype)
    if target is None:
        raise TTError(f"ttnn.Tensor: dtype {dtype} is not emulated")
    if dtype == DataType.BFLOAT16:
        return numerics.to_bfloat16(values)  # also canonicalises NaNs already in bf16 inputs
    if dtype == DataType.FLOAT32:
        return values.float()
    if values.is_floating_point():
        values = values.trunc()
    if dtype == DataType.UINT32:
        return values.to(torch.int64) % (1 << 32)
    if dtype == DataType.INT32:
        v = values.to(torch.int64)
        return ((v + (1 << 31)) % (1 << 32) - (1 << 31)).to(torch.int32)
    return values.to(target)


_replaying = False  # execute_trace checked the trace's buffers up front; its scratch may be freed


def skip_alive_checks(on: bool) -> None:
    """While on, ops read deallocated tensors (a trace replay reading the scratch its capture freed)."""
    global _replaying
    _replaying = on


_TO_SIGNATURES = ("to(): incompatible function arguments. The following argument types are supported:\n"
                  "    1. to(self, device: ttnn.MeshDevice, mem_config: ttnn.MemoryConfig | None = None, "
                  "cq_id: ttnn.QueueId | None = None) -> ttnn.Tensor\n"
                  "    2. to(self, target_layout: ttnn.Layout) -> ttnn.Tensor")


def _op(name: str):
    """The emulator's ``ttnn.<name>``, looked up when an operator runs (a NotEmulated stand-in if it lacks it)."""
    return getattr(importlib.import_module(__package__), name)


class Tensor:
    """A ttnn tensor: host or device, with the real shape, padding, dtype and memory semantics."""

    __slots__ = ("_value", "_shape", "_padded", "_padded_shape", "_dtype", "_layout", "_tile", "_device",
                 "_memory_config", "_buffer", "_freed", "_shards", "_chip", "_access", "_pending", "_pad_value")

    def __init__(self, tensor=None, data_type: DataType | None = None, device=None, layout: Layout | None = None,
                 mem_config: MemoryConfig | None = None, tile: Tile | None = None, cq_id=None,
                 pad_value: float | None = None, mesh_mapper=None, **kwargs):
        if tensor is None:  # internal construction through Tensor._make
            return
        from .core import from_torch

        made = from_torch(torch.as_tensor(tensor), dtype=data_type, layout=layout, device=device,
                          memory_config=mem_config, tile=tile, pad_value=pad_value, mesh_mapper=mesh_mapper)
        for name in Tensor.__slots__:
            setattr(self, name, getattr(made, name))

    @classmethod
    def _make(cls, value, shape, dtype: DataType, layout: Layout, *, tile: Tile = DEFAULT_TILE, device=None,
              memory_config: MemoryConfig | None = None, padded_shape=None, buffer: Buffer | None = None) -> "Tensor":
        t = cls.__new__(cls)
        t._value = value
        t._shape = logical = Shape(shape)
        t._dtype = dtype
        t._layout = layout
        t._tile = tile
        if padded_shape is not None:
            t._padded = tuple(padded_shape)
            t._padded_shape = Shape(t._padded)
        else:
            t._padded = None
            t._padded_shape = _tile_padded(logical, tile) if layout == Layout.TILE else logical
        if device is not None and memory_config is not None and memory_config.nd_shard_spec is not None:
            nd_sharding.check_placement(t._padded_shape, layout, tile, memory_config, device, "ttnn.Tensor")
            t._padded_shape = Shape(nd_sharding.padded_shape(tuple(t._padded_shape), layout, memory_config))
            memory_config = nd_sharding.resolved(tuple(t._padded_shape), memory_config)
        t._device = device
        t._memory_config = memory_config if device is not None else None
        t._freed = False
        t._shards = None
        t._chip = None  # the chip index of a tensor from ttnn.get_device_tensors
        t._access = t._pending = None  # command-queue bookkeeping (``events``)
        t._pad_value = 0.0  # what the tile padding holds (see ``padding_values``)
        if device is not None and buffer is None:
            buffer = Buffer(device, memory_config.buffer_type,
                            *buffer_size(t._padded_shape._dims, dtype, layout, tile, memory_config))
        t._buffer = buffer
        return t

    # ---- properties of the real API ----
    @property
    def shape(self) -> Shape:
        return self._shape

    @property
    def padded_shape(self) -> Shape:
        return self._padded_shape

    @property
    def dtype(self) -> DataType:
        return self._dtype

    @property
    def layout(self) -> Layout:
        return self._layout

    @property
    def tile(self) -> Tile:
        return self._tile

    @property
    def spec(self):
        """The tensor's ``ttnn.TensorSpec`` (shape, dtype, layout, memory config, tile)."""
        from .tensor_spec import TensorSpec

        return TensorSpec.of(self._shape, self._dtype, self._layout, self.memory_config(), self._tile)

    def get_dtype(self) -> DataType:
        return self._dtype

    def get_layout(self) -> Layout:
        return self._layout

    def memory_config(self) -> MemoryConfig:
        """The placement; a host tensor reports DRAM interleaved, as the real 0.81.1 does
        (``ttnn.get_memory_config`` tells host tensors apart: it returns None for them)."""
        return self._memory_config if self._device is not None else DRAM_MEMORY_CONFIG

    def device(self):
        return self._device

    def storage_type(self) -> StorageType:
        return StorageType.DEVICE if self._device is not None else StorageType.HOST

    def is_sharded(self) -> bool:
        return self._memory_config is not None and self._memory_config.is_sharded()

    def is_allocated(self) -> bool:
        if self._buffer is not None:
            return self._buffer.alive and self._device.is_open
        return not self._freed

    def logical_volume(self) -> int:
        n = 1
        for d in self._shape:
            n *= d
        return n

    def volume(self) -> int:
        n = 1
        for d in self.padded_shape:
            n *= d
        return n

    def is_data_free(self) -> bool:
        """Emulator only: True when the tensor carries shapes but no values (torch meta data)."""
        v = self._value if self._shards is None else self._shards
        return v.is_meta if isinstance(v, (torch.Tensor, BlockFloat)) else False

    def is_distributed(self) -> bool:
        """Emulator only: True when the chips of its mesh hold different data (``_shards``)."""
        return self._shards is not None

    def num_chips(self) -> int:
        """Emulator only: chips holding this tensor (1 for host and single-chip tensors, else the mesh size)."""
        if self._shards is not None:
            return num_stacked(self._shards)
        return self._device.get_num_devices() if self._device is not None else 1

    def chip_storages(self) -> list:
        """Emulator only: every chip's storage, in row-major chip order (replicated: the same object repeated)."""
        if self._shards is not None:
            return [chip_storage(self._shards, c) for c in range(num_stacked(self._shards))]
        return [self._value] * self.num_chips()

    def _chip_view(self, chip: int, device) -> "Tensor":
        """This tensor as chip ``chip`` holds it, placed on ``device`` (that chip); shares storage and buffer."""
        v = Tensor.__new__(Tensor)
        v._value = self._value if self._shards is None else chip_storage(self._shards, chip)
        v._shape, v._padded, v._padded_shape = self._shape, self._padded, self._padded_shape
        v._dtype, v._layout, v._tile = self._dtype, self._layout, self._tile
        v._device, v._memory_config, v._buffer, v._freed = device, self._memory_config, self._buffer, self._freed
        v._shards = v._chip = None
        v._pad_value = self._pad_value
        return v

    # ---- conversions ----
    def to_torch(self, mesh_composer=None) -> torch.Tensor:
        from .core import to_torch

        return to_torch(self, mesh_composer=mesh_composer)

    def to_torch_with_padded_shape(self) -> torch.Tensor:
        from .padding_values import to_torch_with_padded_shape

        return to_torch_with_padded_shape(self)

    def pad_to_tile(self, pad_value: float, /) -> "Tensor":
        from .padding_values import pad_to_tile

        return pad_to_tile(self, pad_value)

    def pad(self, output_tensor_shape, input_tensor_start, pad_value: float, /) -> "Tensor":
        from .padding_values import pad

        return pad(self, output_tensor_shape, input_tensor_start, pad_value)

    def unpad_from_tile(self, output_tensor_shape, /) -> "Tensor":
        from .padding_values import unpad

        return unpad(self, (0,) * len(output_tensor_shape), output_tensor_shape, "unpad_from_tile")

    def unpad(self, output_tensor_start, output_tensor_end, /) -> "Tensor":
        from .padding_values import unpad

        return unpad(self, output_tensor_start, output_tensor_end, "unpad")

    def cpu(self, blocking: bool = True, cq_id=None) -> "Tensor":
        from .core import from_device

        return from_device(self, blocking, queue_id=cq_id)

    def to(self, device=None, mem_config: MemoryConfig | None = None, cq_id=None, *, target_layout=None) -> "Tensor":
        """The two real overloads: ``to(device, mem_config=None, cq_id=None)`` places a host tensor on a device
        (``cq_id`` an int or QueueId); ``to(target_layout)`` converts the layout (a Layout first is taken as it)."""
        from . import core

        if isinstance(device, Layout) and target_layout is None:
            device, target_layout = None, device
        if target_layout is not None:
            if device is not None or mem_config is not None or cq_id is not None:
                raise TypeError(_TO_SIGNATURES)
            return core.to_layout(self, target_layout)
        if device is None or isinstance(device, (Layout, MemoryConfig)):
            raise TypeError(_TO_SIGNATURES)
        return core.to_device(self, device, memory_config=mem_config, queue_id=cq_id)

    def reshape(self, *shape) -> "Tensor":
        from .data_movement import reshape

        if len(shape) == 1 and not isinstance(shape[0], int):
            shape = shape[0] if isinstance(shape[0], Shape) else tuple(shape[0])  # the Shape overload stays one
        return reshape(self, shape)

    def deallocate(self, force: bool = False) -> None:
        from .core import deallocate

        deallocate(self, force)

    def item(self):
        check(self.logical_volume() == 1, "ttnn.Tensor.item", "tensor must have exactly one element")
        return self.to_torch().reshape(-1)[0].item()

    def __getitem__(self, key):
        from .data_movement import getitem

        return getitem(self, key)

    # ---- operators: the real 0.81.1 Python layer maps each onto a ttnn op (``ttnn/__init__.py``). There is no
    # unary minus, abs or ** (``-t`` is a TypeError there too); comparisons are ttnn.eq/ne/gt/ge/lt/le (not
    # emulated: they raise NotEmulatedError); tensors stay hashable by identity.
    def __add__(self, *args, **kwargs):
        return _op("add")(self, *args, **kwargs)

    __radd__ = __add__

    def __sub__(self, *args, **kwargs):
        return _op("subtract")(self, *args, **kwargs)

    def __rsub__(self, other, *args, **kwargs):
        return _op("subtract")(other, self, *args, **kwargs)  # subtract's scalar-first overload, as 0.81.1 does

    def __mul__(self, *args, **kwargs):
        return _op("multiply")(self, *args, **kwargs)

    __rmul__ = __mul__

    def __truediv__(self, *args, **kwargs):
        return _op("divide")(self, *args, **kwargs)

    def __rtruediv__(self, *args, **kwargs):
        return _op("rdiv")(self, *args, **kwargs)

    def __matmul__(self, *args, **kwargs):
        return _op("matmul")(self, *args, **kwargs)

    def __eq__(self, *args, **kwargs):
        return _op("eq")(self, *args, **kwargs)

    def __ne__(self, *args, **kwargs):
        return _op("ne")(self, *args, **kwargs)

    def __gt__(self, *args, **kwargs):
        return _op("gt")(self, *args, **kwargs)

    def __ge__(self, *args, **kwargs):
        return _op("ge")(self, *args, **kwargs)

    def __lt__(self, *args, **kwargs):
        return _op("lt")(self, *args, **kwargs)

    def __le__(self, *args, **kwargs):
        return _op("le")(self, *args, **kwargs)

    __hash__ = object.__hash__

    # members of the real 0.81.1 Tensor the emulator lacks
    __getattr__ = not_emulated_members("ttnn.Tensor", """
        buffer_address buffer_aligned_page_size buffer_num_pages buffer_page_size buffer_unique_id device_coords
        devices element_size experimental_per_core_buffer_address extract_shard get_tile host_buffer
        is_per_core_allocated is_range_lockstep_allocated tensor_id tensor_topology to_list
        to_numpy update_tensor_topology""")

    def __repr__(self):
        where = "HOST" if self._device is None else f"DEVICE {self._memory_config.buffer_type.name}"
        return (f"ttnn.Tensor(shape={list(self._shape)}, padded_shape={list(self.padded_shape)}, "
                f"dtype={self._dtype}, layout={self._layout}, {where})")

    # ---- emulator internals used by the ops ----
    def _check_alive(self, op: str) -> None:
        if not self.is_allocated() and not _replaying:
            raise TTError(f"{op}: Tensor is not allocated (it was deallocated, or its device was closed)")

    def _check_one_storage(self, op: str) -> None:
        if self._shards is not None:
            raise TTError(f"{op}: emulator bug: a distributed mesh tensor reached an op that does not run per chip")

    def _values(self, op: str = "ttnn op") -> torch.Tensor:
        """Float32 logical values (block floats decoded)."""
        self._check_alive(op)
        self._check_one_storage(op)
        v = self._value
        if isinstance(v, BlockFloat):
            return v.decode()
        return v.float()

    def _native(self, op: str = "ttnn op") -> torch.Tensor:
        """Logical values in their storage dtype (block floats decoded to float32)."""
        self._check_alive(op)
        self._check_one_storage(op)
        v = self._value
        return v.decode() if isinstance(v, BlockFloat) else v


_PADDED_CACHE_SIZE = 4096
_padded_of: dict = {}  # (logical dims, tile) -> tile-padded Shape; Shapes and Tiles are immutable


def _tile_padded(logical: Shape, tile: Tile) -> Shape:
    """The TILE padded shape of ``logical`` (memoised: op outputs repeat a few shapes)."""
    key = (logical._dims, tile)
    padded = _padded_of.get(key)
    if padded is None:
        if len(_padded_of) >= _PADDED_CACHE_SIZE:
            _padded_of.clear()
        padded = _padded_of[key] = Shape(tile_padded_shape(logical._dims, tile))
    return padded


def new_tensor(values: torch.Tensor, *, dtype: DataType, layout: Layout, device, memory_config: MemoryConfig | None,
               tile: Tile = DEFAULT_TILE, padded_shape=None, pad_value: float = 0.0) -> Tensor:
    """An op's output: ``values`` (logical, any torch dtype) rounded to ``dtype`` and allocated."""
    data = encode(values, dtype, layout, tile, pad_value)
    t = Tensor._make(data, tuple(values.shape), dtype, layout, tile=tile, device=device,
                     memory_config=memory_config, padded_shape=padded_shape)
    if layout == Layout.TILE:
        t._pad_value = float(pad_value)
    return t


def new_distributed_tensor(stacked: torch.Tensor, *, dtype: DataType, layout: Layout, device,
                           memory_config: MemoryConfig | None, tile: Tile = DEFAULT_TILE) -> Tensor:
    """An op's output on every chip of ``device``: ``stacked[c]`` (logical values) is chip c's, rounded to
    ``dtype``; allocated on every chip."""
    if dtype in BLOCK_FLOAT_DTYPES:  # blocks are per chip (padding, shared exponents)
        storage = stack_storages([encode(v, dtype, layout, tile) for v in stacked])
    else:
        storage = encode(stacked, dtype, layout, tile)
    t = Tensor._make(None, tuple(stacked.shape[1:]), dtype, layout, tile=tile, device=device,
                     memory_config=memory_config)
    t._shards = storage
    return t


def view_of(t: Tensor, value, shape, padded_shape=None) -> Tensor:
    """A view of ``t`` that shares its device buffer (reshape, for instance)."""
    v = Tensor._make(value, shape, t._dtype, t._layout, tile=t._tile, device=t._device,
                     memory_config=t._memory_config, padded_shape=padded_shape, buffer=t._buffer)
    v._pad_value = t._pad_value
    return v


def with_shards(t: Tensor, shards) -> Tensor:
    """``t`` made distributed in place: its chips hold ``shards`` (stacked storage) from now on."""
    t._value, t._shards = None, shards
    return t
