"""Differential cases for ND sharding and ``ttnn.TensorSpec`` (issue 16, step 3): ``MemoryConfig(buffer_type,
NdShardSpec)`` placements accepted and refused, the layout a placed tensor reports, the bytes per bank the allocator
charges, the ops run on ND-sharded tensors, and the TensorSpec constructors, ``Tensor.spec``,
``allocate_tensor_on_device(tensor_spec, mesh_device)`` and ``from_torch(spec=...)``.

Registered into ``cases.CASES`` (``cases.py`` imports this module). A placement case returns the tensor, its ND shard
spec as plain values and the bytes per DRAM / L1 bank it added (``get_memory_view`` on the real wheel, the
emulator's allocator on the emulator).
"""

from __future__ import annotations

import torch

from cases import ERR, OK, case


def _crs(ttnn, x0, y0, x1, y1):
    CC = ttnn.CoreCoord
    return ttnn.CoreRangeSet({ttnn.CoreRange(CC(x0, y0), CC(x1, y1))})


def _nd(ttnn, shard, grid, *, orientation=None, strategy=None):
    kw = {} if orientation is None else {"orientation": getattr(ttnn.ShardOrientation, orientation)}
    if strategy is not None:
        kw["shard_distribution_strategy"] = getattr(ttnn.ShardDistributionStrategy, strategy)
    return ttnn.NdShardSpec(ttnn.Shape(shard), _crs(ttnn, *grid), **kw)


def _nd_fields(nd):
    if nd is None:
        return None
    ranges = tuple(sorted((r.start.x, r.start.y, r.end.x, r.end.y) for r in nd.grid.ranges()))
    return (tuple(nd.shard_shape), ranges, str(nd.orientation).split(".")[-1].split("::")[-1],
            str(nd.shard_distribution_strategy).split(".")[-1].split("::")[-1])


def _per_bank(ttnn, d):
    """Bytes allocated per DRAM bank and per L1 bank on chip 0."""
    if getattr(ttnn, "IS_EMULATOR", False):
        from ttbringup.emu import memory

        chip = memory.usage(d)[0]
        return chip["dram"]["used"] // memory.DRAM_BANKS, chip["l1"]["used"] // memory.L1_BANKS
    return tuple(ttnn.get_memory_view(d, bt).total_bytes_allocated_per_bank
                 for bt in (ttnn.BufferType.DRAM, ttnn.BufferType.L1))


def _placed(ttnn, d, shape, shard, grid, *, buffer="L1", layout="TILE", dtype="bfloat16", **nd_kw):
    """(tensor, its nd shard spec, bytes per DRAM / L1 bank it added) of a from_torch with an ND config."""
    mc = ttnn.MemoryConfig(getattr(ttnn.BufferType, buffer), _nd(ttnn, shard, grid, **nd_kw))
    before = _per_bank(ttnn, d)
    t = ttnn.from_torch(torch.zeros(shape), dtype=getattr(ttnn, dtype), layout=getattr(ttnn.Layout, layout), device=d,
                        memory_config=mc)
    after = _per_bank(ttnn, d)
    return t, _nd_fields(t.memory_config().nd_shard_spec), tuple(a - b for a, b in zip(after, before))


_PLACEMENTS = {  # name -> (expect, shape, shard, grid, keywords)
    "l1_tile_round_robin": (OK, [2, 64, 128], [1, 32, 64], (0, 0, 3, 1), {}),
    "l1_tile_four_shards_a_core": (OK, [2, 64, 128], [1, 32, 64], (0, 0, 1, 0), {}),
    "l1_tile_shards_not_dividing_cores": (OK, [2, 64, 128], [1, 32, 64], (0, 0, 2, 0), {}),
    "contiguous_1d": (OK, [2, 64, 128], [1, 32, 64], (0, 0, 2, 0), {"strategy": "CONTIGUOUS_1D"}),
    "shard_of_lower_rank": (OK, [3, 32, 64], [64, 64], (0, 0, 0, 0), {}),
    "shard_rank_3_of_rank_3": (OK, [3, 32, 64], [1, 64, 64], (0, 0, 0, 0), {}),
    "two_batches_a_shard": (OK, [4, 64, 128], [2, 32, 64], (0, 0, 3, 0), {}),
    "bfloat8_b": (OK, [2, 64, 128], [1, 32, 64], (0, 0, 1, 0), {"dtype": "bfloat8_b"}),
    "float32": (OK, [2, 64, 128], [1, 32, 64], (0, 0, 3, 1), {"dtype": "float32"}),
    "row_major_l1": (OK, [2, 64, 128], [1, 32, 64], (0, 0, 1, 0), {"layout": "ROW_MAJOR"}),
    "row_major_l1_rows_not_32b": (OK, [2, 64, 100], [1, 16, 50], (0, 0, 3, 1), {"layout": "ROW_MAJOR"}),
    "row_major_l1_narrow_shard": (OK, [2, 64, 100], [1, 16, 3], (0, 0, 3, 0), {"layout": "ROW_MAJOR"}),
    "row_major_l1_width_8": (OK, [2, 64, 100], [1, 16, 8], (0, 0, 3, 0), {"layout": "ROW_MAJOR"}),
    "row_major_rank_2_shard": (OK, [2, 64, 100], [2, 3], (0, 0, 3, 0), {"layout": "ROW_MAJOR"}),
    "row_major_dram": (OK, [2, 64, 100], [1, 16, 50], (0, 0, 3, 0), {"layout": "ROW_MAJOR", "buffer": "DRAM"}),
    "row_major_dram_width_padded": (OK, [2, 64, 100], [1, 16, 56], (0, 0, 3, 0),
                                    {"layout": "ROW_MAJOR", "buffer": "DRAM"}),
    "row_major_partial_shard_rows": (OK, [2, 60, 100], [1, 16, 50], (0, 0, 3, 0), {"layout": "ROW_MAJOR"}),
    "row_major_1d": (OK, [100], [30], (0, 0, 1, 0), {"layout": "ROW_MAJOR"}),
    "dram_tile": (OK, [2, 64, 128], [1, 32, 64], (0, 0, 5, 0), {"buffer": "DRAM"}),
    "tile_partial_rows": (OK, [30, 64], [32, 64], (0, 0, 0, 0), {}),
    "reads_as_height_sharded": (OK, [2, 64, 128], [1, 32, 128], (0, 0, 3, 0), {}),
    "reads_as_height_sharded_2x2_col_major": (OK, [2, 64, 128], [1, 32, 128], (0, 0, 1, 1),
                                              {"orientation": "COL_MAJOR"}),
    "reads_as_height_sharded_rank_2_shard": (OK, [2, 64, 128], [64, 128], (0, 0, 3, 0), {}),
    "reads_as_height_sharded_two_batches": (OK, [4, 64, 128], [2, 64, 128], (0, 0, 3, 0), {}),
    "reads_as_height_sharded_partial_tile": (OK, [2, 60, 128], [1, 32, 128], (0, 0, 3, 0), {}),
    "reads_as_height_sharded_row_major": (OK, [2, 64, 100], [1, 16, 100], (0, 0, 7, 0), {"layout": "ROW_MAJOR"}),
    "reads_as_width_sharded": (OK, [2, 64, 128], [2, 64, 32], (0, 0, 3, 0), {}),
    "reads_as_width_sharded_dram": (OK, [2, 64, 128], [2, 64, 64], (0, 0, 3, 0), {"buffer": "DRAM"}),
    "reads_as_width_sharded_one_shard": (OK, [1, 1, 32, 64], [1, 1, 32, 64], (0, 0, 1, 0), {}),
    "more_shards_than_cores_stays_nd": (OK, [2, 64, 128], [1, 32, 128], (0, 0, 1, 0), {}),
    "shard_neither_full_height_nor_width": (OK, [2, 64, 128], [1, 64, 64], (0, 0, 3, 0), {}),
    "height_blocks_not_contiguous_stay_nd": (OK, [2, 64, 128], [2, 32, 128], (0, 0, 3, 0), {}),
    "shard_rank_above_tensor_rank": (ERR, [2, 64, 128], [1, 1, 32, 64], (0, 0, 3, 1), {}),
    "tile_shard_not_whole_tiles": (ERR, [2, 64, 128], [1, 20, 50], (0, 0, 3, 1), {}),
    "tile_shard_16x16": (ERR, [1, 1, 30, 60], [1, 1, 16, 16], (0, 0, 3, 3), {}),
    "tile_1d_shard": (ERR, [64, 64], [64], (0, 0, 1, 0), {}),
    "l1_grid_beyond_worker_grid": (ERR, [2, 64, 128], [1, 32, 64], (0, 0, 8, 8), {}),
    "dram_grid_beyond_banks": (ERR, [2, 64, 128], [1, 32, 64], (0, 0, 12, 0), {"buffer": "DRAM"}),
}
for _name, (_expect, _shape, _shard, _grid, _kw) in _PLACEMENTS.items():
    def _fn(ttnn, d, _shape=_shape, _shard=_shard, _grid=_grid, _kw=_kw):
        return _placed(ttnn, d, _shape, _shard, _grid, **_kw)
    case("nd_sharding", _name, _expect)(_fn)


def _per_chip_banks(ttnn, d):
    """Bytes allocated per DRAM bank and per L1 bank, on every chip (the real wheel reports per-chip figures)."""
    if getattr(ttnn, "IS_EMULATOR", False):
        from ttbringup.emu import memory

        return tuple((c["dram"]["used"] // memory.DRAM_BANKS, c["l1"]["used"] // memory.L1_BANKS)
                     for c in memory.usage(d))
    return (tuple(ttnn.get_memory_view(d, bt).total_bytes_allocated_per_bank
                  for bt in (ttnn.BufferType.DRAM, ttnn.BufferType.L1)),)


for _name, _mapper in (("replicated", None), ("sharded_dim0", 0)):
    def _fn(ttnn, d, _mapper=_mapper):
        mc = ttnn.MemoryConfig(ttnn.BufferType.L1, _nd(ttnn, [1, 32, 64], (0, 0, 3, 1)))
        mapper = ttnn.ReplicateTensorToMesh(d) if _mapper is None else ttnn.ShardTensorToMesh(d, dim=_mapper)
        before = _per_chip_banks(ttnn, d)
        t = ttnn.from_torch(torch.zeros(4, 64, 128), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=d,
                            memory_config=mc, mesh_mapper=mapper)
        added = tuple(tuple(a - b for a, b in zip(x, y)) for x, y in zip(_per_chip_banks(ttnn, d), before))
        return t, _nd_fields(t.memory_config().nd_shard_spec), added[0], len(set(added))
    case("nd_sharding", f"mesh_1x2_{_name}", OK, mesh=(1, 2))(_fn)


@case("as_tensor", "cache_hit_nd_sharded", OK)
def _(ttnn, d):
    import os
    import tempfile

    base = os.path.join(tempfile.mkdtemp(), "nd")
    mc = ttnn.MemoryConfig(ttnn.BufferType.L1, _nd(ttnn, [1, 32, 64], (0, 0, 3, 1)))
    kw = dict(dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=d, memory_config=mc, cache_file_name=base)
    miss = ttnn.as_tensor(torch.zeros(2, 64, 128), **kw)
    hit = ttnn.as_tensor(torch.zeros(2, 64, 128), **kw)
    return miss, hit, _nd_fields(hit.memory_config().nd_shard_spec)


@case("nd_sharding", "memory_config_forms", OK)
def _(ttnn, d):
    nd = _nd(ttnn, [1, 32, 64], (0, 0, 3, 1))
    positional = ttnn.MemoryConfig(ttnn.BufferType.L1, nd)
    keywords = ttnn.MemoryConfig(buffer_type=ttnn.BufferType.DRAM, nd_shard_spec=nd)
    return (positional, keywords, positional.is_sharded(), positional.shard_spec is None,
            _nd_fields(positional.nd_shard_spec), positional == ttnn.MemoryConfig(ttnn.BufferType.L1, nd),
            positional == keywords, ttnn.L1_MEMORY_CONFIG.nd_shard_spec is None)


# ---- ops on an ND-sharded [2,64,128] bf16 TILE tensor (8 shards of [1,32,64] on 4x2 cores): their outputs
def _nd_tensor(ttnn, d, layout="TILE"):
    mc = ttnn.MemoryConfig(ttnn.BufferType.L1, _nd(ttnn, [1, 32, 64], (0, 0, 3, 1)))
    return ttnn.from_torch(torch.zeros(2, 64, 128), dtype=ttnn.bfloat16, layout=getattr(ttnn.Layout, layout),
                           device=d, memory_config=mc), mc


def _interleaved(ttnn, d):
    return ttnn.from_torch(torch.zeros(2, 64, 128), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=d)


_ND_OPS = {
    "add": (OK, lambda ttnn, d, t, mc: ttnn.add(t, t)),
    "add_interleaved_second": (OK, lambda ttnn, d, t, mc: ttnn.add(t, _interleaved(ttnn, d))),
    "add_interleaved_first": (OK, lambda ttnn, d, t, mc: ttnn.add(_interleaved(ttnn, d), t)),
    "multiply_interleaved_first": (OK, lambda ttnn, d, t, mc: ttnn.multiply(_interleaved(ttnn, d), t)),
    "add_scalar": (OK, lambda ttnn, d, t, mc: ttnn.add(t, 1.0)),
    "tensor_plus_scalar": (OK, lambda ttnn, d, t, mc: t + 1.0),
    "subtract": (OK, lambda ttnn, d, t, mc: ttnn.subtract(t, t)),
    "silu": (OK, lambda ttnn, d, t, mc: ttnn.silu(t)),
    "relu": (OK, lambda ttnn, d, t, mc: ttnn.relu(t)),
    "gelu": (OK, lambda ttnn, d, t, mc: ttnn.gelu(t)),
    "slice_write_into": (ERR, lambda ttnn, d, t, mc: ttnn.experimental.slice_write(
        ttnn.from_torch(torch.zeros(1, 32, 128), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=d), t,
        [1, 32, 0], [2, 64, 128], [1, 1, 1])),
    "typecast_float32": (OK, lambda ttnn, d, t, mc: ttnn.typecast(t, ttnn.float32)),
    "to_layout_row_major": (OK, lambda ttnn, d, t, mc: ttnn.to_layout(t, ttnn.ROW_MAJOR_LAYOUT)),
    "fill_implicit_tile_padding": (OK, lambda ttnn, d, t, mc: ttnn.fill_implicit_tile_padding(t, 1.0)),
    "to_memory_config_dram": (OK, lambda ttnn, d, t, mc: ttnn.to_memory_config(t, ttnn.DRAM_MEMORY_CONFIG)),
    "to_memory_config_from_interleaved": (OK, lambda ttnn, d, t, mc: ttnn.to_memory_config(_interleaved(ttnn, d),
                                                                                            mc)),
    "from_device": (OK, lambda ttnn, d, t, mc: (tuple(ttnn.from_device(t).shape), tuple(ttnn.to_torch(t).shape))),
    "to_device": (OK, lambda ttnn, d, t, mc: ttnn.to_device(ttnn.from_torch(torch.zeros(2, 64, 128),
                                                                           dtype=ttnn.bfloat16,
                                                                           layout=ttnn.TILE_LAYOUT), d,
                                                            memory_config=mc)),
    "allocate_tensor_on_device": (OK, lambda ttnn, d, t, mc: ttnn.allocate_tensor_on_device(
        ttnn.Shape([2, 64, 128]), ttnn.bfloat16, ttnn.TILE_LAYOUT, d, mc)),
    "empty": (OK, lambda ttnn, d, t, mc: ttnn.empty([2, 64, 128], ttnn.bfloat16, ttnn.TILE_LAYOUT, d, mc)),
    "zeros": (OK, lambda ttnn, d, t, mc: ttnn.zeros([2, 64, 128], ttnn.bfloat16, ttnn.TILE_LAYOUT, d, mc)),
    "deallocate": (OK, lambda ttnn, d, t, mc: (ttnn.deallocate(t), t.is_allocated())),
}
for _name, (_expect, _call) in _ND_OPS.items():
    def _fn(ttnn, d, _call=_call):
        t, mc = _nd_tensor(ttnn, d)
        out = _call(ttnn, d, t, mc)
        on_device = isinstance(out, ttnn.Tensor) and ttnn.is_tensor_storage_on_device(out)
        nd = out.memory_config().nd_shard_spec if on_device else None
        return out, _nd_fields(nd)
    case("nd_sharding", f"op_{_name}", _expect)(_fn)


@case("nd_sharding", "softmax_of_a_placement_read_as_height_sharded", OK)
def _(ttnn, d):
    mc = ttnn.MemoryConfig(ttnn.BufferType.L1, _nd(ttnn, [1, 1, 32, 128], (0, 0, 1, 0)))
    t = ttnn.from_torch(torch.zeros(1, 1, 64, 128), dtype=ttnn.float32, layout=ttnn.TILE_LAYOUT, device=d,
                        memory_config=mc)
    return ttnn.softmax(t, -1)


@case("experimental.slice_write", "height_sharded_output", ERR)
def _(ttnn, d):
    mc = ttnn.create_sharded_memory_config([1, 1, 64, 64], ttnn.CoreGrid(x=2, y=1), ttnn.ShardStrategy.HEIGHT)
    out = ttnn.from_torch(torch.zeros(1, 1, 64, 64), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=d,
                          memory_config=mc)
    x = ttnn.from_torch(torch.zeros(1, 1, 32, 64), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=d)
    return ttnn.experimental.slice_write(x, out, [0, 0, 0, 0], [1, 1, 32, 64], [1, 1, 1, 1])


# =================================================================================================================
# ttnn.TensorSpec
def _spec_fields(ttnn, s):
    return (tuple(s.shape), str(s.dtype).split(".")[-1], str(s.layout).split(".")[-1], s.memory_config,
            tuple(s.tile.tile_shape))


_SPECS = {  # name -> (expect, build(ttnn, S))
    "interleaved_default": (OK, lambda ttnn, S: ttnn.TensorSpec(S([1, 1, 30, 60]), ttnn.bfloat16, ttnn.TILE_LAYOUT)),
    "interleaved_l1": (OK, lambda ttnn, S: ttnn.TensorSpec(S([1, 1, 30, 60]), ttnn.bfloat16, ttnn.TILE_LAYOUT,
                                                         ttnn.BufferType.L1)),
    "keywords": (OK, lambda ttnn, S: ttnn.TensorSpec(shape=S([1, 1, 30, 60]), dtype=ttnn.bfloat16,
                                                   layout=ttnn.TILE_LAYOUT, buffer_type=ttnn.BufferType.L1)),
    "shape_as_list": (OK, lambda ttnn, S: ttnn.TensorSpec([2, 3], ttnn.float32, ttnn.ROW_MAJOR_LAYOUT)),
    "tile_16x32": (OK, lambda ttnn, S: ttnn.TensorSpec(S([1, 1, 30, 60]), ttnn.bfloat16, ttnn.TILE_LAYOUT,
                                                     tile=ttnn.Tile((16, 32)))),
    "height_sharded": (OK, lambda ttnn, S: ttnn.TensorSpec(
        S([1, 1, 64, 64]), ttnn.bfloat16, ttnn.TILE_LAYOUT, ttnn.TensorMemoryLayout.HEIGHT_SHARDED,
        ttnn.ShardSpec(_crs(ttnn, 0, 0, 1, 0), [32, 64], ttnn.ShardOrientation.ROW_MAJOR), ttnn.BufferType.L1)),
    "memory_layout_interleaved": (OK, lambda ttnn, S: ttnn.TensorSpec(S([1, 1, 64, 64]), ttnn.bfloat16,
                                                                    ttnn.TILE_LAYOUT,
                                                                    ttnn.TensorMemoryLayout.INTERLEAVED)),
    "nd_sharded": (OK, lambda ttnn, S: ttnn.TensorSpec(S([2, 64, 128]), ttnn.bfloat16, ttnn.TILE_LAYOUT,
                                                     _nd(ttnn, [1, 32, 64], (0, 0, 3, 1)), ttnn.BufferType.L1)),
    "nd_sharded_dram_default": (OK, lambda ttnn, S: ttnn.TensorSpec(S([2, 64, 128]), ttnn.bfloat16, ttnn.TILE_LAYOUT,
                                                                  _nd(ttnn, [1, 32, 64], (0, 0, 3, 1)))),
    "nd_sharded_reads_as_height": (OK, lambda ttnn, S: ttnn.TensorSpec(
        S([2, 64, 128]), ttnn.bfloat16, ttnn.TILE_LAYOUT, _nd(ttnn, [1, 32, 128], (0, 0, 3, 0)), ttnn.BufferType.L1)),
    "bfloat8_b_row_major": (ERR, lambda ttnn, S: ttnn.TensorSpec(S([1, 1, 32, 64]), ttnn.bfloat8_b,
                                                               ttnn.ROW_MAJOR_LAYOUT)),
    "sharded_without_shard_spec": (ERR, lambda ttnn, S: ttnn.TensorSpec(S([1, 1, 64, 64]), ttnn.bfloat16,
                                                                      ttnn.TILE_LAYOUT,
                                                                      ttnn.TensorMemoryLayout.HEIGHT_SHARDED)),
    "shard_not_whole_tiles": (ERR, lambda ttnn, S: ttnn.TensorSpec(
        S([1, 1, 64, 64]), ttnn.bfloat16, ttnn.TILE_LAYOUT, ttnn.TensorMemoryLayout.HEIGHT_SHARDED,
        ttnn.ShardSpec(_crs(ttnn, 0, 0, 1, 0), [16, 64], ttnn.ShardOrientation.ROW_MAJOR), ttnn.BufferType.L1)),
    "nd_shard_not_whole_tiles": (ERR, lambda ttnn, S: ttnn.TensorSpec(
        S([2, 64, 128]), ttnn.bfloat16, ttnn.TILE_LAYOUT, _nd(ttnn, [1, 20, 128], (0, 0, 3, 0)), ttnn.BufferType.L1)),
}
for _name, (_expect, _build) in _SPECS.items():
    def _fn(ttnn, d, _build=_build):
        return _spec_fields(ttnn, _build(ttnn, ttnn.Shape))
    case("tensor_spec", _name, _expect)(_fn)


def _l1_spec(ttnn):
    return ttnn.TensorSpec(ttnn.Shape([1, 1, 30, 60]), ttnn.bfloat16, ttnn.TILE_LAYOUT, ttnn.BufferType.L1)


@case("tensor_spec", "equality", OK)
def _(ttnn, d):
    s = _l1_spec(ttnn)
    dram = ttnn.TensorSpec(ttnn.Shape([1, 1, 30, 60]), ttnn.bfloat16, ttnn.TILE_LAYOUT)
    return s == _l1_spec(ttnn), s == dram


@case("tensor_spec", "of_a_device_tensor", OK)
def _(ttnn, d):
    t = ttnn.from_torch(torch.zeros(1, 1, 30, 60), dtype=ttnn.bfloat8_b, layout=ttnn.TILE_LAYOUT, device=d,
                        memory_config=ttnn.L1_MEMORY_CONFIG)
    want = ttnn.TensorSpec(ttnn.Shape([1, 1, 30, 60]), ttnn.bfloat8_b, ttnn.TILE_LAYOUT, ttnn.BufferType.L1)
    return _spec_fields(ttnn, t.spec), t.spec == want


@case("tensor_spec", "of_a_host_tensor", OK)
def _(ttnn, d):
    return _spec_fields(ttnn, ttnn.from_torch(torch.zeros(2, 3)).spec)


@case("tensor_spec", "of_an_nd_sharded_tensor", OK)
def _(ttnn, d):
    t, _ = _nd_tensor(ttnn, d)
    return _spec_fields(ttnn, t.spec), _nd_fields(t.spec.memory_config.nd_shard_spec)


@case("allocate_tensor_on_device", "tensor_spec", OK)
def _(ttnn, d):
    return ttnn.allocate_tensor_on_device(_l1_spec(ttnn), d)


@case("allocate_tensor_on_device", "tensor_spec_keywords", OK)
def _(ttnn, d):
    return ttnn.allocate_tensor_on_device(tensor_spec=_l1_spec(ttnn), mesh_device=d)


@case("allocate_tensor_on_device", "tensor_spec_nd_sharded", OK)
def _(ttnn, d):
    spec = ttnn.TensorSpec(ttnn.Shape([2, 64, 128]), ttnn.bfloat16, ttnn.TILE_LAYOUT,
                           _nd(ttnn, [1, 32, 64], (0, 0, 3, 1)), ttnn.BufferType.L1)
    before = _per_bank(ttnn, d)
    t = ttnn.allocate_tensor_on_device(spec, d)
    return t, tuple(a - b for a, b in zip(_per_bank(ttnn, d), before))


@case("allocate_tensor_on_device", "tensor_spec_then_memory_config", ERR)
def _(ttnn, d):
    return ttnn.allocate_tensor_on_device(_l1_spec(ttnn), d, ttnn.L1_MEMORY_CONFIG)


@case("allocate_tensor_on_device", "tensor_spec_grid_beyond_device", ERR)
def _(ttnn, d):
    spec = ttnn.TensorSpec(ttnn.Shape([2, 64, 128]), ttnn.bfloat16, ttnn.TILE_LAYOUT,
                           _nd(ttnn, [1, 32, 64], (0, 0, 8, 0)), ttnn.BufferType.L1)
    return ttnn.allocate_tensor_on_device(spec, d)


@case("from_torch", "spec_on_device", OK)
def _(ttnn, d):
    return ttnn.from_torch(torch.zeros(1, 1, 30, 60), spec=_l1_spec(ttnn), device=d)


@case("from_torch", "spec_nd_sharded", OK)
def _(ttnn, d):
    spec = ttnn.TensorSpec(ttnn.Shape([2, 64, 128]), ttnn.bfloat16, ttnn.TILE_LAYOUT,
                           _nd(ttnn, [1, 32, 128], (0, 0, 3, 0)), ttnn.BufferType.L1)
    return ttnn.from_torch(torch.zeros(2, 64, 128), spec=spec, device=d)


@case("from_torch", "spec_and_dtype", ERR)
def _(ttnn, d):
    return ttnn.from_torch(torch.zeros(1, 1, 30, 60), ttnn.float32, spec=_l1_spec(ttnn), device=d)


@case("from_torch", "spec_and_layout", ERR)
def _(ttnn, d):
    return ttnn.from_torch(torch.zeros(1, 1, 30, 60), spec=_l1_spec(ttnn), layout=ttnn.TILE_LAYOUT, device=d)


@case("from_torch", "spec_and_memory_config", ERR)
def _(ttnn, d):
    return ttnn.from_torch(torch.zeros(1, 1, 30, 60), spec=_l1_spec(ttnn), device=d,
                           memory_config=ttnn.L1_MEMORY_CONFIG)


@case("from_torch", "spec_of_another_shape", ERR)
def _(ttnn, d):
    return ttnn.from_torch(torch.zeros(1, 1, 32, 64), spec=_l1_spec(ttnn), device=d)
