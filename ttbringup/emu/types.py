"""Value types and enums of the ttnn 0.81.1 API: dtypes, layouts, shapes, memory configs, grids.

Names, members and constructor arguments follow the real wheel (see
``shared/docs/ttnn-op-signatures.md``). These are plain data; nothing here touches a device.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from .cores import CoreCoord, CoreRange, CoreRangeSet  # noqa: F401 (ttnn.types has them)
from .errors import not_emulated_getattr, not_emulated_members

TILE_SIZE = 32


class _Enum(enum.Enum):
    """An enum hashed by identity (members are singletons and compare by identity): Enum's own ``__hash__`` is
    a Python-level call, and every op output hashes a few of these (buffer sizes are memoised by them)."""

    __hash__ = object.__hash__


class DataType(_Enum):
    BFLOAT16 = 0
    FLOAT32 = 1
    UINT32 = 2
    BFLOAT8_B = 3
    BFLOAT4_B = 4
    UINT8 = 5
    UINT16 = 6
    INT32 = 7
    INT8 = 8
    FP8_E4M3 = 9
    INVALID = 10

    def __repr__(self):
        return f"DataType.{self.name}"


BLOCK_FLOAT_DTYPES = (DataType.BFLOAT8_B, DataType.BFLOAT4_B)
FLOAT_DTYPES = (DataType.BFLOAT16, DataType.FLOAT32) + BLOCK_FLOAT_DTYPES
INT_DTYPES = (DataType.UINT32, DataType.INT32, DataType.UINT16, DataType.UINT8, DataType.INT8)


class Layout(_Enum):
    ROW_MAJOR = 0
    TILE = 1
    INVALID = 2

    def __repr__(self):
        return f"Layout.{self.name}"


class TensorMemoryLayout(_Enum):
    INTERLEAVED = 0
    HEIGHT_SHARDED = 2
    WIDTH_SHARDED = 3
    BLOCK_SHARDED = 4
    ND_SHARDED = 5

    def __repr__(self):
        return f"TensorMemoryLayout.{self.name}"


class StorageType(str, enum.Enum):
    """``ttnn.StorageType`` (what ``Tensor.storage_type()`` returns); equal to its name as a string too."""

    HOST = "HOST"
    DEVICE = "DEVICE"

    def __repr__(self):
        return f"StorageType.{self.name}"


class BufferType(_Enum):
    DRAM = 0
    L1 = 1
    SYSTEM_MEMORY = 2
    L1_SMALL = 3
    TRACE = 4

    def __repr__(self):
        return f"BufferType.{self.name}"


class ShardStrategy(_Enum):
    HEIGHT = 0
    WIDTH = 1
    BLOCK = 2


class ShardOrientation(_Enum):
    ROW_MAJOR = 0
    COL_MAJOR = 1


class MathFidelity(_Enum):
    LoFi = 0
    HiFi2 = 2
    HiFi3 = 3
    HiFi4 = 4
    Invalid = 255


class Topology(_Enum):
    Ring = 0
    Linear = 1
    Mesh = 2
    Torus = 3


class FabricConfig(_Enum):
    DISABLED = 0
    FABRIC_1D = 1
    FABRIC_1D_RING = 2
    FABRIC_2D = 3
    FABRIC_2D_TORUS_X = 4
    FABRIC_2D_TORUS_Y = 5
    FABRIC_2D_TORUS_XY = 6
    FABRIC_1D_NEIGHBOR_EXCHANGE = 7
    CUSTOM = 8


class GeluVariant(_Enum):
    Accurate = 0
    Tanh = 1
    FastLut = 2


class DumpTensorMode(_Enum):
    """How ``dump_tensor`` (and a cache miss of ``as_tensor``) writes a distributed host tensor; one process here,
    so both modes write the whole tensor."""

    DISTRIBUTED_GATHER = 0
    LOCAL = 1


class ShardDistributionStrategy(_Enum):
    ROUND_ROBIN_1D = 0
    GRID_2D = 1
    CONTIGUOUS_1D = 2


class Shape:
    """``ttnn.Shape``: a sequence of ints that compares equal to lists and tuples."""

    __slots__ = ("_dims",)

    def __init__(self, shape):
        self._dims = shape._dims if isinstance(shape, Shape) else tuple(map(int, shape))

    @property
    def rank(self) -> int:
        return len(self._dims)

    def to_rank(self, rank: int) -> "Shape":
        """Pad with leading 1s, or drop leading 1s, to reach ``rank``."""
        dims = self._dims
        while len(dims) > rank:
            if dims[0] != 1:
                raise RuntimeError(f"Shape {self} cannot be reduced to rank {rank}")
            dims = dims[1:]
        return Shape((1,) * (rank - len(dims)) + dims)

    def __len__(self):
        return len(self._dims)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return self._dims[i]
        return self._dims[i]

    def __iter__(self):
        return iter(self._dims)

    def __eq__(self, other):
        try:
            return self._dims == tuple(other)
        except TypeError:
            return NotImplemented

    def __hash__(self):
        return hash(self._dims)

    def __repr__(self):
        return f"Shape({list(self._dims)})"


@dataclass(frozen=True)
class Tile:
    """``ttnn.Tile((h, w))``: the TILE-layout padding granule (default 32x32)."""

    tile_shape: tuple = (TILE_SIZE, TILE_SIZE)

    def __post_init__(self):
        object.__setattr__(self, "tile_shape", tuple(int(d) for d in self.tile_shape))

    @property
    def height(self):
        return self.tile_shape[0]

    @property
    def width(self):
        return self.tile_shape[1]

    __getattr__ = not_emulated_members("ttnn.Tile", "face_shape get_tile_size narrow_tile num_faces partial_face "
                                                    "transpose_of_faces transpose_within_face")


DEFAULT_TILE = Tile()


class CoreGrid:
    """``ttnn.CoreGrid(x=, y=)``: a rectangle of worker cores."""

    def __init__(self, *, x: int, y: int):
        self.x = int(x)
        self.y = int(y)

    @property
    def num_cores(self) -> int:
        return self.x * self.y

    def __eq__(self, other):
        return isinstance(other, CoreGrid) and (self.x, self.y) == (other.x, other.y)

    def __repr__(self):
        return f"ttnn.CoreGrid(x={self.x}, y={self.y})"


@dataclass(frozen=True)
class ShardSpec:
    """``ttnn.ShardSpec(grid, shard_shape, orientation)``."""

    grid: CoreRangeSet
    shape: tuple
    orientation: ShardOrientation = ShardOrientation.ROW_MAJOR

    def __post_init__(self):
        object.__setattr__(self, "shape", tuple(int(d) for d in self.shape))

    def num_cores(self) -> int:
        return self.grid.num_cores()

    __getattr__ = not_emulated_members("ttnn.ShardSpec", "from_json to_json")


@dataclass(frozen=True)
class NdShardSpec:
    """``ttnn.NdShardSpec(shard_shape, grid, orientation=ROW_MAJOR, shard_distribution_strategy=ROUND_ROBIN_1D)``:
    an N-dimensional shard shape over a core grid (a DRAM grid names banks: x = bank, y = 0). Placement rules and
    per-bank size are in ``nd_sharding``."""

    shard_shape: Shape
    grid: CoreRangeSet
    orientation: ShardOrientation = ShardOrientation.ROW_MAJOR
    shard_distribution_strategy: ShardDistributionStrategy = ShardDistributionStrategy.ROUND_ROBIN_1D

    def __post_init__(self):
        object.__setattr__(self, "shard_shape", Shape(self.shard_shape))

    def num_cores(self) -> int:
        return self.grid.num_cores()

    __getattr__ = not_emulated_members("ttnn.NdShardSpec", "from_json to_json")


@dataclass(frozen=True)
class MemoryConfig:
    """``ttnn.MemoryConfig(memory_layout=INTERLEAVED, buffer_type=DRAM, shard_spec=None)``, or the ND-sharded
    overload ``MemoryConfig(buffer_type, nd_shard_spec)`` (memory layout ``ND_SHARDED``, no 2-D ``shard_spec``).

    A tensor placed with an ND config reports the 2-D layout and ``shard_spec`` it amounts to, when it does, and
    keeps the ``nd_shard_spec`` (``nd_sharding.resolved``). The real 0.81.1 also derives an ``nd_shard_spec`` for a
    tensor placed with a 2-D config; the emulator does not (None there)."""

    memory_layout: TensorMemoryLayout = TensorMemoryLayout.INTERLEAVED
    buffer_type: BufferType = BufferType.DRAM
    shard_spec: ShardSpec | None = None
    nd_shard_spec: NdShardSpec | None = None

    def __post_init__(self):
        if isinstance(self.buffer_type, NdShardSpec):  # positional overload 2: (buffer_type, nd_shard_spec)
            if self.shard_spec is not None or self.nd_shard_spec is not None:
                raise TypeError("MemoryConfig.__init__(): incompatible function arguments")
            object.__setattr__(self, "nd_shard_spec", self.buffer_type)
            object.__setattr__(self, "buffer_type", self.memory_layout)
            object.__setattr__(self, "memory_layout", TensorMemoryLayout.INTERLEAVED)
        if self.nd_shard_spec is not None and self.shard_spec is None:
            if not isinstance(self.nd_shard_spec, NdShardSpec) or not isinstance(self.buffer_type, BufferType) or (
                    self.memory_layout not in (TensorMemoryLayout.INTERLEAVED, TensorMemoryLayout.ND_SHARDED)
                    or self.shard_spec is not None):
                raise TypeError("MemoryConfig.__init__(): incompatible function arguments: the ND-sharded form is "
                                "MemoryConfig(buffer_type, nd_shard_spec)")
            object.__setattr__(self, "memory_layout", TensorMemoryLayout.ND_SHARDED)

    # Every op hashes (program cache, buffer sizes) and compares its tensors' configs: the hash is memoised (the
    # fields are immutable; the memo is not pickled, enum hashes are per process) and equality starts with identity.
    def _fields(self) -> tuple:
        return self.memory_layout, self.buffer_type, self.shard_spec, self.nd_shard_spec

    def __eq__(self, other):
        if self is other:
            return True
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self):
        memo = self.__dict__.get("_hash")
        if memo is None:
            memo = hash(self._fields())
            object.__setattr__(self, "_hash", memo)
        return memo

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k != "_hash"}

    def is_sharded(self) -> bool:
        return self.memory_layout != TensorMemoryLayout.INTERLEAVED

    def is_nd_sharded(self) -> bool:
        """Emulator only: made with an NdShardSpec."""
        return self.nd_shard_spec is not None

    __getattr__ = not_emulated_members("ttnn.MemoryConfig", "experimental_set_per_core_allocation "
                                       "experimental_set_range_lockstep_allocation from_json interleaved "
                                       "to_json")


DRAM_MEMORY_CONFIG = MemoryConfig(TensorMemoryLayout.INTERLEAVED, BufferType.DRAM)
L1_MEMORY_CONFIG = MemoryConfig(TensorMemoryLayout.INTERLEAVED, BufferType.L1)


class MeshShape:
    """``ttnn.MeshShape(rows, cols)`` (or a sequence)."""

    def __init__(self, *dims):
        if len(dims) == 1 and not isinstance(dims[0], int):
            dims = tuple(dims[0])
        self._dims = tuple(int(d) for d in dims)

    def mesh_size(self) -> int:
        n = 1
        for d in self._dims:
            n *= d
        return n

    def dims(self) -> int:
        return len(self._dims)

    def __iter__(self):
        return iter(self._dims)

    def __getitem__(self, i):
        return self._dims[i]

    def __len__(self):
        return len(self._dims)

    def __eq__(self, other):
        try:
            return self._dims == tuple(other)
        except TypeError:
            return NotImplemented

    def __repr__(self):
        return f"MeshShape([{', '.join(map(str, self._dims))}])"


class MeshCoordinate(MeshShape):
    """``ttnn.MeshCoordinate(r, c)``."""

    def __repr__(self):
        return f"MeshCoordinate([{', '.join(map(str, self._dims))}])"


@dataclass
class WormholeComputeKernelConfig:
    """Ignored in exact mode (float32 whatever the fidelity); card-mode matmul / linear (card_matmul) and
    rms_norm / layer_norm / softmax (card_normalization) honour it."""

    math_fidelity: MathFidelity = MathFidelity.Invalid
    math_approx_mode: bool = True
    fp32_dest_acc_en: bool = False
    packer_l1_acc: bool = False
    dst_full_sync_en: bool = False
    throttle_level: object = None

    def __init__(self, *, math_fidelity=MathFidelity.Invalid, math_approx_mode=True,
                 fp32_dest_acc_en=False, packer_l1_acc=False, dst_full_sync_en=False,
                 throttle_level=None):
        self.math_fidelity = math_fidelity
        self.math_approx_mode = math_approx_mode
        self.fp32_dest_acc_en = fp32_dest_acc_en
        self.packer_l1_acc = packer_l1_acc
        self.dst_full_sync_en = dst_full_sync_en
        self.throttle_level = throttle_level


BlackholeComputeKernelConfig = WormholeComputeKernelConfig


def round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def tile_padded_shape(shape, tile: Tile = DEFAULT_TILE) -> tuple:
    """The padded shape of a TILE tensor: last two dims rounded up to the tile (1-D is one row)."""
    dims = tuple(shape)
    if len(dims) < 2:  # a scalar or vector is stored as one row of tiles: [40] -> [32, 64]
        return (tile.height, round_up(dims[0] if dims else 1, tile.width))
    return dims[:-2] + (round_up(dims[-2], tile.height), round_up(dims[-1], tile.width))


__getattr__ = not_emulated_getattr("ttnn.types", also_in="ttbringup.emu")
