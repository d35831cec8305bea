"""Speed and host memory of the emulator's hot op, ``ttnn.linear``, measured in one run.

    python benchmarks/bench_emulator_ops.py [--repeats 15]

Figures (ratios of numbers measured in this run, on this machine; goals in brackets):
1. emulated ``ttnn.linear`` of a [32, 2048] bf16 activation by a [2048, 8192] bf16 weight /
   ``torch.matmul`` in float32 on the same values with a float32 weight   [<= 1.3]
2. host bytes held by a bfloat8_b [2048, 8192] weight (mantissa + exponent storage) / the device
   bytes it occupies (1088 B per 32x32 tile)                                  [<= 1.2]
3. ``ttnn.linear`` time with that bfloat8_b weight / with the bf16 weight    [<= 1.5]

Timings are medians over ``--repeats`` rounds after two warm-up calls; the three timed calls run
interleaved in each round, so load from other processes hits them alike.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ttbringup.emu as ttnn  # noqa: E402
from ttbringup.emu.memory import TILE_BYTES  # noqa: E402

GOALS = {"linear_bf16_vs_torch": 1.3, "bfp8_host_vs_device_bytes": 1.2, "linear_bfp8_vs_bf16": 1.5}
M, K, N = 32, 2048, 8192


def interleaved_medians(calls: dict, repeats: int) -> dict:
    """Median seconds of each zero-argument call, timed round-robin after two warm-ups."""
    for fn in calls.values():
        fn()
        fn()
    times = {name: [] for name in calls}
    for _ in range(repeats):
        for name, fn in calls.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


def host_bytes(t: ttnn.Tensor) -> int:
    """Bytes of host storage behind a block-float tensor (whole storages, not just the views)."""
    value = t._value
    return value.mant.untyped_storage().nbytes() + value.exp.untyped_storage().nbytes()


def device_bytes(t: ttnn.Tensor) -> int:
    tiles = t.volume() // (t.tile.height * t.tile.width)
    return tiles * TILE_BYTES[t.dtype]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()

    torch.manual_seed(0)
    device = ttnn.open_device(device_id=0)
    x = ttnn.from_torch(torch.randn(M, K), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    w = torch.randn(K, N) * K ** -0.5
    w_bf16 = ttnn.from_torch(w, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    w_bfp8 = ttnn.from_torch(w, dtype=ttnn.bfloat8_b, layout=ttnn.TILE_LAYOUT, device=device)
    x32 = ttnn.to_torch(x).float()
    w32 = ttnn.to_torch(w_bf16).float()

    t = interleaved_medians({
        "torch_fp32": lambda: torch.matmul(x32, w32),
        "linear_bf16": lambda: ttnn.linear(x, w_bf16),
        "linear_bfp8": lambda: ttnn.linear(x, w_bfp8),
    }, args.repeats)
    ratios = {
        "linear_bf16_vs_torch": t["linear_bf16"] / t["torch_fp32"],
        "bfp8_host_vs_device_bytes": host_bytes(w_bfp8) / device_bytes(w_bfp8),
        "linear_bfp8_vs_bf16": t["linear_bfp8"] / t["linear_bf16"],
    }
    ttnn.close_device(device)

    print(f"linear [{M},{K}] x [{K},{N}], torch threads {torch.get_num_threads()}, {args.repeats} rounds")
    for name, seconds in t.items():
        print(f"  {name:<14} {seconds * 1e3:8.1f} ms (median)")
    for name, value in ratios.items():
        verdict = "meets" if value <= GOALS[name] else "misses"
        print(f"{name:<27} {value:6.2f}  ({verdict} goal <= {GOALS[name]})")


if __name__ == "__main__":
    main()
