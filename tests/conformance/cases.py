"""Differential op cases: the same small calls run against the real ttnn 0.81.1 (mock device) and the emulator.

Each case is a function ``(ttnn, d) -> result`` registered with :func:`case`. It receives the module under test
and a device opened from that module, and returns a tensor, a tuple of tensors, a MemoryConfig, a torch tensor or a
plain value. ``expect`` records what the REAL wheel does (``OK``: it accepts the call, ``ERR``: it raises); the
harness checks that label against the real run, then checks that the emulator agrees with the real run (same
accept/reject; for accepted calls the same logical shape, padded shape, dtype, layout and memory config). Values are
never compared: a mock device has no data.

Shapes are small on purpose (the emulator computes real values). Names: nh/nkv query/KV heads, hd head_dim.

Intentional differences (the real 0.81.1 behaviour is a plain bug that would hide user errors; the emulator stays
stricter) are marked ``intentional="..."``; they are listed in the report and not counted as disagreements. Keep
them very few; for them ``expect`` is what the EMULATOR does. Real cases run in child processes that are restarted
after a crash, so a case that segfaults the real wheel shows up as "crash". ``real=False`` skips the real run.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Callable

import torch

OK, ERR = "ok", "error"


@dataclass(frozen=True)
class Case:
    op: str
    name: str
    expect: str
    fn: Callable
    intentional: str | None = None
    real: bool = True
    mesh: tuple | None = None  # run on a mesh of this shape (FABRIC_1D set) instead of one n150 chip

    @property
    def id(self) -> str:
        return f"{self.op}:{self.name}"


CASES: list[Case] = []


def case(op: str, name: str, expect: str, *, intentional: str | None = None, real: bool = True, mesh=None):
    assert expect in (OK, ERR)

    def register(fn):
        c = Case(op, name, expect, fn, intentional, real, None if mesh is None else tuple(mesh))
        assert all(o.id != c.id for o in CASES), f"duplicate case id {c.id}"
        CASES.append(c)
        return fn

    return register


# The ops this lane covers: every op the emulator exports (ttnn.*, ttnn.experimental.*, ttnn.transformer.*).
# test_conformance_ops.py checks each has at least one accepted and one rejected case, and that the emulator exports
# nothing callable that is neither here nor in NOT_OPS.
OPS = (
    "from_torch", "to_torch", "as_tensor", "to_device", "from_device", "to_layout", "to_dtype", "typecast",
    "to_memory_config", "get_memory_config", "deallocate", "create_sharded_memory_config", "copy_host_to_device_tensor",
    "zeros", "ones", "full", "empty",
    "linear", "matmul", "rms_norm", "layer_norm", "softmax",
    "add", "sub", "subtract", "mul", "multiply", "silu", "relu", "gelu",
    "embedding", "concat", "slice", "reshape", "transpose", "permute",
    "fill_cache", "update_cache",
    "experimental.rotary_embedding", "experimental.nlp_create_qkv_heads", "experimental.nlp_create_qkv_heads_decode",
    "experimental.nlp_concat_heads", "experimental.nlp_concat_heads_decode", "experimental.paged_update_cache",
    "experimental.paged_fill_cache",
    "transformer.scaled_dot_product_attention", "transformer.scaled_dot_product_attention_decode",
    "all_gather", "all_reduce", "reduce_scatter", "get_device_tensors",  # mesh ops: mesh_cases.py
    "allocate_tensor_on_device", "experimental.slice_write", "fill_implicit_tile_padding", "scale_mask_softmax", "dump_tensor",
    "load_tensor", "num_cores_to_corerangeset", "is_tensor_storage_on_device", "get_golden_function",  # surface_cases.py
)
# Callables the emulator exports that are not tensor ops (device management, mesh mappers and composers, type
# constructors, metal trace); the mappers and composers are exercised through from_torch / to_torch in mesh_cases.py,
# the trace calls in test_conformance_trace.py (the mock cannot run an op inside a capture, so no per-call cases),
# the command-queue and event calls in test_conformance_events.py.
NOT_OPS = {
    "open_device", "close_device", "open_mesh_device", "close_mesh_device", "set_fabric_config", "get_fabric_config",
    "GetNumAvailableDevices", "replicate_tensor_to_mesh_mapper", "ReplicateTensorToMesh", "ShardTensorToMesh",
    "shard_tensor_to_mesh_mapper", "ShardTensor2dMesh", "create_mesh_mapper", "ConcatMeshToTensor",
    "concat_mesh_to_tensor_composer", "ConcatMesh2dToTensor", "create_mesh_composer", "combine_device_tensors",
    "begin_trace_capture", "end_trace_capture", "execute_trace", "release_trace",
    "record_event", "wait_for_event", "event_synchronize", "synchronize_device", "QueueId", "MeshEvent",
}


# ---------------------------------------------------------------------------------------------------------------
# helpers: the same code builds inputs on either module
def H(ttnn, d):
    """Input builders bound to one module and device."""
    TL, RM, DR, L1 = ttnn.TILE_LAYOUT, ttnn.ROW_MAJOR_LAYOUT, ttnn.DRAM_MEMORY_CONFIG, ttnn.L1_MEMORY_CONFIG

    def tt(*shape, dtype=None, layout=None, mc=None):
        """A zero device tensor (TILE bf16 DRAM unless told); dtype may be given by name ("bfloat8_b")."""
        dtype = getattr(ttnn, dtype) if isinstance(dtype, str) else (dtype or ttnn.bfloat16)
        src = torch.zeros(shape, dtype=torch.int32 if dtype in (ttnn.uint32, ttnn.int32) else torch.float32)
        return ttnn.from_torch(src, dtype=dtype, layout=layout or TL, device=d, memory_config=mc or DR)

    def host(*shape, dtype=None, layout=None):
        dtype = dtype or ttnn.bfloat16
        src = torch.zeros(shape, dtype=torch.int32 if dtype in (ttnn.uint32, ttnn.int32) else torch.float32)
        return ttnn.from_torch(src, dtype=dtype, layout=layout or TL)

    def tok(*shape):
        """uint32 ROW_MAJOR token ids on device."""
        return ttnn.from_torch(torch.zeros(shape, dtype=torch.int32), dtype=ttnn.uint32, device=d)

    def pos(p=5, n=32):
        """The models' cur_pos tensor: [n] int32 ROW_MAJOR DRAM."""
        return ttnn.from_torch(torch.full((n,), p, dtype=torch.int32), dtype=ttnn.int32, device=d)

    def shard(shape, x, y=1, strategy=None):
        """create_sharded_memory_config(shape, CoreGrid(x, y), strategy, ROW_MAJOR)."""
        return ttnn.create_sharded_memory_config(shape, ttnn.CoreGrid(x=x, y=y), strategy or ttnn.ShardStrategy.HEIGHT,
                                                 ttnn.ShardOrientation.ROW_MAJOR)

    def qkv_decode(nh, nkv, hd, b=32):
        """q, k, v as the models get them in decode (L1 height-sharded, heads padded to 32)."""
        x = tt(1, 1, b, (nh + 2 * nkv) * hd)
        return ttnn.experimental.nlp_create_qkv_heads_decode(x, num_heads=nh, num_kv_heads=nkv, memory_config=DR)

    def qkv_prefill(nh, nkv, hd, s=32):
        x = tt(1, 1, s, (nh + 2 * nkv) * hd)
        return ttnn.experimental.nlp_create_qkv_heads(x, num_heads=nh, num_kv_heads=nkv, transpose_k_heads=False,
                                                      memory_config=DR)

    return SimpleNamespace(tt=tt, host=host, tok=tok, pos=pos, shard=shard, qkv_decode=qkv_decode,
                           qkv_prefill=qkv_prefill, TL=TL, RM=RM, DR=DR, L1=L1)


# =================================================================================================================
# host <-> device, layout, dtype, memory config
@case("from_torch", "f32_default_host", OK)
def _(ttnn, d):
    return ttnn.from_torch(torch.zeros(2, 3))


@case("from_torch", "int64_default_uint32", OK)
def _(ttnn, d):
    return ttnn.from_torch(torch.zeros(2, 3, dtype=torch.int64))


@case("from_torch", "bool_default", OK)
def _(ttnn, d):
    return ttnn.from_torch(torch.zeros(2, 3, dtype=torch.bool))


@case("from_torch", "bf16_tile_padded_device", OK)
def _(ttnn, d):
    return ttnn.from_torch(torch.zeros(1, 1, 20, 20), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=d)


@case("from_torch", "bf8_default_layout_tile", OK)
def _(ttnn, d):
    return ttnn.from_torch(torch.zeros(1, 1, 32, 32), dtype=ttnn.bfloat8_b, device=d)


@case("from_torch", "bf4_host", OK)
def _(ttnn, d):
    return ttnn.from_torch(torch.zeros(1, 1, 40, 40), dtype=ttnn.bfloat4_b)


@case("from_torch", "rank1_tile", OK)
def _(ttnn, d):
    return ttnn.from_torch(torch.zeros(40), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=d)


@case("from_torch", "rank3_tile_l1", OK)
def _(ttnn, d):
    return ttnn.from_torch(torch.zeros(3, 5, 7), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=d,
                           memory_config=ttnn.L1_MEMORY_CONFIG)


@case("from_torch", "f32_rm_device_default_mc", OK)
def _(ttnn, d):
    return ttnn.from_torch(torch.zeros(2, 3), device=d)


@case("from_torch", "tile_16x32", OK)
def _(ttnn, d):
    return ttnn.from_torch(torch.zeros(10, 20), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, tile=ttnn.Tile((16, 32)),
                           device=d)


@case("from_torch", "height_sharded", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.from_torch(torch.zeros(1, 2, 32, 64), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=d,
                           memory_config=h.shard((1, 2, 32, 64), 2))


@case("from_torch", "bf8_row_major_host", ERR)
def _(ttnn, d):
    return ttnn.from_torch(torch.zeros(1, 1, 32, 32), dtype=ttnn.bfloat8_b, layout=ttnn.ROW_MAJOR_LAYOUT)


@case("from_torch", "bf8_row_major_device", ERR)
def _(ttnn, d):
    return ttnn.from_torch(torch.zeros(1, 1, 32, 32), dtype=ttnn.bfloat8_b, layout=ttnn.ROW_MAJOR_LAYOUT, device=d)


@case("from_torch", "sharded_mc_without_spec", ERR)
def _(ttnn, d):
    mc = ttnn.MemoryConfig(ttnn.TensorMemoryLayout.HEIGHT_SHARDED, ttnn.BufferType.L1)
    return ttnn.from_torch(torch.zeros(1, 1, 32, 32), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=d,
                           memory_config=mc)


@case("from_torch", "shard_not_tile_aligned", ERR)
def _(ttnn, d):
    h = H(ttnn, d)  # (1,3,32,64) over 4 cores -> shard [24, 64]: fine as a config, not for TILE data
    return ttnn.from_torch(torch.zeros(1, 3, 32, 64), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=d,
                           memory_config=h.shard((1, 3, 32, 64), 4))


@case("from_torch", "shard_grid_too_small", ERR)
def _(ttnn, d):
    h = H(ttnn, d)  # a config made for [1,2,32,64] used for a tensor twice as tall
    return ttnn.from_torch(torch.zeros(1, 4, 32, 64), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=d,
                           memory_config=h.shard((1, 2, 32, 64), 2))


@case("to_torch", "bf16_device", OK)
def _(ttnn, d):
    return ttnn.to_torch(H(ttnn, d).tt(1, 1, 20, 20))


@case("to_torch", "bf8_gives_float32", OK)
def _(ttnn, d):
    return ttnn.to_torch(H(ttnn, d).tt(1, 1, 32, 32, dtype=ttnn.bfloat8_b))


@case("to_torch", "uint32_rm", OK)
def _(ttnn, d):
    return ttnn.to_torch(H(ttnn, d).tok(1, 1, 1, 20))


@case("to_torch", "int32_host", OK)
def _(ttnn, d):
    return ttnn.to_torch(ttnn.from_torch(torch.zeros(32, dtype=torch.int32), dtype=ttnn.int32))


@case("to_torch", "decode_heads_logical", OK)
def _(ttnn, d):
    q, k, v = H(ttnn, d).qkv_decode(8, 2, 64)
    return ttnn.to_torch(q)


@case("to_torch", "torch_rank", OK)
def _(ttnn, d):
    return ttnn.to_torch(H(ttnn, d).tt(1, 1, 32, 32), torch_rank=2)


@case("to_torch", "torch_rank_cannot_squeeze", ERR)
def _(ttnn, d):
    return ttnn.to_torch(H(ttnn, d).tt(2, 1, 32, 32), torch_rank=2)


@case("to_torch", "deallocated", ERR,
      intentional="real 0.81.1 segfaults the process (SIGSEGV in mesh_command_queue, findings §1 #9); "
                  "the emulator raises instead")
def _(ttnn, d):
    t = H(ttnn, d).tt(1, 1, 32, 32)
    ttnn.deallocate(t)
    return ttnn.to_torch(t)


@case("as_tensor", "device_dram", OK)
def _(ttnn, d):
    return ttnn.as_tensor(torch.zeros(1, 1, 32, 64), dtype=ttnn.bfloat8_b, layout=ttnn.TILE_LAYOUT, device=d,
                          memory_config=ttnn.DRAM_MEMORY_CONFIG)


@case("as_tensor", "host_default_layout", OK)
def _(ttnn, d):
    return ttnn.as_tensor(torch.zeros(1, 1, 20, 64), dtype=ttnn.bfloat16)


@case("as_tensor", "preprocess", OK)
def _(ttnn, d):
    return ttnn.as_tensor(torch.zeros(64, 32), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=d,
                          memory_config=ttnn.DRAM_MEMORY_CONFIG, preprocess=lambda x: x.t().reshape(1, 1, 32, 64))


@case("as_tensor", "device_without_memory_config", ERR)
def _(ttnn, d):
    return ttnn.as_tensor(torch.zeros(1, 1, 32, 32), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=d)


@case("as_tensor", "bf8_row_major", ERR)
def _(ttnn, d):
    return ttnn.as_tensor(torch.zeros(1, 1, 32, 32), dtype=ttnn.bfloat8_b, device=d,
                          memory_config=ttnn.DRAM_MEMORY_CONFIG)


@case("to_device", "l1", OK)
def _(ttnn, d):
    return ttnn.to_device(H(ttnn, d).host(1, 1, 20, 20), d, memory_config=ttnn.L1_MEMORY_CONFIG)


@case("to_device", "default_mc", OK)
def _(ttnn, d):
    return ttnn.to_device(H(ttnn, d).host(1, 1, 32, 32, layout=ttnn.ROW_MAJOR_LAYOUT), d)


@case("to_device", "shard_not_tile_aligned", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.to_device(h.host(1, 3, 32, 64), d, memory_config=h.shard((1, 3, 32, 64), 4))


# Tensor.to: to(device, mem_config=None, cq_id=None) and to(target_layout), by position or keyword (issue 16).
@case("to_device", "tensor_to_by_keyword", OK)
def _(ttnn, d):
    return H(ttnn, d).host(1, 1, 20, 20).to(device=d, mem_config=ttnn.L1_MEMORY_CONFIG, cq_id=0)


@case("to_device", "tensor_to_positional_queue_id", OK)
def _(ttnn, d):
    return H(ttnn, d).host(1, 1, 32, 32).to(d, None, ttnn.QueueId(0))


@case("to_device", "tensor_to_target_layout_keyword", OK)
def _(ttnn, d):
    return H(ttnn, d).host(1, 1, 20, 20, layout=ttnn.ROW_MAJOR_LAYOUT).to(target_layout=ttnn.TILE_LAYOUT)


@case("to_device", "tensor_to_layout_of_device_tensor", OK)
def _(ttnn, d):
    return H(ttnn, d).tt(1, 1, 20, 20).to(ttnn.ROW_MAJOR_LAYOUT)


@case("to_device", "tensor_to_memory_config_keyword", ERR)
def _(ttnn, d):
    return H(ttnn, d).host(1, 1, 32, 32).to(device=d, memory_config=ttnn.L1_MEMORY_CONFIG)  # it is mem_config


@case("to_device", "tensor_to_layout_with_memory_config", ERR)
def _(ttnn, d):
    return H(ttnn, d).host(1, 1, 32, 32).to(ttnn.TILE_LAYOUT, ttnn.L1_MEMORY_CONFIG)


@case("from_device", "tile", OK)
def _(ttnn, d):
    return ttnn.from_device(H(ttnn, d).tt(1, 1, 20, 20))


@case("from_device", "host_tensor", OK)
def _(ttnn, d):
    return ttnn.from_device(H(ttnn, d).host(1, 1, 32, 64))


@case("from_device", "torch_tensor", ERR)
def _(ttnn, d):
    return ttnn.from_device(torch.zeros(2))


@case("copy_host_to_device_tensor", "tile_bf16", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    dst = h.tt(1, 1, 32, 32)
    ttnn.copy_host_to_device_tensor(h.host(1, 1, 32, 32), dst)
    return dst


@case("copy_host_to_device_tensor", "row_major_uint32", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    dst = h.tok(1, 32)
    ttnn.copy_host_to_device_tensor(ttnn.from_torch(torch.ones(1, 32, dtype=torch.int32), dtype=ttnn.uint32), dst)
    return dst


@case("copy_host_to_device_tensor", "shape_differs", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.copy_host_to_device_tensor(h.host(1, 1, 32, 64), h.tt(1, 1, 32, 32))


@case("copy_host_to_device_tensor", "dtype_differs", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.copy_host_to_device_tensor(h.host(1, 1, 32, 32, dtype=ttnn.float32), h.tt(1, 1, 32, 32))


@case("copy_host_to_device_tensor", "layout_differs", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.copy_host_to_device_tensor(h.host(1, 1, 32, 32, layout=ttnn.ROW_MAJOR_LAYOUT), h.tt(1, 1, 32, 32))


@case("copy_host_to_device_tensor", "source_on_device", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.copy_host_to_device_tensor(h.tt(1, 1, 32, 32), h.tt(1, 1, 32, 32))


@case("copy_host_to_device_tensor", "second_queue_not_opened", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.copy_host_to_device_tensor(h.host(1, 1, 32, 32), h.tt(1, 1, 32, 32), cq_id=1)


@case("copy_host_to_device_tensor", "destination_on_host", ERR,
      intentional="real 0.81.1 segfaults the process when the destination is a host tensor; the emulator raises")
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.copy_host_to_device_tensor(h.host(1, 1, 32, 32), h.host(1, 1, 32, 32))


@case("get_memory_config", "sharded", OK)
def _(ttnn, d):
    q, k, v = H(ttnn, d).qkv_decode(8, 2, 64)
    return ttnn.get_memory_config(q)


@case("get_memory_config", "host", OK)
def _(ttnn, d):
    return ttnn.get_memory_config(H(ttnn, d).host(1, 1, 32, 32))


@case("get_memory_config", "not_a_tensor", ERR)
def _(ttnn, d):
    return ttnn.get_memory_config(torch.zeros(2, 2))


@case("to_layout", "rm_to_tile_pads", OK)
def _(ttnn, d):
    return ttnn.to_layout(H(ttnn, d).tt(1, 1, 20, 20, layout=ttnn.ROW_MAJOR_LAYOUT), ttnn.TILE_LAYOUT)


@case("to_layout", "tile_to_rm", OK)
def _(ttnn, d):
    return ttnn.to_layout(H(ttnn, d).tt(1, 1, 20, 20), ttnn.ROW_MAJOR_LAYOUT)


@case("to_layout", "bf8_to_rm", OK)
def _(ttnn, d):
    return ttnn.to_layout(H(ttnn, d).tt(1, 1, 32, 64, dtype=ttnn.bfloat8_b), ttnn.ROW_MAJOR_LAYOUT)


@case("to_layout", "host_rm_to_tile", OK)
def _(ttnn, d):
    return ttnn.to_layout(ttnn.from_torch(torch.zeros(3, 5, 7)), ttnn.TILE_LAYOUT)


@case("to_layout", "rm_to_tile_with_bf8", OK)
def _(ttnn, d):
    return ttnn.to_layout(H(ttnn, d).tt(1, 1, 32, 64, layout=ttnn.ROW_MAJOR_LAYOUT), ttnn.TILE_LAYOUT,
                          dtype=ttnn.bfloat8_b)


@case("to_layout", "same_layout", OK)
def _(ttnn, d):
    return ttnn.to_layout(H(ttnn, d).tt(1, 1, 32, 64), ttnn.TILE_LAYOUT)


@case("to_layout", "host_tile_to_rm_dtype_ignored", OK)
def _(ttnn, d):
    return ttnn.to_layout(H(ttnn, d).host(1, 1, 32, 64), ttnn.ROW_MAJOR_LAYOUT, dtype=ttnn.float32)


@case("to_layout", "host_rm_to_tile_dtype_ignored", OK)
def _(ttnn, d):
    return ttnn.to_layout(H(ttnn, d).host(1, 1, 20, 20, layout=ttnn.ROW_MAJOR_LAYOUT), ttnn.TILE_LAYOUT,
                          dtype=ttnn.bfloat8_b)


@case("to_layout", "same_layout_dtype_ignored", OK)
def _(ttnn, d):
    return ttnn.to_layout(H(ttnn, d).tt(1, 1, 32, 64), ttnn.TILE_LAYOUT, dtype=ttnn.float32)


@case("to_layout", "bf8_to_rm_as_bf16", OK)
def _(ttnn, d):
    return ttnn.to_layout(H(ttnn, d).tt(1, 1, 32, 64, dtype=ttnn.bfloat8_b), ttnn.ROW_MAJOR_LAYOUT, dtype=ttnn.bfloat16)


@case("to_layout", "tile_to_rm_l1", OK)
def _(ttnn, d):
    return ttnn.to_layout(H(ttnn, d).tt(1, 1, 20, 64), ttnn.ROW_MAJOR_LAYOUT, memory_config=ttnn.L1_MEMORY_CONFIG)


@case("to_layout", "uint32_rm_to_tile", OK)
def _(ttnn, d):
    return ttnn.to_layout(H(ttnn, d).tok(1, 1, 1, 20), ttnn.TILE_LAYOUT)


@case("to_layout", "tile_to_rm_as_f32", ERR)
def _(ttnn, d):
    return ttnn.to_layout(H(ttnn, d).tt(1, 1, 32, 64), ttnn.ROW_MAJOR_LAYOUT, dtype=ttnn.float32)


@case("to_layout", "bf4_to_rm", ERR)
def _(ttnn, d):
    return ttnn.to_layout(H(ttnn, d).tt(1, 1, 32, 64, dtype=ttnn.bfloat4_b), ttnn.ROW_MAJOR_LAYOUT)


@case("to_layout", "tile_to_rm_as_bf8", ERR)
def _(ttnn, d):
    return ttnn.to_layout(H(ttnn, d).tt(1, 1, 32, 64), ttnn.ROW_MAJOR_LAYOUT, dtype=ttnn.bfloat8_b)


@case("to_layout", "invalid_layout", ERR)
def _(ttnn, d):
    return ttnn.to_layout(H(ttnn, d).tt(1, 1, 32, 64), ttnn.Layout.INVALID)


@case("to_layout", "sharded_without_spec", ERR)
def _(ttnn, d):
    mc = ttnn.MemoryConfig(ttnn.TensorMemoryLayout.HEIGHT_SHARDED, ttnn.BufferType.L1)
    return ttnn.to_layout(H(ttnn, d).tt(1, 1, 32, 64, layout=ttnn.ROW_MAJOR_LAYOUT), ttnn.TILE_LAYOUT, memory_config=mc)


@case("to_dtype", "host_bf16_to_bf8", OK)
def _(ttnn, d):
    return ttnn.to_dtype(H(ttnn, d).host(1, 1, 32, 64), ttnn.bfloat8_b)


@case("to_dtype", "host_f32_to_bf16_rm", OK)
def _(ttnn, d):
    return ttnn.to_dtype(ttnn.from_torch(torch.zeros(2, 3)), ttnn.bfloat16)


@case("to_dtype", "host_tile_bf16_to_f32", OK)
def _(ttnn, d):
    return ttnn.to_dtype(H(ttnn, d).host(1, 1, 20, 20), ttnn.float32)


@case("to_dtype", "host_rm_f32_to_uint32", OK)
def _(ttnn, d):
    return ttnn.to_dtype(ttnn.from_torch(torch.zeros(2, 3)), ttnn.uint32)


@case("to_dtype", "device_tensor_same_dtype", ERR)
def _(ttnn, d):
    return ttnn.to_dtype(H(ttnn, d).tt(1, 1, 32, 64), ttnn.bfloat16)


@case("to_dtype", "device_other_dtype", ERR)
def _(ttnn, d):
    return ttnn.to_dtype(H(ttnn, d).tt(1, 1, 32, 64), ttnn.float32)


@case("to_dtype", "host_rm_to_bf8_tilizes", OK)
def _(ttnn, d):
    return ttnn.to_dtype(H(ttnn, d).host(1, 1, 32, 64, layout=ttnn.ROW_MAJOR_LAYOUT), ttnn.bfloat8_b)


@case("to_dtype", "host_rank1_to_bf8_needs_padding", ERR)
def _(ttnn, d):
    return ttnn.to_dtype(ttnn.from_torch(torch.zeros(64), dtype=ttnn.bfloat16), ttnn.bfloat8_b)


@case("to_dtype", "host_rm_to_bf4_needs_padding", ERR)
def _(ttnn, d):
    return ttnn.to_dtype(ttnn.from_torch(torch.zeros(3, 20, 20), dtype=ttnn.bfloat16), ttnn.bfloat4_b)


@case("typecast", "bf16_to_f32", OK)
def _(ttnn, d):
    return ttnn.typecast(H(ttnn, d).tt(1, 1, 20, 64), ttnn.float32)


@case("typecast", "bf16_to_bf8", OK)
def _(ttnn, d):
    return ttnn.typecast(H(ttnn, d).tt(1, 1, 32, 64), ttnn.bfloat8_b)


@case("typecast", "bf16_to_uint32", OK)
def _(ttnn, d):
    return ttnn.typecast(H(ttnn, d).tt(1, 1, 32, 64), ttnn.uint32)


@case("typecast", "to_l1", OK)
def _(ttnn, d):
    return ttnn.typecast(H(ttnn, d).tt(1, 1, 32, 64), ttnn.float32, memory_config=ttnn.L1_MEMORY_CONFIG)


@case("typecast", "host", OK)
def _(ttnn, d):
    return ttnn.typecast(H(ttnn, d).host(1, 1, 32, 64), ttnn.float32)


@case("typecast", "row_major_bf16_to_f32", OK)
def _(ttnn, d):
    return ttnn.typecast(H(ttnn, d).tt(1, 1, 20, 64, layout=ttnn.ROW_MAJOR_LAYOUT), ttnn.float32)


@case("typecast", "three_args", OK)
def _(ttnn, d):
    return ttnn.typecast(H(ttnn, d).tt(1, 1, 32, 64), ttnn.bfloat16, ttnn.float32)


@case("typecast", "rm_to_bf8", ERR)
def _(ttnn, d):
    return ttnn.typecast(H(ttnn, d).tt(1, 1, 32, 64, layout=ttnn.ROW_MAJOR_LAYOUT), ttnn.bfloat8_b)


@case("typecast", "deallocated", ERR)
def _(ttnn, d):
    t = H(ttnn, d).tt(1, 1, 32, 32)
    ttnn.deallocate(t)
    return ttnn.typecast(t, ttnn.float32)


@case("to_memory_config", "dram_to_l1", OK)
def _(ttnn, d):
    return ttnn.to_memory_config(H(ttnn, d).tt(1, 1, 20, 64), ttnn.L1_MEMORY_CONFIG)


@case("to_memory_config", "to_height_sharded", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    k = h.tt(1, 2, 32, 64)
    return ttnn.to_memory_config(k, h.shard(k.shape, 2))


@case("to_memory_config", "decode_q_to_dram", OK)
def _(ttnn, d):
    q, k, v = H(ttnn, d).qkv_decode(8, 2, 64)
    return ttnn.to_memory_config(q, ttnn.DRAM_MEMORY_CONFIG)


@case("to_memory_config", "with_dtype", OK)
def _(ttnn, d):
    return ttnn.to_memory_config(H(ttnn, d).tt(1, 1, 32, 64), ttnn.L1_MEMORY_CONFIG, dtype=ttnn.bfloat8_b)


@case("to_memory_config", "shard_not_tile_aligned", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.to_memory_config(h.tt(1, 3, 32, 64), h.shard((1, 3, 32, 64), 4))


@case("to_memory_config", "shard_grid_too_small", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.to_memory_config(h.tt(1, 4, 32, 64), h.shard((1, 2, 32, 64), 2))


@case("to_memory_config", "sharded_without_spec", ERR)
def _(ttnn, d):
    mc = ttnn.MemoryConfig(ttnn.TensorMemoryLayout.HEIGHT_SHARDED, ttnn.BufferType.L1)
    return ttnn.to_memory_config(H(ttnn, d).tt(1, 1, 32, 64), mc)


@case("deallocate", "then_is_allocated", OK)
def _(ttnn, d):
    t = H(ttnn, d).tt(1, 1, 32, 32)
    r = ttnn.deallocate(t)
    return (r, t.is_allocated())


@case("deallocate", "sharded", OK)
def _(ttnn, d):
    q, k, v = H(ttnn, d).qkv_decode(8, 2, 64)
    ttnn.deallocate(q)
    return (q.is_allocated(), k.is_allocated())


@case("deallocate", "use_after_free", ERR)
def _(ttnn, d):
    t = H(ttnn, d).tt(1, 1, 32, 32)
    ttnn.deallocate(t)
    return ttnn.add(t, t)


@case("deallocate", "same_shape_reshape_alias", ERR)
def _(ttnn, d):
    t = H(ttnn, d).tt(1, 1, 32, 32)
    alias = ttnn.reshape(t, (1, 1, 32, 32))
    ttnn.deallocate(t)
    return ttnn.add(alias, alias)


@case("deallocate", "reshape_view_alias", ERR,
      intentional="real 0.81.1 keeps a freed view usable (is_allocated() stays True, ops on it run on memory the "
                  "allocator has already handed out: findings §1 #8); the emulator raises on any use of a freed view")
def _(ttnn, d):
    t = H(ttnn, d).tt(1, 1, 32, 32)
    alias = ttnn.reshape(t, (1, 32, 32))
    ttnn.deallocate(t)
    return ttnn.add(alias, alias)


@case("create_sharded_memory_config", "height_kv", OK)
def _(ttnn, d):
    return H(ttnn, d).shard((1, 2, 32, 64), 2)


@case("create_sharded_memory_config", "height_not_tile_aligned", OK)
def _(ttnn, d):
    return H(ttnn, d).shard((1, 3, 32, 64), 4)


@case("create_sharded_memory_config", "width", OK)
def _(ttnn, d):
    return H(ttnn, d).shard((1, 1, 32, 512), 8, 1, ttnn.ShardStrategy.WIDTH)


@case("create_sharded_memory_config", "block", OK)
def _(ttnn, d):
    return H(ttnn, d).shard((1, 1, 256, 512), 8, 4, ttnn.ShardStrategy.BLOCK)


@case("create_sharded_memory_config", "block_col_major", OK)
def _(ttnn, d):
    return ttnn.create_sharded_memory_config((1, 1, 256, 512), ttnn.CoreGrid(x=8, y=4), ttnn.ShardStrategy.BLOCK,
                                             ttnn.ShardOrientation.COL_MAJOR)


@case("create_sharded_memory_config", "explicit_shard_shape", OK)
def _(ttnn, d):
    return ttnn.create_sharded_memory_config((32, 64), ttnn.CoreGrid(x=4, y=2), ttnn.ShardStrategy.HEIGHT,
                                             use_height_and_width_as_shard_shape=True)


@case("create_sharded_memory_config", "ttnn_shape_arg", OK)
def _(ttnn, d):
    k = H(ttnn, d).tt(1, 8, 32, 64)
    return ttnn.create_sharded_memory_config(k.shape, ttnn.CoreGrid(x=8, y=1), ttnn.ShardStrategy.HEIGHT,
                                             ttnn.ShardOrientation.ROW_MAJOR)


@case("create_sharded_memory_config", "height_not_divisible", ERR)
def _(ttnn, d):
    return H(ttnn, d).shard((1, 1, 100, 64), 3)


@case("create_sharded_memory_config", "width_not_divisible", ERR)
def _(ttnn, d):
    return H(ttnn, d).shard((1, 1, 32, 100), 3, 1, ttnn.ShardStrategy.WIDTH)


# =================================================================================================================
# creation
@case("zeros", "host_default", OK)
def _(ttnn, d):
    return ttnn.zeros((1, 1, 30, 60))


@case("zeros", "tile_device_padded", OK)
def _(ttnn, d):
    return ttnn.zeros((1, 1, 30, 60), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=d,
                      memory_config=ttnn.DRAM_MEMORY_CONFIG)


@case("zeros", "device_default_mc", OK)
def _(ttnn, d):
    return ttnn.zeros((1, 1, 32, 32), dtype=ttnn.float32, layout=ttnn.TILE_LAYOUT, device=d)


@case("zeros", "bf8_default_layout", OK)
def _(ttnn, d):
    return ttnn.zeros((1, 1, 32, 32), dtype=ttnn.bfloat8_b, device=d)


@case("zeros", "bf8_row_major", ERR)
def _(ttnn, d):
    return ttnn.zeros((1, 1, 32, 32), dtype=ttnn.bfloat8_b, layout=ttnn.ROW_MAJOR_LAYOUT, device=d)


@case("ones", "bf8_tile", OK)
def _(ttnn, d):
    return ttnn.ones((1, 1, 32, 64), dtype=ttnn.bfloat8_b, layout=ttnn.TILE_LAYOUT, device=d)


@case("ones", "l1", OK)
def _(ttnn, d):
    return ttnn.ones((2, 40), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=d,
                     memory_config=ttnn.L1_MEMORY_CONFIG)


@case("ones", "bf4_row_major", ERR)
def _(ttnn, d):
    return ttnn.ones((1, 1, 32, 32), dtype=ttnn.bfloat4_b, layout=ttnn.ROW_MAJOR_LAYOUT)


@case("full", "device", OK)
def _(ttnn, d):
    return ttnn.full((1, 1, 20, 20), 3.0, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=d)


@case("full", "host_default", OK)
def _(ttnn, d):
    return ttnn.full((4, 4), 1.5)


@case("full", "sharded_without_spec", ERR)
def _(ttnn, d):
    mc = ttnn.MemoryConfig(ttnn.TensorMemoryLayout.HEIGHT_SHARDED, ttnn.BufferType.L1)
    return ttnn.full((1, 1, 32, 32), 1.0, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=d, memory_config=mc)


@case("empty", "dram_tile", OK)
def _(ttnn, d):
    return ttnn.empty((1, 1, 20, 64), ttnn.bfloat16, ttnn.TILE_LAYOUT, d, ttnn.DRAM_MEMORY_CONFIG)


@case("empty", "height_sharded", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.empty((1, 2, 32, 64), ttnn.bfloat16, ttnn.TILE_LAYOUT, d, h.shard((1, 2, 32, 64), 2))


@case("empty", "no_device", ERR)
def _(ttnn, d):
    return ttnn.empty((1, 1, 32, 32), ttnn.bfloat16, ttnn.TILE_LAYOUT, None, ttnn.DRAM_MEMORY_CONFIG)


@case("empty", "shard_grid_too_small", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.empty((1, 4, 32, 64), ttnn.bfloat16, ttnn.TILE_LAYOUT, d, h.shard((1, 2, 32, 64), 2))


@case("empty", "bf8_row_major", ERR)
def _(ttnn, d):
    return ttnn.empty((1, 1, 32, 32), ttnn.bfloat8_b, ttnn.ROW_MAJOR_LAYOUT, d, ttnn.DRAM_MEMORY_CONFIG)


@case("empty", "shard_not_tile_aligned", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.empty((1, 3, 32, 64), ttnn.bfloat16, ttnn.TILE_LAYOUT, d, h.shard((1, 3, 32, 64), 4))


# =================================================================================================================
# matmul
@case("linear", "rank3_at_rank4", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.linear(h.tt(1, 32, 512), h.tt(1, 1, 512, 256))


@case("linear", "padded_rows", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.linear(h.tt(1, 1, 20, 64), h.tt(1, 1, 64, 96))


@case("linear", "bf8_weight", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.linear(h.tt(1, 1, 32, 64), h.tt(1, 1, 64, 128, dtype=ttnn.bfloat8_b))


@case("linear", "bf8_input_bf16_out", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.linear(h.tt(1, 1, 32, 64, dtype=ttnn.bfloat8_b), h.tt(1, 1, 64, 128), dtype=ttnn.bfloat16)


@case("linear", "bias", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.linear(h.tt(1, 1, 32, 64), h.tt(1, 1, 64, 128), bias=h.tt(1, 1, 1, 128))


@case("linear", "out_l1_bf8", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.linear(h.tt(1, 1, 32, 64), h.tt(1, 1, 64, 128), memory_config=ttnn.L1_MEMORY_CONFIG,
                       dtype=ttnn.bfloat8_b)


@case("linear", "rank2_weight", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.linear(h.tt(1, 1, 32, 64), h.tt(64, 128))


@case("linear", "transpose_b", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.linear(h.tt(1, 1, 32, 64), h.tt(1, 1, 128, 64), transpose_b=True)


@case("linear", "activation_silu", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.linear(h.tt(1, 1, 32, 64), h.tt(1, 1, 64, 128), activation="silu")


@case("linear", "decode_rows", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.linear(h.tt(1, 1, 32, 2048), h.tt(1, 1, 2048, 3072, dtype=ttnn.bfloat8_b))


@case("linear", "k_mismatch", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.linear(h.tt(1, 1, 32, 64), h.tt(1, 1, 96, 32))


@case("linear", "k_mismatch_inside_tile", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.linear(h.tt(1, 1, 32, 60), h.tt(1, 1, 64, 32))


@case("linear", "row_major_input", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.linear(h.tt(1, 1, 32, 64, layout=ttnn.ROW_MAJOR_LAYOUT), h.tt(1, 1, 64, 32))


@case("linear", "host_weight", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.linear(h.tt(1, 1, 32, 64), h.host(1, 1, 64, 32))


@case("linear", "bias_wrong_width", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.linear(h.tt(1, 1, 32, 64), h.tt(1, 1, 64, 128), bias=h.tt(1, 1, 1, 64))


@case("matmul", "plain", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.matmul(h.tt(1, 1, 32, 64), h.tt(1, 1, 64, 32))


@case("matmul", "batched", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.matmul(h.tt(1, 8, 32, 64), h.tt(1, 8, 64, 32))


@case("matmul", "broadcast_b", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.matmul(h.tt(2, 8, 20, 64), h.tt(64, 32))


@case("matmul", "f32", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.matmul(h.tt(1, 1, 32, 64, dtype=ttnn.float32), h.tt(1, 1, 64, 32, dtype=ttnn.float32))


@case("matmul", "k_mismatch", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.matmul(h.tt(1, 1, 32, 64), h.tt(1, 1, 32, 64))


@case("matmul", "row_major", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.matmul(h.tt(1, 1, 32, 64, layout=ttnn.ROW_MAJOR_LAYOUT),
                       h.tt(1, 1, 64, 32, layout=ttnn.ROW_MAJOR_LAYOUT))


@case("matmul", "batch_mismatch", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.matmul(h.tt(1, 8, 32, 64), h.tt(1, 4, 64, 32))


# =================================================================================================================
# normalization
@case("rms_norm", "rank3", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.rms_norm(h.tt(1, 32, 512), epsilon=1e-5, weight=h.tt(1, 1, 1, 512))


@case("rms_norm", "padded_rows", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.rms_norm(h.tt(1, 1, 20, 64), epsilon=1e-5, weight=h.tt(1, 1, 1, 64))


@case("rms_norm", "no_weight", OK)
def _(ttnn, d):
    return ttnn.rms_norm(H(ttnn, d).tt(1, 1, 32, 64))


@case("rms_norm", "bf8_input", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.rms_norm(h.tt(1, 1, 32, 64, dtype=ttnn.bfloat8_b), epsilon=1e-5, weight=h.tt(1, 1, 1, 64))


@case("rms_norm", "per_head_prefill", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.rms_norm(h.tt(1, 8, 32, 128), epsilon=1e-6, weight=h.tt(1, 1, 1, 128))


@case("rms_norm", "decode_heads_dram", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    q, k, v = h.qkv_decode(8, 2, 64)
    return ttnn.rms_norm(ttnn.to_memory_config(q, ttnn.DRAM_MEMORY_CONFIG), epsilon=1e-6, weight=h.tt(1, 1, 1, 64))


@case("rms_norm", "rm_weight_32_wide", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.rms_norm(h.tt(1, 1, 32, 128), epsilon=1e-5, weight=h.tt(4, 32, layout=ttnn.ROW_MAJOR_LAYOUT))


@case("rms_norm", "out_l1", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.rms_norm(h.tt(1, 1, 32, 64), weight=h.tt(1, 1, 1, 64), memory_config=ttnn.L1_MEMORY_CONFIG)


@case("rms_norm", "row_major_input", ERR)
def _(ttnn, d):
    return ttnn.rms_norm(H(ttnn, d).tt(1, 1, 32, 64, layout=ttnn.ROW_MAJOR_LAYOUT), epsilon=1e-5)


@case("rms_norm", "weight_wider", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.rms_norm(h.tt(1, 1, 32, 64), epsilon=1e-5, weight=h.tt(1, 1, 1, 128))


@case("rms_norm", "weight_logical_narrower", ERR)
def _(ttnn, d):
    h = H(ttnn, d)  # same padded width (64), but gamma's logical width 50 < 64
    return ttnn.rms_norm(h.tt(1, 1, 32, 64), epsilon=1e-5, weight=h.tt(1, 1, 1, 50))


@case("rms_norm", "height_sharded_input", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    q, k, v = h.qkv_decode(8, 2, 64)
    return ttnn.rms_norm(q, epsilon=1e-6, weight=h.tt(1, 1, 1, 64))


@case("layer_norm", "weight_bias", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.layer_norm(h.tt(1, 1, 32, 64), epsilon=1e-5, weight=h.tt(1, 1, 1, 64), bias=h.tt(1, 1, 1, 64))


@case("layer_norm", "padded_rank3", OK)
def _(ttnn, d):
    return ttnn.layer_norm(H(ttnn, d).tt(1, 20, 96))


@case("layer_norm", "row_major_input", OK)
def _(ttnn, d):
    return ttnn.layer_norm(H(ttnn, d).tt(1, 1, 32, 64, layout=ttnn.ROW_MAJOR_LAYOUT))


@case("layer_norm", "row_major_rank2_l1", OK)
def _(ttnn, d):
    return ttnn.layer_norm(H(ttnn, d).tt(20, 64, layout=ttnn.ROW_MAJOR_LAYOUT), memory_config=ttnn.L1_MEMORY_CONFIG)


@case("layer_norm", "row_major_width_50", ERR)
def _(ttnn, d):
    return ttnn.layer_norm(H(ttnn, d).tt(1, 1, 20, 50, layout=ttnn.ROW_MAJOR_LAYOUT))


@case("layer_norm", "row_major_residual", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    x = h.tt(1, 1, 20, 64, layout=ttnn.ROW_MAJOR_LAYOUT)
    return ttnn.layer_norm(x, residual_input_tensor=h.tt(1, 1, 20, 64, layout=ttnn.ROW_MAJOR_LAYOUT))


@case("layer_norm", "height_sharded_input", ERR)
def _(ttnn, d):
    q, k, v = H(ttnn, d).qkv_decode(8, 2, 64)
    return ttnn.layer_norm(q)


@case("layer_norm", "weight_wider", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.layer_norm(h.tt(1, 1, 32, 64), weight=h.tt(1, 1, 1, 128))


@case("softmax", "last_dim", OK)
def _(ttnn, d):
    return ttnn.softmax(H(ttnn, d).tt(1, 8, 32, 32), dim=-1)


@case("softmax", "padded", OK)
def _(ttnn, d):
    return ttnn.softmax(H(ttnn, d).tt(1, 1, 20, 50))


@case("softmax", "bf8", OK)
def _(ttnn, d):
    return ttnn.softmax(H(ttnn, d).tt(1, 1, 32, 64, dtype=ttnn.bfloat8_b))


@case("softmax", "row_major_gives_tile", OK)
def _(ttnn, d):
    return ttnn.softmax(H(ttnn, d).tt(1, 1, 20, 64, layout=ttnn.ROW_MAJOR_LAYOUT))


@case("softmax", "width_sharded", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.softmax(h.tt(1, 1, 32, 256, mc=h.shard((1, 1, 32, 256), 8, 1, ttnn.ShardStrategy.WIDTH)))


@case("softmax", "host_input", ERR)
def _(ttnn, d):
    return ttnn.softmax(H(ttnn, d).host(1, 1, 32, 32))


@case("softmax", "deallocated", ERR)
def _(ttnn, d):
    t = H(ttnn, d).tt(1, 1, 32, 32)
    ttnn.deallocate(t)
    return ttnn.softmax(t)


# =================================================================================================================
# eltwise
@case("add", "same_shape", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.add(h.tt(1, 1, 32, 64), h.tt(1, 1, 32, 64))


@case("add", "rank3_plus_rank4", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.add(h.tt(1, 32, 64), h.tt(1, 1, 32, 64))


@case("add", "broadcast_row", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.add(h.tt(1, 1, 20, 64), h.tt(1, 1, 1, 64))


@case("add", "broadcast_batch", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.add(h.tt(1, 8, 32, 64), h.tt(1, 1, 32, 64))


@case("add", "scalar", OK)
def _(ttnn, d):
    return ttnn.add(H(ttnn, d).tt(1, 1, 20, 64), 1.0)


@case("add", "bf8_plus_bf16", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.add(h.tt(1, 1, 32, 64, dtype=ttnn.bfloat8_b), h.tt(1, 1, 32, 64))


@case("add", "row_major", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.add(h.tt(1, 1, 20, 64, layout=ttnn.ROW_MAJOR_LAYOUT), h.tt(1, 1, 20, 64, layout=ttnn.ROW_MAJOR_LAYOUT))


@case("add", "out_l1", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.add(h.tt(1, 1, 32, 64), h.tt(1, 1, 32, 64), memory_config=ttnn.L1_MEMORY_CONFIG)


@case("add", "sharded_decode_heads", OK)
def _(ttnn, d):
    q, k, v = H(ttnn, d).qkv_decode(8, 2, 64)
    return ttnn.add(k, v)


@case("add", "width_mismatch", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.add(h.tt(1, 1, 32, 64), h.tt(1, 1, 32, 96))


@case("add", "height_mismatch", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.add(h.tt(1, 1, 32, 64), h.tt(1, 1, 64, 64))


@case("add", "host_input", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.add(h.host(1, 1, 32, 64), h.tt(1, 1, 32, 64))


@case("sub", "same_shape", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.sub(h.tt(1, 1, 20, 64), h.tt(1, 1, 20, 64))


@case("sub", "width_mismatch", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.sub(h.tt(1, 1, 32, 64), h.tt(1, 1, 32, 128))


@case("subtract", "broadcast", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.subtract(h.tt(1, 1, 32, 64), h.tt(1, 1, 32, 1))


@case("subtract", "batch_mismatch", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.subtract(h.tt(1, 2, 32, 64), h.tt(1, 3, 32, 64))


@case("mul", "swiglu", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.mul(ttnn.silu(h.tt(1, 1, 20, 512)), h.tt(1, 1, 20, 512))


@case("mul", "f32", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.mul(h.tt(1, 1, 32, 64, dtype=ttnn.float32), h.tt(1, 1, 32, 64, dtype=ttnn.float32))


@case("mul", "scalar", OK)
def _(ttnn, d):
    return ttnn.mul(H(ttnn, d).tt(1, 1, 32, 64), 0.5)


@case("mul", "width_mismatch", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.mul(h.tt(1, 1, 32, 64), h.tt(1, 1, 32, 96))


@case("mul", "deallocated", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    a = h.tt(1, 1, 32, 64)
    ttnn.deallocate(a)
    return ttnn.mul(a, h.tt(1, 1, 32, 64))


@case("multiply", "plain", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.multiply(h.tt(1, 1, 32, 64), h.tt(1, 1, 32, 64))


@case("multiply", "height_mismatch", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.multiply(h.tt(1, 1, 32, 64), h.tt(1, 1, 96, 64))


# Tensor operators (issue 16): 0.81.1 maps them onto these ops in ttnn/__init__.py.
@case("add", "operator_tensor_plus_tensor", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return h.tt(1, 1, 20, 64) + h.tt(1, 1, 1, 64)


@case("add", "operator_tensor_plus_int", OK)
def _(ttnn, d):
    return H(ttnn, d).tt(1, 1, 20, 64) + 3


@case("add", "operator_float_plus_tensor", OK)
def _(ttnn, d):
    return 0.42 + H(ttnn, d).tt(1, 1, 20, 64, dtype=ttnn.float32)


@case("add", "operator_keywords_pass_through", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return h.tt(1, 1, 32, 64).__add__(h.tt(1, 1, 32, 64), memory_config=ttnn.L1_MEMORY_CONFIG)


@case("add", "operator_host_tensors", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return h.host(1, 1, 32, 64) + h.host(1, 1, 32, 64)


@case("add", "operator_with_a_string", ERR)
def _(ttnn, d):
    return H(ttnn, d).tt(1, 1, 32, 64) + "x"


@case("subtract", "operator_tensor_minus_tensor", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return h.tt(1, 2, 32, 64) - h.tt(1, 2, 32, 64)


@case("subtract", "operator_int_minus_tensor", OK)
def _(ttnn, d):
    return 3 - H(ttnn, d).tt(1, 1, 20, 64, dtype="bfloat8_b")


@case("subtract", "operator_unary_minus", ERR)
def _(ttnn, d):
    return -H(ttnn, d).tt(1, 1, 32, 64)  # 0.81.1's Tensor has no __neg__: a TypeError on both


@case("multiply", "operator_tensor_times_tensor", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return h.tt(1, 1, 32, 64) * h.tt(1, 1, 32, 1)


@case("multiply", "operator_float_times_tensor", OK)
def _(ttnn, d):
    return 0.125 * H(ttnn, d).tt(1, 1, 32, 64)


@case("multiply", "operator_shape_mismatch", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return h.tt(1, 1, 32, 64) * h.tt(1, 1, 32, 96)


@case("matmul", "operator_at", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return h.tt(1, 1, 32, 64) @ h.tt(1, 1, 64, 96)


@case("matmul", "operator_at_k_mismatch", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return h.tt(1, 1, 32, 64) @ h.tt(1, 1, 96, 64)


@case("silu", "tile", OK)
def _(ttnn, d):
    return ttnn.silu(H(ttnn, d).tt(1, 1, 20, 64))


@case("silu", "bf8", OK)
def _(ttnn, d):
    return ttnn.silu(H(ttnn, d).tt(1, 1, 32, 64, dtype=ttnn.bfloat8_b))


@case("silu", "out_l1", OK)
def _(ttnn, d):
    return ttnn.silu(H(ttnn, d).tt(1, 1, 32, 64), memory_config=ttnn.L1_MEMORY_CONFIG)


@case("silu", "uint32_input", ERR)
def _(ttnn, d):
    return ttnn.silu(H(ttnn, d).tt(1, 1, 32, 64, dtype=ttnn.uint32))


@case("silu", "int32_input", ERR)
def _(ttnn, d):
    return ttnn.silu(H(ttnn, d).tt(1, 1, 32, 64, dtype=ttnn.int32))


@case("relu", "tile", OK)
def _(ttnn, d):
    return ttnn.relu(H(ttnn, d).tt(1, 1, 32, 64))


@case("relu", "row_major", OK)
def _(ttnn, d):
    return ttnn.relu(H(ttnn, d).tt(1, 1, 20, 64, layout=ttnn.ROW_MAJOR_LAYOUT))


@case("relu", "uint32", OK)
def _(ttnn, d):
    return ttnn.relu(H(ttnn, d).tt(1, 1, 32, 64, dtype=ttnn.uint32))


@case("relu", "torch_tensor_input", ERR)
def _(ttnn, d):
    return ttnn.relu(torch.zeros(1, 1, 32, 64))


@case("gelu", "tile", OK)
def _(ttnn, d):
    return ttnn.gelu(H(ttnn, d).tt(1, 1, 20, 64))


@case("gelu", "bf8", OK)
def _(ttnn, d):
    return ttnn.gelu(H(ttnn, d).tt(1, 1, 32, 64, dtype=ttnn.bfloat8_b))


@case("gelu", "f32", OK)
def _(ttnn, d):
    return ttnn.gelu(H(ttnn, d).tt(1, 1, 32, 64, dtype=ttnn.float32))


@case("gelu", "uint32_input", ERR)
def _(ttnn, d):
    return ttnn.gelu(H(ttnn, d).tt(1, 1, 32, 64, dtype=ttnn.uint32))


# =================================================================================================================
# embedding
@case("embedding", "tokens_rank4_tile_out", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.embedding(h.tok(1, 1, 1, 32), h.tt(1, 1, 1000, 512, layout=ttnn.ROW_MAJOR_LAYOUT),
                          layout=ttnn.TILE_LAYOUT)


@case("embedding", "tokens_unpadded_20", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.embedding(h.tok(1, 1, 1, 20), h.tt(1, 1, 1000, 512, layout=ttnn.ROW_MAJOR_LAYOUT),
                          layout=ttnn.TILE_LAYOUT)


@case("embedding", "bf8_tile_table", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.embedding(h.tok(1, 1, 1, 32), h.tt(1, 1, 1000, 512, dtype=ttnn.bfloat8_b), layout=ttnn.TILE_LAYOUT)


@case("embedding", "no_layout_rm_out", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.embedding(h.tok(1, 1, 1, 32), h.tt(1, 1, 1000, 512, layout=ttnn.ROW_MAJOR_LAYOUT))


@case("embedding", "rank1_tokens", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.embedding(h.tok(32), h.tt(1, 1, 1000, 512, layout=ttnn.ROW_MAJOR_LAYOUT), layout=ttnn.TILE_LAYOUT)


@case("embedding", "rank2_table", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.embedding(h.tok(1, 32), h.tt(1000, 512, layout=ttnn.ROW_MAJOR_LAYOUT), layout=ttnn.TILE_LAYOUT)


@case("embedding", "f32_indices", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    idx = ttnn.from_torch(torch.zeros(1, 1, 1, 32), dtype=ttnn.float32, device=d)
    return ttnn.embedding(idx, h.tt(1, 1, 100, 64, layout=ttnn.ROW_MAJOR_LAYOUT))


@case("embedding", "int32_indices", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    idx = ttnn.from_torch(torch.zeros(1, 1, 1, 32, dtype=torch.int32), dtype=ttnn.int32, device=d)
    return ttnn.embedding(idx, h.tt(1, 1, 100, 64, layout=ttnn.ROW_MAJOR_LAYOUT))


@case("embedding", "host_tokens", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    idx = ttnn.from_torch(torch.zeros(1, 1, 1, 32, dtype=torch.int32), dtype=ttnn.uint32)
    return ttnn.embedding(idx, h.tt(1, 1, 100, 64, layout=ttnn.ROW_MAJOR_LAYOUT))


# =================================================================================================================
# data movement
@case("concat", "qkv_last_dim", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.concat([h.tt(1, 1, 32, 512), h.tt(1, 1, 32, 128), h.tt(1, 1, 32, 128)], dim=-1)


@case("concat", "padded_rows", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.concat([h.tt(1, 1, 20, 64), h.tt(1, 1, 20, 64)], dim=-1)


@case("concat", "unaligned_widths", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.concat([h.tt(1, 1, 32, 48), h.tt(1, 1, 32, 16)], dim=-1)


@case("concat", "default_dim0", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.concat([h.tt(1, 1, 32, 64), h.tt(2, 1, 32, 64)])


@case("concat", "row_major_dim2", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.concat([h.tt(1, 1, 5, 64, layout=ttnn.ROW_MAJOR_LAYOUT), h.tt(1, 1, 7, 64, layout=ttnn.ROW_MAJOR_LAYOUT)],
                       dim=2)


@case("concat", "tile_seq_dim", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.concat([h.tt(1, 1, 20, 64), h.tt(1, 1, 20, 64)], dim=2)


@case("concat", "layout_mismatch_rm_first", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.concat([h.tt(1, 1, 32, 64, layout=ttnn.ROW_MAJOR_LAYOUT), h.tt(1, 1, 32, 64)], dim=-1)


@case("concat", "layout_mismatch_padded_rows", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.concat([h.tt(1, 1, 20, 64), h.tt(1, 1, 20, 64, layout=ttnn.ROW_MAJOR_LAYOUT)], dim=-1)


@case("concat", "layout_mismatch_dim1", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.concat([h.tt(1, 1, 20, 64), h.tt(1, 2, 20, 64, layout=ttnn.ROW_MAJOR_LAYOUT)], dim=1)


@case("concat", "l1_inputs_dram_output", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.concat([h.tt(1, 1, 32, 64, mc=ttnn.L1_MEMORY_CONFIG), h.tt(1, 1, 32, 64, mc=ttnn.L1_MEMORY_CONFIG)],
                       dim=-1)


@case("concat", "layout_mismatch_unaligned_concat_dim", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.concat([h.tt(1, 1, 32, 48), h.tt(1, 1, 32, 16, layout=ttnn.ROW_MAJOR_LAYOUT)], dim=-1)


@case("concat", "empty_list", ERR)
def _(ttnn, d):
    return ttnn.concat([], dim=-1)


@case("concat", "shape_mismatch", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.concat([h.tt(1, 1, 32, 64), h.tt(1, 1, 64, 64)], dim=-1)


@case("concat", "rank_mismatch", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.concat([h.tt(1, 1, 32, 64), h.tt(1, 32, 64)], dim=-1)


@case("concat", "dtype_mismatch", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.concat([h.tt(1, 1, 32, 64), h.tt(1, 1, 32, 64, dtype=ttnn.bfloat8_b)], dim=-1)


@case("concat", "layout_mismatch", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.concat([h.tt(1, 1, 32, 64), h.tt(1, 1, 32, 64, layout=ttnn.ROW_MAJOR_LAYOUT)], dim=-1)


@case("concat", "dim_out_of_range", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.concat([h.tt(1, 1, 32, 64), h.tt(1, 1, 32, 64)], dim=4)


@case("slice", "trim_width", OK)
def _(ttnn, d):
    return ttnn.slice(H(ttnn, d).tt(1, 1, 32, 512), (0, 0, 0, 0), (1, 1, 32, 256))


@case("slice", "end_in_padding", OK)
def _(ttnn, d):
    return ttnn.slice(H(ttnn, d).tt(1, 1, 20, 64), (0, 0, 0, 0), (1, 1, 32, 64))


@case("slice", "empty", OK)
def _(ttnn, d):
    return ttnn.slice(H(ttnn, d).tt(1, 1, 32, 64), (0, 0, 0, 32), (1, 1, 32, 32))


@case("slice", "unaligned", OK)
def _(ttnn, d):
    return ttnn.slice(H(ttnn, d).tt(1, 1, 32, 64), (0, 0, 3, 5), (1, 1, 20, 53))


@case("slice", "row_major", OK)
def _(ttnn, d):
    return ttnn.slice(H(ttnn, d).tt(1, 1, 20, 64, layout=ttnn.ROW_MAJOR_LAYOUT), (0, 0, 0, 0), (1, 1, 10, 64))


@case("slice", "getitem_cos_rows", OK)
def _(ttnn, d):
    return H(ttnn, d).tt(1, 1, 2048, 64)[:, :, :32, :]


@case("slice", "getitem_decode_rows", OK)
def _(ttnn, d):
    return H(ttnn, d).tt(1, 1, 256, 64)[:, :, 5:6, :]


@case("slice", "aligned_start_end_in_padding", OK)
def _(ttnn, d):
    return ttnn.slice(H(ttnn, d).tt(1, 1, 20, 64), (0, 0, 0, 0), (1, 1, 32, 48))


@case("slice", "width_into_padding", OK)
def _(ttnn, d):
    return ttnn.slice(H(ttnn, d).tt(1, 1, 32, 50), (0, 0, 0, 32), (1, 1, 32, 64))


@case("slice", "negative_start", OK)
def _(ttnn, d):
    return ttnn.slice(H(ttnn, d).tt(1, 1, 20, 64), (0, 0, -4, 0), (1, 1, 20, 64))


@case("slice", "negative_end", OK)
def _(ttnn, d):
    return ttnn.slice(H(ttnn, d).tt(1, 1, 32, 64), (0, 0, 0, -32), (1, 1, 32, -16))


@case("slice", "end_zero", OK)
def _(ttnn, d):
    return ttnn.slice(H(ttnn, d).tt(1, 1, 32, 64), (0, 0, 0, 0), (1, 1, 32, 0))


@case("slice", "empty_at_end", OK)
def _(ttnn, d):
    return ttnn.slice(H(ttnn, d).tt(1, 1, 32, 64), (0, 0, 0, 64), (1, 1, 32, 64))


@case("slice", "step_2", OK)
def _(ttnn, d):
    return ttnn.slice(H(ttnn, d).tt(1, 1, 32, 64), (0, 0, 0, 0), (1, 1, 32, 64), (1, 1, 2, 1))


@case("slice", "out_l1", OK)
def _(ttnn, d):
    return ttnn.slice(H(ttnn, d).tt(1, 1, 32, 64), (0, 0, 0, 0), (1, 1, 32, 32), memory_config=ttnn.L1_MEMORY_CONFIG)


@case("slice", "getitem_negative", OK)
def _(ttnn, d):
    return H(ttnn, d).tt(1, 1, 20, 64)[:, :, -4:, :]


@case("slice", "getitem_int_index", OK)
def _(ttnn, d):
    return H(ttnn, d).tt(1, 2, 20, 64)[:, -1]


@case("slice", "unaligned_start_end_in_padding", ERR)
def _(ttnn, d):
    return ttnn.slice(H(ttnn, d).tt(1, 1, 20, 64), (0, 0, 16, 0), (1, 1, 32, 64))


@case("slice", "step_end_in_padding", ERR)
def _(ttnn, d):
    return ttnn.slice(H(ttnn, d).tt(1, 1, 20, 64), (0, 0, 0, 0), (1, 1, 32, 64), (1, 1, 2, 1))


@case("slice", "row_major_end_past_logical", ERR)
def _(ttnn, d):
    return ttnn.slice(H(ttnn, d).tt(1, 1, 20, 64, layout=ttnn.ROW_MAJOR_LAYOUT), (0, 0, 0, 0), (1, 1, 32, 64))


@case("slice", "start_after_end", ERR)
def _(ttnn, d):
    return ttnn.slice(H(ttnn, d).tt(1, 1, 32, 64), (0, 0, 0, 40), (1, 1, 32, 32))


@case("slice", "bf8_step_2", ERR)
def _(ttnn, d):
    return ttnn.slice(H(ttnn, d).tt(1, 1, 32, 64, dtype=ttnn.bfloat8_b), (0, 0, 0, 0), (1, 1, 32, 64), (1, 1, 2, 1))


@case("slice", "getitem_host", ERR)
def _(ttnn, d):
    return ttnn.from_torch(torch.zeros(3, 5, 7), dtype=ttnn.bfloat16)[-2:]


@case("slice", "end_past_padded", ERR)
def _(ttnn, d):
    return ttnn.slice(H(ttnn, d).tt(1, 1, 32, 64), (0, 0, 0, 0), (1, 1, 32, 128))


@case("slice", "start_past_padded", ERR)
def _(ttnn, d):
    return H(ttnn, d).tt(1, 1, 32, 64)[:, :, :, 100:200]


@case("slice", "host", ERR)
def _(ttnn, d):
    return ttnn.slice(H(ttnn, d).host(1, 1, 32, 64), (0, 0, 0, 0), (1, 1, 32, 32))


@case("slice", "rank_mismatch", ERR)
def _(ttnn, d):
    return ttnn.slice(H(ttnn, d).tt(1, 1, 32, 64), (0, 0), (32, 32))


@case("reshape", "decode_heads_to_rows", OK)
def _(ttnn, d):
    q, k, v = H(ttnn, d).qkv_decode(8, 2, 64)
    return ttnn.reshape(q, (1, 1, 256, 64))


@case("reshape", "rows_to_decode_heads", OK)
def _(ttnn, d):
    q, k, v = H(ttnn, d).qkv_decode(8, 2, 64)
    return ttnn.reshape(ttnn.reshape(q, (1, 1, 256, 64)), (1, 32, 8, 64))


@case("reshape", "drop_unit_dim", OK)
def _(ttnn, d):
    return ttnn.reshape(H(ttnn, d).tt(1, 1, 32, 64), (1, 32, 64))


@case("reshape", "infer_minus_one", OK)
def _(ttnn, d):
    return ttnn.reshape(H(ttnn, d).tt(1, 1, 64, 64), (1, 2, -1, 64))


@case("reshape", "tile_repad", OK)
def _(ttnn, d):
    return ttnn.reshape(H(ttnn, d).tt(2, 3, 4, 5), (2, 3, 20))


@case("reshape", "row_major", OK)
def _(ttnn, d):
    return ttnn.reshape(H(ttnn, d).tt(1, 1, 20, 64, layout=ttnn.ROW_MAJOR_LAYOUT), (1, 20, 8, 8))


@case("reshape", "ttnn_shape_arg", OK)
def _(ttnn, d):
    return ttnn.reshape(H(ttnn, d).tt(1, 1, 32, 64), ttnn.Shape((1, 32, 64)))


@case("reshape", "volume_mismatch", ERR)
def _(ttnn, d):
    return ttnn.reshape(H(ttnn, d).tt(1, 1, 32, 64), (1, 1, 32, 63))


@case("reshape", "two_minus_ones", ERR)
def _(ttnn, d):
    return ttnn.reshape(H(ttnn, d).tt(1, 1, 32, 64), (1, -1, -1, 64))


@case("reshape", "3arg_decode_heads", OK)
def _(ttnn, d):
    q, k, v = H(ttnn, d).qkv_decode(8, 2, 64)
    r = ttnn.reshape(q, (1, 1, 256, 64))
    return ttnn.reshape(r, ttnn.Shape((1, 32, 8, 64)), ttnn.Shape((1, 32, 32, 64)))


@case("reshape", "3arg_explicit_padding", OK)
def _(ttnn, d):
    return ttnn.reshape(H(ttnn, d).tt(1, 1, 32, 32), ttnn.Shape((1, 1, 24, 32)), ttnn.Shape((1, 1, 32, 32)))


@case("reshape", "3arg_new_window_from_padded_rows", OK)
def _(ttnn, d):
    return ttnn.reshape(H(ttnn, d).tt(1, 1, 20, 32), ttnn.Shape((1, 1, 24, 32)), ttnn.Shape((1, 1, 32, 32)))


@case("reshape", "3arg_smaller_window", OK)
def _(ttnn, d):
    return ttnn.reshape(H(ttnn, d).tt(1, 1, 64, 64), ttnn.Shape((1, 1, 32, 64)), ttnn.Shape((1, 1, 32, 32)))


@case("reshape", "3arg_rank_change", OK)
def _(ttnn, d):
    return ttnn.reshape(H(ttnn, d).tt(1, 1, 32, 32), ttnn.Shape((1, 32, 32)), ttnn.Shape((1, 1, 32, 32)))


@case("reshape", "3arg_move_to_decode_heads", OK)
def _(ttnn, d):
    return ttnn.reshape(H(ttnn, d).tt(1, 1, 256, 64), ttnn.Shape((1, 32, 8, 64)), ttnn.Shape((1, 32, 32, 64)))


@case("reshape", "3arg_window_past_buffer", ERR)
def _(ttnn, d):
    return ttnn.reshape(H(ttnn, d).tt(1, 1, 32, 32), ttnn.Shape((1, 1, 40, 32)), ttnn.Shape((1, 1, 64, 32)))


@case("reshape", "3arg_padding_past_buffer", ERR)
def _(ttnn, d):
    return ttnn.reshape(H(ttnn, d).tt(1, 1, 64, 64), ttnn.Shape((1, 1, 64, 64)), ttnn.Shape((1, 1, 128, 64)))


@case("reshape", "3arg_rows_past_buffer", ERR)
def _(ttnn, d):
    return ttnn.reshape(H(ttnn, d).tt(1, 1, 20, 64), ttnn.Shape((1, 32, 8, 64)), ttnn.Shape((1, 32, 32, 64)))


@case("reshape", "3arg_padded_smaller_ignored", OK)
def _(ttnn, d):
    return ttnn.reshape(H(ttnn, d).tt(1, 1, 64, 64), ttnn.Shape((1, 1, 64, 64)), ttnn.Shape((1, 1, 32, 64)))


# The window rule (issue 16): a TILE tensor viewed with a smaller logical shape inside the same padding.
@case("reshape", "3arg_window_inside_padding", OK)
def _(ttnn, d):
    return ttnn.reshape(H(ttnn, d).tt(1, 4, 32, 128), [1, 4, 8, 128], [1, 4, 32, 128])


@case("reshape", "3arg_window_inside_padding_bf8", OK)
def _(ttnn, d):
    return ttnn.reshape(H(ttnn, d).tt(1, 4, 32, 128, dtype="bfloat8_b"), [1, 4, 1, 128], [1, 4, 32, 128])


@case("reshape", "3arg_window_rank_change", OK)
def _(ttnn, d):
    return ttnn.reshape(H(ttnn, d).tt(1, 4, 32, 128), [4, 8, 128], [4, 32, 128])


@case("reshape", "3arg_window_grows_into_padding", OK)
def _(ttnn, d):
    return ttnn.reshape(H(ttnn, d).tt(1, 4, 8, 128), [1, 4, 20, 128], [1, 4, 32, 128])


@case("reshape", "3arg_window_memory_config_ignored", OK)
def _(ttnn, d):
    return ttnn.reshape(H(ttnn, d).tt(1, 4, 32, 128), [1, 4, 8, 128], [1, 4, 32, 128],
                        memory_config=ttnn.L1_MEMORY_CONFIG)


@case("reshape", "3arg_row_major_padded_window", OK)
def _(ttnn, d):
    return ttnn.reshape(H(ttnn, d).tt(1, 4, 32, 128, layout=ttnn.ROW_MAJOR_LAYOUT), [1, 4, 8, 128], [1, 4, 32, 128])


@case("reshape", "shape_2arg_smaller_whole_tiles", OK)
def _(ttnn, d):
    return ttnn.reshape(H(ttnn, d).tt(1, 4, 32, 128), ttnn.Shape([1, 2, 32, 128]))


@case("reshape", "list_2arg_smaller_window", ERR)
def _(ttnn, d):
    return ttnn.reshape(H(ttnn, d).tt(1, 4, 32, 128), [1, 4, 8, 128])


@case("reshape", "shape_2arg_smaller_window", ERR)
def _(ttnn, d):
    return ttnn.reshape(H(ttnn, d).tt(1, 4, 32, 128), ttnn.Shape([1, 4, 8, 128]))


@case("reshape", "3arg_window_padding_past_buffer", ERR)
def _(ttnn, d):
    return ttnn.reshape(H(ttnn, d).tt(1, 4, 32, 128), [1, 4, 8, 128], [1, 4, 64, 128])


@case("reshape", "3arg_window_more_tile_rows_than_buffer", ERR)
def _(ttnn, d):
    return ttnn.reshape(H(ttnn, d).tt(1, 4, 32, 128), [1, 8, 8, 128], [1, 8, 32, 128])


@case("reshape", "3arg_window_padding_not_whole_tiles", ERR)
def _(ttnn, d):
    return ttnn.reshape(H(ttnn, d).tt(1, 4, 32, 128), [1, 4, 8, 128], [1, 4, 8, 128])


@case("reshape", "3arg_window_new_padded_width", ERR)
def _(ttnn, d):
    return ttnn.reshape(H(ttnn, d).tt(1, 4, 32, 128), [1, 4, 8, 64], [1, 4, 32, 64])


def _error_mentions(call, text: str) -> bool:
    """Whether ``call()`` raises with ``text`` in its message (error texts that code matches on)."""
    try:
        call()
    except Exception as err:  # noqa: BLE001
        return text in str(err)
    return False


@case("reshape", "error_texts", OK)
def _(ttnn, d):
    t = H(ttnn, d).tt(1, 4, 32, 128)
    return (_error_mentions(lambda: ttnn.reshape(t, [1, 4, 8, 128]), "Invalid arguments to reshape"),
            _error_mentions(lambda: ttnn.reshape(t, ttnn.Shape([1, 4, 8, 128])),
                            "Attempting to reshape between two shapes with different volumes"),
            _error_mentions(lambda: ttnn.reshape(t, [1, 4, 8, 128], [1, 4, 64, 128]),
                            "MeshBuffer must be large enough to hold the tensor."))


@case("transpose", "decode_heads", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.transpose(h.tt(1, 32, 8, 64), 1, 2)


@case("transpose", "last_two", OK)
def _(ttnn, d):
    return ttnn.transpose(H(ttnn, d).tt(1, 1, 20, 64), -2, -1)


@case("transpose", "rank3", OK)
def _(ttnn, d):
    return ttnn.transpose(H(ttnn, d).tt(4, 20, 64), 0, 1)


@case("transpose", "row_major", OK)
def _(ttnn, d):
    return ttnn.transpose(H(ttnn, d).tt(1, 2, 20, 64, layout=ttnn.ROW_MAJOR_LAYOUT), 1, 2)


@case("transpose", "dim_out_of_range", ERR)
def _(ttnn, d):
    return ttnn.transpose(H(ttnn, d).tt(1, 1, 32, 64), 1, 4)


@case("transpose", "host", ERR)
def _(ttnn, d):
    return ttnn.transpose(H(ttnn, d).host(1, 1, 32, 64), 2, 3)


@case("permute", "swap_heads", OK)
def _(ttnn, d):
    return ttnn.permute(H(ttnn, d).tt(1, 32, 8, 64), (0, 2, 1, 3))


@case("permute", "full", OK)
def _(ttnn, d):
    return ttnn.permute(H(ttnn, d).tt(2, 3, 20, 64), (3, 2, 1, 0))


@case("permute", "wrong_length", ERR)
def _(ttnn, d):
    return ttnn.permute(H(ttnn, d).tt(1, 1, 32, 64), (0, 1, 2))


@case("permute", "repeated_dim", ERR,
      intentional="real 0.81.1 accepts dims (0, 1, 2, 2) and returns a [1, 1, 32, 32] tensor from a [1, 1, 32, 64] one "
                  "(the repeated dim hides a user error); the emulator rejects dims that are not a permutation")
def _(ttnn, d):
    return ttnn.permute(H(ttnn, d).tt(1, 1, 32, 64), (0, 1, 2, 2))


@case("permute", "index_out_of_range", ERR)
def _(ttnn, d):
    return ttnn.permute(H(ttnn, d).tt(1, 1, 32, 64), (0, 1, 2, 4))


@case("permute", "error_texts", OK)
def _(ttnn, d):
    t = H(ttnn, d).tt(1, 1, 32, 64)
    return (_error_mentions(lambda: ttnn.permute(t, (0, 1, 2)), "The number of dimensions in the tensor input does "
                                                                 "not match the length of the desired ordering"),
            _error_mentions(lambda: ttnn.permute(t, (0, 1, 2, 3, 0)), "The number of dimensions in the tensor input "
                                                                       "does not match the length of the desired ordering"),
            _error_mentions(lambda: ttnn.permute(t, (0, 1, 2, 4)),
                            "Index is out of bounds for the rank, should be between 0 and 3 however is 4"))


# =================================================================================================================
# KV cache
@case("fill_cache", "interleaved_k", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.fill_cache(h.tt(32, 2, 256, 64), h.tt(1, 2, 32, 64), batch_idx=0)


@case("fill_cache", "height_sharded_k", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    k = h.tt(1, 2, 32, 64)
    return ttnn.fill_cache(h.tt(32, 2, 256, 64), ttnn.to_memory_config(k, h.shard(k.shape, 2)), batch_idx=1)


@case("fill_cache", "update_idx_32", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.fill_cache(h.tt(32, 2, 256, 64), h.tt(1, 2, 64, 64), batch_idx=0, update_idx=32)


@case("fill_cache", "many_heads_interleaved", OK)
def _(ttnn, d):
    h = H(ttnn, d)  # 32 kv heads x 128 rows: the old grid limit (0.81.1 no longer has it)
    return ttnn.fill_cache(h.tt(1, 32, 256, 128), h.tt(1, 32, 128, 128), batch_idx=0)


@case("fill_cache", "padded_seq_20", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.fill_cache(h.tt(32, 8, 128, 128), h.tt(1, 8, 20, 128), batch_idx=0)


@case("fill_cache", "bf8_cache_and_input", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.fill_cache(h.tt(32, 2, 128, 64, dtype=ttnn.bfloat8_b), h.tt(1, 2, 32, 64, dtype=ttnn.bfloat8_b),
                           batch_idx=0)


@case("fill_cache", "dtype_mismatch", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.fill_cache(h.tt(32, 2, 256, 64), h.tt(1, 2, 32, 64, dtype=ttnn.bfloat8_b), batch_idx=0)


@case("fill_cache", "batch_idx_out_of_range", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.fill_cache(h.tt(32, 2, 256, 64), h.tt(1, 2, 32, 64), batch_idx=32)


@case("fill_cache", "update_idx_not_tile", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.fill_cache(h.tt(32, 2, 256, 64), h.tt(1, 2, 32, 64), batch_idx=0, update_idx=16)


@case("fill_cache", "past_cache_end", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.fill_cache(h.tt(32, 2, 256, 64), h.tt(1, 2, 64, 64), batch_idx=0, update_idx=224)


@case("fill_cache", "head_mismatch", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.fill_cache(h.tt(32, 2, 256, 64), h.tt(1, 4, 32, 64), batch_idx=0)


@case("fill_cache", "head_dim_mismatch", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.fill_cache(h.tt(32, 2, 256, 64), h.tt(1, 2, 32, 128), batch_idx=0)


@case("fill_cache", "input_batch_2", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.fill_cache(h.tt(32, 2, 256, 64), h.tt(2, 2, 32, 64), batch_idx=0)


@case("fill_cache", "row_major_input", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.fill_cache(h.tt(32, 2, 256, 64), h.tt(1, 2, 32, 64, layout=ttnn.ROW_MAJOR_LAYOUT), batch_idx=0)


@case("update_cache", "one_position", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.update_cache(h.tt(32, 2, 256, 64), h.tt(1, 2, 32, 64), 5)


@case("update_cache", "bf8_cache_bf16_input", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.update_cache(h.tt(32, 2, 256, 64, dtype=ttnn.bfloat8_b), h.tt(1, 2, 32, 64), 100)


@case("update_cache", "small_cache_batch_offset", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.update_cache(h.tt(8, 2, 256, 64), h.tt(1, 2, 32, 64), 5, batch_offset=8)


@case("update_cache", "head_dim_mismatch", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.update_cache(h.tt(32, 2, 256, 64), h.tt(1, 2, 32, 128), 5)


@case("update_cache", "batch_offset_with_full_batch", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.update_cache(h.tt(32, 2, 256, 64), h.tt(1, 2, 32, 64), 5, batch_offset=8)


@case("update_cache", "row_major_cache", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.update_cache(h.tt(32, 2, 256, 64, layout=ttnn.ROW_MAJOR_LAYOUT), h.tt(1, 2, 32, 64), 5)


def _paged_ok(nh, nkv, hd, cache_dtype=None):
    def fn(ttnn, d):
        h = H(ttnn, d)
        q, k, v = h.qkv_decode(nh, nkv, hd)
        return ttnn.experimental.paged_update_cache(h.tt(32, nkv, 128, hd, dtype=cache_dtype), k,
                                                    update_idxs_tensor=h.pos(5))
    return fn


case("experimental.paged_update_cache", "gqa_8_2_hd64", OK)(_paged_ok(8, 2, 64))
case("experimental.paged_update_cache", "mha_4_4_hd128", OK)(_paged_ok(4, 4, 128))
case("experimental.paged_update_cache", "llama_32_8_hd64", OK)(_paged_ok(32, 8, 64))
case("experimental.paged_update_cache", "bf8_cache", OK)(_paged_ok(8, 2, 64, "bfloat8_b"))
case("experimental.paged_update_cache", "afm_20_4_hd128", OK)(_paged_ok(20, 4, 128))
case("experimental.paged_update_cache", "allam_32_32_hd128", OK)(_paged_ok(32, 32, 128))


@case("experimental.paged_update_cache", "update_idxs_list", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    q, k, v = h.qkv_decode(8, 2, 64)
    return ttnn.experimental.paged_update_cache(h.tt(32, 2, 128, 64), v, update_idxs=[7] * 32)


@case("experimental.paged_update_cache", "page_table", OK)
def _(ttnn, d):
    h = H(ttnn, d)  # 32 users x 2 blocks of 32 positions = 64 blocks
    q, k, v = h.qkv_decode(8, 2, 64)
    table = ttnn.from_torch(torch.arange(64, dtype=torch.int32).reshape(32, 2), dtype=ttnn.int32, device=d)
    return ttnn.experimental.paged_update_cache(h.tt(64, 2, 32, 64), k, update_idxs_tensor=h.pos(40),
                                                page_table=table)


@case("experimental.paged_update_cache", "interleaved_input", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.experimental.paged_update_cache(h.tt(32, 2, 256, 64), h.tt(1, 32, 2, 64), update_idxs_tensor=h.pos())


@case("experimental.paged_update_cache", "bf8_input", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    k = h.tt(1, 32, 2, 64, dtype=ttnn.bfloat8_b)
    k = ttnn.to_memory_config(k, h.shard((1, 32, 32, 64), 8, 4))
    return ttnn.experimental.paged_update_cache(h.tt(32, 2, 256, 64), k, update_idxs_tensor=h.pos())


@case("experimental.paged_update_cache", "uint32_positions", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    q, k, v = h.qkv_decode(8, 2, 64)
    idx = ttnn.from_torch(torch.full((32,), 5, dtype=torch.int32), dtype=ttnn.uint32, device=d)
    return ttnn.experimental.paged_update_cache(h.tt(32, 2, 256, 64), k, update_idxs_tensor=idx)


@case("experimental.paged_update_cache", "head_dim_mismatch", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    q, k, v = h.qkv_decode(8, 2, 64)
    return ttnn.experimental.paged_update_cache(h.tt(32, 2, 256, 128), k, update_idxs_tensor=h.pos())


@case("experimental.paged_update_cache", "cache_batch_mismatch", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    q, k, v = h.qkv_decode(8, 2, 64)
    return ttnn.experimental.paged_update_cache(h.tt(16, 2, 256, 64), k, update_idxs_tensor=h.pos())


@case("experimental.paged_update_cache", "sharded_cache", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    q, k, v = h.qkv_decode(8, 2, 64)
    cache = h.tt(32, 2, 32, 64, mc=h.shard((32, 2, 32, 64), 8, 8))
    return ttnn.experimental.paged_update_cache(cache, k, update_idxs_tensor=h.pos())


@case("experimental.paged_fill_cache", "page_table", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    table = ttnn.from_torch(torch.arange(64, dtype=torch.int32).reshape(32, 2), dtype=ttnn.int32, device=d)
    return ttnn.experimental.paged_fill_cache(h.tt(64, 2, 32, 64), h.tt(1, 2, 64, 64), table, batch_idx=3)


@case("experimental.paged_fill_cache", "batch_idx_out_of_range", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    table = ttnn.from_torch(torch.arange(64, dtype=torch.int32).reshape(32, 2), dtype=ttnn.int32, device=d)
    return ttnn.experimental.paged_fill_cache(h.tt(64, 2, 32, 64), h.tt(1, 2, 64, 64), table, batch_idx=32)


@case("experimental.paged_fill_cache", "head_dim_mismatch", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    table = ttnn.from_torch(torch.arange(64, dtype=torch.int32).reshape(32, 2), dtype=ttnn.int32, device=d)
    return ttnn.experimental.paged_fill_cache(h.tt(64, 2, 32, 64), h.tt(1, 2, 64, 128), table, batch_idx=0)


# =================================================================================================================
# rotary embedding
def _rope_prefill(nh, hd, s=32, cos_len=2048):
    def fn(ttnn, d):
        h = H(ttnn, d)
        x = h.tt(1, nh, s, hd)
        cos, sin = h.tt(1, 1, cos_len, hd), h.tt(1, 1, cos_len, hd)
        return ttnn.experimental.rotary_embedding(x, cos[:, :, :32 * -(-s // 32), :], sin[:, :, :32 * -(-s // 32), :])
    return fn


case("experimental.rotary_embedding", "prefill_hd64", OK)(_rope_prefill(8, 64))
case("experimental.rotary_embedding", "prefill_hd128", OK)(_rope_prefill(16, 128))
case("experimental.rotary_embedding", "prefill_hd32", OK)(_rope_prefill(4, 32))
case("experimental.rotary_embedding", "prefill_s20_pads_to_32", OK)(_rope_prefill(8, 64, s=20))


@case("experimental.rotary_embedding", "prefill_full_cos", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.experimental.rotary_embedding(h.tt(1, 8, 32, 64), h.tt(1, 1, 2048, 64), h.tt(1, 1, 2048, 64))


@case("experimental.rotary_embedding", "decode_sharded_heads", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    q, k, v = h.qkv_decode(8, 2, 64)
    return ttnn.experimental.rotary_embedding(q, h.tt(1, 1, 2048, 64), h.tt(1, 1, 2048, 64), 5)


@case("experimental.rotary_embedding", "decode_merged_rows", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    q, k, v = h.qkv_decode(8, 2, 64)
    return ttnn.experimental.rotary_embedding(ttnn.reshape(q, (1, 1, 256, 64)), h.tt(1, 1, 2048, 64),
                                              h.tt(1, 1, 2048, 64), 5)


@case("experimental.rotary_embedding", "decode_dram_hd128", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    q, k, v = h.qkv_decode(16, 8, 128)
    q = ttnn.to_memory_config(q, ttnn.DRAM_MEMORY_CONFIG)
    return ttnn.experimental.rotary_embedding(q, h.tt(1, 1, 256, 128), h.tt(1, 1, 256, 128), 255)


@case("experimental.rotary_embedding", "decode_20_heads_hd128", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    q, k, v = h.qkv_decode(20, 4, 128)
    return ttnn.experimental.rotary_embedding(q, h.tt(1, 1, 256, 128), h.tt(1, 1, 256, 128), 7)


@case("experimental.rotary_embedding", "decode_kv_heads_nkv8", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    q, k, v = h.qkv_decode(32, 8, 64)
    return ttnn.experimental.rotary_embedding(k, h.tt(1, 1, 2048, 64), h.tt(1, 1, 2048, 64), 0)


@case("experimental.rotary_embedding", "head_dim_96", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.experimental.rotary_embedding(h.tt(1, 1, 32, 96), h.tt(1, 1, 32, 96), h.tt(1, 1, 32, 96))


@case("experimental.rotary_embedding", "cos_shorter_than_seq", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.experimental.rotary_embedding(h.tt(1, 1, 64, 64), h.tt(1, 1, 32, 64), h.tt(1, 1, 32, 64))


@case("experimental.rotary_embedding", "cos_width_mismatch", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.experimental.rotary_embedding(h.tt(1, 8, 32, 64), h.tt(1, 1, 32, 128), h.tt(1, 1, 32, 128))


@case("experimental.rotary_embedding", "cos_sin_shape_mismatch", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.experimental.rotary_embedding(h.tt(1, 8, 32, 64), h.tt(1, 1, 64, 64), h.tt(1, 1, 32, 64))


@case("experimental.rotary_embedding", "decode_dim0_2", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    cos = h.tt(1, 1, 2048, 64)
    return ttnn.experimental.rotary_embedding(h.tt(2, 1, 32, 64), cos, cos, 5)


@case("experimental.rotary_embedding", "decode_index_past_cos", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    cos = h.tt(1, 1, 2048, 64)
    return ttnn.experimental.rotary_embedding(h.tt(1, 1, 32, 64), cos, cos, 4096)


@case("experimental.rotary_embedding", "decode_index_equals_cos_len", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    cos = h.tt(1, 1, 256, 64)
    return ttnn.experimental.rotary_embedding(h.tt(1, 1, 32, 64), cos, cos, 256)


@case("experimental.rotary_embedding", "row_major_input", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    cos = h.tt(1, 1, 32, 64)
    return ttnn.experimental.rotary_embedding(h.tt(1, 1, 32, 64, layout=ttnn.ROW_MAJOR_LAYOUT), cos, cos)


# =================================================================================================================
# head split / merge
def _heads_prefill(nh, nkv, hd, s=32, transpose_k=False, dtype=None):
    def fn(ttnn, d):
        h = H(ttnn, d)
        x = h.tt(1, 1, s, (nh + 2 * nkv) * hd, dtype=dtype)
        return ttnn.experimental.nlp_create_qkv_heads(x, num_heads=nh, num_kv_heads=nkv, transpose_k_heads=transpose_k,
                                                      memory_config=ttnn.DRAM_MEMORY_CONFIG)
    return fn


for _nh, _nkv, _hd in ((8, 8, 64), (8, 4, 64), (8, 2, 128), (32, 8, 64), (16, 8, 128), (32, 4, 128), (10, 2, 64),
                       (32, 32, 128), (20, 4, 128)):
    case("experimental.nlp_create_qkv_heads", f"gqa_{_nh}_{_nkv}_hd{_hd}", OK)(_heads_prefill(_nh, _nkv, _hd))
case("experimental.nlp_create_qkv_heads", "transpose_k_default", OK)(_heads_prefill(8, 2, 64, transpose_k=True))
case("experimental.nlp_create_qkv_heads", "s20_padded", OK)(_heads_prefill(8, 2, 64, s=20))
case("experimental.nlp_create_qkv_heads", "bf8_input", OK)(_heads_prefill(8, 2, 64, dtype="bfloat8_b"))


@case("experimental.nlp_create_qkv_heads", "num_kv_heads_default", OK)
def _(ttnn, d):
    return ttnn.experimental.nlp_create_qkv_heads(H(ttnn, d).tt(1, 1, 32, 3 * 4 * 64), num_heads=4)


@case("experimental.nlp_create_qkv_heads", "width_not_divisible", ERR)
def _(ttnn, d):
    return ttnn.experimental.nlp_create_qkv_heads(H(ttnn, d).tt(1, 1, 32, 700), num_heads=8, num_kv_heads=2)


@case("experimental.nlp_create_qkv_heads", "dim1_not_1", ERR)
def _(ttnn, d):
    return ttnn.experimental.nlp_create_qkv_heads(H(ttnn, d).tt(1, 2, 32, 768), num_heads=8, num_kv_heads=2)


@case("experimental.nlp_create_qkv_heads", "row_major", ERR)
def _(ttnn, d):
    x = H(ttnn, d).tt(1, 1, 32, 768, layout=ttnn.ROW_MAJOR_LAYOUT)
    return ttnn.experimental.nlp_create_qkv_heads(x, num_heads=8, num_kv_heads=2)


def _heads_decode(nh, nkv, hd, b=32):
    def fn(ttnn, d):
        return H(ttnn, d).qkv_decode(nh, nkv, hd, b)
    return fn


for _nh, _nkv, _hd in ((8, 8, 64), (8, 4, 64), (8, 2, 64), (32, 8, 64), (16, 8, 128), (32, 32, 128), (10, 2, 64),
                       (8, 1, 128), (20, 4, 128)):
    case("experimental.nlp_create_qkv_heads_decode", f"gqa_{_nh}_{_nkv}_hd{_hd}", OK)(_heads_decode(_nh, _nkv, _hd))
case("experimental.nlp_create_qkv_heads_decode", "batch_8", OK)(_heads_decode(8, 2, 64, b=8))
case("experimental.nlp_create_qkv_heads_decode", "gqa_40_8_hd64", OK)(_heads_decode(40, 8, 64))
case("experimental.nlp_create_qkv_heads_decode", "gqa_64_40_hd64", OK)(_heads_decode(64, 40, 64))
case("experimental.nlp_create_qkv_heads_decode", "fewer_q_than_kv", ERR)(_heads_decode(8, 16, 64))


@case("experimental.nlp_create_qkv_heads_decode", "f32_input", OK)
def _(ttnn, d):
    x = H(ttnn, d).tt(1, 1, 32, 768, dtype=ttnn.float32)
    return ttnn.experimental.nlp_create_qkv_heads_decode(x, num_heads=8, num_kv_heads=2)


@case("experimental.nlp_create_qkv_heads_decode", "bf8_input", ERR)
def _(ttnn, d):
    x = H(ttnn, d).tt(1, 1, 32, 768, dtype=ttnn.bfloat8_b)
    return ttnn.experimental.nlp_create_qkv_heads_decode(x, num_heads=8, num_kv_heads=2)


@case("experimental.nlp_create_qkv_heads_decode", "batch_over_32", ERR)
def _(ttnn, d):
    x = H(ttnn, d).tt(1, 1, 64, 768)
    return ttnn.experimental.nlp_create_qkv_heads_decode(x, num_heads=8, num_kv_heads=2)


@case("experimental.nlp_create_qkv_heads_decode", "64_q_heads", OK)
def _(ttnn, d):
    x = H(ttnn, d).tt(1, 1, 32, (64 + 16) * 64)
    return ttnn.experimental.nlp_create_qkv_heads_decode(x, num_heads=64, num_kv_heads=8)


@case("experimental.nlp_create_qkv_heads_decode", "row_major", ERR)
def _(ttnn, d):
    x = H(ttnn, d).tt(1, 1, 32, 768, layout=ttnn.ROW_MAJOR_LAYOUT)
    return ttnn.experimental.nlp_create_qkv_heads_decode(x, num_heads=8, num_kv_heads=2)


@case("experimental.nlp_create_qkv_heads_decode", "dim1_not_1", ERR)
def _(ttnn, d):
    x = H(ttnn, d).tt(1, 2, 32, 768)
    return ttnn.experimental.nlp_create_qkv_heads_decode(x, num_heads=8, num_kv_heads=2)


@case("experimental.nlp_concat_heads", "prefill", OK)
def _(ttnn, d):
    return ttnn.experimental.nlp_concat_heads(H(ttnn, d).tt(1, 8, 32, 64), memory_config=ttnn.DRAM_MEMORY_CONFIG)


@case("experimental.nlp_concat_heads", "s20_logical", OK)
def _(ttnn, d):
    return ttnn.experimental.nlp_concat_heads(H(ttnn, d).tt(1, 8, 20, 128))


@case("experimental.nlp_concat_heads", "decode_after_transpose", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    q, k, v = h.qkv_decode(8, 2, 64)
    o = ttnn.transformer.scaled_dot_product_attention_decode(q, h.tt(32, 2, 128, 64), h.tt(32, 2, 128, 64),
                                                             cur_pos_tensor=h.pos())
    return ttnn.experimental.nlp_concat_heads(ttnn.transpose(o, 1, 2), memory_config=ttnn.DRAM_MEMORY_CONFIG)


@case("experimental.nlp_concat_heads", "decode_20_heads_hd128", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    q, k, v = h.qkv_decode(20, 4, 128)
    o = ttnn.transformer.scaled_dot_product_attention_decode(q, h.tt(32, 4, 128, 128), h.tt(32, 4, 128, 128),
                                                             cur_pos_tensor=h.pos())
    return ttnn.experimental.nlp_concat_heads(ttnn.transpose(o, 1, 2))


@case("experimental.nlp_concat_heads", "bf8", OK)
def _(ttnn, d):
    return ttnn.experimental.nlp_concat_heads(H(ttnn, d).tt(1, 4, 32, 64, dtype=ttnn.bfloat8_b))


@case("experimental.nlp_concat_heads", "row_major", ERR)
def _(ttnn, d):
    return ttnn.experimental.nlp_concat_heads(H(ttnn, d).tt(1, 8, 32, 64, layout=ttnn.ROW_MAJOR_LAYOUT))


@case("experimental.nlp_concat_heads", "host", ERR)
def _(ttnn, d):
    return ttnn.experimental.nlp_concat_heads(H(ttnn, d).host(1, 8, 32, 64))


@case("experimental.nlp_concat_heads_decode", "sharded_decode_heads", OK)
def _(ttnn, d):
    q, k, v = H(ttnn, d).qkv_decode(8, 2, 64)
    return ttnn.experimental.nlp_concat_heads_decode(q, num_heads=8)


@case("experimental.nlp_concat_heads_decode", "fewer_heads", OK)
def _(ttnn, d):
    q, k, v = H(ttnn, d).qkv_decode(16, 8, 128)
    return ttnn.experimental.nlp_concat_heads_decode(q, num_heads=4)


@case("experimental.nlp_concat_heads_decode", "interleaved_input", ERR)
def _(ttnn, d):
    return ttnn.experimental.nlp_concat_heads_decode(H(ttnn, d).tt(1, 32, 32, 64), num_heads=8)


@case("experimental.nlp_concat_heads_decode", "num_heads_over_32", ERR)
def _(ttnn, d):
    q, k, v = H(ttnn, d).qkv_decode(8, 2, 64)
    return ttnn.experimental.nlp_concat_heads_decode(q, num_heads=40)


# =================================================================================================================
# attention
def _sdpa(nh, nkv, hd, s=32, **kw):
    def fn(ttnn, d):
        h = H(ttnn, d)
        return ttnn.transformer.scaled_dot_product_attention(h.tt(1, nh, s, hd), h.tt(1, nkv, s, hd), h.tt(1, nkv, s, hd),
                                                             is_causal=True, scale=hd ** -0.5, **kw)
    return fn


# head counts of the seed models (Llama 32/8/64, Qwen3 16/8/128, ALLaM 32/32/128, AFM 20/4/128) and GQA 1/2/4/5/8
for _nh, _nkv, _hd in ((8, 8, 64), (8, 4, 64), (8, 2, 128), (32, 8, 64), (16, 8, 128), (10, 2, 64), (32, 4, 128),
                       (8, 1, 64), (32, 32, 128), (20, 4, 128)):
    case("transformer.scaled_dot_product_attention", f"gqa_{_nh}_{_nkv}_hd{_hd}", OK)(_sdpa(_nh, _nkv, _hd))
case("transformer.scaled_dot_product_attention", "s20_logical", OK)(_sdpa(8, 2, 64, s=20))
case("transformer.scaled_dot_product_attention", "s64", OK)(_sdpa(4, 2, 64, s=64))


@case("transformer.scaled_dot_product_attention", "from_qkv_heads", OK)
def _(ttnn, d):
    q, k, v = H(ttnn, d).qkv_prefill(8, 2, 64, s=20)
    return ttnn.transformer.scaled_dot_product_attention(q, k, v, is_causal=True)


@case("transformer.scaled_dot_product_attention", "mask_not_causal", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.transformer.scaled_dot_product_attention(h.tt(1, 8, 32, 64), h.tt(1, 2, 64, 64), h.tt(1, 2, 64, 64),
                                                         is_causal=False, attn_mask=h.tt(1, 1, 32, 64))


@case("transformer.scaled_dot_product_attention", "bf8_kv", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.transformer.scaled_dot_product_attention(h.tt(1, 8, 32, 64), h.tt(1, 2, 32, 64, dtype=ttnn.bfloat8_b),
                                                         h.tt(1, 2, 32, 64, dtype=ttnn.bfloat8_b))


@case("transformer.scaled_dot_product_attention", "causal_with_mask", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.transformer.scaled_dot_product_attention(h.tt(1, 8, 32, 64), h.tt(1, 2, 32, 64), h.tt(1, 2, 32, 64),
                                                         is_causal=True, attn_mask=h.tt(1, 1, 32, 32))


@case("transformer.scaled_dot_product_attention", "causal_sq_ne_sk", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.transformer.scaled_dot_product_attention(h.tt(1, 8, 64, 64), h.tt(1, 2, 32, 64), h.tt(1, 2, 32, 64),
                                                         is_causal=True)


@case("transformer.scaled_dot_product_attention", "rotated_q_padded_vs_k20", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    q, k, v = h.qkv_prefill(8, 2, 64, s=20)
    cos = h.tt(1, 1, 32, 64)
    return ttnn.transformer.scaled_dot_product_attention(ttnn.experimental.rotary_embedding(q, cos, cos), k, v)


@case("transformer.scaled_dot_product_attention", "heads_not_multiple", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.transformer.scaled_dot_product_attention(h.tt(1, 6, 32, 64), h.tt(1, 4, 32, 64), h.tt(1, 4, 32, 64))


@case("transformer.scaled_dot_product_attention", "f32_inputs", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    f = ttnn.float32
    return ttnn.transformer.scaled_dot_product_attention(h.tt(1, 8, 32, 64, dtype=f), h.tt(1, 2, 32, 64, dtype=f),
                                                         h.tt(1, 2, 32, 64, dtype=f))


@case("transformer.scaled_dot_product_attention", "head_dim_mismatch", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.transformer.scaled_dot_product_attention(h.tt(1, 8, 32, 64), h.tt(1, 2, 32, 128), h.tt(1, 2, 32, 128))


@case("transformer.scaled_dot_product_attention", "sharded_q", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    q = h.tt(1, 8, 32, 64, mc=h.shard((1, 8, 32, 64), 8))
    return ttnn.transformer.scaled_dot_product_attention(q, h.tt(1, 8, 32, 64), h.tt(1, 8, 32, 64))


@case("transformer.scaled_dot_product_attention", "head_dim_not_tile", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    return ttnn.transformer.scaled_dot_product_attention(h.tt(1, 8, 32, 48), h.tt(1, 2, 32, 48), h.tt(1, 2, 32, 48))


def _sdpa_decode(nh, nkv, hd, s=128, sharded_q=True):
    def fn(ttnn, d):
        h = H(ttnn, d)
        q, k, v = h.qkv_decode(nh, nkv, hd)
        if not sharded_q:
            q = ttnn.to_memory_config(q, ttnn.DRAM_MEMORY_CONFIG)
        return ttnn.transformer.scaled_dot_product_attention_decode(q, h.tt(32, nkv, s, hd), h.tt(32, nkv, s, hd),
                                                                    cur_pos_tensor=h.pos(5), scale=hd ** -0.5)
    return fn


for _nh, _nkv, _hd in ((8, 8, 64), (8, 4, 64), (8, 2, 64), (32, 8, 64), (16, 8, 128), (32, 32, 128), (10, 2, 64),
                       (8, 1, 128), (20, 4, 128), (32, 4, 64)):
    case("transformer.scaled_dot_product_attention_decode", f"gqa_{_nh}_{_nkv}_hd{_hd}", OK)(
        _sdpa_decode(_nh, _nkv, _hd))
case("transformer.scaled_dot_product_attention_decode", "dram_q", OK)(_sdpa_decode(8, 2, 64, sharded_q=False))
case("transformer.scaled_dot_product_attention_decode", "cache_256", OK)(_sdpa_decode(8, 2, 64, s=256))


@case("transformer.scaled_dot_product_attention_decode", "cur_pos_list", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    q, k, v = h.qkv_decode(8, 2, 64)
    cache = h.tt(32, 2, 128, 64)
    return ttnn.transformer.scaled_dot_product_attention_decode(q, cache, cache, cur_pos=[127] * 32)


@case("transformer.scaled_dot_product_attention_decode", "bf8_cache", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    q, k, v = h.qkv_decode(8, 2, 64)
    cache = h.tt(32, 2, 128, 64, dtype=ttnn.bfloat8_b)
    return ttnn.transformer.scaled_dot_product_attention_decode(q, cache, cache, cur_pos_tensor=h.pos())


@case("transformer.scaled_dot_product_attention_decode", "mqa_sharded_output", OK)
def _(ttnn, d):
    h = H(ttnn, d)
    q, k, v = h.qkv_decode(8, 1, 64)
    cache = h.tt(32, 1, 128, 64)
    return ttnn.transformer.scaled_dot_product_attention_decode(q, cache, cache, cur_pos_tensor=h.pos(),
                                                                memory_config=q.memory_config())


@case("transformer.scaled_dot_product_attention_decode", "mha_sharded_output", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    q, k, v = h.qkv_decode(8, 8, 64)
    cache = h.tt(32, 8, 128, 64)
    return ttnn.transformer.scaled_dot_product_attention_decode(q, cache, cache, cur_pos_tensor=h.pos(),
                                                                memory_config=q.memory_config())


@case("transformer.scaled_dot_product_attention_decode", "q_batch_2", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    kc = h.tt(32, 2, 256, 64)
    return ttnn.transformer.scaled_dot_product_attention_decode(h.tt(2, 32, 8, 64), kc, kc, cur_pos_tensor=h.pos())


@case("transformer.scaled_dot_product_attention_decode", "cur_pos_past_cache", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    kc = h.tt(32, 2, 256, 64)
    return ttnn.transformer.scaled_dot_product_attention_decode(h.tt(1, 32, 8, 64), kc, kc, cur_pos=[300] * 32)


@case("transformer.scaled_dot_product_attention_decode", "cur_pos_equals_cache_len", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    kc = h.tt(32, 2, 256, 64)
    return ttnn.transformer.scaled_dot_product_attention_decode(h.tt(1, 32, 8, 64), kc, kc, cur_pos=[256] * 32)


@case("transformer.scaled_dot_product_attention_decode", "gqa_sharded_output", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    kc = h.tt(32, 2, 256, 64)
    mc = h.shard((1, 32, 32, 64), 8, 4)
    return ttnn.transformer.scaled_dot_product_attention_decode(h.tt(1, 32, 8, 64), kc, kc, cur_pos_tensor=h.pos(),
                                                                memory_config=mc)


@case("transformer.scaled_dot_product_attention_decode", "sharded_output_without_spec", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    kc = h.tt(32, 2, 256, 64)
    mc = ttnn.MemoryConfig(ttnn.TensorMemoryLayout.HEIGHT_SHARDED, ttnn.BufferType.L1)
    return ttnn.transformer.scaled_dot_product_attention_decode(h.tt(1, 32, 8, 64), kc, kc, cur_pos_tensor=h.pos(),
                                                                memory_config=mc)


@case("transformer.scaled_dot_product_attention_decode", "heads_not_multiple", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    kc = h.tt(32, 3, 256, 64)
    return ttnn.transformer.scaled_dot_product_attention_decode(h.tt(1, 32, 8, 64), kc, kc, cur_pos_tensor=h.pos())


@case("transformer.scaled_dot_product_attention_decode", "cache_batch_mismatch", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    kc = h.tt(16, 2, 256, 64)
    return ttnn.transformer.scaled_dot_product_attention_decode(h.tt(1, 32, 8, 64), kc, kc, cur_pos_tensor=h.pos())


@case("transformer.scaled_dot_product_attention_decode", "head_dim_mismatch", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    kc = h.tt(32, 2, 256, 128)
    return ttnn.transformer.scaled_dot_product_attention_decode(h.tt(1, 32, 8, 64), kc, kc, cur_pos_tensor=h.pos())


@case("transformer.scaled_dot_product_attention_decode", "no_positions", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    kc = h.tt(32, 2, 256, 64)
    return ttnn.transformer.scaled_dot_product_attention_decode(h.tt(1, 32, 8, 64), kc, kc)


@case("transformer.scaled_dot_product_attention_decode", "f32_q_gqa", ERR)
def _(ttnn, d):
    h = H(ttnn, d)
    kc = h.tt(32, 2, 256, 64)
    return ttnn.transformer.scaled_dot_product_attention_decode(h.tt(1, 32, 8, 64, dtype=ttnn.float32), kc, kc,
                                                                cur_pos_tensor=h.pos())


import mesh_cases  # noqa: E402,F401  (registers the mesh cases into CASES)
import surface_cases  # noqa: E402,F401  (registers the API-surface cases into CASES)
import nd_cases  # noqa: E402,F401  (registers the ND-sharding and TensorSpec cases into CASES)
import padding_cases  # noqa: E402,F401  (registers the tile-padding-value cases into CASES)
