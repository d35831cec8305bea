"""``ttnn.TensorSpec``: a tensor's shape, dtype, layout, placement and tile, without a tensor.

Contracts (0.81.1, checked in the conformance lane, cases ``tensor_spec``):

* Three constructors, told apart by the fourth argument: ``(shape, dtype, layout, buffer_type=DRAM, tile=None)``
  (interleaved), ``(shape, dtype, layout, memory_layout, shard_spec=None, buffer_type=DRAM, tile=None)`` (2-D
  sharded; a sharded layout without a shard spec is refused) and ``(shape, dtype, layout, nd_shard_spec,
  buffer_type=DRAM, tile=None)`` (ND sharded). bfloat8_b/bfloat4_b need TILE; a TILE shard must be whole tiles.
* ``memory_config`` is what a tensor of the spec reports: an ND spec reads as the 2-D layout it amounts to when it
  does (``nd_sharding.resolved``). Specs compare equal when all five properties do.
* ``Tensor.spec`` gives a tensor's spec; ``allocate_tensor_on_device(spec, mesh_device)`` and
  ``from_torch(t, spec=spec)`` take one. The spec's sharding helpers (``height_sharded`` ...) are not emulated.
"""

from __future__ import annotations

from .errors import fatal, not_emulated_members
from .types import (
    BLOCK_FLOAT_DTYPES,
    DEFAULT_TILE,
    BufferType,
    DataType,
    Layout,
    MemoryConfig,
    NdShardSpec,
    Shape,
    ShardSpec,
    TensorMemoryLayout,
    Tile,
    tile_padded_shape,
)

_OP = "ttnn.TensorSpec"


def _bind(args: tuple, kwargs: dict) -> tuple:
    """(memory config, tile) from the arguments after ``layout``, by the real three overloads."""
    first = args[0] if args else kwargs.get("memory_layout", kwargs.get("nd_shard_spec"))
    if isinstance(first, TensorMemoryLayout):
        names = ("memory_layout", "shard_spec", "buffer_type", "tile")
    elif isinstance(first, NdShardSpec):
        names = ("nd_shard_spec", "buffer_type", "tile")
    else:
        names = ("buffer_type", "tile")
    if len(args) > len(names) or set(kwargs) - set(names):
        raise TypeError("TensorSpec.__init__(): incompatible function arguments")
    bound = {**dict(zip(names, args)), **kwargs}
    buffer_type = bound.get("buffer_type") or BufferType.DRAM
    tile = bound.get("tile") or DEFAULT_TILE
    if "nd_shard_spec" in bound:
        return MemoryConfig(buffer_type=buffer_type, nd_shard_spec=bound["nd_shard_spec"]), tile
    layout = bound.get("memory_layout", TensorMemoryLayout.INTERLEAVED)
    shard_spec = bound.get("shard_spec")
    if layout != TensorMemoryLayout.INTERLEAVED and shard_spec is None:
        raise fatal(_OP, "bad optional access: a sharded memory layout needs a shard_spec")
    return MemoryConfig(layout, buffer_type, shard_spec), tile


class TensorSpec:
    """``ttnn.TensorSpec`` (see the module docstring)."""

    def __init__(self, shape, dtype: DataType, layout: Layout, *args, **kwargs):
        memory_config, tile = _bind(args, kwargs)
        self._shape, self._dtype, self._layout, self._tile = Shape(shape), dtype, layout, tile
        if dtype in BLOCK_FLOAT_DTYPES and layout != Layout.TILE:
            raise fatal(_OP, "TT_FATAL: layout == Layout::TILE (bfloat8_b and bfloat4_b need TILE)")
        if layout == Layout.TILE and isinstance(memory_config.shard_spec, ShardSpec) and (
                memory_config.nd_shard_spec is None):
            h, w = memory_config.shard_spec.shape
            if h % tile.height or w % tile.width:
                raise fatal(_OP, f"TT_FATAL: Physical shard shape {[h, w]} must be tile {{{tile.height}, "
                                 f"{tile.width}}} sized!")
        self._memory_config = memory_config
        if memory_config.nd_shard_spec is not None:
            from . import nd_sharding

            padded = tile_padded_shape(tuple(self._shape), tile) if layout == Layout.TILE else tuple(self._shape)
            nd_sharding.check_shard_shape(padded, layout, tile, memory_config, _OP)
            self._memory_config = nd_sharding.resolved(nd_sharding.padded_shape(padded, layout, memory_config),
                                                       memory_config)

    @classmethod
    def of(cls, shape, dtype: DataType, layout: Layout, memory_config: MemoryConfig, tile: Tile) -> "TensorSpec":
        """The spec of a tensor with these properties (``Tensor.spec``)."""
        spec = cls.__new__(cls)
        spec._shape, spec._dtype, spec._layout = Shape(shape), dtype, layout
        spec._memory_config, spec._tile = memory_config, tile
        return spec

    @property
    def shape(self) -> Shape:
        return self._shape

    @property
    def dtype(self) -> DataType:
        return self._dtype

    @property
    def layout(self) -> Layout:
        return self._layout

    @property
    def memory_config(self) -> MemoryConfig:
        return self._memory_config

    @property
    def tile(self) -> Tile:
        return self._tile

    def _key(self) -> tuple:
        return self._shape, self._dtype, self._layout, self._memory_config, self._tile

    def __eq__(self, other):
        return isinstance(other, TensorSpec) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        return (f"TensorSpec(shape={list(self._shape)}, dtype={self._dtype}, layout={self._layout}, "
                f"memory_config={self._memory_config}, tile={self._tile})")

    __getattr__ = not_emulated_members("ttnn.TensorSpec", "block_sharded height_sharded sharded sharded_across_dims "
                                                          "sharded_across_dims_except width_sharded")
