"""Card mode's compiled matmul kernel (``ttbringup/emu/card/dst_kernel.cpp``, loaded by ``card.compiled``) timed
against the torch formulation it replaces (``card_matmul.dst_torch``) and exact mode's bf16 ``torch.mm``, in one
process.

    python benchmarks/card_matmul_compiled.py [--repeat 7] [--decode-step LAYERS]

The columns: ``kernel`` (torch's threads, as card mode runs it) / ``dst_torch`` (one thread, as card mode runs it)
/ ``exact`` (torch's threads, and one thread) median time per call; ``equal`` the fraction of outputs bit-equal to
``dst_torch``, ``max ulp`` their largest difference in last places of the Dst format (bf16 / float32), and that
difference relative to sum|x w|. Then the kernel against the bit-exact ``dst_reference`` with the bounds of
tests/emu/test_card_fast_path.py. ``--decode-step LAYERS``: the decode step of real-shape Llama-3.2-1B cut to
LAYERS layers + lm_head in exact mode, card mode, and card mode with the kernel switched off (the torch
formulation), with the agreement of the two card runs' logits.

Measured figures are in docs/card-numerics.md ("The compiled matmul kernel").
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

def build():
    """The kernel module card mode uses (built on first use); exits with one error line if it cannot be built."""
    from ttbringup.emu.card import compiled

    mod = compiled.module()
    if mod is None:
        _fail(compiled.status())
    return mod


DECODE_SHAPES = [(m, k, n) for m in (1, 2) for k, n in ((2048, 2048), (2048, 8192), (8192, 2048), (2048, 512))]


def median_time(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def ulps(a: torch.Tensor, b: torch.Tensor, fp32_dest: bool) -> int:
    """Largest difference of ``a`` and ``b`` (float32 Dst values) in last places of the Dst format."""
    def ordered(v):
        i = v.contiguous().view(torch.int32).long()
        return torch.where(i < 0, -(i & 0x7FFFFFFF), i)
    d = (ordered(a) - ordered(b)).abs().max().item() if a.numel() else 0
    return int(d if fp32_dest else d // 65536)


def compare_speed(mod, repeat: int) -> list[dict]:
    from ttbringup.emu import card_matmul

    rows = []
    for m, k, n in DECODE_SHAPES:
        torch.manual_seed(0)
        x = torch.randn(m, k).bfloat16().float()
        w = (torch.randn(n, k) / k ** 0.5).bfloat16().T  # [K, N], K-major storage
        xbf = x.bfloat16()
        exact = median_time(lambda: torch.mm(xbf, w), repeat)
        with card_matmul.one_thread():
            exact_1 = median_time(lambda: torch.mm(xbf, w), repeat)
        magnitude = x.double().abs() @ w.double().abs()
        for fidelity in ("LoFi", "HiFi2"):
            phases = list(card_matmul.fpu.phases(fidelity))
            for fp32_dest in (False, True):
                t_kernel = median_time(lambda: mod.dst(x, w, phases, fp32_dest), repeat)
                t_fast = median_time(lambda: card_matmul.dst_torch(x, w, fidelity, fp32_dest), repeat)
                got, want = mod.dst(x, w, phases, fp32_dest), card_matmul.dst_torch(x, w, fidelity, fp32_dest)
                rows.append({"shape": f"{m}x{k} @ {k}x{n}", "fidelity": fidelity,
                             "dst": "FP32" if fp32_dest else "BF16", "kernel_s": t_kernel, "fast_s": t_fast,
                             "exact_s": exact, "exact_1_s": exact_1,
                             "rel": float(((got.double() - want.double()).abs() / magnitude).max()),
                             "equal": float((got.view(torch.int32) == want.view(torch.int32))
                                                              .double().mean()),
                             "max_ulp": ulps(got, want, fp32_dest)})
                print(_row(rows[-1]), flush=True)
    return rows


def _row(r: dict) -> str:
    return (f"| {r['shape']} | {r['fidelity']} | {r['dst']} | {1e3 * r['kernel_s']:.2f} ms | {1e3 * r['fast_s']:.1f} ms"
            f" | {1e3 * r['exact_s']:.2f} ms | {1e3 * r['exact_1_s']:.2f} ms | {r['fast_s'] / r['kernel_s']:.1f}x"
            f" | {r['kernel_s'] / r['exact_s']:.2f}x | {100 * r['equal']:.1f} % | {r['max_ulp']}"
            f" | {_log2(r['rel'])} |")


def _log2(v: float) -> str:
    return "0" if v == 0 else f"2^{math.log2(v):.1f}"


def compare_reference(mod) -> list[str]:
    """The kernel against the bit-exact reference with test_card_fast_path.py's bounds, bf16 and TF32 weights."""
    from ttbringup.emu import card_matmul

    lines = []
    for (m, k, n), w_dtype in (((1, 200, 70), torch.bfloat16), ((37, 80, 48), torch.bfloat16),
                               ((1, 200, 70), torch.float32), ((37, 80, 48), torch.float32)):
        torch.manual_seed(20)
        x = torch.randn(m, k).bfloat16().float()
        w = card_matmul.src_values(torch.randn(k, n), card_matmul.DataType.FLOAT32).to(w_dtype) \
            if w_dtype == torch.float32 else torch.randn(k, n).bfloat16()
        for fidelity in ("LoFi", "HiFi2", "HiFi3", "HiFi4"):
            for fp32_dest in (False, True):
                got = mod.dst(x, w, list(card_matmul.fpu.phases(fidelity)), fp32_dest)
                ref = card_matmul.dst_reference(x, w.float(), fidelity, fp32_dest)
                xs, ws = x.double(), w.double()
                exact, magnitude = xs @ ws, xs.abs() @ ws.abs()
                bound = 2.0 ** (-11 if fp32_dest else -6)
                worst = float(((got.double() - ref.double()).abs() / magnitude.clamp_min(1e-300)).max())
                rms = lambda v: float((v.double() - exact).pow(2).mean().sqrt() / exact.pow(2).mean().sqrt())
                ratio = rms(got) / rms(ref) if rms(ref) else float("nan")
                ok = worst <= bound and (torch.equal(got, ref) if rms(ref) == 0 else
                                         ratio <= 1.05 if fp32_dest else 0.5 <= ratio <= 1.5)
                lines.append(f"| {m}x{k} @ {k}x{n} {str(w_dtype)[6:]} | {fidelity} | {'FP32' if fp32_dest else 'BF16'}"
                             f" | {_log2(worst)} | {ratio:.3f} | "
                             f"{100 * float((got == ref).double().mean()):.0f} % | {'yes' if ok else 'NO'} |")
    return lines


def decode_step(num_layers: int, steps: int) -> dict:
    """Decode step times of real-shape Llama-3.2-1B (random weights, the first ``num_layers`` layers + lm_head;
    benchmarks/run.py's card-decode child) in exact mode, card mode, and card mode with the kernel switched off
    (``dst_fast`` then runs ``dst_torch``), plus the logits' agreement of the two card runs."""
    import importlib

    from ttbringup import backend
    from ttbringup.emu.card import compiled
    from ttbringup.evaluation.release import releasing_layers

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import run as bench

    ttnn = backend.load("emu", announce=False)
    numerics_mode = importlib.import_module("ttbringup.emu.numerics_mode")
    hf_id = "meta-llama/Llama-3.2-1B"
    hf = bench.random_hf_model(hf_id, torch.bfloat16, num_layers)
    gen = torch.Generator().manual_seed(1)
    prompt = torch.randint(0, hf.config.vocab_size, (1, 8), generator=gen)
    tokens = torch.randint(0, hf.config.vocab_size, (steps,), generator=gen).tolist()
    out = {}
    device = ttnn.open_device(device_id=0)
    try:
        with releasing_layers(hf):
            tt = bench.load_bringup(hf_id).build_model(hf, device, 2048)
        del hf
        for name, mode, kernel in (("exact", "exact", True), ("card", "card", True), ("card_torch", "card", False)):
            saved = compiled.dst
            if not kernel:
                compiled.dst = lambda *args: None
            try:
                with numerics_mode.use(mode):
                    _, times, out[name + "_logits"] = bench.run_steps(tt, prompt, tokens)
            finally:
                compiled.dst = saved
            out[name + "_s"] = statistics.median(times)
    finally:
        ttnn.close_device(device)
    out["logits_equal"] = bool(torch.equal(out["card_logits"], out["card_torch_logits"]))
    out["logits_pcc"] = bench.pcc(out["card_logits"], out["card_torch_logits"])
    return out


def _fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--decode-step", type=int, metavar="LAYERS", default=0,
                        help="instead: time the decode step of real-shape Llama-3.2-1B cut to LAYERS layers")
    args = parser.parse_args()
    if args.repeat < 1:
        _fail("--repeat must be at least 1")
    if args.decode_step < 0:
        _fail("--decode-step must be a layer count")
    if args.decode_step:
        r = decode_step(args.decode_step, args.repeat)
        print(f"decode step, {args.decode_step} layers + lm_head, median of {args.repeat}: exact {r['exact_s']:.3f} s, "
              f"card {r['card_s']:.3f} s ({r['card_s'] / r['exact_s']:.1f}x), card with the torch formulation "
              f"{r['card_torch_s']:.3f} s ({r['card_torch_s'] / r['exact_s']:.1f}x); card logits with / without "
              f"the kernel: equal {r['logits_equal']}, PCC {r['logits_pcc']:.6f}")
        return
    t0 = time.perf_counter()
    mod = build()
    print(f"build (or load from the cache): {time.perf_counter() - t0:.1f} s; torch threads {torch.get_num_threads()}")
    print("| shape | fidelity | Dst | kernel | dst_torch | exact (2 threads) | exact (1 thread) | dst_torch / kernel "
          "| kernel / exact 2 threads | equal | max ulp | max \\|diff\\| / sum\\|xw\\| |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    compare_speed(mod, args.repeat)
    print("\n| vs dst_reference | fidelity | Dst | max \\|kernel - ref\\| / sum\\|xw\\| | rel RMS kernel / ref "
          "| equal | within the test's bounds |")
    print("|---|---|---|---:|---:|---:|---|")
    for line in compare_reference(mod):
        print(line, flush=True)


if __name__ == "__main__":
    main()
