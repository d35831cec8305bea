"""Card-mode cost of the eltwise, unary and normalisation ops: card / exact time per op on Llama-3.2-1B
decode-sized inputs (hidden 2048, MLP 8192, 32 heads; one token padded to a 32-row tile; random data).

    python benchmarks/bench_card_ops.py [--repeats 7] [--rows 32]

``--rows`` is the token rows of the activations (32: a full tile, batch 32; 1: one token, batch 1).

Prints one row per op: exact-mode and card-mode median seconds (after two warm-up calls) and their ratio. Both
modes run on one torch thread (card mode always does; on a shared 2-core machine exact mode's two-thread
timings mostly measured the other processes' load).
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ttbringup.emu as ttnn  # noqa: E402

numerics_mode = importlib.import_module("ttbringup.emu.numerics_mode")


def _tensor(device, shape, seed, dtype=ttnn.bfloat16):
    g = torch.Generator().manual_seed(seed)
    return ttnn.from_torch(torch.randn(*shape, generator=g), dtype=dtype, layout=ttnn.TILE_LAYOUT, device=device)


def cases(device, rows: int) -> dict:
    hidden = _tensor(device, (1, 1, rows, 2048), 1)
    residual = _tensor(device, (1, 1, rows, 2048), 2)
    gamma = _tensor(device, (1, 1, 1, 2048), 3)
    gate = _tensor(device, (1, 1, rows, 8192), 4)
    up = _tensor(device, (1, 1, rows, 8192), 5)
    scores = _tensor(device, (1, 32, rows, 512), 6)
    return {
        f"rms_norm [{rows}x2048] + weight": lambda: ttnn.rms_norm(hidden, weight=gamma, epsilon=1e-5),
        f"layer_norm [{rows}x2048] + weight": lambda: ttnn.layer_norm(hidden, weight=gamma, epsilon=1e-5),
        f"silu [{rows}x8192]": lambda: ttnn.silu(gate),
        f"gelu [{rows}x8192]": lambda: ttnn.gelu(gate),
        f"relu [{rows}x8192]": lambda: ttnn.relu(gate),
        f"multiply [{rows}x8192] (SFPU default)": lambda: ttnn.multiply(gate, up),
        f"multiply [{rows}x8192] (FPU, fast mode)": lambda: ttnn.multiply(gate, up, fast_and_approximate_mode=True),
        f"add [{rows}x2048] (FPU default)": lambda: ttnn.add(hidden, residual),
        f"softmax [32 heads x {rows} x 512]": lambda: ttnn.softmax(scores, -1),
    }


def _median(fn, mode: str, repeats: int) -> float:
    with numerics_mode.use(mode):
        fn()
        fn()
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--rows", type=int, default=32)
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.rows < 1:
        print("error: --repeats and --rows must be at least 1", file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    device = ttnn.open_device(device_id=0)
    try:
        print(f"{'op':40s} {'exact s':>10s} {'card s':>10s} {'card/exact':>10s}")
        for name, fn in cases(device, args.rows).items():
            exact = _median(fn, "exact", args.repeats)
            card = _median(fn, "card", args.repeats)
            print(f"{name:40s} {exact:10.5f} {card:10.5f} {card / exact:10.1f}")
    finally:
        ttnn.close_device(device)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
