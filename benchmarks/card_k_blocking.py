"""How much the matmul K blocking changes card-mode results: a K-blocked formulation of card-mode matmul
measured against the one-block model card mode had before step 6 (issue 11, item 2; docs/card-numerics.md,
"K blocking"). Card mode now computes ``blocked(..., "l1acc")`` at ``choice`` (bit for bit:
tests/emu/test_card_matmul_k_blocks.py), so this is also its specification.

    python benchmarks/card_k_blocking.py [--shape M,K,N ...] [--cols 512] [--block-w 1,2,4,8,all]
        [--rules l1acc,l1acc-ties-away,spill] [--fidelity HiFi2,LoFi] [--dst bf16,fp32] [--reference]
    python benchmarks/card_k_blocking.py --check-12453 [--seeds 0,1,2,3,4,12453]

The 0.81.1 kernel (``bmm_large_block_zm_fused_bias_activation``) splits K into ``K / 32 / in0_block_w`` blocks.
Contracts of the formulation (``blocked``):

* every K block's Dst is computed from zero by ``dst_on_top`` (the fast formulation of
  ``card_matmul.dst_torch``, rows > 4 path, started from a given Dst) or, with ``reference``, by the bit-exact
  ``card.fpu.matmul_tiles``;
* rule ``l1acc`` (``packer_l1_acc``, the default config): block 0 is packed into the partials CB (Float16_b
  for a BF16 Dst, Float32 for an FP32 Dst), blocks 1 .. n-2 are packed with L1 accumulation
  (``card.packer.l1_acc_bf16``: exact sum rounded to nearest even; ``l1_acc_fp32``: float32 add), the last
  block is computed on top of the partials reloaded into Dst and packed into the bf16 output;
* rule ``l1acc-ties-away`` (BF16 Dst only): the same with the bf16 L1 add done as a float32 add whose result is
  converted to bf16 by the packer's FP32 -> bf16 rounding (ties away from zero): the alternative to ttsim's
  RNE add (facts §3, listed there as uncertain);
* rule ``spill`` (``packer_l1_acc=False``): every block is packed into the partials CB (the output format
  for a BF16 Dst, Float32 for an FP32 Dst) and reloaded under the next block;
* one block (``in0_block_w`` = all of K) is card mode's model before step 6: Dst from ``dst_on_top`` over all
  of K, packed by ``card_matmul.pack``.

Measured per shape on a sample of ``--cols`` output columns (every output element is independent; only K
and the rows matter): random bf16 activations (standard normal, the scale of normed hidden states) and
weights (normal / sqrt(K)), and for each in0_block_w x rule x fidelity x Dst: the fraction of bf16 outputs
differing from the one-block result, their max distance in bf16 ulps (``ulps``) over the outputs of at least
1/16 of the RMS (smaller ones can change sign, which counts thousands), the max abs difference in ulps at
the output's RMS, and the rel RMS error against the float64 product. Shapes with the same M, K and choice
share one row group (same operands: N only adds samples). ``*`` marks the in0_block_w 0.81.1's auto program
config picks for the shape (DRAM-interleaved operands, ``choice``).
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ttbringup.emu as ttnn  # noqa: E402
from ttbringup.emu import card_matmul, matmul_program_config  # noqa: E402
from ttbringup.emu.card import dst as card_dst  # noqa: E402
from ttbringup.emu.card import formats, fpu, packer  # noqa: E402
from ttbringup.emu.types import DataType  # noqa: E402

# Llama-3.2-1B linears: decode (one tile of users) and a 128-row prefill
SHAPES = [(m, 2048, n) for m in (32, 128) for n in (2048, 512, 8192)] + [(32, 8192, 2048), (128, 8192, 2048),
                                                                        (32, 2048, 128256), (128, 2048, 128256)]
RULES = ("l1acc", "l1acc-ties-away", "spill")


@functools.cache  # opens an emulated device: once per shape
def choice(m: int, k: int, n: int) -> int:
    """in0_block_w (tiles) card mode takes for ``[m, k] @ [k, n]`` with bf16 DRAM-interleaved operands and output
    and the default config on an n150 (``matmul_program_config.in0_block_w``: 1D multicast 2 for narrow shapes,
    2D multicast K / 32 / 8; pinned against the real wheel's kernel args in tests/emu/test_card_k_blocking.py)."""
    device = ttnn.open_device(device_id=0)
    try:
        a, b = (ttnn.from_torch(torch.empty(shape, dtype=torch.bfloat16, device="meta"), dtype=ttnn.bfloat16,
                                layout=ttnn.TILE_LAYOUT, device=device) for shape in ((1, 1, m, k), (1, 1, k, n)))
        return matmul_program_config.in0_block_w(
            a, b, transpose_a=False, transpose_b=False, memory_config=None, program_config=None, core_grid=None,
            fp32_dest_acc_en=False, out_dtype=DataType.BFLOAT16, has_bias=False)
    finally:
        ttnn.close_device(device)


def dst_on_top(x: torch.Tensor, w: torch.Tensor, fidelity: str, fp32_dest: bool,
               d0: torch.Tensor | None = None) -> torch.Tensor:
    """Dst (float32 values) after ``x [M, K] @ w [K, N]`` (bf16 values, K a multiple of 32) is accumulated on
    top of the Dst values ``d0`` (zeros when None), in ``card_matmul.dst_torch``'s many-rows formulation: per
    K tile, phases outer and the two K halves inner, one float32 ``addmm`` per MVMUL and one rounding into
    Dst. From zero it is ``dst_torch`` bit for bit (tests/emu/test_card_k_blocking.py)."""
    m, k = x.shape
    n = w.shape[1]
    phase_list = fpu.phases(fidelity)
    xb = card_matmul._srcb_slices(x.to(torch.float32).contiguous(), any(p & 2 for p in phase_list))
    d = torch.zeros((m, n), dtype=torch.float32) if d0 is None else d0.to(torch.float32).clone()
    wa = torch.empty((2, n, 32), dtype=torch.float32)  # SrcA hi / lo slices of one K tile, K-major
    with card_matmul.one_thread():
        for t0 in range(0, k, 32):
            tile = w[t0: t0 + 32].T.contiguous().to(torch.float32)
            torch.bitwise_and(tile.view(torch.int32), card_matmul._HI_MASK["A"], out=wa[0].view(torch.int32))
            torch.sub(tile, wa[0], out=wa[1])
            for p in phase_list:
                for h in (0, 16):
                    d.addmm_(xb[p >> 1][:, t0 + h: t0 + h + 16], wa[p & 1, :, h: h + 16].T)
                    card_matmul.round_into_dst(d, fp32_dest)
    return d


def _dst_reference(x, w, fidelity, fp32_dest, d0=None) -> torch.Tensor:
    dst = None if d0 is None else formats.to_bits(d0)
    words = fpu.matmul_tiles(formats.to_bits(x), formats.to_bits(w), fidelity, "fp32" if fp32_dest else "bf16", dst)
    return formats.from_bits(words)


def _to_partials(d: torch.Tensor, fp32_dest: bool) -> torch.Tensor:
    """Dst values packed into the partials CB (Float32 from an FP32 Dst, bf16 from a BF16 Dst), as words."""
    words = formats.to_bits(d)
    return packer.pack_fp32_to_fp32(words) if fp32_dest else packer.pack_bf16_to_bf16(words)


def _l1_add(partials: torch.Tensor, words: torch.Tensor, fp32_dest: bool, rule: str) -> torch.Tensor:
    if fp32_dest:
        return packer.l1_acc_fp32(partials, words)
    if rule == "l1acc-ties-away":
        total = formats.from_bits(partials) + formats.from_bits(words)
        return packer.pack_fp32_to_bf16(formats.to_bits(total))
    return packer.l1_acc_bf16(partials, words)


def _reload(partials: torch.Tensor, fp32_dest: bool) -> torch.Tensor:
    return formats.from_bits(card_dst.load_fp32(partials) if fp32_dest else card_dst.load_bf16_via_srca(partials))


def blocked(x: torch.Tensor, w: torch.Tensor, fidelity: str, fp32_dest: bool, block_w: int, rule: str,
            reference: bool = False) -> torch.Tensor:
    """bf16 output values (float32) of the K-blocked card matmul (module docstring); ``block_w`` tiles per
    K block, dividing K / 32."""
    kt = x.shape[1] // 32
    if block_w < 1 or kt % block_w:
        raise ValueError(f"in0_block_w {block_w} does not divide K / 32 = {kt}")
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}")
    on_top = _dst_reference if reference else dst_on_top
    n_blocks = kt // block_w
    span = [slice(32 * block_w * b, 32 * block_w * (b + 1)) for b in range(n_blocks)]
    partials = None
    for b, ks in enumerate(span):
        last = b == n_blocks - 1
        reload = partials is not None and (rule == "spill" or last)
        d = on_top(x[:, ks], w[ks], fidelity, fp32_dest, _reload(partials, fp32_dest) if reload else None)
        if last:
            return card_matmul.pack(d, fp32_dest, DataType.BFLOAT16)
        words = _to_partials(d, fp32_dest)
        partials = words if (partials is None or rule == "spill") else _l1_add(partials, words, fp32_dest, rule)
    raise AssertionError("unreachable")


def ulps(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Distance in bf16 ulps between bf16 values held as float32 (ordered sign-magnitude encoding)."""
    def ordered(v):
        bits = v.to(torch.float32).contiguous().view(torch.int32).to(torch.int64) >> 16
        return torch.where(bits < 0, -(bits & 0x7FFF), bits)
    return (ordered(a) - ordered(b)).abs()


def ulp_of(v: torch.Tensor) -> float:
    """The bf16 ulp (spacing) at magnitude ``v``."""
    return 2.0 ** (float(torch.floor(torch.log2(v.abs()))) - 7)


def rel_rms(out: torch.Tensor, exact: torch.Tensor) -> float:
    return float((out.double() - exact).norm() / exact.norm())


def operands(m: int, k: int, cols: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(m, k, generator=gen).to(torch.bfloat16).float()
    w = (torch.randn(k, cols, generator=gen) / k ** 0.5).to(torch.bfloat16).float()
    return x, w


def measure(m, k, cols, picked, label, block_ws, rules, fidelities, dsts, reference, seed) -> list[dict]:
    """Table rows for ``[m, k] @ [k, cols]`` (the shapes ``label`` stands for; 0.81.1 picks ``picked``)."""
    x, w = operands(m, k, cols, seed)
    exact = x.double() @ w.double()
    kt = k // 32
    rows = []
    for fidelity in fidelities:
        for fp32_dest in dsts:
            one = blocked(x, w, fidelity, fp32_dest, kt, "l1acc", reference)
            rms_ulp = ulp_of(one.double().pow(2).mean().sqrt())
            large = one.abs() >= one.double().pow(2).mean().sqrt() / 16
            rows.append(dict(label=label, fidelity=fidelity, dst="fp32" if fp32_dest else "bf16", kt=kt, block_w=kt,
                             rule="one block (today)", differ=0.0, max_ulp=0, rms_ulp=0,
                             rel_rms=rel_rms(one, exact),
                             picked=kt == picked))
            for bw in block_ws:
                bw = kt if bw == "all" else int(bw)
                if bw == kt or kt % bw:
                    continue
                for rule in rules:
                    if rule == "l1acc-ties-away" and fp32_dest:
                        continue  # Float32 partials: the L1 add is the float32 add either way
                    out = blocked(x, w, fidelity, fp32_dest, bw, rule, reference)
                    u = ulps(out, one)
                    rows.append(dict(label=label, fidelity=fidelity, dst="fp32" if fp32_dest else "bf16",
                                     kt=kt, block_w=bw, rule=rule, differ=float((u > 0).double().mean()),
                                     max_ulp=int(u[large].max()), rms_ulp=float((out - one).abs().max() / rms_ulp),
                                     rel_rms=rel_rms(out, exact), picked=bw == picked))
    return rows


def print_table(rows: list[dict]) -> None:
    print("| shape (M x K x N) | fidelity | Dst | in0_block_w (blocks) | rule | outputs differing from one block "
          "| max ulps (outputs >= RMS / 16) | max abs diff / ulp(RMS) | rel RMS vs float64 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        mark = " *" if r["picked"] else ""
        print(f"| {r['label']} | {r['fidelity']} | {r['dst']} | {r['block_w']} ({r['kt'] // r['block_w']}){mark} "
              f"| {r['rule']} | {100 * r['differ']:.2f} % | {r['max_ulp']} | {r['rms_ulp']:g} | {r['rel_rms']:.3e} |")


def check_12453(seeds: list[int], block_ws: list, reference: bool) -> None:
    """#12453's HiFi4-vs-HiFi2 max |difference| of the bf16 outputs (packer_l1_acc; hardware with an FP32 Dst:
    0.0 at 32x512x512, 1.0 at 1024 and 2048, 2.0 at 4096; with a BF16 Dst 1.5 at 1024) per in0_block_w, inputs
    standard normal from numpy ``default_rng(seed)`` (in0 first, then in1, float64 -> float32 -> bf16 RNE), as
    tests/emu/test_card_rules.py composes them."""
    hardware = [(512, True, 0.0), (1024, True, 1.0), (2048, True, 1.0), (4096, True, 2.0), (1024, False, 1.5)]
    print("| K = N | Dst | in0_block_w (blocks) | max abs(HiFi4 - HiFi2) per seed " + str(seeds) + " | hardware |")
    print("|---|---|---|---|---|")
    for size, fp32_dest, hw in hardware:
        kt = size // 32
        if reference and size > 1024:
            continue  # the bit-exact primitives take minutes there
        for bw in block_ws:
            bw = kt if bw == "all" else int(bw)
            if kt % bw:
                continue
            maxes = []
            for seed in seeds:
                rng = np.random.default_rng(seed)
                a = torch.from_numpy(rng.standard_normal((32, size)).astype(np.float32)).to(torch.bfloat16).float()
                b = torch.from_numpy(rng.standard_normal((size, size)).astype(np.float32)).to(torch.bfloat16).float()
                h4 = blocked(a, b, "HiFi4", fp32_dest, bw, "l1acc", reference)
                h2 = blocked(a, b, "HiFi2", fp32_dest, bw, "l1acc", reference)
                maxes.append(float((h4 - h2).abs().max()))
            mark = " *" if bw == choice(32, size, size) else ""
            print(f"| {size} | {'fp32' if fp32_dest else 'bf16'} | {bw} ({kt // bw}){mark} "
                  f"| {', '.join(f'{v:g}' for v in maxes)} | {hw:g} |")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        print(f"error: {message}", file=sys.stderr)
        sys.exit(2)


def _fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def _list(value: str, allowed=None) -> list[str]:
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items or (allowed is not None and any(v not in allowed for v in items)):
        _fail(f"bad list {value!r}" + (f" (choose from {', '.join(allowed)})" if allowed else ""))
    return items


def main() -> None:
    parser = _Parser(description=__doc__.split("\n")[0])
    parser.add_argument("--shape", action="append", metavar="M,K,N", help="a shape (repeatable; default: Llama-3.2-1B)")
    parser.add_argument("--cols", type=int, default=512, help="output columns sampled per shape")
    parser.add_argument("--block-w", default="1,2,4,8,all", help="in0_block_w values (tiles, or all)")
    parser.add_argument("--rules", default=",".join(RULES))
    parser.add_argument("--fidelity", default="HiFi2,LoFi")
    parser.add_argument("--dst", default="bf16,fp32")
    parser.add_argument("--reference", action="store_true", help="bit-exact primitives (slow; use few --cols)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--check-12453", action="store_true", help="instead: #12453's HiFi4-vs-HiFi2 figures")
    parser.add_argument("--seeds", default="0,1,2,3,4,12453", help="numpy seeds for --check-12453")
    args = parser.parse_args()
    block_ws = _list(args.block_w)
    if any(v != "all" and (not v.isdigit() or int(v) < 1) for v in block_ws):
        _fail(f"--block-w takes positive tile counts or 'all', got {args.block_w!r}")
    if args.cols < 1:
        _fail("--cols must be at least 1")
    if args.check_12453:
        seeds = _list(args.seeds)
        if not all(s.isdigit() for s in seeds):
            _fail(f"--seeds takes non-negative integers, got {args.seeds!r}")
        check_12453([int(s) for s in seeds], block_ws, args.reference)
        return
    shapes = SHAPES
    if args.shape:
        try:
            shapes = [tuple(int(v) for v in s.split(",")) for s in args.shape]
        except ValueError:
            _fail(f"--shape takes M,K,N integers, got {args.shape!r}")
        if any(len(s) != 3 or min(s) < 1 or s[1] % 32 for s in shapes):
            _fail("--shape takes three positive integers M,K,N with K a multiple of 32")
    rules = _list(args.rules, RULES)
    fidelities = _list(args.fidelity, ("LoFi", "HiFi2", "HiFi3", "HiFi4"))
    dsts = [d == "fp32" for d in _list(args.dst, ("bf16", "fp32"))]
    t0 = time.perf_counter()
    groups = {}  # the result depends on M (statistics only), K and the blocking, not on N
    for m, k, n in shapes:
        groups.setdefault((m, k, choice(m, k, n)), []).append(n)
    rows = []
    for (m, k, picked), ns in groups.items():
        label = f"{m}x{k}x{'/'.join(str(n) for n in ns)}"
        rows += measure(m, k, min([args.cols] + ns), picked, label, block_ws, rules, fidelities, dsts,
                        args.reference, args.seed)
    print_table(rows)
    print(f"\n{len(shapes)} shapes, up to {args.cols} output columns each, seed {args.seed}, "
          f"{'reference' if args.reference else 'fast'} formulation, {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
