"""The allocator: one allocation sequence on the real ttnn 0.81.1 (mock n150) and on the emulator.

Mixed tensors (bf16/bf8/bf4/f32/uint32, TILE and ROW_MAJOR, DRAM, L1 interleaved, L1 height-sharded), frees by
``deallocate`` and by dropping the last reference, then 1-GiB DRAM tensors and L1 tensors until out of memory.
Both must run out of memory at the same step with the same request (total bytes, banks, bytes per bank), and after
every step the bytes allocated per bank (DRAM and L1) must agree within 1%.

Only the way tensors are made differs: the real side uses ``ttnn.empty`` (a mock device holds no data); the
emulator side uses data-free tensors (torch ``meta`` storage), so 11 GiB of DRAM costs no host memory.
"""

from __future__ import annotations

import gc
import re

import pytest
import torch

pytestmark = pytest.mark.conformance

GIB_SHAPE = (1, 1, 16384, 32768)  # 1 GiB of bf16
L1_BLOCK = (1, 1, 32, 32 * 6400)  # 100 bf16 tiles per L1 bank
TOLERANCE = 0.01

# (action, key, shape, dtype name, layout name, placement); placement: "dram", "l1" or ("hs", cores)
SEQUENCE = [
    ("alloc", "a", (1, 1, 64, 2048), "bfloat16", "TILE", "dram"),
    ("alloc", "b", (1, 1, 2048, 8192), "bfloat8_b", "TILE", "dram"),
    ("alloc", "c", (1, 1, 37, 10), "bfloat16", "ROW_MAJOR", "dram"),
    ("alloc", "d", (1, 1, 1, 3), "uint32", "ROW_MAJOR", "dram"),
    ("alloc", "e", (1, 1, 32, 32), "float32", "TILE", "dram"),
    ("alloc", "f", (1, 1, 40, 40), "bfloat4_b", "TILE", "dram"),
    ("alloc", "g", (1, 1, 32, 2080), "bfloat16", "TILE", "l1"),
    ("alloc", "h", (1, 1, 7, 100), "bfloat16", "ROW_MAJOR", "l1"),
    ("alloc", "i", (1, 8, 256, 64), "bfloat16", "TILE", ("hs", 8)),
    ("alloc", "j", (1, 2, 32, 64), "bfloat16", "TILE", ("hs", 2)),
    ("alloc", "k", (1, 1, 20, 20), "bfloat8_b", "TILE", "l1"),
    ("free", "b"),
    ("drop", "e"),
    ("free", "i"),
] + [("alloc", f"big{n}", GIB_SHAPE, "bfloat16", "TILE", "dram") for n in range(14)] + [
    ("free", "big3"),
    ("alloc", "big_again", GIB_SHAPE, "bfloat16", "TILE", "dram"),
    ("alloc", "big_more", GIB_SHAPE, "bfloat16", "TILE", "dram"),
    ("alloc", "dram_rest", (1, 1, 32, 32 * 12 * 40000), "bfloat16", "TILE", "dram"),
] + [("alloc", f"l1_{n}", L1_BLOCK, "bfloat16", "TILE", "l1") for n in range(8)] + [
    ("alloc", "shard_too_big", (1, 1, 2 * 32 * 700, 64), "bfloat16", "TILE", ("hs", 2)),
    ("drop", "l1_0"),
    ("alloc", "l1_after_drop", L1_BLOCK, "bfloat16", "TILE", "l1"),
    ("alloc", "shard_fits", (1, 1, 2 * 32 * 16, 64), "bfloat16", "TILE", ("hs", 2)),
] + [("free", f"big{n}") for n in range(14) if n != 3] + [("free", "big_again"), ("free", "l1_1")]

_OOM = re.compile(r"allocate (\d+) B (\w+) buffer across (\d+) banks, where each bank needs to store (\d+) B")


def _placement(ttnn, where, shape):
    if where == "dram":
        return ttnn.DRAM_MEMORY_CONFIG
    if where == "l1":
        return ttnn.L1_MEMORY_CONFIG
    return ttnn.create_sharded_memory_config(shape, ttnn.CoreGrid(x=where[1], y=1), ttnn.ShardStrategy.HEIGHT,
                                             ttnn.ShardOrientation.ROW_MAJOR)


def _make_real(ttnn, device, shape, dtype, layout, mc):
    return ttnn.empty(shape, dtype, layout, device, mc)


def _make_emu(ttnn, device, shape, dtype, layout, mc):
    src = torch.empty(shape, device="meta", dtype=torch.int32 if dtype in (ttnn.uint32, ttnn.int32) else torch.float32)
    return ttnn.from_torch(src, dtype=dtype, layout=layout, device=device, memory_config=mc)


def _per_bank_real(ttnn, device):
    return tuple(ttnn.get_memory_view(device, bt).total_bytes_allocated_per_bank
                 for bt in (ttnn.BufferType.DRAM, ttnn.BufferType.L1))


def _per_bank_emu(ttnn, device):
    from ttbringup.emu import memory

    chip = memory.usage(device)[0]
    return chip["dram"]["used"] / memory.DRAM_BANKS, chip["l1"]["used"] / memory.L1_BANKS


def play(ttnn, device, make, per_bank):
    """Run SEQUENCE; per step: (outcome, DRAM bytes/bank, L1 bytes/bank) relative to the start."""
    live = {}
    base = per_bank(ttnn, device)
    steps = []
    for step in SEQUENCE:
        action, key = step[0], step[1]
        outcome = "ok"
        if action == "alloc":
            shape, dtype, layout, where = step[2], getattr(ttnn, step[3]), getattr(ttnn.Layout, step[4]), step[5]
            try:
                live[key] = make(ttnn, device, shape, dtype, layout, _placement(ttnn, where, shape))
            except Exception as err:  # noqa: BLE001
                m = _OOM.search(str(err))
                outcome = f"oom {m.group(2)} total={m.group(1)} banks={m.group(3)} per_bank={m.group(4)}" if m else \
                    f"error {type(err).__name__}: {' '.join(str(err).split())[:160]}"
        elif action == "free":
            if key in live:
                ttnn.deallocate(live.pop(key))
            else:
                outcome = "nothing to free"
        elif action == "drop":
            live.pop(key, None)
            gc.collect()
        used = per_bank(ttnn, device)
        steps.append((outcome, used[0] - base[0], used[1] - base[1]))
    for t in live.values():
        ttnn.deallocate(t)
    return steps


def _close(a, b) -> bool:
    return abs(a - b) <= TOLERANCE * max(abs(a), abs(b)) if (a or b) else True


def test_allocator_sequence(real_ttnn, real_device, emu, emu_device, summary_line):
    real = play(real_ttnn, real_device, _make_real, _per_bank_real)
    em = play(emu, emu_device, _make_emu, _per_bank_emu)
    rows, bad = [], []
    for step, r, e in zip(SEQUENCE, real, em):
        ok = r[0] == e[0] and _close(r[1], e[1]) and _close(r[2], e[2])
        label = f"{step[0]} {step[1]}"
        rows.append(f"  {'  ' if ok else '!!'} {label:18} real: {r[0]:58} dram/bank={r[1]:>11.0f} l1/bank={r[2]:>8.0f}")
        if not ok:
            rows.append(f"     {'':18} emu:  {e[0]:58} dram/bank={e[1]:>11.0f} l1/bank={e[2]:>8.0f}")
            bad.append(label)
    first_oom = [next((i for i, s in enumerate(x) if s[0].startswith("oom DRAM")), None) for x in (real, em)]
    summary_line(f"allocator: {len(SEQUENCE) - len(bad)}/{len(SEQUENCE)} steps agree; first DRAM OOM at step "
                 f"{first_oom[0]} (real) / {first_oom[1]} (emulator)")
    if bad:
        for row in rows:
            summary_line(row)
    assert any(s[0].startswith("oom") for s in real), "the sequence never ran out of memory on the real wheel"
    assert not bad, "allocator disagreements at: " + ", ".join(bad) + "\n" + "\n".join(rows)


# ---- the same rules per chip on a mesh (n300, 1x2): replicated and sharded tensors, until out of memory
# (the test is in test_conformance_mesh.py: this module's n150 emulator device holds chip 0)

MESH_SEQUENCE = [
    ("alloc", "rep_small", (1, 1, 64, 2048), "bfloat16", "TILE", "dram"),
    ("alloc_sharded", "shard_a", (1, 1, 2048, 8192), "bfloat8_b", "TILE", "dram"),
    ("alloc_sharded", "shard_b", (1, 1, 64, 4096), "bfloat16", "TILE", "l1"),
    ("free", "shard_a"),
] + [("alloc", f"big{n}", GIB_SHAPE, "bfloat16", "TILE", "dram") for n in range(13)] + [
    ("free", "big2"),
    ("alloc_sharded", "shard_c", (1, 1, 2048, 8192), "bfloat16", "TILE", "dram"),
    ("alloc", "big_again", GIB_SHAPE, "bfloat16", "TILE", "dram"),
] + [("free", f"big{n}") for n in range(13) if n != 2] + [("free", "shard_c")]


def play_mesh(ttnn, mesh, on_emulator: bool):
    """MESH_SEQUENCE on ``mesh``; per step: (outcome, DRAM bytes/bank, L1 bytes/bank) of every chip."""
    chips = mesh.get_num_devices()

    def per_bank():
        if on_emulator:
            from ttbringup.emu import memory

            return [(c["dram"]["used"] / memory.DRAM_BANKS, c["l1"]["used"] / memory.L1_BANKS)
                    for c in memory.usage(mesh)]
        return [tuple(ttnn.get_memory_view(mesh, bt).total_bytes_allocated_per_bank
                      for bt in (ttnn.BufferType.DRAM, ttnn.BufferType.L1))] * chips  # the view is per chip

    def make(shape, dtype, layout, mc, sharded):
        if not sharded:
            return (_make_emu if on_emulator else _make_real)(ttnn, mesh, shape, dtype, layout, mc)
        whole = shape[:-1] + (shape[-1] * chips,)
        src = torch.empty(whole, device="meta") if on_emulator else torch.zeros(whole)
        return ttnn.from_torch(src, dtype=dtype, layout=layout, device=mesh, memory_config=mc,
                               mesh_mapper=ttnn.ShardTensorToMesh(mesh, dim=3))

    live, base, steps = {}, per_bank(), []
    for step in MESH_SEQUENCE:
        action, key, outcome = step[0], step[1], "ok"
        if action.startswith("alloc"):
            shape, dtype, layout, where = step[2], getattr(ttnn, step[3]), getattr(ttnn.Layout, step[4]), step[5]
            try:
                live[key] = make(shape, dtype, layout, _placement(ttnn, where, shape), action == "alloc_sharded")
            except Exception as err:  # noqa: BLE001
                m = _OOM.search(str(err))
                outcome = f"oom {m.group(2)} total={m.group(1)} banks={m.group(3)} per_bank={m.group(4)}" if m else \
                    f"error {type(err).__name__}: {' '.join(str(err).split())[:160]}"
        elif action == "free":
            ttnn.deallocate(live.pop(key)) if key in live else None
        used = per_bank()
        steps.append((outcome, [(u[0] - b[0], u[1] - b[1]) for u, b in zip(used, base)]))
    for t in live.values():
        ttnn.deallocate(t)
    return steps


def _real_mesh_steps() -> list:
    """MESH_SEQUENCE on the real wheel's mock n300, in a child process (the mock cluster is fixed per process)."""
    import json
    import os
    import subprocess
    import sys

    env = dict(os.environ, TT_METAL_MOCK_CLUSTER_DESC_PATH=os.path.join(
        os.path.dirname(os.environ["TT_METAL_MOCK_CLUSTER_DESC_PATH"]), "wormhole_N300.yaml"))
    proc = subprocess.run([sys.executable, __file__, "--real-mesh"], env=env, capture_output=True, text=True,
                          timeout=900, cwd=os.getcwd())
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("MESH_STEPS ")]
    assert proc.returncode == 0 and lines, (proc.stdout + proc.stderr)[-3000:]
    return json.loads(lines[-1][len("MESH_STEPS "):])


if __name__ == "__main__" and "--real-mesh" in __import__("sys").argv:
    import json
    import os
    import sys

    os.environ.setdefault("TT_LOGGER_LEVEL", "off")
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import ttnn as real

    from conformance_harness import close_case_device, open_case_device

    device = open_case_device(real, (1, 2))
    try:
        print("MESH_STEPS " + json.dumps(play_mesh(real, device, on_emulator=False)))
    finally:
        close_case_device(real, device, (1, 2))
