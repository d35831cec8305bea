#!/usr/bin/env python3
"""Probe the REAL ttnn 0.81.1 wheel (mock devices) for the facts the emulator must reproduce.

Run inside the conformance venv, after `bash scripts/setup_conformance.sh`:

    source .conformance/env.sh
    python scripts/conformance_probe.py                    # every section (about a minute)
    python scripts/conformance_probe.py flow errors        # only some sections

Sections: flow, errors, memory, dtypes, devices, help.  Every check prints the exact code it ran
(`>>>` lines; `...` lines are setup) and what came back: tensors as
`logical-shape pad padded-shape DTYPE LAYOUT BUFFER/MEMORY_LAYOUT [shard ...]`, exceptions as
`!! Type: <message up to the backtrace>`.  docs/ttnn-mock-findings.md is written from this output.

Mock mode gives real host-side validation, output specs and the real allocator, but no data:
every read-back is zeros, so numerics are out of scope here.
"""
from __future__ import annotations

import ast
import gc
import os
import subprocess
import sys
import textwrap

# Quiet the C++ logger (it prints `critical | TT_FATAL ...` lines on stdout besides raising) and the
# Python-side DEBUG dump of ttnn.CONFIG. Set TT_LOGGER_LEVEL yourself to see them.
os.environ.setdefault("TT_LOGGER_LEVEL", "off")
os.environ.setdefault("LOGURU_LEVEL", "INFO")

if not os.environ.get("TT_METAL_MOCK_CLUSTER_DESC_PATH"):
    sys.exit("conformance_probe: TT_METAL_MOCK_CLUSTER_DESC_PATH is not set; run `source .conformance/env.sh` first")

# Opening a device writes tt-metal's `generated/` report folder into the working directory: keep it
# out of the repo by working inside the mock folder.
_SELF = os.path.abspath(__file__)
_RUN_DIR = os.path.join(os.path.dirname(os.environ.get("TT_METAL_CACHE", "/tmp/ttnn-mock/cache")), "run")
os.makedirs(_RUN_DIR, exist_ok=True)
os.chdir(_RUN_DIR)

import torch  # noqa: E402
import ttnn  # noqa: E402

SECTIONS = ("flow", "errors", "memory", "dtypes", "devices", "help")
MOCK_DIR = os.path.dirname(os.environ["TT_METAL_MOCK_CLUSTER_DESC_PATH"])


# ----------------------------------------------------------------------------------------------
# formatting helpers
def _mc(t):
    mc = t.memory_config()
    if mc is None:
        return "HOST"
    s = f"{str(mc.buffer_type).split('.')[-1]}/{str(mc.memory_layout).split('.')[-1]}"
    if mc.shard_spec is not None:
        sp = mc.shard_spec
        s += f" shard={list(sp.shape)} cores={sp.grid.num_cores()}"
    return s


def desc(x):
    """One-line description of a probe result."""
    if isinstance(x, ttnn.Tensor):
        if not x.is_allocated():
            return "<deallocated tensor>"
        return (f"{list(x.shape)} pad {list(x.padded_shape)} {str(x.dtype).split('.')[-1]} "
                f"{str(x.layout).split('.')[-1]} {_mc(x)}")
    if isinstance(x, BaseException):
        return fmt_exc(x)
    if isinstance(x, (tuple, list)) and x and all(isinstance(e, ttnn.Tensor) for e in x):
        return "(" + " ; ".join(desc(e) for e in x) + ")"
    return repr(x)


def fmt_exc(e: BaseException) -> str:
    """Exception type plus its message up to the C++ backtrace (which holds addresses only)."""
    msg = str(e).split("backtrace:")[0].rstrip()
    return f"{type(e).__name__}: {msg}"


def show(code: str, ns: dict, *, quiet_setup: bool = False):
    """Run `code` (statements, last one may be an expression) in ns; print code and result."""
    code = textwrap.dedent(code).strip("\n")
    tree = ast.parse(code)
    last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    for i, line in enumerate(code.splitlines()):
        is_last = last is not None and i >= last.lineno - 1
        if not quiet_setup or is_last:
            print(("  >>> " if is_last else "  ... ") + line)
    try:
        if last is not None:
            exec(compile(ast.Module(tree.body[:-1], []), "<probe>", "exec"), ns)
            val = eval(compile(ast.Expression(last.value), "<probe>", "eval"), ns)
            print("      -> " + desc(val).replace("\n", "\n         "))
            return val
        exec(compile(tree, "<probe>", "exec"), ns)
    except Exception as e:  # noqa: BLE001 - reporting every failure is the point
        print("      !! " + fmt_exc(e).replace("\n", "\n         "))
    return None


def header(title: str):
    print(f"\n## {title}")


# ----------------------------------------------------------------------------------------------
# namespace shared by the checks
def make_ns(device) -> dict:
    DR, L1 = ttnn.DRAM_MEMORY_CONFIG, ttnn.L1_MEMORY_CONFIG
    TL, RM = ttnn.TILE_LAYOUT, ttnn.ROW_MAJOR_LAYOUT

    def tt(*shape, dtype=ttnn.bfloat16, layout=TL, mc=DR):
        return ttnn.from_torch(torch.randn(*shape), dtype=dtype, layout=layout, device=device, memory_config=mc)

    def per_bank(bt=ttnn.BufferType.DRAM):
        return ttnn.get_memory_view(device, bt).total_bytes_allocated_per_bank

    def charge(shape, dtype, layout=TL, mc=DR):
        """Allocate one tensor, report bytes charged per bank and the allocator's buffer record; free it."""
        bt = mc.buffer_type
        before = per_bank(bt)
        old = {(b.address, str(b.buffer_type)) for b in ttnn._ttnn.reports.get_buffers(device)}
        src = torch.zeros(shape, dtype=torch.int32 if dtype in (ttnn.uint32, ttnn.int32) else torch.float32)
        t = ttnn.from_torch(src, dtype=dtype, layout=layout, device=device, memory_config=mc)
        after = per_bank(bt)
        bufs = [b for b in ttnn._ttnn.reports.get_buffers(device) if (b.address, str(b.buffer_type)) not in old]
        rec = ", ".join(f"addr={b.address} max_size_per_bank={b.max_size_per_bank}" for b in bufs)
        ttnn.deallocate(t)
        return f"charged/bank={after - before} [{rec}] freed->{per_bank(bt)}"

    return dict(ttnn=ttnn, torch=torch, d=device, tt=tt, per_bank=per_bank, charge=charge,
                DR=DR, L1=L1, TL=TL, RM=RM, desc=desc)


# ----------------------------------------------------------------------------------------------
def section_flow(ns):
    header("flow: LLM prefill (nh=8, nkv=2, hd=64, H=512, S_pad=32; S=20 unpadded variant at the end)")
    ns.update(nh=8, nkv=2, hd=64, H=512, Sp=32, S=20)
    show("""
        tok = ttnn.from_torch(torch.zeros(1, 1, 1, Sp, dtype=torch.int32), dtype=ttnn.uint32, device=d)
        tok""", ns)
    show("""
        w_rm = ttnn.from_torch(torch.randn(1, 1, 1000, H), dtype=ttnn.bfloat16, device=d, memory_config=DR)
        h = ttnn.embedding(tok, w_rm, layout=ttnn.TILE_LAYOUT)
        h""", ns)
    show("""
        w_bf8 = tt(1, 1, 1000, H, dtype=ttnn.bfloat8_b)
        ttnn.embedding(tok, w_bf8, layout=ttnn.TILE_LAYOUT)""", ns)
    show("ttnn.embedding(tok, w_rm)", ns)
    show("""
        tok1 = ttnn.from_torch(torch.zeros(Sp, dtype=torch.int32), dtype=ttnn.uint32, device=d)
        ttnn.embedding(tok1, w_rm, layout=ttnn.TILE_LAYOUT)""", ns)
    show("""
        x = ttnn.rms_norm(h, epsilon=1e-5, weight=tt(1, 1, 1, H))
        x""", ns)
    show("""
        q = ttnn.linear(x, tt(1, 1, H, nh * hd)); k = ttnn.linear(x, tt(1, 1, H, nkv * hd)); v = ttnn.linear(x, tt(1, 1, H, nkv * hd))
        q""", ns)
    show("""
        qkv = ttnn.concat([q, k, v], dim=-1)
        qkv""", ns)
    show("ttnn.experimental.nlp_create_qkv_heads(qkv, num_heads=nh, num_kv_heads=nkv, memory_config=DR)", ns)
    show("""
        Q, K, V = ttnn.experimental.nlp_create_qkv_heads(qkv, num_heads=nh, num_kv_heads=nkv, transpose_k_heads=False, memory_config=DR)
        (Q, K, V)""", ns)
    show("""
        cos = tt(1, 1, 2048, hd); sin = tt(1, 1, 2048, hd)
        cos[:, :, :Sp, :]""", ns)
    show("""
        Qr = ttnn.experimental.rotary_embedding(Q, cos[:, :, :Sp, :], sin[:, :, :Sp, :])
        Qr""", ns)
    show("ttnn.experimental.rotary_embedding(Q, cos, sin)", ns)
    show("""
        k_cache = tt(32, nkv, 256, hd)
        r = ttnn.fill_cache(k_cache, K, batch_idx=0)
        (r is k_cache, r.buffer_address() == k_cache.buffer_address(), desc(r))""", ns)
    show("""
        kv_shard = ttnn.create_sharded_memory_config(K.shape, ttnn.CoreGrid(x=2, y=1), ttnn.ShardStrategy.HEIGHT, ttnn.ShardOrientation.ROW_MAJOR)
        (kv_shard.memory_layout, kv_shard.buffer_type, list(kv_shard.shard_spec.shape), kv_shard.shard_spec.grid.num_cores())""", ns)
    show("""
        Ks = ttnn.to_memory_config(K, kv_shard)
        ttnn.fill_cache(k_cache, Ks, batch_idx=1)
        Ks""", ns)
    show("""
        o = ttnn.transformer.scaled_dot_product_attention(Qr, K, V, is_causal=True, scale=hd ** -0.5)
        o""", ns)
    show("""
        c = ttnn.experimental.nlp_concat_heads(o, memory_config=DR)
        c""", ns)
    show("ttnn.slice(c, (0, 0, 0, 0), (1, 1, Sp, 256))", ns)
    show("ttnn.slice(tt(1, 1, 20, 64), (0, 0, 0, 0), (1, 1, 32, 64))", ns)
    show("ttnn.slice(tt(1, 1, 32, 64), (0, 0, 0, 32), (1, 1, 32, 32))", ns)

    print("  -- S=20 tokens (not padded to 32 by the caller)")
    show("""
        tok20 = ttnn.from_torch(torch.zeros(1, 1, 1, S, dtype=torch.int32), dtype=ttnn.uint32, device=d)
        h20 = ttnn.embedding(tok20, w_rm, layout=ttnn.TILE_LAYOUT)
        h20""", ns)
    show("""
        qkv20 = ttnn.linear(h20, tt(1, 1, H, (nh + 2 * nkv) * hd))
        qkv20""", ns)
    show("""
        Q20, K20, V20 = ttnn.experimental.nlp_create_qkv_heads(qkv20, num_heads=nh, num_kv_heads=nkv, transpose_k_heads=False)
        (Q20, K20)""", ns)
    show("""
        Q20r = ttnn.experimental.rotary_embedding(Q20, cos[:, :, :Sp, :], sin[:, :, :Sp, :])
        Q20r""", ns)
    show("ttnn.transformer.scaled_dot_product_attention(Q20, K20, V20, is_causal=True)", ns)
    show("ttnn.transformer.scaled_dot_product_attention(Q20r, K20, V20, is_causal=True)", ns)
    show("ttnn.experimental.nlp_concat_heads(ttnn.transformer.scaled_dot_product_attention(Q20, K20, V20))", ns)

    header("flow: LLM decode (B=32 rows, same sizes)")
    show("""
        xd = tt(1, 1, 32, H)
        qkvd = ttnn.concat([ttnn.linear(xd, tt(1, 1, H, nh * hd)), ttnn.linear(xd, tt(1, 1, H, nkv * hd)), ttnn.linear(xd, tt(1, 1, H, nkv * hd))], dim=-1)
        qkvd""", ns)
    show("""
        qd, kd, vd = ttnn.experimental.nlp_create_qkv_heads_decode(qkvd, num_heads=nh, num_kv_heads=nkv, memory_config=DR)
        (qd, kd, vd)""", ns)
    show("""
        sp = qd.memory_config().shard_spec
        (sp.grid.num_cores(), str(sp.grid), str(sp.orientation))""", ns)
    show("""
        cur = ttnn.from_torch(torch.full((32,), 5, dtype=torch.int32), dtype=ttnn.int32, device=d)
        cur""", ns)
    show("(ttnn.to_torch(qd).shape, ttnn.to_torch(ttnn.experimental.rotary_embedding(qd, cos, sin, 5)).shape)", ns)
    show("ttnn.experimental.rotary_embedding(qd, cos, sin, 5)", ns)
    show("""
        qm = ttnn.reshape(qd, (1, 1, 32 * nh, hd))
        qm""", ns)
    show("""
        qmr = ttnn.experimental.rotary_embedding(qm, cos, sin, 5)
        qmr""", ns)
    show("ttnn.reshape(qmr, (1, 32, nh, hd))", ns)
    show("ttnn.reshape(qmr, ttnn.Shape((1, 32, nh, hd)), ttnn.Shape((1, 32, 32, hd)))", ns)
    show("""
        qD = ttnn.to_memory_config(qd, DR)
        qD""", ns)
    show("ttnn.reshape(qD, (1, 1, 32 * nh, hd))", ns)
    show("ttnn.experimental.rotary_embedding(qD, cos, sin, 5)", ns)
    show("ttnn.rms_norm(qD, epsilon=1e-6, weight=tt(1, 1, 1, hd))", ns)
    show("""
        r = ttnn.experimental.paged_update_cache(k_cache, kd, update_idxs_tensor=cur)
        (r is k_cache, r.buffer_address() == k_cache.buffer_address(), desc(r))""", ns)
    show("""
        od = ttnn.transformer.scaled_dot_product_attention_decode(qd, k_cache, k_cache, cur_pos_tensor=cur, scale=hd ** -0.5)
        od""", ns)
    show("ttnn.transformer.scaled_dot_product_attention_decode(qD, k_cache, k_cache, cur_pos_tensor=cur)", ns)
    show("""
        ot = ttnn.transpose(od, 1, 2)
        ot""", ns)
    show("ttnn.experimental.nlp_concat_heads(ot, memory_config=DR)", ns)


def section_errors(ns):
    header("errors: what invalid calls raise (message up to the C++ backtrace)")
    ns.update(nh=8, nkv=2, hd=64)
    show("""
        kc = tt(32, nkv, 256, hd); cos = tt(1, 1, 2048, hd)
        cur = ttnn.from_torch(torch.full((32,), 5, dtype=torch.int32), dtype=ttnn.int32, device=d)
        ttnn.linear(tt(1, 1, 32, 64), tt(1, 1, 96, 32))""", ns)
    cases = [
        "ttnn.rms_norm(tt(1, 1, 32, 64, layout=RM), epsilon=1e-5)",
        "ttnn.rms_norm(tt(1, 1, 32, 64), epsilon=1e-5, weight=tt(1, 1, 1, 128))",
        "ttnn.transformer.scaled_dot_product_attention(tt(1, nh, 32, hd), tt(1, nkv, 32, hd), tt(1, nkv, 32, hd), is_causal=True, attn_mask=tt(1, 1, 32, 32))",
        "ttnn.transformer.scaled_dot_product_attention(tt(1, nh, 64, hd), tt(1, nkv, 32, hd), tt(1, nkv, 32, hd), is_causal=True)",
        "ttnn.transformer.scaled_dot_product_attention_decode(tt(2, 32, nh, hd), kc, kc, cur_pos_tensor=cur)",
        "ttnn.transformer.scaled_dot_product_attention_decode(tt(1, 32, nh, hd), kc, kc, cur_pos=[300] * 32)",
        "ttnn.transformer.scaled_dot_product_attention_decode(tt(1, 32, nh, hd), kc, kc, cur_pos_tensor=cur, memory_config=ttnn.L1_HEIGHT_SHARDED_MEMORY_CONFIG)",
        "ttnn.transformer.scaled_dot_product_attention_decode(tt(1, 32, nh, hd), kc, kc, cur_pos_tensor=cur, memory_config=ttnn.create_sharded_memory_config((1, 32, 32, hd), ttnn.CoreGrid(x=8, y=4), ttnn.ShardStrategy.HEIGHT))",
        "ttnn.fill_cache(kc, tt(1, nkv, 32, hd, dtype=ttnn.bfloat8_b), batch_idx=0)",
        "ttnn.fill_cache(kc, tt(1, nkv, 32, hd), batch_idx=32)",
        "ttnn.experimental.paged_update_cache(kc, tt(1, 32, nkv, hd), update_idxs_tensor=cur)",
        "ttnn.from_torch(torch.randn(1, 1, 32, 32), dtype=ttnn.bfloat8_b, layout=ttnn.ROW_MAJOR_LAYOUT)",
        "ttnn.from_torch(torch.randn(1, 1, 32, 32), dtype=ttnn.bfloat8_b, layout=ttnn.ROW_MAJOR_LAYOUT, device=d)",
        "ttnn.from_torch(torch.randn(1, 1, 32, 32), dtype=ttnn.bfloat8_b)  # layout=None -> TILE, no error",
        "ttnn.experimental.nlp_create_qkv_heads_decode(tt(1, 1, 32, (nh + 2 * nkv) * hd, dtype=ttnn.bfloat8_b), num_heads=nh, num_kv_heads=nkv)",
        "ttnn.experimental.nlp_create_qkv_heads(tt(1, 1, 32, 700), num_heads=nh, num_kv_heads=nkv)",
        "ttnn.experimental.rotary_embedding(tt(2, 1, 32, hd), cos, cos, 5)",
        "ttnn.experimental.rotary_embedding(tt(1, 1, 32, hd), cos, cos, 4096)",
        "ttnn.experimental.rotary_embedding(tt(1, 1, 64, hd), cos[:, :, :32, :], cos[:, :, :32, :])",
        "ttnn.experimental.rotary_embedding(tt(1, 1, 32, 96), tt(1, 1, 32, 96), tt(1, 1, 32, 96))",
        "ttnn.as_tensor(torch.randn(1, 1, 32, 32), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=d)",
        "ttnn.slice(tt(1, 1, 32, 64), (0, 0, 0, 0), (1, 1, 32, 128))",
        "tt(1, 1, 32, 64)[:, :, :, 100:200]",
        "ttnn.concat([tt(1, 1, 32, 64), tt(1, 1, 64, 64)], dim=-1)",
        "ttnn.concat([tt(1, 1, 32, 64), tt(1, 32, 64)], dim=-1)",
        "ttnn.concat([tt(1, 1, 32, 64), tt(1, 1, 32, 64, dtype=ttnn.bfloat8_b)], dim=-1)",
        "ttnn.reshape(tt(1, 1, 32, 64), (1, 1, 32, 63))",
        "ttnn.embedding(ttnn.from_torch(torch.zeros(1, 1, 1, 32), dtype=ttnn.float32, device=d), tt(1, 1, 100, 64, layout=RM))",
        "ttnn.add(tt(1, 1, 32, 64), tt(1, 1, 32, 96))",
        "ttnn.create_sharded_memory_config((1, 3, 32, 64), ttnn.CoreGrid(x=4, y=1), ttnn.ShardStrategy.HEIGHT, ttnn.ShardOrientation.ROW_MAJOR)",
    ]
    for c in cases:
        show(c, ns)
    print("  -- deallocate vs. reshape views (view = same buffer_address)")
    show("""
        a = tt(1, 1, 32, 32); alias = ttnn.reshape(a, (1, 32, 32)); same = alias.buffer_address() == a.buffer_address()
        ttnn.deallocate(a)
        c = tt(1, 1, 32, 32)
        (same, a.is_allocated(), alias.is_allocated(), c.buffer_address() == alias.buffer_address(), desc(ttnn.add(alias, alias)))""", ns)
    show("""
        a = tt(1, 1, 32, 32); alias = ttnn.reshape(a, (1, 1, 32, 32)); ttnn.deallocate(a)
        ttnn.add(alias, alias)""", ns)
    show("""
        try:
            ttnn.linear(tt(1, 1, 32, 64), tt(1, 1, 96, 32))
        except Exception as e:
            err = e
        ([c.__name__ for c in type(err).__mro__], str(err).count("\\n--- ") > 0 or "backtrace:" in str(err))""", ns)
    # ttnn.to_torch of a deallocated device tensor kills the process: run it in a child.
    code = ("import torch, ttnn; d = ttnn.open_device(device_id=0); "
            "t = ttnn.from_torch(torch.zeros(1, 1, 32, 32), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=d); "
            "ttnn.deallocate(t); ttnn.to_torch(t); print('survived')")
    print("  >>> (child process) ttnn.deallocate(t); ttnn.to_torch(t)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    print(f"      -> returncode={p.returncode} ({'SIGSEGV' if p.returncode == -11 else 'no crash'}) "
          f"stdout={p.stdout.strip()[-40:]!r}")


def section_memory(ns):
    header("memory: allocator views, bytes charged per bank, OOM")
    print(f"  (tensors still alive from earlier sections: {ns['per_bank']()} B/bank DRAM)")
    show("[n for n in dir(ttnn) if 'memory' in n or 'alloc' in n]", ns)
    show("""
        mv = ttnn.get_memory_view(d, ttnn.BufferType.DRAM)
        (mv.num_banks, mv.total_bytes_per_bank, mv.total_bytes_allocated_per_bank, mv.total_bytes_free_per_bank, mv.largest_contiguous_bytes_free_per_bank)""", ns)
    show("""
        mv = ttnn.get_memory_view(d, ttnn.BufferType.L1)
        (mv.num_banks, mv.total_bytes_per_bank, mv.total_bytes_allocated_per_bank)""", ns)
    show("(ttnn.get_dram_alignment(), ttnn.get_l1_alignment(), ttnn.get_max_worker_l1_unreserved_size())", ns)
    show("(ttnn.get_allocator_base_address(d, ttnn.BufferType.DRAM), ttnn.get_allocator_base_address(d, ttnn.BufferType.L1))", ns)
    show("""
        di = ttnn._ttnn.reports.get_device_info(d)
        dict(l1_num_banks=di.l1_num_banks, l1_bank_size=di.l1_bank_size, total_l1_for_interleaved_buffers=di.total_l1_for_interleaved_buffers, worker_l1_size=di.worker_l1_size, num_compute_cores=di.num_compute_cores)""", ns)
    print("  -- bytes charged per bank (ttnn.get_memory_view(...).total_bytes_allocated_per_bank delta;"
          " record from ttnn._ttnn.reports.get_buffers)")
    for c in [
        "charge((1, 1, 32, 32), ttnn.bfloat16)",
        "charge((1, 1, 20, 20), ttnn.bfloat16)",
        "charge((1, 1, 64, 2048), ttnn.bfloat16)",
        "charge((1, 1, 32, 32 * 24), ttnn.bfloat16)",
        "charge((1, 1, 32, 32 * 25), ttnn.bfloat16)",
        "charge((1, 1, 2048, 8192), ttnn.bfloat8_b)",
        "charge((1, 1, 32, 32), ttnn.bfloat8_b)",
        "charge((1, 1, 32, 32), ttnn.bfloat4_b)",
        "charge((1, 1, 32, 32), ttnn.float32)",
        "charge((1, 1, 7, 100), ttnn.bfloat16, RM)",
        "charge((1, 1, 7, 10), ttnn.bfloat16, RM)",
        "charge((1, 1, 36, 10), ttnn.bfloat16, RM)",
        "charge((1, 1, 37, 10), ttnn.bfloat16, RM)",
        "charge((1, 1, 1, 32), ttnn.uint32, RM)",
        "charge((32,), ttnn.int32, RM)",
        "charge((1, 1, 1, 3), ttnn.uint32, RM)",
        "charge((1, 1, 32, 32), ttnn.bfloat16, TL, L1)",
        "charge((1, 1, 32, 32 * 65), ttnn.bfloat16, TL, L1)",
        "charge((1, 1, 7, 100), ttnn.bfloat16, RM, L1)",
        "charge((1, 1, 192, 10), ttnn.bfloat16, RM, L1)",
        "charge((1, 1, 1, 3), ttnn.uint32, RM, L1)",
        "charge((1, 2, 32, 64), ttnn.bfloat16, TL, ttnn.create_sharded_memory_config((1, 2, 32, 64), ttnn.CoreGrid(x=2, y=1), ttnn.ShardStrategy.HEIGHT, ttnn.ShardOrientation.ROW_MAJOR))",
        "charge((1, 8, 256, 64), ttnn.bfloat16, TL, ttnn.create_sharded_memory_config((1, 8, 256, 64), ttnn.CoreGrid(x=8, y=1), ttnn.ShardStrategy.HEIGHT, ttnn.ShardOrientation.ROW_MAJOR))",
    ]:
        show(c, ns)
    show("""
        a = ttnn.from_torch(torch.zeros(1, 1, 1, 3), dtype=ttnn.bfloat16, device=d, memory_config=DR)
        b = ttnn.from_torch(torch.zeros(1, 1, 1, 3), dtype=ttnn.bfloat16, device=d, memory_config=DR)
        a1 = ttnn.from_torch(torch.zeros(1, 1, 1, 3), dtype=ttnn.bfloat16, device=d, memory_config=L1)
        b1 = ttnn.from_torch(torch.zeros(1, 1, 1, 3), dtype=ttnn.bfloat16, device=d, memory_config=L1)
        out = dict(dram_addrs=(a.buffer_address(), b.buffer_address()), l1_addrs=(a1.buffer_address(), b1.buffer_address()))
        for t in (a, b, a1, b1): ttnn.deallocate(t)
        out""", ns)
    print("  -- L1 capacity for interleaved tensors")
    show("""
        n = ttnn.get_memory_view(d, ttnn.BufferType.L1).total_bytes_per_bank // 2048 * 64
        t = ttnn.empty((1, 1, 32, 32 * n), ttnn.bfloat16, TL, d, L1); used = per_bank(ttnn.BufferType.L1); ttnn.deallocate(t)
        (n, used)""", ns)
    show("ttnn.empty((1, 1, 32, 32 * (n + 1)), ttnn.bfloat16, TL, d, L1)", ns)
    print("  -- a sharded L1 buffer reserves its address range on every L1 bank (lockstep), not only on its cores")
    show("""
        mc = ttnn.create_sharded_memory_config((1, 1, 2 * 32 * 16, 64), ttnn.CoreGrid(x=2, y=1), ttnn.ShardStrategy.HEIGHT, ttnn.ShardOrientation.ROW_MAJOR)
        s = ttnn.empty((1, 1, 2 * 32 * 16, 64), ttnn.bfloat16, TL, d, mc)
        (s.buffer_address(), per_bank(ttnn.BufferType.L1))""", ns)
    show("ttnn.empty((1, 1, 32, 32 * n), ttnn.bfloat16, TL, d, L1)  # n tiles fit an empty L1 (above); s lives on 2 cores", ns)
    show("""
        ttnn.deallocate(s)
        per_bank(ttnn.BufferType.L1)""", ns)
    print("  -- a non-view TILE reshape allocates its output plus a cached helper buffer that stays")
    show("""
        p0 = per_bank(); a = tt(1, 1, 32, 32); p1 = per_bank(); r = ttnn.reshape(a, (1, 1, 16, 64)); p2 = per_bank()
        ttnn.deallocate(a); ttnn.deallocate(r)
        dict(input=p1 - p0, reshape=p2 - p1, left_after_freeing_both=per_bank() - p0)""", ns)
    print("  -- DRAM OOM: 1 GiB bf16 TILE tensors until it fails")
    show("""
        big = []
        try:
            while True:
                big.append(ttnn.empty((1, 1, 16384, 32768), ttnn.bfloat16, TL, d, DR))
        except RuntimeError as e:
            oom = e
        (len(big), per_bank())""", ns)
    show("oom", ns)
    show("""
        ttnn.deallocate(big[-1]); freed = per_bank()
        big[-1] = ttnn.empty((1, 1, 16384, 32768), ttnn.bfloat16, TL, d, DR)
        (freed, per_bank())""", ns)
    show("""
        del big[-1]; import gc; gc.collect()
        per_bank()""", ns)
    show("""
        for t in big: ttnn.deallocate(t)
        del big
        per_bank()""", ns)
    show("""
        mc = ttnn.create_sharded_memory_config((1, 1, 64 * 32 * 700, 64), ttnn.CoreGrid(x=8, y=8), ttnn.ShardStrategy.HEIGHT, ttnn.ShardOrientation.ROW_MAJOR)
        ttnn.empty((1, 1, 64 * 32 * 700, 64), ttnn.bfloat16, TL, d, mc)""", ns)
    show("""
        mc = ttnn.create_sharded_memory_config((1, 1, 2 * 32 * 700, 64), ttnn.CoreGrid(x=2, y=1), ttnn.ShardStrategy.HEIGHT, ttnn.ShardOrientation.ROW_MAJOR)
        ttnn.empty((1, 1, 2 * 32 * 700, 64), ttnn.bfloat16, TL, d, mc)""", ns)


def section_dtypes(ns):
    header("dtypes: to_torch result dtype, from_torch defaults")
    for dt, src in [("bfloat16", "float32"), ("float32", "float32"), ("bfloat8_b", "float32"),
                    ("bfloat4_b", "float32"), ("uint32", "int32"), ("int32", "int32"),
                    ("uint16", "int32"), ("uint8", "int32")]:
        show(f"ttnn.to_torch(ttnn.from_torch(torch.zeros(1, 1, 32, 32, dtype=torch.{src}), dtype=ttnn.{dt}, device=d)).dtype", ns,
             quiet_setup=True)
    for src in ("float32", "bfloat16", "float16", "int32", "int64", "uint8", "bool"):
        show(f"(lambda t: (t.dtype, t.layout, t.storage_type()))(ttnn.from_torch(torch.zeros(2, 3, dtype=torch.{src})))", ns)
    show("ttnn.from_torch(torch.zeros(2, 3), device=d)", ns)
    show("ttnn.from_torch(torch.zeros(1, 1, 32, 32), dtype=ttnn.bfloat8_b, device=d)", ns)
    show("ttnn.to_torch(tt(1, 1, 20, 20)).shape", ns)


def _device_facts(dev):
    g = dev.compute_with_storage_grid_size()
    dm = ttnn.get_memory_view(dev, ttnn.BufferType.DRAM)
    l1 = ttnn.get_memory_view(dev, ttnn.BufferType.L1)
    return (f"{dev!r} core_grid={dev.core_grid} compute_with_storage_grid_size=({g.x},{g.y}) arch={dev.arch()} "
            f"shape={tuple(dev.shape)} num_devices={dev.get_num_devices()} device_ids={dev.get_device_ids()} "
            f"DRAM={dm.num_banks}x{dm.total_bytes_per_bank} L1={l1.num_banks}x{l1.total_bytes_per_bank} "
            f"align(dram,l1)=({ttnn.get_dram_alignment()},{ttnn.get_l1_alignment()})")


def section_devices(ns):
    header("devices: properties per mock cluster descriptor")
    print(f"  [{os.path.basename(os.environ['TT_METAL_MOCK_CLUSTER_DESC_PATH'])}] ttnn.open_device(device_id=0):")
    print("      -> " + _device_facts(ns["d"]))
    for yaml, mode in (("wormhole_N300.yaml", "mesh12"), ("wormhole_N300.yaml", "single"), ("blackhole_P150.yaml", "single")):
        env = dict(os.environ, TT_METAL_MOCK_CLUSTER_DESC_PATH=os.path.join(MOCK_DIR, yaml))
        p = subprocess.run([sys.executable, _SELF, "--child-device", mode],
                           capture_output=True, text=True, env=env, timeout=900)
        out = p.stdout.rstrip() or f"(child failed rc={p.returncode}: {p.stderr.strip()[-300:]})"
        print(out)


def _child_device(mode):
    yaml = os.path.basename(os.environ["TT_METAL_MOCK_CLUSTER_DESC_PATH"])
    if mode == "single":
        dev = ttnn.open_device(device_id=0)
        print(f"  [{yaml}] ttnn.open_device(device_id=0):\n      -> " + _device_facts(dev))
        ttnn.close_device(dev)
        return
    ttnn.set_fabric_config(ttnn.FabricConfig.FABRIC_1D)
    m = ttnn.open_mesh_device(ttnn.MeshShape(1, 2))
    print(f"  [{yaml}] ttnn.set_fabric_config(FABRIC_1D); ttnn.open_mesh_device(ttnn.MeshShape(1, 2)):\n      -> " + _device_facts(m))
    ns = make_ns(m)
    show("tuple(ttnn._ttnn.multi_device.SystemMeshDescriptor().shape())", ns)
    show("""
        t = ttnn.from_torch(torch.zeros(1, 1, 32, 64), dtype=ttnn.bfloat16, layout=TL, device=d, memory_config=DR, mesh_mapper=ttnn.ShardTensorToMesh(d, dim=3))
        (desc(t), per_bank())""", ns)
    show("ttnn.all_reduce(t, num_links=1, topology=ttnn.Topology.Linear, memory_config=DR, cluster_axis=1)", ns)
    show("ttnn.to_torch(t, mesh_composer=ttnn.ConcatMeshToTensor(d, dim=3)).shape", ns)
    ttnn.close_mesh_device(m)
    ttnn.set_fabric_config(ttnn.FabricConfig.DISABLED)


def section_help(ns):
    header("help: signature + first paragraph (full text: help(<op>))")
    for name in ("ttnn.rms_norm", "ttnn.experimental.rotary_embedding", "ttnn.experimental.paged_update_cache",
                 "ttnn.transformer.scaled_dot_product_attention_decode"):
        op = eval(name, ns)  # noqa: S307 - fixed names
        sig = type(op.function).__call__.__doc__ if hasattr(op, "function") else ""
        doc = textwrap.dedent(op.__doc__ or "").strip()
        para = doc.split("\n\n")[0]
        print(f"  {name}" + sig.strip().replace("__call__(self, ", "(", 1))
        print(textwrap.indent(para, "      "))
        for line in doc.splitlines():
            if "Returns" in line or "output tensor [" in line or "[1 x" in line:
                print("      | " + line.strip())


def main(argv):
    if argv[:1] == ["--child-device"]:
        _child_device(argv[1])
        return
    wanted = argv or list(SECTIONS)
    bad = [s for s in wanted if s not in SECTIONS]
    if bad:
        sys.exit(f"conformance_probe: unknown section(s) {bad}; choose from {SECTIONS}")
    from importlib.metadata import version
    print(f"# ttnn {version('ttnn')} mock-mode probe "
          f"(torch {torch.__version__}, cluster {os.path.basename(os.environ['TT_METAL_MOCK_CLUSTER_DESC_PATH'])})")
    device = ttnn.open_device(device_id=0)
    try:
        for s in SECTIONS:
            if s in wanted:
                globals()["section_" + s](make_ns(device))
                gc.collect()  # drop the section's tensors (exec'd code makes ns reference cycles)
    finally:
        ttnn.close_device(device)


if __name__ == "__main__":
    main(sys.argv[1:])
