"""Card-mode ``ttnn.linear`` cost per shape: exact mode vs card mode (fast path) in one process.

    python benchmarks/card_matmul.py [--repeat 3] [--shape M,K,N ...] [--dtype bfloat16|bfloat8_b]

Default shapes: Llama-3.2-1B's decode linears (M = 1 and 32 rows: q/o 2048x2048, k/v 2048x512, gate/up
2048x8192, down 8192x2048, lm_head 2048x128256) and a 128-row prefill one. bf16 activation, random weights,
the default compute config (HiFi2 for bf16 weights, BF16 Dst, bf16 output). Figures are the best of
``--repeat`` runs. The stage columns (one-row path only) time ``_chunk_sums`` and ``_accumulate`` on their own.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DECODE = [(m, k, n) for m in (1, 32) for k, n in ((2048, 2048), (2048, 512), (2048, 8192), (8192, 2048),
                                                  (2048, 128256))]
PREFILL = [(128, 2048, 8192), (128, 8192, 2048)]


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def measure(ttnn, device, m: int, k: int, n: int, dtype, repeat: int) -> dict:
    import torch

    from ttbringup.emu import card_matmul, numerics_mode

    torch.manual_seed(0)
    x = ttnn.from_torch(torch.randn(1, 1, m, k), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    w = ttnn.from_torch(torch.randn(1, 1, k, n) / k ** 0.5, dtype=dtype, layout=ttnn.TILE_LAYOUT, device=device)
    exact = best(lambda: ttnn.linear(x, w), repeat)
    with numerics_mode.use("card"):
        card = best(lambda: ttnn.linear(x, w), repeat)
    stages = {"sums_s": None, "accumulate_s": None}
    if m == 1:  # the one-row path's two stages on the operands the op hands them (one column block)
        xs = ttnn.to_torch(x).float().reshape(m, k)
        xb = tuple(None if s is None else s.view(m, k // 16, 16)
                   for s in card_matmul._srcb_slices(xs, False))
        wn = w._native("bench").reshape(k, n)
        cols = max(1, min(n, card_matmul._SUMS_BYTES // (4 * 2 * (k // 16))))
        phases = card_matmul.fpu.phases("HiFi2")
        share = cols / n
        with card_matmul._one_thread():  # as dst_fast runs them
            stages["sums_s"] = best(lambda: card_matmul._chunk_sums(xb, wn[:, :cols], phases, False), repeat) / share
            sums = card_matmul._chunk_sums(xb, wn[:, :cols], phases, False)
            stages["accumulate_s"] = best(lambda: card_matmul._accumulate(sums, 2, False), repeat) / share
    return {"shape": f"{m}x{k} @ {k}x{n}", "exact_s": exact, "card_s": card, "ratio": card / exact, **stages}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--shape", action="append", help="M,K,N (repeatable); default: the Llama-3.2-1B set")
    parser.add_argument("--dtype", default="bfloat16", choices=("bfloat16", "bfloat8_b"))
    args = parser.parse_args()
    try:
        shapes = [tuple(int(v) for v in s.split(",")) for s in args.shape] if args.shape else DECODE + PREFILL
        if any(len(s) != 3 or min(s) < 1 for s in shapes):
            raise ValueError
    except ValueError:
        print("error: --shape takes three positive integers M,K,N", file=sys.stderr)
        return 2
    import ttbringup.emu as ttnn

    device = ttnn.open_device(device_id=0)
    try:
        print("| shape | exact | card | ratio | card: chunk sums | card: Dst accumulation |")
        print("|---|---:|---:|---:|---:|---:|")
        for m, k, n in shapes:
            r = measure(ttnn, device, m, k, n, getattr(ttnn, args.dtype), args.repeat)
            stages = " | ".join("-" if r[key] is None else f"{r[key] * 1e3:.1f} ms"
                                for key in ("sums_s", "accumulate_s"))
            print(f"| {r['shape']} | {r['exact_s'] * 1e3:.1f} ms | {r['card_s'] * 1e3:.1f} ms | {r['ratio']:.1f}x | "
                  f"{stages} |", flush=True)
    finally:
        ttnn.close_device(device)
    return 0


if __name__ == "__main__":
    sys.exit(main())
