"""Differential cases on meshes: mappers, composers, per-chip shapes, collectives and their invalid calls.

Registered into ``cases.CASES`` with ``mesh=(rows, cols)``: the harness runs them on a mock n300 (1x2) or T3000
(2x4) opened after ``set_fabric_config(FABRIC_1D)``, real and emulated (test_conformance_mesh.py). ``d`` is the
mesh device. The expectations are what the real 0.81.1 does in mock mode (docs/ttnn-mock-findings.md).
"""

from __future__ import annotations

import torch

from cases import ERR, OK, case

N300, T3K = (1, 2), (2, 4)


def sharded(ttnn, d, shape, dim, dtype=None, layout=None, device=True):
    return ttnn.from_torch(torch.zeros(shape), dtype=dtype or ttnn.bfloat16, layout=layout or ttnn.TILE_LAYOUT,
                           device=d if device else None, mesh_mapper=ttnn.ShardTensorToMesh(d, dim=dim))


def replicated(ttnn, d, shape, dtype=None):
    return ttnn.from_torch(torch.zeros(shape), dtype=dtype or ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=d)


# ---- mappers (from_torch / as_tensor / to_device)

@case("from_torch", "mesh_shard_dim3", OK, mesh=N300)
def _(ttnn, d):
    return sharded(ttnn, d, (1, 1, 32, 128), 3)


@case("from_torch", "mesh_shard_uneven", ERR, mesh=N300)
def _(ttnn, d):
    return sharded(ttnn, d, (1, 1, 32, 33), 3)


@case("from_torch", "mesh_shard_dim1_uneven", ERR, mesh=N300)
def _(ttnn, d):
    return sharded(ttnn, d, (1, 3, 32, 64), 1)


@case("from_torch", "mesh_no_mapper_replicates", OK, mesh=N300)
def _(ttnn, d):
    return replicated(ttnn, d, (1, 1, 32, 128))


@case("from_torch", "mesh_replicate_mappers", OK, mesh=N300)
def _(ttnn, d):
    x = torch.zeros(1, 1, 32, 64)
    return tuple(ttnn.from_torch(x, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=d, mesh_mapper=m)
                 for m in (ttnn.ReplicateTensorToMesh(d), ttnn.replicate_tensor_to_mesh_mapper(d),
                           ttnn.shard_tensor_to_mesh_mapper(d, 3)))


@case("from_torch", "mesh_bfloat8_shard", OK, mesh=N300)
def _(ttnn, d):
    return sharded(ttnn, d, (1, 1, 64, 256), 3, dtype=ttnn.bfloat8_b)


@case("from_torch", "mesh_host_shards", OK, mesh=N300)
def _(ttnn, d):
    return sharded(ttnn, d, (1, 1, 32, 128), 3, device=False)


@case("to_device", "mesh_host_shards", OK, mesh=N300)
def _(ttnn, d):
    return ttnn.to_device(sharded(ttnn, d, (1, 1, 32, 128), 3, device=False), d)


@case("from_device", "mesh_shards", OK, mesh=N300)
def _(ttnn, d):
    return ttnn.from_device(sharded(ttnn, d, (1, 1, 32, 128), 3))


@case("as_tensor", "mesh_shard", OK, mesh=N300)
def _(ttnn, d):
    return ttnn.as_tensor(torch.zeros(1, 1, 32, 128), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=d,
                          memory_config=ttnn.DRAM_MEMORY_CONFIG, mesh_mapper=ttnn.ShardTensorToMesh(d, dim=3))


@case("from_torch", "mesh_2d_mapper", OK, mesh=T3K)
def _(ttnn, d):
    return ttnn.from_torch(torch.zeros(1, 1, 64, 256), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=d,
                           mesh_mapper=ttnn.ShardTensor2dMesh(d, mesh_shape=(2, 4), dims=(2, 3)))


@case("from_torch", "mesh_2d_mapper_replicate_rows", OK, mesh=T3K)
def _(ttnn, d):
    return ttnn.from_torch(torch.zeros(1, 1, 64, 256), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=d,
                           mesh_mapper=ttnn.ShardTensor2dMesh(d, mesh_shape=(2, 4), dims=(None, 3)))


@case("from_torch", "mesh_config_mapper", OK, mesh=T3K)
def _(ttnn, d):
    config = ttnn.MeshMapperConfig([ttnn.PlacementReplicate(), ttnn.PlacementShard(3)])
    return ttnn.from_torch(torch.zeros(1, 1, 64, 256), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=d,
                           mesh_mapper=ttnn.create_mesh_mapper(d, config))


@case("from_torch", "mesh_shard_over_eight", OK, mesh=T3K)
def _(ttnn, d):
    return sharded(ttnn, d, (1, 1, 32, 512), 3)


@case("from_torch", "mesh_shard_over_eight_uneven", ERR, mesh=T3K)
def _(ttnn, d):
    return sharded(ttnn, d, (1, 1, 32, 100), 3)


# ---- composers (to_torch)

@case("to_torch", "mesh_replicated_without_composer", ERR, mesh=N300)
def _(ttnn, d):
    return ttnn.to_torch(replicated(ttnn, d, (1, 1, 32, 64)))


@case("to_torch", "mesh_sharded_without_composer", ERR, mesh=N300)
def _(ttnn, d):
    return ttnn.to_torch(sharded(ttnn, d, (1, 1, 32, 128), 3))


@case("to_torch", "mesh_host_shards_without_composer", ERR, mesh=N300)
def _(ttnn, d):
    return ttnn.to_torch(sharded(ttnn, d, (1, 1, 32, 128), 3, device=False))


@case("to_torch", "mesh_concat_composers", OK, mesh=N300)
def _(ttnn, d):
    t = sharded(ttnn, d, (1, 1, 32, 128), 3)
    return (ttnn.to_torch(t, mesh_composer=ttnn.ConcatMeshToTensor(d, dim=3)),
            ttnn.to_torch(t, mesh_composer=ttnn.ConcatMeshToTensor(d, dim=0)),
            ttnn.to_torch(t, mesh_composer=ttnn.ConcatMeshToTensor(d, dim=-1)),
            ttnn.to_torch(replicated(ttnn, d, (1, 1, 32, 128)), mesh_composer=ttnn.concat_mesh_to_tensor_composer(d, 3)),
            ttnn.to_torch(t, mesh_composer=ttnn.create_mesh_composer(d, ttnn.MeshComposerConfig([0, 3]))))


@case("to_torch", "mesh_2d_composer", OK, mesh=T3K)
def _(ttnn, d):
    t = ttnn.from_torch(torch.zeros(1, 1, 64, 256), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=d,
                        mesh_mapper=ttnn.ShardTensor2dMesh(d, mesh_shape=(2, 4), dims=(2, 3)))
    return (ttnn.to_torch(t, mesh_composer=ttnn.ConcatMesh2dToTensor(d, mesh_shape=(2, 4), dims=(2, 3))),
            ttnn.to_torch(t, mesh_composer=ttnn.ConcatMeshToTensor(d, dim=3)))


@case("to_torch", "mesh_one_device_tensor", OK, mesh=N300)
def _(ttnn, d):
    return ttnn.to_torch(ttnn.get_device_tensors(sharded(ttnn, d, (1, 1, 32, 128), 3))[1])


# ---- per-device accessors

@case("get_device_tensors", "sharded", OK, mesh=T3K)
def _(ttnn, d):
    return tuple(ttnn.get_device_tensors(sharded(ttnn, d, (1, 1, 32, 512), 3)))


@case("get_device_tensors", "host_shards", OK, mesh=N300)
def _(ttnn, d):
    return tuple(ttnn.get_device_tensors(sharded(ttnn, d, (1, 1, 32, 128), 3, device=False)))


@case("get_device_tensors", "not_a_tensor", ERR, mesh=N300)
def _(ttnn, d):
    return ttnn.get_device_tensors(torch.zeros(2))


# ---- ops run per chip

@case("linear", "mesh_row_parallel", OK, mesh=N300)
def _(ttnn, d):
    return ttnn.linear(sharded(ttnn, d, (1, 1, 32, 128), 3), sharded(ttnn, d, (1, 1, 128, 96), 2))


@case("linear", "mesh_column_parallel", OK, mesh=T3K)
def _(ttnn, d):
    return ttnn.linear(replicated(ttnn, d, (1, 1, 32, 256)), sharded(ttnn, d, (1, 1, 256, 512), 3))


@case("linear", "mesh_shard_k_mismatch", ERR, mesh=N300)
def _(ttnn, d):  # a column-sharded activation against a whole weight: K differs on every chip
    return ttnn.linear(sharded(ttnn, d, (1, 1, 32, 128), 3), replicated(ttnn, d, (1, 1, 128, 64)))


@case("add", "mesh_sharded_plus_replicated", OK, mesh=N300)
def _(ttnn, d):
    return ttnn.add(sharded(ttnn, d, (1, 1, 32, 128), 3), replicated(ttnn, d, (1, 1, 32, 64)))


@case("fill_cache", "mesh_replicated_cache_sharded_kv", OK, mesh=N300)
def _(ttnn, d):
    cache = replicated(ttnn, d, (4, 1, 64, 64))
    return ttnn.fill_cache(cache, sharded(ttnn, d, (1, 2, 32, 64), 1), batch_idx=0)


@case("experimental.nlp_create_qkv_heads_decode", "mesh_one_kv_head_per_chip", OK, mesh=T3K)
def _(ttnn, d):  # Llama-3.2-1B on 8 chips: 4 query heads and 1 KV head per chip, head_dim 64
    qkv = ttnn.from_torch(torch.zeros(1, 1, 32, 8 * 6 * 64), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=d,
                          mesh_mapper=ttnn.ShardTensorToMesh(d, dim=3))
    return ttnn.experimental.nlp_create_qkv_heads_decode(qkv, num_heads=4, num_kv_heads=1,
                                                         memory_config=ttnn.DRAM_MEMORY_CONFIG)


# ---- collectives

@case("all_gather", "n300_dim3", OK, mesh=N300)
def _(ttnn, d):
    return ttnn.all_gather(sharded(ttnn, d, (1, 1, 32, 128), 3), dim=3)


@case("all_gather", "n300_dims_0_2_and_links", OK, mesh=N300)
def _(ttnn, d):
    t = sharded(ttnn, d, (1, 1, 32, 128), 3)
    return (ttnn.all_gather(t, dim=0), ttnn.all_gather(t, dim=2), ttnn.all_gather(t, dim=3, num_links=2),
            ttnn.all_gather(t, dim=-1, cluster_axis=1), ttnn.all_gather(t, dim=3, topology=ttnn.Topology.Ring))


@case("all_gather", "n300_size_one_axis", ERR, mesh=N300)
def _(ttnn, d):
    return ttnn.all_gather(sharded(ttnn, d, (1, 1, 32, 128), 3), dim=3, cluster_axis=0)


@case("all_gather", "dim_out_of_range", ERR, mesh=N300)
def _(ttnn, d):
    return ttnn.all_gather(sharded(ttnn, d, (1, 1, 32, 128), 3), dim=4)


@case("all_gather", "t3k_without_axis_1d_fabric", ERR, mesh=T3K)
def _(ttnn, d):
    return ttnn.all_gather(sharded(ttnn, d, (1, 1, 32, 512), 3), dim=3)


@case("all_gather", "t3k_axes", OK, mesh=T3K)
def _(ttnn, d):
    t = sharded(ttnn, d, (1, 1, 32, 512), 3)
    return ttnn.all_gather(t, dim=3, cluster_axis=0), ttnn.all_gather(t, dim=3, cluster_axis=1)


@case("all_gather", "t3k_axis_2", ERR, mesh=T3K)
def _(ttnn, d):
    return ttnn.all_gather(sharded(ttnn, d, (1, 1, 32, 512), 3), dim=3, cluster_axis=2)


@case("all_gather", "dtypes_and_layouts", OK, mesh=N300)
def _(ttnn, d):
    return (ttnn.all_gather(sharded(ttnn, d, (1, 1, 32, 128), 3, dtype=ttnn.bfloat8_b), dim=3),
            ttnn.all_gather(sharded(ttnn, d, (1, 1, 32, 128), 3, dtype=ttnn.float32), dim=3),
            ttnn.all_gather(sharded(ttnn, d, (1, 1, 32, 128), 3, layout=ttnn.ROW_MAJOR_LAYOUT), dim=3))


@case("all_reduce", "n300", OK, mesh=N300)
def _(ttnn, d):
    t = sharded(ttnn, d, (1, 1, 32, 128), 3)
    return (ttnn.all_reduce(t), ttnn.all_reduce(t, cluster_axis=1), ttnn.all_reduce(t, num_links=2),
            ttnn.all_reduce(t, memory_config=ttnn.L1_MEMORY_CONFIG))


@case("all_reduce", "n300_size_one_axis", ERR, mesh=N300)
def _(ttnn, d):
    return ttnn.all_reduce(sharded(ttnn, d, (1, 1, 32, 128), 3), cluster_axis=0)


@case("all_reduce", "dtypes_and_layouts", OK, mesh=N300)
def _(ttnn, d):
    return (ttnn.all_reduce(sharded(ttnn, d, (1, 1, 32, 128), 3, dtype=ttnn.bfloat8_b)),
            ttnn.all_reduce(sharded(ttnn, d, (1, 1, 32, 128), 3, dtype=ttnn.float32)),
            ttnn.all_reduce(sharded(ttnn, d, (1, 1, 32, 128), 3, layout=ttnn.ROW_MAJOR_LAYOUT)),
            ttnn.all_reduce(ttnn.from_torch(torch.zeros(32, 128), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT,
                                            device=d, mesh_mapper=ttnn.ShardTensorToMesh(d, dim=1))))


@case("all_reduce", "t3k_whole_mesh_and_axes", OK, mesh=T3K)
def _(ttnn, d):
    t = sharded(ttnn, d, (1, 1, 32, 512), 3)
    return ttnn.all_reduce(t), ttnn.all_reduce(t, cluster_axis=0), ttnn.all_reduce(t, cluster_axis=1)


@case("all_reduce", "t3k_too_many_links", ERR, mesh=T3K)
def _(ttnn, d):
    return ttnn.all_reduce(sharded(ttnn, d, (1, 1, 32, 512), 3), cluster_axis=1, num_links=4)


@case("reduce_scatter", "n300", OK, mesh=N300)
def _(ttnn, d):
    t = sharded(ttnn, d, (1, 1, 32, 128), 3)
    return ttnn.reduce_scatter(t, dim=3), ttnn.reduce_scatter(t, dim=2), ttnn.reduce_scatter(
        sharded(ttnn, d, (1, 1, 32, 64), 3), dim=3)


@case("reduce_scatter", "n300_dim_of_one", ERR, mesh=N300)
def _(ttnn, d):
    return ttnn.reduce_scatter(sharded(ttnn, d, (1, 1, 32, 128), 3), dim=1)


@case("reduce_scatter", "t3k", OK, mesh=T3K)
def _(ttnn, d):
    t = sharded(ttnn, d, (1, 1, 32, 512), 3)
    return (ttnn.reduce_scatter(t, dim=3), ttnn.reduce_scatter(t, dim=3, cluster_axis=0),
            ttnn.reduce_scatter(t, dim=3, cluster_axis=1))


@case("reduce_scatter", "t3k_too_many_links", ERR, mesh=T3K)
def _(ttnn, d):
    return ttnn.reduce_scatter(sharded(ttnn, d, (1, 1, 32, 512), 3), dim=3, cluster_axis=1, num_links=5)
