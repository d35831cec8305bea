"""Differential cases for the API surface around the ops (issue 16, step 2): program configs accepted and refused by
matmul / linear / SDPA, core-grid helpers, device allocation, slice_write, fill_implicit_tile_padding,
scale_mask_softmax, tensor files and the as_tensor cache, golden functions.

Registered into ``cases.CASES`` (``cases.py`` imports this module). Results that are not tensors are returned as
plain tuples, so the harness compares their values.
"""

from __future__ import annotations

import inspect
import os
import tempfile

import torch

from cases import ERR, OK, H, case


def _ranges(crs):
    """A CoreRangeSet as a sorted tuple of ((x0, y0), (x1, y1))."""
    return tuple(sorted(((r.start.x, r.start.y), (r.end.x, r.end.y)) for r in crs.ranges()))


def _cores(crs):
    return tuple(sorted((x, y) for r in crs.ranges() for y in range(r.start.y, r.end.y + 1)
                        for x in range(r.start.x, r.end.x + 1)))


def _crs(ttnn, *boxes):
    CC = ttnn.CoreCoord
    return ttnn.CoreRangeSet({ttnn.CoreRange(CC(x0, y0), CC(x1, y1)) for (x0, y0, x1, y1) in boxes})


# =================================================================================================================
# matmul program configs: a [1,1,64,256] @ [1,1,256,512] bf16 (Mt=2, Kt=8, Nt=16)
def _mm(ttnn, d):
    h = H(ttnn, d)
    return h.tt(1, 1, 64, 256), h.tt(1, 1, 256, 512)


def _p2(ttnn, **kw):
    base = dict(compute_with_storage_grid_size=ttnn.CoreCoord(8, 2), in0_block_w=2, out_subblock_h=1, out_subblock_w=2,
                per_core_M=1, per_core_N=2, transpose_mcast=False, fused_activation=None)
    return ttnn.MatmulMultiCoreReuseMultiCastProgramConfig(**{**base, **kw})


def _p1(ttnn, **kw):
    base = dict(compute_with_storage_grid_size=ttnn.CoreCoord(8, 1), in0_block_w=2, out_subblock_h=1, out_subblock_w=2,
                per_core_M=2, per_core_N=2, fuse_batch=True, fused_activation=None, mcast_in0=True)
    return ttnn.MatmulMultiCoreReuseMultiCast1DProgramConfig(**{**base, **kw})


_P2_CASES = {  # name -> (expect, config fields)
    "p2_ok": (OK, {}),
    "p2_in0_block_w_not_dividing_k": (ERR, {"in0_block_w": 3}),
    "p2_in0_block_w_whole_k": (OK, {"in0_block_w": 8}),
    "p2_subblock_w_not_dividing_per_core_n": (ERR, {"per_core_N": 4, "out_subblock_w": 3,
                                                    "compute_with_storage_grid_size": (4, 2)}),
    "p2_subblock_too_large": (ERR, {"per_core_N": 16, "out_subblock_w": 16, "compute_with_storage_grid_size": (1, 2)}),
    "p2_subblock_h_above_per_core_m": (ERR, {"out_subblock_h": 2}),
    "p2_grid_too_few_rows": (ERR, {"compute_with_storage_grid_size": (8, 1)}),
    "p2_grid_too_few_columns": (ERR, {"compute_with_storage_grid_size": (4, 2)}),
    "p2_grid_beyond_device": (ERR, {"compute_with_storage_grid_size": (9, 2)}),
    "p2_grid_larger_than_needed": (OK, {"compute_with_storage_grid_size": (8, 8)}),
    "p2_out_block_w_not_dividing": (ERR, {"out_block_w": 3}),
    "p2_transpose_mcast_grid_2x8": (OK, {"transpose_mcast": True, "compute_with_storage_grid_size": (2, 8)}),
}
for _name, (_expect, _fields) in _P2_CASES.items():
    for _op in ("matmul", "linear"):
        def _fn(ttnn, d, _op=_op, _fields=_fields):
            a, b = _mm(ttnn, d)
            fields = {k: ttnn.CoreCoord(*v) if k == "compute_with_storage_grid_size" else v for k, v in _fields.items()}
            return getattr(ttnn, _op)(a, b, program_config=_p2(ttnn, **fields))
        case(_op, _name, _expect)(_fn)


_P1_CASES = {
    "p1_mcast_in0_ok": (OK, {}),
    "p1_mcast_in1_ok": (OK, {"mcast_in0": False, "per_core_M": 1, "per_core_N": 16, "out_subblock_w": 8,
                             "compute_with_storage_grid_size": (2, 1)}),
    "p1_too_few_cores": (ERR, {"compute_with_storage_grid_size": (4, 1)}),
    "p1_in0_block_w_not_dividing_k": (ERR, {"in0_block_w": 3}),
    "p1_per_core_m_too_small": (ERR, {"per_core_M": 1}),
    "p1_subblock_w_not_dividing": (ERR, {"out_subblock_w": 3}),
}
for _name, (_expect, _fields) in _P1_CASES.items():
    for _op in ("matmul", "linear"):
        def _fn(ttnn, d, _op=_op, _fields=_fields):
            a, b = _mm(ttnn, d)
            fields = {k: ttnn.CoreCoord(*v) if k == "compute_with_storage_grid_size" else v for k, v in _fields.items()}
            return getattr(ttnn, _op)(a, b, program_config=_p1(ttnn, **fields))
        case(_op, _name, _expect)(_fn)


@case("linear", "dram_sharded_config_on_interleaved_inputs", ERR)
def _(ttnn, d):
    a, b = _mm(ttnn, d)
    cfg = ttnn.MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig(in0_block_w=1, per_core_M=1, per_core_N=2,
                                                                        fused_activation=None)
    return ttnn.linear(a, b, program_config=cfg)


@case("matmul", "program_config_of_the_wrong_type", ERR)
def _(ttnn, d):
    a, b = _mm(ttnn, d)
    return ttnn.matmul(a, b, program_config=ttnn.CoreGrid(x=8, y=8))


@case("linear", "program_config_fields", OK)
def _(ttnn, d):
    p2 = _p2(ttnn)
    p1 = _p1(ttnn)
    dram = ttnn.MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig(in0_block_w=1, per_core_M=1, per_core_N=2,
                                                                         fused_activation=None)
    return ((p2.in0_block_w, p2.out_block_h, p2.out_block_w, p2.per_core_M, p2.per_core_N, p2.transpose_mcast,
             p2.fuse_batch, p2.compute_with_storage_grid_size.x),
            (p1.mcast_in0, p1.gather_in0, p1.num_global_cb_receivers, p1.untilize_out, p1.out_block_h, p1.fuse_batch,
             p1.stream_in1, p1.allowed_worker_cores, p1.hop_cores.empty()),
            (dram.in0_block_w, dram.per_core_M, dram.per_core_N, dram.num_workers_per_dram_bank, dram.fused_activation),
            (p2.allowed_worker_cores, p2.fused_activation))


# =================================================================================================================
# SDPA program config: q [1,8,128,64], k = v [1,2,128,64]
def _sdpa(ttnn, d, **kw):
    h = H(ttnn, d)
    fields = dict(compute_with_storage_grid_size=ttnn.CoreCoord(8, 8), q_chunk_size=32, k_chunk_size=32)
    is_causal = kw.pop("is_causal", True)
    cfg = ttnn.SDPAProgramConfig(**{**fields, **kw})
    k = h.tt(1, 2, 128, 64)
    return ttnn.transformer.scaled_dot_product_attention(h.tt(1, 8, 128, 64), k, k, is_causal=is_causal,
                                                         program_config=cfg)


for _name, _expect, _kw in (
        ("config_ok", OK, {}),
        ("config_q_chunk_not_tile_multiple", ERR, {"q_chunk_size": 48}),
        ("config_k_chunk_not_tile_multiple", ERR, {"k_chunk_size": 48}),
        ("config_chunks_longer_than_seq", OK, {"q_chunk_size": 256, "k_chunk_size": 256}),
        ("config_q64_k128", OK, {"q_chunk_size": 64, "k_chunk_size": 128}),
        ("config_non_causal_q96", OK, {"q_chunk_size": 96, "is_causal": False}),
        ("config_grid_beyond_device", ERR, {"compute_with_storage_grid_size": (9, 8)}),
        ("config_grid_1x1", OK, {"compute_with_storage_grid_size": (1, 1)}),
        ("config_exp_approx", OK, {"exp_approx_mode": True}),
):
    def _fn(ttnn, d, _kw=_kw):
        kw = dict(_kw)
        if "compute_with_storage_grid_size" in kw:
            kw["compute_with_storage_grid_size"] = ttnn.CoreCoord(*kw["compute_with_storage_grid_size"])
        return _sdpa(ttnn, d, **kw)
    case("transformer.scaled_dot_product_attention", _name, _expect)(_fn)


@case("transformer.scaled_dot_product_attention_decode", "config_ok", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    kc = h.tt(32, 2, 256, 64)
    cfg = ttnn.SDPAProgramConfig(compute_with_storage_grid_size=ttnn.CoreCoord(8, 8), q_chunk_size=32, k_chunk_size=64)
    return ttnn.transformer.scaled_dot_product_attention_decode(h.tt(1, 32, 8, 64), kc, kc, cur_pos=[5] * 32,
                                                                program_config=cfg)


@case("transformer.scaled_dot_product_attention_decode", "config_k_chunk_not_power_of_two", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    kc = h.tt(32, 2, 256, 64)
    cfg = ttnn.SDPAProgramConfig(compute_with_storage_grid_size=ttnn.CoreCoord(8, 8), q_chunk_size=32, k_chunk_size=48)
    return ttnn.transformer.scaled_dot_product_attention_decode(h.tt(1, 32, 8, 64), kc, kc, cur_pos=[5] * 32,
                                                                program_config=cfg)


# =================================================================================================================
# core grids
@case("num_cores_to_corerangeset", "shapes", OK)
def _(ttnn, d):
    CC = ttnn.CoreCoord
    return tuple(_ranges(ttnn.num_cores_to_corerangeset(n, CC(gx, gy), row_wise))
                 for n, gx, gy in ((1, 8, 8), (5, 8, 8), (8, 8, 8), (12, 8, 8), (64, 8, 8), (10, 4, 3))
                 for row_wise in (False, True))


@case("num_cores_to_corerangeset", "keywords", OK)
def _(ttnn, d):
    return _ranges(ttnn.num_cores_to_corerangeset(target_num_cores=3, grid_size=ttnn.CoreCoord(8, 8), row_wise=True))


@case("num_cores_to_corerangeset", "more_than_the_grid", ERR)
def _(ttnn, d):
    return ttnn.num_cores_to_corerangeset(65, ttnn.CoreCoord(8, 8))


@case("num_cores_to_corerangeset", "core_range_set_methods", OK)
def _(ttnn, d):
    CC, CR = ttnn.CoreCoord, ttnn.CoreRange
    s = _crs(ttnn, (0, 0, 3, 0), (0, 1, 1, 2), (5, 5, 6, 6))
    box = s.bounding_box()
    return (s.size(), s.num_cores(), s.empty(), ttnn.CoreRangeSet(set()).empty(),
            ((box.start.x, box.start.y), (box.end.x, box.end.y)),
            s.contains(CC(1, 2)), s.contains(CC(2, 2)), s.contains(CR(CC(0, 0), CC(1, 1))),
            s.contains(CR(CC(0, 0), CC(2, 1))), s.contains(_crs(ttnn, (0, 0, 1, 0), (6, 6, 6, 6))),
            (CR(CC(1, 2), CC(3, 5)).grid_size().x, CR(CC(1, 2), CC(3, 5)).grid_size().y),
            CR(CC(1, 2), CC(3, 5)).contains(CC(3, 5)))


@case("num_cores_to_corerangeset", "merge", OK)
def _(ttnn, d):
    return (_ranges(_crs(ttnn, (0, 0, 7, 0)).merge(_crs(ttnn, (0, 1, 7, 1)))),
            _ranges(_crs(ttnn, (0, 0, 7, 0)).merge(_crs(ttnn, (0, 1, 3, 1)))),
            _ranges(_crs(ttnn, (0, 0, 3, 3)).merge(_crs(ttnn, (4, 0, 7, 3)))),
            _ranges(_crs(ttnn, (0, 0, 1, 0)).merge(_crs(ttnn, (0, 2, 1, 2)))),
            _cores(_crs(ttnn, (0, 0, 3, 3)).merge(_crs(ttnn, (2, 2, 5, 5)))))


@case("num_cores_to_corerangeset", "subtract", OK)
def _(ttnn, d):
    return (_cores(_crs(ttnn, (0, 0, 7, 7)).subtract(_crs(ttnn, (2, 2, 3, 3)))),
            _cores(_crs(ttnn, (0, 0, 3, 0)).subtract(_crs(ttnn, (1, 0, 1, 0)))))


@case("num_cores_to_corerangeset", "overlapping_ranges", ERR)
def _(ttnn, d):
    return _crs(ttnn, (0, 0, 2, 2), (1, 1, 3, 3))


@case("num_cores_to_corerangeset", "core_range_set_of_one_range", ERR)
def _(ttnn, d):
    return ttnn.CoreRangeSet(ttnn.CoreRange(ttnn.CoreCoord(0, 0), ttnn.CoreCoord(1, 1)))


@case("num_cores_to_corerangeset", "merge_with_a_core_range", ERR)
def _(ttnn, d):
    return _crs(ttnn, (0, 0, 3, 3)).merge(ttnn.CoreRange(ttnn.CoreCoord(4, 0), ttnn.CoreCoord(7, 3)))


@case("num_cores_to_corerangeset", "empty_bounding_box", ERR)
def _(ttnn, d):
    return ttnn.CoreRangeSet(set()).bounding_box()


@case("num_cores_to_corerangeset", "inverted_core_range", ERR)
def _(ttnn, d):
    return ttnn.CoreRange(ttnn.CoreCoord(2, 2), ttnn.CoreCoord(1, 1))


# =================================================================================================================
# storage, allocation
@case("is_tensor_storage_on_device", "host_and_device", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.is_tensor_storage_on_device(h.host(1, 1, 32, 32)), ttnn.is_tensor_storage_on_device(h.tt(1, 1, 32, 32))


@case("is_tensor_storage_on_device", "none", ERR)
def _(ttnn, d):
    return ttnn.is_tensor_storage_on_device(None)


@case("allocate_tensor_on_device", "tile_dram", OK)
def _(ttnn, d):
    return ttnn.allocate_tensor_on_device(ttnn.Shape([1, 1, 32, 64]), ttnn.bfloat16, ttnn.TILE_LAYOUT, d)


@case("allocate_tensor_on_device", "bf8_l1_keywords", OK)
def _(ttnn, d):
    return ttnn.allocate_tensor_on_device(shape=ttnn.Shape([1, 1, 20, 64]), dtype=ttnn.bfloat8_b,
                                          layout=ttnn.TILE_LAYOUT, mesh_device=d, memory_config=ttnn.L1_MEMORY_CONFIG)


@case("allocate_tensor_on_device", "uint32_row_major", OK)
def _(ttnn, d):
    return ttnn.allocate_tensor_on_device(ttnn.Shape([1, 32]), ttnn.uint32, ttnn.ROW_MAJOR_LAYOUT, d)


@case("allocate_tensor_on_device", "then_copy_host_to_device", OK)
def _(ttnn, d):
    t = ttnn.allocate_tensor_on_device(ttnn.Shape([1, 1, 32, 64]), ttnn.bfloat16, ttnn.TILE_LAYOUT, d)
    ttnn.copy_host_to_device_tensor(H(ttnn, d).host(1, 1, 32, 64), t)
    return t


@case("allocate_tensor_on_device", "bf8_row_major", ERR)
def _(ttnn, d):
    return ttnn.allocate_tensor_on_device(ttnn.Shape([1, 1, 32, 64]), ttnn.bfloat8_b, ttnn.ROW_MAJOR_LAYOUT, d)


@case("allocate_tensor_on_device", "sharded_without_spec", ERR)
def _(ttnn, d):
    mc = ttnn.MemoryConfig(ttnn.TensorMemoryLayout.HEIGHT_SHARDED, ttnn.BufferType.L1)
    return ttnn.allocate_tensor_on_device(ttnn.Shape([1, 1, 32, 64]), ttnn.bfloat16, ttnn.TILE_LAYOUT, d, mc)


# =================================================================================================================
# slice_write, fill_implicit_tile_padding, scale_mask_softmax
for _name, _expect, _args in (
        ("row_major", OK, ((1, 1, 16, 64), (1, 1, 32, 64), [0, 0, 0, 0], [1, 1, 16, 64], [1, 1, 1, 1], "RM")),
        ("tile", OK, ((1, 1, 32, 64), (1, 1, 64, 64), [0, 0, 32, 0], [1, 1, 64, 64], [1, 1, 1, 1], "TILE")),
        ("width_offset", OK, ((1, 1, 32, 32), (1, 1, 32, 64), [0, 0, 0, 32], [1, 1, 32, 64], [1, 1, 1, 1], "RM")),
        ("size_mismatch", ERR, ((1, 1, 16, 64), (1, 1, 32, 64), [0, 0, 0, 0], [1, 1, 8, 64], [1, 1, 1, 1], "RM")),
        ("out_of_bounds", ERR, ((1, 1, 16, 64), (1, 1, 32, 64), [0, 0, 24, 0], [1, 1, 40, 64], [1, 1, 1, 1], "RM")),
):
    def _fn(ttnn, d, _args=_args):
        src, dst, begins, ends, strides, layout = _args
        h = H(ttnn, d)
        lay = h.RM if layout == "RM" else h.TL
        return ttnn.experimental.slice_write(h.tt(*src, layout=lay), h.tt(*dst, layout=lay), begins, ends, strides)
    case("experimental.slice_write", _name, _expect)(_fn)


@case("experimental.slice_write", "mixed_layouts_and_step", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    into_tile = ttnn.experimental.slice_write(h.tt(1, 1, 32, 64, layout=h.RM), h.tt(1, 1, 64, 64), [0, 0, 32, 0],
                                              [1, 1, 64, 64], [1, 1, 1, 1])
    strided = ttnn.experimental.slice_write(h.tt(1, 1, 16, 64, layout=h.RM), h.tt(1, 1, 32, 64, layout=h.RM),
                                            [0, 0, 0, 0], [1, 1, 32, 64], [1, 1, 2, 1])
    return into_tile, strided


@case("experimental.slice_write", "host_input", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.experimental.slice_write(h.host(1, 1, 16, 64, layout=h.RM), h.tt(1, 1, 32, 64, layout=h.RM),
                                         [0, 0, 0, 0], [1, 1, 16, 64], [1, 1, 1, 1])


@case("experimental.slice_write", "dtype_mismatch", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.experimental.slice_write(h.tt(1, 1, 16, 64, layout=h.RM, dtype="float32"),
                                         h.tt(1, 1, 32, 64, layout=h.RM), [0, 0, 0, 0], [1, 1, 16, 64], [1, 1, 1, 1])


@case("fill_implicit_tile_padding", "tile_bf16", OK)
def _(ttnn, d):
    return ttnn.fill_implicit_tile_padding(H(ttnn, d).tt(1, 1, 20, 40), 3.0)


@case("fill_implicit_tile_padding", "keywords_l1", OK)
def _(ttnn, d):
    return ttnn.fill_implicit_tile_padding(H(ttnn, d).tt(1, 1, 20, 40), fill_value=-1.0,
                                           memory_config=ttnn.L1_MEMORY_CONFIG)


@case("fill_implicit_tile_padding", "bf8", OK)
def _(ttnn, d):
    return ttnn.fill_implicit_tile_padding(H(ttnn, d).tt(1, 1, 20, 40, dtype="bfloat8_b"), 3.0)


@case("fill_implicit_tile_padding", "row_major", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.fill_implicit_tile_padding(h.tt(1, 1, 20, 40, layout=h.RM), 3.0)


@case("fill_implicit_tile_padding", "host", ERR)
def _(ttnn, d):
    return ttnn.fill_implicit_tile_padding(H(ttnn, d).host(1, 1, 20, 40), 3.0)


def _smsm(ttnn, d, x, mask=None, scale=0.5, x_dtype=None, **kw):
    h = H(ttnn, d)
    m = None
    if mask is not None:
        shape, opts = mask
        opts = {k: (h.RM if v == "RM" else v) for k, v in opts.items()}
        m = h.tt(*shape, **opts)
    return ttnn.scale_mask_softmax(h.tt(*x, dtype=x_dtype), scale, m, **kw)


for _name, _expect, _x, _mask, _kw in (
        ("scale_and_mask", OK, (1, 1, 32, 64), ((1, 1, 32, 64), {}), {}),
        ("scale_without_mask", ERR, (1, 1, 32, 64), None, {}),
        ("mask_row_major", OK, (1, 1, 32, 64), ((1, 1, 32, 64), {"layout": "RM"}), {}),
        ("mask_batch_mismatch", ERR, (2, 1, 32, 64), ((3, 1, 32, 64), {}), {}),
        ("mask_per_head", ERR, (1, 4, 32, 64), ((1, 4, 32, 64), {}), {}),
        ("f32", OK, (1, 1, 32, 64), ((1, 1, 32, 64), {"dtype": "float32"}), {"x_dtype": "float32"}),
        ("mask_broadcast_over_heads", OK, (1, 8, 32, 64), ((1, 1, 32, 64), {}), {}),
        ("mask_one_row", OK, (1, 8, 32, 64), ((1, 1, 1, 64), {}), {}),
        ("mask_wrong_width", ERR, (1, 1, 32, 64), ((1, 1, 32, 32), {}), {}),
        ("mask_bf8", OK, (1, 1, 32, 64), ((1, 1, 32, 64), {"dtype": "bfloat8_b"}), {}),
        ("causal_mask", OK, (1, 1, 32, 64), ((1, 1, 32, 64), {}), {"is_causal_mask": True}),
        ("no_scale_no_mask_l1", OK, (1, 1, 32, 64), None, {"memory_config": "L1", "scale": None}),
):
    def _fn(ttnn, d, _x=_x, _mask=_mask, _kw=_kw):
        kw = dict(_kw)
        if kw.get("memory_config") == "L1":
            kw["memory_config"] = ttnn.L1_MEMORY_CONFIG
        return _smsm(ttnn, d, _x, _mask, **kw)
    case("scale_mask_softmax", _name, _expect)(_fn)


# =================================================================================================================
# tensor files and the as_tensor cache
@case("dump_tensor", "host_round_trip", OK)
def _(ttnn, d):
    path = os.path.join(tempfile.mkdtemp(), "a.tensorbin")
    ttnn.dump_tensor(path, H(ttnn, d).host(1, 1, 32, 64))
    return ttnn.load_tensor(path), ttnn.load_tensor(path, device=d)


@case("dump_tensor", "device_l1_tensor", OK)
def _(ttnn, d):
    path = os.path.join(tempfile.mkdtemp(), "b.tensorbin")
    ttnn.dump_tensor(path, H(ttnn, d).tt(1, 1, 32, 32, mc=ttnn.L1_MEMORY_CONFIG))
    return ttnn.load_tensor(path, device=d)  # loaded on host it reports L1 there; the emulator's host tensors say DRAM


@case("dump_tensor", "wrong_extension", ERR)
def _(ttnn, d):
    ttnn.dump_tensor(os.path.join(tempfile.mkdtemp(), "a.bin"), H(ttnn, d).host(1, 1, 32, 64))


@case("load_tensor", "bf8_tile", OK)
def _(ttnn, d):
    path = os.path.join(tempfile.mkdtemp(), "c.tensorbin")
    ttnn.dump_tensor(path, ttnn.from_torch(torch.zeros(1, 1, 40, 64), dtype=ttnn.bfloat8_b))
    return ttnn.load_tensor(path, device=d)


@case("load_tensor", "missing_file", ERR)
def _(ttnn, d):
    return ttnn.load_tensor(os.path.join(tempfile.mkdtemp(), "missing.tensorbin"))


@case("load_tensor", "not_a_tensor_file", ERR)
def _(ttnn, d):
    path = os.path.join(tempfile.mkdtemp(), "junk.tensorbin")
    with open(path, "w") as f:
        f.write("junk")
    return ttnn.load_tensor(path)


def _cached(ttnn, d, base, shape, **kw):
    opts = dict(dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, cache_file_name=base)
    opts.update(kw)
    return ttnn.as_tensor(torch.zeros(shape), **opts)


@case("as_tensor", "cache_miss_then_hit", OK)
def _(ttnn, d):
    folder = tempfile.mkdtemp()
    base = os.path.join(folder, "cache", "w")
    L1, DR = ttnn.L1_MEMORY_CONFIG, ttnn.DRAM_MEMORY_CONFIG
    miss = _cached(ttnn, d, base, (1, 1, 32, 64), device=d, memory_config=L1)
    hit_l1 = _cached(ttnn, d, base, (1, 1, 64, 64), device=d, memory_config=L1)
    hit_dram = _cached(ttnn, d, base, (1, 1, 64, 64), device=d, memory_config=DR)
    other_dtype = _cached(ttnn, d, base, (1, 1, 64, 64), dtype=ttnn.bfloat8_b)
    defaults = ttnn.as_tensor(torch.zeros(1, 1, 64, 64), cache_file_name=base)
    return (miss, hit_l1, hit_dram, other_dtype, defaults,
            tuple(sorted(os.listdir(os.path.join(folder, "cache")))))


@case("as_tensor", "cache_hit_sharded", OK)
def _(ttnn, d):
    base = os.path.join(tempfile.mkdtemp(), "s")
    mc = ttnn.create_sharded_memory_config([1, 1, 64, 64], ttnn.CoreGrid(x=2, y=1), ttnn.ShardStrategy.HEIGHT)
    return (_cached(ttnn, d, base, (1, 1, 64, 64), device=d, memory_config=mc),
            _cached(ttnn, d, base, (1, 1, 64, 64), device=d, memory_config=mc))


@case("as_tensor", "cache_without_memory_config", ERR)
def _(ttnn, d):
    return _cached(ttnn, d, os.path.join(tempfile.mkdtemp(), "x"), (1, 1, 32, 32), device=d)


# =================================================================================================================
# golden functions: which emulated ops have one, and its positional parameters
_GOLDEN_OPS = (
    "from_torch", "to_torch", "as_tensor", "to_layout", "to_dtype", "typecast", "to_memory_config", "deallocate",
    "zeros", "ones", "full", "empty", "linear", "matmul", "rms_norm", "layer_norm", "softmax", "scale_mask_softmax",
    "add", "subtract", "multiply", "silu", "relu", "gelu", "embedding", "concat", "slice", "reshape", "transpose",
    "permute", "fill_cache", "update_cache", "experimental.slice_write", "fill_implicit_tile_padding",
    "allocate_tensor_on_device", "copy_host_to_device_tensor", "to_device", "from_device",
    "dump_tensor", "load_tensor", "experimental.rotary_embedding", "experimental.nlp_create_qkv_heads",
    "experimental.nlp_create_qkv_heads_decode", "experimental.nlp_concat_heads", "experimental.nlp_concat_heads_decode",
    "experimental.paged_update_cache", "experimental.paged_fill_cache", "transformer.scaled_dot_product_attention",
    "transformer.scaled_dot_product_attention_decode", "all_gather", "all_reduce", "reduce_scatter",
)


def _golden_shape(ttnn, name):
    op = ttnn
    for part in name.split("."):
        op = getattr(op, part)
    try:
        golden = ttnn.get_golden_function(op)
    except RuntimeError:
        return name, None
    positional = [p.name for p in inspect.signature(golden).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return name, tuple(positional)


@case("get_golden_function", "emulated_ops", OK)
def _(ttnn, d):
    return tuple(_golden_shape(ttnn, name) for name in _GOLDEN_OPS)


@case("get_golden_function", "op_without_golden", ERR)
def _(ttnn, d):
    return ttnn.get_golden_function(ttnn.empty)


# =================================================================================================================
# value types of the surface: enum members and values, constructor forms, fields
def _members(enum_type):
    return tuple(sorted((name, int(getattr(enum_type, name).value)) for name in dir(enum_type)
                        if name.isupper() and not name.startswith("_")))


@case("value_types", "enum_members", OK)
def _(ttnn, d):
    return tuple(_members(e) for e in (ttnn.UnaryOpType, ttnn.DumpTensorMode, ttnn.DispatchCoreType,
                                       ttnn.DispatchCoreAxis, ttnn.ShardDistributionStrategy))


@case("value_types", "unary_with_param", OK)
def _(ttnn, d):
    U, T = ttnn.UnaryWithParam, ttnn.UnaryOpType
    forms = (U(T.RELU), U(T.GELU, 1.0), U(T.RELU_MAX, 6.0), U((T.GELU, True)), U(T.CLAMP_TSS, -1.0, 1.0))
    cfg = ttnn.MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig(in0_block_w=1, per_core_M=1, per_core_N=2,
                                                                       fused_activation=T.SILU)
    return (tuple((u.op_type.name, tuple(u.params)) for u in forms),
            (type(cfg.fused_activation).__name__, cfg.fused_activation.op_type.name))


@case("value_types", "unary_with_param_three_params", ERR)
def _(ttnn, d):
    return ttnn.UnaryWithParam(ttnn.UnaryOpType.RELU, 1.0, 2.0, 3.0)


@case("value_types", "nd_shard_spec_and_dispatch_config", OK)
def _(ttnn, d):
    grid = _crs(ttnn, (0, 0, 3, 1))
    nd = ttnn.NdShardSpec(ttnn.Shape([1, 32, 64]), grid)
    default, worker_col = ttnn.DispatchCoreConfig(), ttnn.DispatchCoreConfig(ttnn.DispatchCoreType.WORKER,
                                                                               ttnn.DispatchCoreAxis.COL)
    eth = ttnn.DispatchCoreConfig(type=ttnn.DispatchCoreType.ETH)
    return ((tuple(nd.shard_shape), nd.num_cores(), nd.orientation.name, nd.shard_distribution_strategy.name,
             _ranges(nd.grid)),
            tuple((c.type.name, c.axis.name) for c in (default, worker_col, eth)))


@case("value_types", "sdpa_program_config_fields", OK)
def _(ttnn, d):
    c = ttnn.SDPAProgramConfig(compute_with_storage_grid_size=ttnn.CoreCoord(8, 8), q_chunk_size=64, k_chunk_size=128)
    return (c.sub_core_grids, c.exp_approx_mode, c.max_cores_per_head_batch, c.max_k_splits, c.matmul_math_fidelity,
            c.segmented_accumulation, c.q_chunk_size, c.k_chunk_size)


@case("value_types", "sdpa_program_config_missing_chunk", ERR)
def _(ttnn, d):
    return ttnn.SDPAProgramConfig(compute_with_storage_grid_size=ttnn.CoreCoord(8, 8), q_chunk_size=64)


# =================================================================================================================
# DRAM-sharded decode matmul: in0 [1,1,32,256] width-sharded on 4 cores, the weight [256,384] bf8 width-sharded over
# the 12 DRAM banks, the output L1 width-sharded
def _dram_sharded(ttnn, d, *, weight_sharded=True, out_sharded=True, **fields):
    h = H(ttnn, d)
    CC = ttnn.CoreCoord

    def l1_width(shape, cores):
        return ttnn.create_sharded_memory_config(shape, ttnn.CoreGrid(x=cores, y=1), ttnn.ShardStrategy.WIDTH,
                                                 ttnn.ShardOrientation.ROW_MAJOR)

    a = h.tt(1, 1, 32, 256, mc=l1_width([1, 1, 32, 256], 4))
    banks = ttnn.CoreRangeSet({ttnn.CoreRange(CC(0, 0), CC(11, 0))})
    dram = ttnn.MemoryConfig(ttnn.TensorMemoryLayout.WIDTH_SHARDED, ttnn.BufferType.DRAM,
                             ttnn.ShardSpec(banks, [256, 32], ttnn.ShardOrientation.ROW_MAJOR))
    w = h.tt(1, 1, 256, 384, dtype="bfloat8_b", mc=dram if weight_sharded else None)
    cfg = ttnn.MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig(
        **{**dict(in0_block_w=2, per_core_M=1, per_core_N=3, fused_activation=None), **fields})
    out = l1_width([1, 1, 32, 384], 4) if out_sharded else None
    return ttnn.linear(a, w, program_config=cfg, memory_config=out)


for _name, _expect, _kw in (
        ("dram_sharded_ok", OK, {}),
        ("dram_sharded_in0_block_w_1", OK, {"in0_block_w": 1}),
        ("dram_sharded_dram_output", ERR, {"out_sharded": False}),
        ("dram_sharded_in0_block_w_not_dividing_k", ERR, {"in0_block_w": 3}),
        ("dram_sharded_per_core_m_2", ERR, {"per_core_M": 2}),
        ("dram_sharded_interleaved_weight", ERR, {"weight_sharded": False}),
):
    def _fn(ttnn, d, _kw=_kw):
        return _dram_sharded(ttnn, d, **_kw)
    case("linear", _name, _expect)(_fn)


@case("matmul", "p2_config_on_width_sharded_input", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    mc = ttnn.create_sharded_memory_config([1, 1, 32, 256], ttnn.CoreGrid(x=4, y=1), ttnn.ShardStrategy.WIDTH,
                                           ttnn.ShardOrientation.ROW_MAJOR)
    return ttnn.matmul(h.tt(1, 1, 32, 256, mc=mc), h.tt(1, 1, 256, 512), program_config=_p2(ttnn))


# =================================================================================================================
# the as_tensor cache on a 1x2 mesh: sharded and replicated weights, miss then hit
@case("as_tensor", "mesh_cache_sharded_and_replicated", OK, mesh=(1, 2))
def _(ttnn, d):
    folder = tempfile.mkdtemp()
    out = []
    for name, mapper in (("sharded", ttnn.ShardTensorToMesh(d, dim=3)), ("replicated", ttnn.ReplicateTensorToMesh(d))):
        kw = dict(dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=d, memory_config=ttnn.DRAM_MEMORY_CONFIG,
                  mesh_mapper=mapper, cache_file_name=os.path.join(folder, name))
        out += [ttnn.as_tensor(torch.zeros(1, 1, 32, 128), **kw), ttnn.as_tensor(torch.zeros(1, 1, 64, 64), **kw)]
    return tuple(out) + (tuple(sorted(os.listdir(folder))),)


# =================================================================================================================
# golden values: each golden run on the same seeded torch inputs on both sides (goldens are torch functions, so the
# mock can answer with values); compared as shape, dtype and 4-digit sums
def _stats(out):
    if isinstance(out, (tuple, list)):
        return tuple(_stats(o) for o in out)
    x = out.double()
    return tuple(out.shape), str(out.dtype), f"{float(x.sum()):.4g}", f"{float((x * x).sum()):.4g}"


def _golden_inputs():
    g = torch.Generator().manual_seed(1616)
    return lambda *shape: torch.randn(*shape, generator=g)


_GOLDEN_VALUE_CASES = {
    "matmul": lambda r, t: ((r(1, 1, 64, 96), r(1, 1, 96, 128)), {}),
    "linear": lambda r, t: ((r(1, 1, 64, 96), r(1, 1, 96, 128)), {"bias": r(1, 1, 1, 128), "activation": "relu"}),
    "rms_norm": lambda r, t: ((r(1, 1, 32, 128),), {"weight": r(128), "epsilon": 1e-6}),
    "layer_norm": lambda r, t: ((r(1, 1, 32, 128),), {"weight": r(128), "bias": r(128), "epsilon": 1e-5}),
    "softmax": lambda r, t: ((r(1, 2, 32, 64),), {"dim": -1}),
    "scale_mask_softmax": lambda r, t: ((r(1, 2, 32, 64), 0.125, r(1, 1, 32, 64)), {}),
    "add": lambda r, t: ((r(1, 1, 32, 64), r(1, 1, 32, 64)), {}),
    "subtract": lambda r, t: ((r(1, 1, 32, 64), r(1, 1, 1, 64)), {}),
    "multiply": lambda r, t: ((r(1, 1, 32, 64), r(1, 1, 32, 64)), {}),
    "silu": lambda r, t: ((r(1, 1, 32, 64),), {}),
    "relu": lambda r, t: ((r(1, 1, 32, 64),), {}),
    "gelu": lambda r, t: ((r(1, 1, 32, 64),), {}),
    "embedding": lambda r, t: ((torch.tensor([[0, 3, 5, 3]]), r(16, 32)), {}),
    "concat": lambda r, t: (([r(1, 1, 32, 64), r(1, 1, 32, 32)], 3), {}),
    "slice": lambda r, t: ((r(1, 4, 64, 64), [0, 1, 32, 0], [1, 3, 64, 64]), {}),
    "reshape": lambda r, t: ((r(1, 4, 32, 64), (1, 1, 128, 64)), {}),
    "transpose": lambda r, t: ((r(1, 4, 32, 64), 1, 2), {}),
    "permute": lambda r, t: ((r(1, 4, 32, 64), (0, 2, 1, 3)), {}),
    "fill_cache": lambda r, t: ((torch.zeros(2, 2, 64, 32), r(1, 2, 32, 32), 1), {"update_idx": 32}),
    "update_cache": lambda r, t: ((torch.zeros(4, 2, 64, 32), r(1, 2, 32, 32), 5), {"batch_offset": 0}),
    "experimental.rotary_embedding": lambda r, t: ((r(1, 2, 1, 64), r(1, 1, 16, 64), r(1, 1, 16, 64), 3), {}),
    "transformer.scaled_dot_product_attention": lambda r, t: ((r(1, 8, 64, 64), r(1, 2, 64, 64), r(1, 2, 64, 64)),
                                                              {"is_causal": True}),
    "transformer.scaled_dot_product_attention_decode": lambda r, t: (
        (r(1, 4, 8, 64), r(4, 2, 32, 64), r(4, 2, 32, 64)), {"cur_pos": [3, 7, 0, 31]}),
    "zeros": lambda r, t: (((2, 3),), {"dtype": t.float32}),
    "full": lambda r, t: (((2, 3), 1.5), {}),
    "from_torch": lambda r, t: ((r(2, 40),), {"dtype": t.bfloat16}),
    "to_dtype": lambda r, t: ((r(2, 40), t.float32), {}),
}


@case("get_golden_function", "golden_values", OK)
def _(ttnn, d):
    out = []
    for name, make in _GOLDEN_VALUE_CASES.items():
        op = ttnn
        for part in name.split("."):
            op = getattr(op, part)
        args, kwargs = make(_golden_inputs(), ttnn)
        out.append((name, _stats(ttnn.get_golden_function(op)(*args, **kwargs))))
    return tuple(out)


# =================================================================================================================
# names the emulator defined but did not export, used the way real code uses them; the device's program cache
@case("value_types", "reshape_and_embedding_enums", OK)
def _(ttnn, d):
    return tuple(_members(e) for e in (ttnn.TileReshapeMapMode, ttnn.EmbeddingsType))


@case("reshape", "reshape_tile_mode_recreate", OK)
def _(ttnn, d):
    return ttnn.reshape(H(ttnn, d).tt(1, 1, 64, 64), (1, 2, 32, 64), reshape_tile_mode=ttnn.TileReshapeMapMode.RECREATE)


def _embedding(ttnn, d, rows, **kw):
    w = ttnn.from_torch(torch.zeros(rows, 32), dtype=ttnn.bfloat16, layout=ttnn.ROW_MAJOR_LAYOUT, device=d)
    return ttnn.embedding(H(ttnn, d).tok(1, 32), w, **kw)


@case("embedding", "embeddings_type_padded", OK)
def _(ttnn, d):
    return _embedding(ttnn, d, 64, padding_idx=3, embeddings_type=ttnn.EmbeddingsType.PADDED)


@case("embedding", "embeddings_type_binary", OK)
def _(ttnn, d):
    return _embedding(ttnn, d, 2, embeddings_type=ttnn.EmbeddingsType.BINARY)


@case("embedding", "embeddings_type_binary_three_rows", ERR)
def _(ttnn, d):
    return _embedding(ttnn, d, 3, embeddings_type=ttnn.EmbeddingsType.BINARY)


@case("value_types", "program_cache_counts", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    x = h.tt(1, 1, 32, 96)
    d.disable_and_clear_program_cache()
    ttnn.multiply(x, x)  # disabled: nothing is kept
    counts = [d.num_program_cache_entries()]
    d.enable_program_cache()
    ttnn.multiply(x, x)
    ttnn.multiply(x, x)  # the same program again
    counts.append(d.num_program_cache_entries())
    ttnn.silu(x)
    counts.append(d.num_program_cache_entries())
    d.clear_program_cache()
    counts.append(d.num_program_cache_entries())
    return tuple(counts)


# =================================================================================================================
# the Tensor members of shared/docs/ttnn-op-facts.md §2.31, used the way models and tests use them
def _name(value):
    return str(value).split(".")[-1].split("::")[-1]


@case("value_types", "tensor_members_2_31", OK)
def _(ttnn, d):
    host = ttnn.from_torch(torch.ones(1, 1, 30, 60), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT)
    t = host.to(d, ttnn.L1_MEMORY_CONFIG)
    scalar = ttnn.from_torch(torch.tensor([[2.5]]), dtype=ttnn.bfloat16)
    plain = (tuple(t.shape), tuple(t.padded_shape), _name(t.dtype), _name(t.layout), _name(t.storage_type()),
             t.is_sharded(), t.is_allocated(), t.volume(), t.logical_volume(), t.device() is not None,
             _name(t.get_layout()), _name(t.get_dtype()), tuple(t.tile.tile_shape), tuple(t.spec.shape),
             _name(t.cpu(blocking=True).storage_type()), tuple(t.to_torch().shape), scalar.item(),
             tuple(t.to(ttnn.ROW_MAJOR_LAYOUT).shape), tuple(t.reshape(1, 1, 60, 30).shape))
    t.deallocate(force=True)
    return plain, t.is_allocated()
