"""Mesh tensors: mappers and composers, per-chip ops and memory, collectives, against torch."""

import pytest
import torch

import ttbringup.emu as ttnn
from ttbringup.emu.errors import OutOfMemoryError, TTError
from ttbringup.emu.memory import usage

TILE = dict(dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT)


def bf16(x):
    return x.bfloat16()


@pytest.fixture
def fabric():
    ttnn.set_fabric_config(ttnn.FabricConfig.FABRIC_1D)
    yield
    ttnn.set_fabric_config(ttnn.FabricConfig.DISABLED)


def _mesh(shape):
    m = ttnn.open_mesh_device(ttnn.MeshShape(*shape))
    return m


@pytest.fixture
def n300(fabric):
    m = _mesh((1, 2))
    yield m
    ttnn.close_mesh_device(m)


@pytest.fixture
def t3k(fabric):
    m = _mesh((2, 4))
    yield m
    ttnn.close_mesh_device(m)


def chips(t):
    return [ttnn.to_torch(d) for d in ttnn.get_device_tensors(t)]


# ----------------------------------------------------------------------------- mappers / composers


def test_shard_and_concat_round_trip_exactly(t3k):
    x = torch.randn(1, 2, 64, 256)
    for dim in (1, 2, 3):
        parts = 8 if dim != 1 else None
        if dim == 1:
            x1 = torch.randn(1, 8, 32, 64)
            t = ttnn.from_torch(x1, device=t3k, mesh_mapper=ttnn.ShardTensorToMesh(t3k, dim=1), **TILE)
            assert list(t.shape) == [1, 1, 32, 64]
            assert torch.equal(ttnn.to_torch(t, mesh_composer=ttnn.ConcatMeshToTensor(t3k, dim=1)), bf16(x1))
            continue
        t = ttnn.from_torch(x, device=t3k, mesh_mapper=ttnn.ShardTensorToMesh(t3k, dim=dim), **TILE)
        expect = list(x.shape)
        expect[dim] //= parts
        assert list(t.shape) == expect
        for c, part in enumerate(chips(t)):  # row-major chip order
            assert torch.equal(part, bf16(torch.chunk(x, 8, dim=dim)[c]))
        assert torch.equal(ttnn.to_torch(t, mesh_composer=ttnn.ConcatMeshToTensor(t3k, dim=dim)), bf16(x))


def test_replicated_tensor_is_whole_on_every_chip_and_needs_a_composer(n300):
    x = torch.randn(1, 1, 32, 64)
    for mapper in (None, ttnn.ReplicateTensorToMesh(n300), ttnn.replicate_tensor_to_mesh_mapper(n300)):
        t = ttnn.from_torch(x, device=n300, mesh_mapper=mapper, **TILE)
        assert list(t.shape) == [1, 1, 32, 64]
        assert all(torch.equal(p, bf16(x)) for p in chips(t))
        with pytest.raises(TTError, match="without a mesh_composer"):
            ttnn.to_torch(t)
        both = ttnn.to_torch(t, mesh_composer=ttnn.ConcatMeshToTensor(n300, dim=0))
        assert torch.equal(both, bf16(torch.cat([x, x])))


def test_2d_mapper_and_composer(t3k):
    x = torch.randn(1, 1, 64, 256)
    t = ttnn.from_torch(x, device=t3k, mesh_mapper=ttnn.ShardTensor2dMesh(t3k, mesh_shape=(2, 4), dims=(2, 3)), **TILE)
    assert list(t.shape) == [1, 1, 32, 64]
    parts = chips(t)
    for r in range(2):
        for c in range(4):
            assert torch.equal(parts[r * 4 + c], bf16(x[..., r * 32:(r + 1) * 32, c * 64:(c + 1) * 64]))
    back = ttnn.to_torch(t, mesh_composer=ttnn.ConcatMesh2dToTensor(t3k, mesh_shape=(2, 4), dims=(2, 3)))
    assert torch.equal(back, bf16(x))
    cfg = ttnn.create_mesh_composer(t3k, ttnn.MeshComposerConfig([2, 3]))
    assert torch.equal(ttnn.to_torch(t, mesh_composer=cfg), bf16(x))
    # replicate over rows, shard over columns
    rep = ttnn.from_torch(x, device=t3k, mesh_mapper=ttnn.create_mesh_mapper(
        t3k, ttnn.MeshMapperConfig([ttnn.PlacementReplicate(), ttnn.PlacementShard(3)])), **TILE)
    parts = chips(rep)
    assert list(rep.shape) == [1, 1, 64, 64]
    assert torch.equal(parts[1], parts[5]) and torch.equal(parts[1], bf16(x[..., 64:128]))


def test_uneven_shard_is_refused(n300):
    with pytest.raises(TTError, match="equal shards"):
        ttnn.from_torch(torch.randn(1, 1, 32, 33), device=n300, mesh_mapper=ttnn.ShardTensorToMesh(n300, dim=3), **TILE)


def test_host_sharded_tensor_goes_to_the_mesh_and_back(n300):
    x = torch.randn(1, 1, 32, 128)
    host = ttnn.from_torch(x, mesh_mapper=ttnn.ShardTensorToMesh(n300, dim=3), **TILE)
    assert host.storage_type() == "HOST" and list(host.shape) == [1, 1, 32, 64]
    with pytest.raises(TTError, match="without a mesh_composer"):
        ttnn.to_torch(host)
    dev = ttnn.to_device(host, n300)
    assert torch.equal(ttnn.to_torch(ttnn.from_device(dev), mesh_composer=ttnn.ConcatMeshToTensor(n300, dim=3)),
                       bf16(x))


def test_block_float_shards_equal_per_chip_quantisation(n300):
    x = torch.randn(1, 1, 64, 256)
    t = ttnn.from_torch(x, dtype=ttnn.bfloat8_b, layout=ttnn.TILE_LAYOUT, device=n300,
                        mesh_mapper=ttnn.ShardTensorToMesh(n300, dim=3))
    for c, part in enumerate(chips(t)):
        alone = ttnn.to_torch(ttnn.from_torch(x[..., c * 128:(c + 1) * 128], dtype=ttnn.bfloat8_b,
                                              layout=ttnn.TILE_LAYOUT))
        assert torch.equal(part, alone)


def test_combine_device_tensors_inverts_get_device_tensors(n300):
    x = torch.randn(1, 1, 32, 128)
    t = ttnn.from_torch(x, device=n300, mesh_mapper=ttnn.ShardTensorToMesh(n300, dim=3), **TILE)
    back = ttnn.combine_device_tensors(tensors=ttnn.get_device_tensors(t))
    assert torch.equal(ttnn.to_torch(back, mesh_composer=ttnn.ConcatMeshToTensor(n300, dim=3)), bf16(x))
    with pytest.raises(TTError, match="get_device_tensors"):
        ttnn.add(ttnn.get_device_tensors(t)[0], 1.0)


# ----------------------------------------------------------------------------- ops per chip


def test_ops_run_per_chip_on_each_shard(t3k, pcc):
    x = torch.randn(1, 1, 32, 512)
    w = torch.randn(512, 256)
    xs = ttnn.from_torch(x, device=t3k, mesh_mapper=ttnn.ShardTensorToMesh(t3k, dim=3), **TILE)
    ws = ttnn.from_torch(w.reshape(1, 1, 512, 256), device=t3k, mesh_mapper=ttnn.ShardTensorToMesh(t3k, dim=2), **TILE)
    partial = ttnn.linear(xs, ws)  # row-parallel: each chip multiplies its slice of K
    assert list(partial.shape) == [1, 1, 32, 256]
    for c, part in enumerate(chips(partial)):
        expect = bf16(x)[..., c * 64:(c + 1) * 64].float() @ bf16(w)[c * 64:(c + 1) * 64].float()
        assert pcc(expect, part.float()) > 0.9999
    act = ttnn.silu(xs)
    assert torch.equal(ttnn.to_torch(act, mesh_composer=ttnn.ConcatMeshToTensor(t3k, dim=3)),
                       torch.nn.functional.silu(bf16(x).float()).bfloat16())
    summed = ttnn.add(xs, 1.0)
    assert torch.equal(ttnn.to_torch(summed, mesh_composer=ttnn.ConcatMeshToTensor(t3k, dim=3)),
                       (bf16(x).float() + 1).bfloat16())


def test_replicated_inputs_run_once_and_stay_replicated(n300):
    x = ttnn.from_torch(torch.randn(1, 1, 32, 64), device=n300, **TILE)
    y = ttnn.mul(x, x)
    assert not y.is_distributed()
    a, b = chips(y)
    assert torch.equal(a, b)


def test_in_place_cache_write_on_a_replicated_cache_gives_each_chip_its_own(n300):
    cache = ttnn.zeros((1, 2, 64, 32), device=n300, **TILE)  # one KV head per chip after sharding
    k = torch.randn(1, 4, 32, 32)
    ks = ttnn.from_torch(k, device=n300, mesh_mapper=ttnn.ShardTensorToMesh(n300, dim=1), **TILE)
    out = ttnn.fill_cache(cache, ks, batch_idx=0)
    assert out is cache
    parts = chips(cache)
    for c in range(2):
        assert torch.equal(parts[c][0, :, :32], bf16(k[0, 2 * c:2 * c + 2]))
        assert torch.all(parts[c][0, :, 32:] == 0)


def test_per_chip_memory_sharded_is_one_nth(t3k):
    shape = (1, 1, 1024, 2048)
    before = [u["dram"]["used"] for u in usage(t3k)]
    rep = ttnn.from_torch(torch.empty(shape, device="meta"), device=t3k, **TILE)
    rep_cost = [u["dram"]["used"] - b for u, b in zip(usage(t3k), before)]
    shard = ttnn.from_torch(torch.empty(shape, device="meta"), device=t3k,
                            mesh_mapper=ttnn.ShardTensorToMesh(t3k, dim=3), **TILE)
    shard_cost = [u["dram"]["used"] - r - b for u, r, b in zip(usage(t3k), rep_cost, before)]
    banks, tile_bytes = 12, 2048
    assert rep_cost == [-(-2048 // banks) * banks * tile_bytes] * 8  # all 2048 tiles on every chip
    assert shard_cost == [-(-256 // banks) * banks * tile_bytes] * 8  # 2048 / 8 tiles per chip
    ttnn.deallocate(rep)
    ttnn.deallocate(shard)
    assert [u["dram"]["used"] for u in usage(t3k)] == before


def test_out_of_memory_names_the_chip(n300):
    big = (1, 1, 32 * 1024, 96 * 1024)  # 6 GiB of bf16 per chip when replicated, 3 GiB sharded
    keep = [ttnn.from_torch(torch.empty(big, device="meta"), device=n300, **TILE)]
    with pytest.raises(OutOfMemoryError, match="on chip 0"):
        keep.append(ttnn.from_torch(torch.empty(big, device="meta"), device=n300, **TILE))
    keep.append(ttnn.from_torch(torch.empty(big, device="meta"), device=n300,
                                mesh_mapper=ttnn.ShardTensorToMesh(n300, dim=3), **TILE))


# ----------------------------------------------------------------------------- collectives


def test_all_gather_all_reduce_reduce_scatter_against_torch(t3k):
    x = torch.randn(8, 1, 32, 64)  # chip c holds x[c]
    t = ttnn.from_torch(x, dtype=ttnn.float32, layout=ttnn.TILE_LAYOUT, device=t3k,
                        mesh_mapper=ttnn.ShardTensorToMesh(t3k, dim=0))
    row = lambda c: [x[i:i + 1] for i in range(4 * (c // 4), 4 * (c // 4) + 4)]  # noqa: E731
    col = lambda c: [x[i:i + 1] for i in (c % 4, 4 + c % 4)]  # noqa: E731
    gathered = chips(ttnn.all_gather(t, dim=3, cluster_axis=1))
    for c in range(8):
        assert torch.equal(gathered[c], torch.cat(row(c), dim=3))
    reduced = chips(ttnn.all_reduce(t))
    total = x.double().sum(0, keepdim=True).float()
    assert all(torch.allclose(r, total, atol=1e-5) for r in reduced)
    by_col = chips(ttnn.all_reduce(t, cluster_axis=0))
    for c in range(8):
        assert torch.allclose(by_col[c], sum(p.double() for p in col(c)).float(), atol=1e-5)
    scattered = chips(ttnn.reduce_scatter(t, dim=3, cluster_axis=1))
    for c in range(8):
        part = sum(p.double() for p in row(c)).float()[..., (c % 4) * 16:(c % 4 + 1) * 16]
        assert torch.allclose(scattered[c], part, atol=1e-5)


def test_bf16_all_reduce_rounds_the_float32_sum_once(n300):
    x = torch.randn(2, 1, 32, 64)
    t = ttnn.from_torch(x, device=n300, mesh_mapper=ttnn.ShardTensorToMesh(n300, dim=0), **TILE)
    out = chips(ttnn.all_reduce(t))
    want = (bf16(x[0:1]).float() + bf16(x[1:2]).float()).bfloat16()
    assert torch.equal(out[0], want) and torch.equal(out[1], want)


@pytest.mark.parametrize("call,match", [
    (lambda t: ttnn.all_gather(t, dim=3), "requires cluster_axis"),
    (lambda t: ttnn.all_gather(t, dim=4, cluster_axis=1), "Invalid gather dim 4"),
    (lambda t: ttnn.all_gather(t, dim=3, cluster_axis=2), "index out of range"),
    (lambda t: ttnn.all_reduce(t, cluster_axis=1, num_links=3), "out of bounds"),
    (lambda t: ttnn.reduce_scatter(t, dim=1, cluster_axis=1), "input_shape\\[dim\\] % ring_size"),
])
def test_collective_preconditions_on_a_2x4_mesh_with_1d_fabric(t3k, call, match):
    t = ttnn.from_torch(torch.randn(1, 1, 32, 512), device=t3k, mesh_mapper=ttnn.ShardTensorToMesh(t3k, dim=3), **TILE)
    with pytest.raises(TTError, match=match):
        call(t)


def test_collectives_need_a_fabric_and_more_than_one_chip():
    mesh = ttnn.open_mesh_device(ttnn.MeshShape(1, 2))
    try:
        t = ttnn.from_torch(torch.randn(1, 1, 32, 64), device=mesh, **TILE)
        with pytest.raises(TTError, match="un-initialized fabric context"):
            ttnn.all_reduce(t)
        ttnn.set_fabric_config(ttnn.FabricConfig.FABRIC_1D)
        with pytest.raises(TTError, match="num_devices > 1, got 1"):
            ttnn.all_gather(t, dim=3, cluster_axis=0)
        with pytest.raises(TTError, match="forward_coordinate"):
            ttnn.all_reduce(t, cluster_axis=0)
    finally:
        ttnn.close_mesh_device(mesh)
        ttnn.set_fabric_config(ttnn.FabricConfig.DISABLED)


def test_2d_fabric_gathers_the_whole_2x4_mesh():
    ttnn.set_fabric_config(ttnn.FabricConfig.FABRIC_2D)
    mesh = ttnn.open_mesh_device(ttnn.MeshShape(2, 4))
    try:
        x = torch.randn(1, 1, 32, 512)
        t = ttnn.from_torch(x, device=mesh, mesh_mapper=ttnn.ShardTensorToMesh(mesh, dim=3), **TILE)
        g = ttnn.all_gather(t, dim=3)
        assert not g.is_distributed() and torch.equal(chips(g)[5], bf16(x))
    finally:
        ttnn.close_mesh_device(mesh)
        ttnn.set_fabric_config(ttnn.FabricConfig.DISABLED)


@pytest.mark.parametrize("parallel", ["column", "row"])
def test_tensor_parallel_linear_equals_each_chip_alone(t3k, parallel):
    """The all-chips linear (one matmul over the chips' weights side by side, or one batched matmul) gives what
    each chip's own linear gives, up to float32 summation order (decode-shaped: idle rows repeat the last)."""
    k, n = 1024, 2048
    x = torch.randn(1, 1, 32, k)
    x[..., 2:, :] = x[..., -1:, :]
    w = torch.randn(k, n) / 32
    if parallel == "column":
        xt = ttnn.from_torch(x, device=t3k, **TILE)
        wt = ttnn.from_torch(w.reshape(1, 1, k, n), device=t3k, mesh_mapper=ttnn.ShardTensorToMesh(t3k, dim=3), **TILE)
        parts = [(bf16(x).float(), bf16(w[:, c * n // 8:(c + 1) * n // 8]).float()) for c in range(8)]
    else:
        xt = ttnn.from_torch(x, device=t3k, mesh_mapper=ttnn.ShardTensorToMesh(t3k, dim=3), **TILE)
        wt = ttnn.from_torch(w.reshape(1, 1, k, n), device=t3k, mesh_mapper=ttnn.ShardTensorToMesh(t3k, dim=2), **TILE)
        parts = [(bf16(x[..., c * k // 8:(c + 1) * k // 8]).float(), bf16(w[c * k // 8:(c + 1) * k // 8]).float())
                 for c in range(8)]
    got = chips(ttnn.linear(xt, wt))
    for c, (xc, wc) in enumerate(parts):
        want = (xc.double() @ wc.double()).float()
        assert torch.allclose(got[c].float(), want, rtol=2 ** -7, atol=1e-6), c  # within one bf16 rounding
        exact = (xc @ wc).bfloat16()
        assert (got[c] != exact).float().mean() < 0.01  # summation order moves only rare ties


def test_reshape_transpose_rotary_on_all_chips_equal_each_chip_alone(t3k):
    """The all-chips forms (one torch call for every chip) give exactly what each chip computes alone."""
    x = torch.randn(1, 32, 8, 64)  # decode heads: 32 users, one head per chip after sharding dim 2
    cos, sin = torch.randn(1, 1, 64, 64), torch.randn(1, 1, 64, 64)
    xt = ttnn.from_torch(x, device=t3k, mesh_mapper=ttnn.ShardTensorToMesh(t3k, dim=2), **TILE)
    ct, st = (ttnn.from_torch(v, device=t3k, **TILE) for v in (cos, sin))
    merged = ttnn.reshape(xt, (1, 1, 32, 64))
    rotated = ttnn.experimental.rotary_embedding(merged, ct, st, 5)
    swapped = ttnn.transpose(xt, 1, 2)
    for c in range(8):
        alone = ttnn.from_torch(x[:, :, c:c + 1], **TILE)
        assert torch.equal(chips(merged)[c], ttnn.to_torch(alone).reshape(1, 1, 32, 64))
        assert torch.equal(chips(swapped)[c], ttnn.to_torch(alone).transpose(1, 2))
    half = 32
    for c, got in enumerate(chips(rotated)):
        xc = bf16(x[:, :, c:c + 1]).float().reshape(1, 1, 32, 64)
        cs, sn = bf16(cos[..., 5:6, :]).float(), bf16(sin[..., 5:6, :]).float()
        want = (xc * cs + torch.cat([-xc[..., half:], xc[..., :half]], dim=-1) * sn).bfloat16()
        assert torch.equal(got, want), c


@pytest.mark.parametrize("cache_dtype", [ttnn.bfloat16, ttnn.bfloat8_b])
def test_decode_attention_on_all_chips_equals_each_chip_alone(fabric, cache_dtype):
    """Tensor-parallel decode SDPA (heads split over the chips, GQA 2 query heads per kv head, users at different
    positions) computed for every chip at once gives exactly what one device computes from that chip's heads, and
    that is torch's attention within one bf16 rounding."""
    users, nh, nkv, seq, hd = 4, 16, 8, 96, 64
    q = torch.randn(1, users, nh, hd)
    k, v = torch.randn(users, nkv, seq, hd), torch.randn(users, nkv, seq, hd)
    cur_pos = [5, 40, 95, 0]
    one = ttnn.open_device(device_id=0)
    alone = []
    try:
        for c in range(8):
            qc = ttnn.from_torch(q[:, :, 2 * c:2 * c + 2], device=one, **TILE)
            kc, vc = (ttnn.from_torch(x[:, c:c + 1], device=one, dtype=cache_dtype, layout=ttnn.TILE_LAYOUT)
                      for x in (k, v))
            alone.append(ttnn.to_torch(ttnn.transformer.scaled_dot_product_attention_decode(qc, kc, vc,
                                                                                             cur_pos=cur_pos)))
            kd, vd = (ttnn.to_torch(x).double() for x in (kc, vc))  # the cache as stored (bf16 / bfp8 rounded)
            for b, p in enumerate(cur_pos):
                qb = bf16(q[0, b, 2 * c:2 * c + 2]).double()
                attn = torch.softmax(qb @ kd[b, 0, :p + 1].T / hd ** 0.5, dim=-1) @ vd[b, 0, :p + 1]
                assert torch.allclose(alone[c][0, b].double(), attn, rtol=2 ** -7, atol=1e-3), (c, b)
    finally:
        ttnn.close_device(one)
    t3k = _mesh((2, 4))
    try:
        qt = ttnn.from_torch(q, device=t3k, mesh_mapper=ttnn.ShardTensorToMesh(t3k, dim=2), **TILE)
        kt, vt = (ttnn.from_torch(x, device=t3k, mesh_mapper=ttnn.ShardTensorToMesh(t3k, dim=1), dtype=cache_dtype,
                                  layout=ttnn.TILE_LAYOUT) for x in (k, v))
        pos = ttnn.from_torch(torch.tensor(cur_pos, dtype=torch.int32), device=t3k, dtype=ttnn.int32)
        by_list = chips(ttnn.transformer.scaled_dot_product_attention_decode(qt, kt, vt, cur_pos=cur_pos))
        by_tensor = chips(ttnn.transformer.scaled_dot_product_attention_decode(qt, kt, vt, cur_pos_tensor=pos))
    finally:
        ttnn.close_mesh_device(t3k)
    for c in range(8):
        assert torch.equal(by_list[c], alone[c]) and torch.equal(by_tensor[c], alone[c]), c


def test_decode_attention_skips_users_on_all_chips(t3k):
    """Position -1 (through the tensor) skips a user on every chip: its rows are zeros, the others attend."""
    q, k, v = torch.randn(1, 2, 8, 32), torch.randn(2, 8, 64, 32), torch.randn(2, 8, 64, 32)
    mapper = ttnn.ShardTensorToMesh
    qt = ttnn.from_torch(q, device=t3k, mesh_mapper=mapper(t3k, dim=2), **TILE)
    kt, vt = (ttnn.from_torch(x, device=t3k, mesh_mapper=mapper(t3k, dim=1), **TILE) for x in (k, v))
    pos = ttnn.from_torch(torch.tensor([-1, 10], dtype=torch.int32), device=t3k, dtype=ttnn.int32)
    for c, got in enumerate(chips(ttnn.transformer.scaled_dot_product_attention_decode(qt, kt, vt,
                                                                                        cur_pos_tensor=pos))):
        assert torch.equal(got[0, 0], torch.zeros(1, 32, dtype=torch.bfloat16)), c
        assert got[0, 1].abs().sum() > 0, c


def test_decode_attention_with_a_replicated_cache_on_all_chips(t3k):
    """Fewer kv heads than chips: the cache is replicated and every chip's query heads read the same kv head."""
    q, k, v = torch.randn(1, 2, 8, 32), torch.randn(2, 1, 64, 32), torch.randn(2, 1, 64, 32)
    qt = ttnn.from_torch(q, device=t3k, mesh_mapper=ttnn.ShardTensorToMesh(t3k, dim=2), **TILE)
    kt, vt = (ttnn.from_torch(x, device=t3k, **TILE) for x in (k, v))
    cur_pos = [63, 7]
    got = chips(ttnn.transformer.scaled_dot_product_attention_decode(qt, kt, vt, cur_pos=cur_pos))
    for c in range(8):
        for b, p in enumerate(cur_pos):
            kd, vd = bf16(k[b, 0, :p + 1]).double(), bf16(v[b, 0, :p + 1]).double()
            want = torch.softmax(bf16(q[0, b, c:c + 1]).double() @ kd.T / 32 ** 0.5, dim=-1) @ vd
            assert torch.allclose(got[c][0, b].double(), want, rtol=2 ** -7, atol=1e-3), (c, b)


@pytest.mark.parametrize("cache_dtype", [ttnn.bfloat16, ttnn.bfloat8_b])
@pytest.mark.parametrize("paged", [False, True])
def test_paged_update_cache_on_all_chips_equals_each_chip_alone(fabric, cache_dtype, paged):
    """A tensor-parallel cache update (kv heads split over the chips, per-user positions, one user skipped; paged
    or not) written for every chip at once leaves each chip's cache exactly as one device's update does."""
    from ttbringup.emu.core import height_sharded_config

    users, nkv, seq, hd = 4, 8, 64, 64
    cache = torch.randn(users * 2 if paged else users, nkv, 32 if paged else seq, hd)
    x = torch.randn(1, users, nkv, hd)
    positions = [3, -1, 63, 40]
    table = torch.randperm(users * 2).reshape(users, 2).to(torch.int32) if paged else None
    sharded = height_sharded_config(users, (32, hd))

    def update(device, cache_t, x_t):
        pos = ttnn.from_torch(torch.tensor(positions, dtype=torch.int32), dtype=ttnn.int32, device=device)
        pt = None if table is None else ttnn.from_torch(table, dtype=ttnn.int32, device=device)
        assert ttnn.experimental.paged_update_cache(cache_t, x_t, update_idxs_tensor=pos, page_table=pt) is cache_t

    one = ttnn.open_device(device_id=0)
    alone = []
    try:
        for c in range(8):
            cache_c = ttnn.from_torch(cache[:, c:c + 1], dtype=cache_dtype, layout=ttnn.TILE_LAYOUT, device=one)
            update(one, cache_c, ttnn.from_torch(x[:, :, c:c + 1], device=one, memory_config=sharded, **TILE))
            alone.append(ttnn.to_torch(cache_c))
    finally:
        ttnn.close_device(one)
    t3k = _mesh((2, 4))
    try:
        cache_t = ttnn.from_torch(cache, dtype=cache_dtype, layout=ttnn.TILE_LAYOUT, device=t3k,
                                  mesh_mapper=ttnn.ShardTensorToMesh(t3k, dim=1))
        x_t = ttnn.from_torch(x, device=t3k, memory_config=sharded, mesh_mapper=ttnn.ShardTensorToMesh(t3k, dim=2),
                              **TILE)
        update(t3k, cache_t, x_t)
        got = chips(cache_t)
    finally:
        ttnn.close_mesh_device(t3k)
    for c in range(8):
        assert torch.equal(got[c], alone[c]), c
        assert not torch.equal(got[c], ttnn.to_torch(ttnn.from_torch(cache[:, c:c + 1], dtype=cache_dtype,
                                                                      layout=ttnn.TILE_LAYOUT))), c  # it wrote


def test_head_split_merge_and_concat_on_all_chips_equal_each_chip_alone(fabric):
    """The decode head split, the head merge and concat of tensor-parallel activations, every chip at once, give
    exactly what one device gives for that chip's part (and the split is torch's view of the fused rows)."""
    users, nh, nkv, hd = 8, 16, 8, 64  # per chip: 2 query heads, 1 kv head
    fused = torch.randn(1, 1, users, 8 * (2 + 2) * hd)  # chip c's columns: its q, k, v heads
    heads = torch.randn(users, nh, 5, hd)
    a, b = torch.randn(1, 1, 32, 8 * 64), torch.randn(1, 1, 32, 8 * 32)

    def run(device, fused_t, heads_t, a_t, b_t):
        q, k, v = ttnn.experimental.nlp_create_qkv_heads_decode(fused_t, num_heads=2, num_kv_heads=1)
        return [q, k, v, ttnn.experimental.nlp_concat_heads(heads_t), ttnn.concat([a_t, b_t], dim=-1)]

    one = ttnn.open_device(device_id=0)
    alone = []
    try:
        for c in range(8):
            cols = lambda x: x[..., c * x.shape[-1] // 8:(c + 1) * x.shape[-1] // 8]  # noqa: E731
            outs = run(one, ttnn.from_torch(cols(fused), device=one, **TILE),
                       ttnn.from_torch(heads[:, 2 * c:2 * c + 2], device=one, **TILE),
                       ttnn.from_torch(cols(a), device=one, **TILE), ttnn.from_torch(cols(b), device=one, **TILE))
            alone.append([ttnn.to_torch(o) for o in outs])
            rows = bf16(cols(fused))[0, 0].reshape(users, 4, hd)
            assert torch.equal(alone[c][0][0], rows[:, :2]) and torch.equal(alone[c][2][0], rows[:, 3:])
    finally:
        ttnn.close_device(one)
    t3k = _mesh((2, 4))
    try:
        last = ttnn.ShardTensorToMesh(t3k, dim=3)
        outs = run(t3k, ttnn.from_torch(fused, device=t3k, mesh_mapper=last, **TILE),
                   ttnn.from_torch(heads, device=t3k, mesh_mapper=ttnn.ShardTensorToMesh(t3k, dim=1), **TILE),
                   ttnn.from_torch(a, device=t3k, mesh_mapper=last, **TILE),
                   ttnn.from_torch(b, device=t3k, mesh_mapper=last, **TILE))
        got = [chips(o) for o in outs]
        specs = [(o.shape, o.padded_shape, o.memory_config()) for o in outs]
    finally:
        ttnn.close_mesh_device(t3k)
    for c in range(8):
        for i, want in enumerate(alone[c]):
            assert torch.equal(got[i][c], want), (c, i)
    assert specs[0][2].memory_layout == ttnn.TensorMemoryLayout.HEIGHT_SHARDED
