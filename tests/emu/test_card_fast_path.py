"""The card-mode matmul fast path (``card_matmul.dst_fast``) against the bit-exact reference path (``card`` primitives,
ttsim's arithmetic) for every input dtype pair, fidelity and Dst format, and against a plain float64 statement of the
fast formulation it claims to compute."""

import importlib
import itertools

import pytest
import torch

import ttbringup.emu as ttnn
from ttbringup.emu.card import formats, fpu

numerics_mode = importlib.import_module("ttbringup.emu.numerics_mode")
card_matmul = importlib.import_module("ttbringup.emu.card_matmul")

DTYPES = {"bf16": ttnn.bfloat16, "bfp8": ttnn.bfloat8_b, "bfp4": ttnn.bfloat4_b, "fp32": ttnn.float32}
FIDELITIES = ("LoFi", "HiFi2", "HiFi3", "HiFi4")
# K = 200 and 80 are not multiples of the 32-wide K tile (zero padded); M = 1 and M > 1 take different branches
SHAPES = ((1, 200, 70), (37, 80, 48))


def _config(fidelity, fp32):
    return ttnn.WormholeComputeKernelConfig(math_fidelity=getattr(ttnn.MathFidelity, fidelity),
                                            fp32_dest_acc_en=fp32, packer_l1_acc=False, math_approx_mode=False)


def _src(t):
    """The values the unpacker puts into Src: float32 inputs truncated to TF32, the others as stored."""
    v = ttnn.to_torch(t).float()
    return card_matmul.src_values(v, t.dtype)


def _rel_rms(v, ref):
    return float((v.double() - ref).pow(2).mean().sqrt() / ref.pow(2).mean().sqrt())


@pytest.mark.parametrize("a_name, b_name", list(itertools.product(DTYPES, DTYPES)))
@pytest.mark.parametrize("fidelity", FIDELITIES)
@pytest.mark.parametrize("fp32_dest", (False, True), ids=("bf16_dst", "fp32_dst"))
def test_fast_path_against_the_reference(device, a_name, b_name, fidelity, fp32_dest):
    """Float32 output, so the outputs are the Dst values themselves; ``magnitude`` is sum|x w| per output (the
    float64 product of the absolute Src values). Measured over these 128 cases (seed 20):

    * BF16 Dst: |fast - reference| <= 2^-6.6 x magnitude (1-2 bf16 ulps of the output where they differ; 30-100 %
      of outputs agree bit for bit); the fast path's relative RMS error against the float64 product of the Src
      values is 0.68-1.22x the reference's (the Dst rounding dominates both).
    * FP32 Dst: |fast - reference| <= 2^-11.6 x magnitude: the reference aligns each MVMUL's products in its
      rounded group-of-8 window, the fast path sums them exactly, so its error is at most the reference's
      (ratio <= 1.007; near 0 at HiFi3 / HiFi4, where only that window separates the card from the exact sum).

    Asserted with about 1.5x room; where the reference is exact (e.g. bfp4 x bfp4 at LoFi) the fast path must be."""
    m, k, n = SHAPES[(list(DTYPES).index(a_name) + list(DTYPES).index(b_name)) % 2]
    torch.manual_seed(20)
    a = ttnn.from_torch(torch.randn(m, k), dtype=DTYPES[a_name], layout=ttnn.TILE_LAYOUT, device=device)
    b = ttnn.from_torch(torch.randn(k, n), dtype=DTYPES[b_name], layout=ttnn.TILE_LAYOUT, device=device)
    cfg = _config(fidelity, fp32_dest)
    with numerics_mode.use("card"):
        fast = ttnn.to_torch(ttnn.matmul(a, b, dtype=ttnn.float32, compute_kernel_config=cfg)).float()
    with numerics_mode.use("card", reference=True):
        ref = ttnn.to_torch(ttnn.matmul(a, b, dtype=ttnn.float32, compute_kernel_config=cfg)).float()
    xs, ws = _src(a).double(), _src(b).double()
    exact, magnitude = xs @ ws, xs.abs() @ ws.abs()
    bound = 2.0 ** (-11 if fp32_dest else -6)
    assert bool(((fast.double() - ref.double()).abs() <= bound * magnitude).all())
    ref_err, fast_err = _rel_rms(ref, exact), _rel_rms(fast, exact)
    if ref_err == 0:
        assert torch.equal(fast, ref)
    elif fp32_dest:
        assert fast_err <= 1.05 * ref_err
    else:
        assert 0.5 <= fast_err / ref_err <= 1.5


# ----------------------------------------------------------------------------- the formulation itself


def _formulation(x: torch.Tensor, w: torch.Tensor, fidelity: str, fp32_dest: bool) -> torch.Tensor:
    """The fast path's contract written out plainly: per 32-wide K tile, per phase, per 16-wide half, the exact
    products of the fidelity slices (``card.fpu.fidelity_slice``, the golden-tested slicing) summed in float64,
    rounded once to float32, added to Dst in float32 and rounded into Dst."""
    pad = -x.shape[1] % 32
    x = torch.nn.functional.pad(x, (0, pad))
    w = torch.nn.functional.pad(w, (0, 0, 0, pad))
    d = torch.zeros(x.shape[0], w.shape[1], dtype=torch.float32)
    terms = {}
    for p in fpu.phases(fidelity):
        sa, ea, ma, za = fpu.fidelity_slice(formats.to_bits(w), "A", p)
        sb, eb, mb, zb = fpu.fidelity_slice(formats.to_bits(x), "B", p)
        a_exp = (ea + fpu.product_exponent_adjust(p)).double()
        a = torch.where(za, 0, torch.where(sa == 1, -ma, ma)).double() * torch.exp2(a_exp)
        b = torch.where(zb, 0, torch.where(sb == 1, -mb, mb)).double() * torch.exp2(eb.double() - 137)
        terms[p] = (b, a)  # x-side and w-side factors: a product is b[m, k] * a[k, n]
    for t in range(0, x.shape[1], 32):
        for p in fpu.phases(fidelity):
            b, a = terms[p]
            for h in (t, t + 16):
                s = (b[:, h:h + 16] @ a[h:h + 16]).float()  # 16 products: exact in float64 here
                d = d + s
                if not fp32_dest:
                    d = card_matmul.round_into_dst(d.contiguous(), False)
    return d


@pytest.mark.parametrize("fidelity", FIDELITIES)
@pytest.mark.parametrize("fp32_dest", (False, True), ids=("bf16_dst", "fp32_dst"))
@pytest.mark.parametrize("m, k_major, few_rows", [(1, True, 1), (3, False, 1), (9, True, 1), (5, True, 5)],
                         ids=("one_row", "few_rows", "many_rows", "chunk_sums_5_rows"))
@pytest.mark.parametrize("path", ("dst_fast", "dst_torch"))
def test_fast_path_is_its_formulation(fidelity, fp32_dest, m, k_major, few_rows, path, monkeypatch):
    """Bit for bit, except where the float32 sums of a chunk are not its correctly rounded value (the order is
    torch's, and a SrcA-lo phase's sum is formed as the whole significand's minus the hi slice's): measured 0
    differing outputs with a BF16 Dst (allowed: 1 %); with an FP32 Dst up to 16 % of outputs differ in their last
    bits (every one within 2^-20 x sum|x w|, asserted). Both formulations are checked (the
    chunk sums, which ``_FEW_ROWS`` gives one row by default, and the per-K-tile loops for a few and for many rows);
    small blocks force several weight sub-blocks and column blocks, so the block seams are exercised too; large
    weights are stored K-major (as ``from_torch`` stores them), small ones N-major. ``dst_fast`` is the compiled
    kernel where it is built (sums in K order; the block sizes below are the torch formulation's)."""
    monkeypatch.setattr(card_matmul, "_FEW_ROWS", few_rows)
    monkeypatch.setattr(card_matmul, "_SUB_BLOCK_ELEMENTS", 7 * 96)
    monkeypatch.setattr(card_matmul, "_SUMS_BYTES", 4 * 4 * 6 * m * 40)
    monkeypatch.setattr(card_matmul, "_DST_ELEMENTS", 5 * 64)
    torch.manual_seed(21)
    x = torch.randn(m, 96).bfloat16().float()
    w = torch.randn(100, 96).bfloat16().float().T if k_major else torch.randn(96, 100).bfloat16().float()
    fast = getattr(card_matmul, path)(x, w, fidelity, fp32_dest)
    want = _formulation(x, w, fidelity, fp32_dest)
    magnitude = x.double().abs() @ w.double().abs()
    assert bool(((fast.double() - want.double()).abs() <= 2.0 ** -20 * magnitude).all())
    if not fp32_dest:
        assert float((fast != want).double().mean()) <= 0.01
