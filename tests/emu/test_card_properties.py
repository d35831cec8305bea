"""Properties the card-numerics README and facts file state, checked on random operands against
references computed from the exact (float64) results, independently of the primitives' code paths:
where the FPU is exact, where its rounding is plain round-half-away-from-zero, and which fidelity
makes which input format exact.  These cover ties far more often than the golden set (whose tie
cases are kept back)."""

from __future__ import annotations

import numpy as np
import torch

from ttbringup.emu.card import formats, fpu, packer, unpacker

RNG_SEED = 11


def _bf16_from_fields(sign, exp, mant7) -> torch.Tensor:
    """bf16 words (upper half) from sign / biased exponent / 7-bit mantissa arrays."""
    return torch.from_numpy(((sign << 31) | (exp << 23) | (mant7 << 16)).astype(np.int64))


def _random_bf16(rng, n, mant_bits=7, exp_range=(118, 136)) -> torch.Tensor:
    """Random normal bf16 words whose mantissa uses only its top ``mant_bits`` bits."""
    sign = rng.integers(0, 2, n)
    exp = rng.integers(exp_range[0], exp_range[1], n)
    mant = rng.integers(0, 1 << mant_bits, n) << (7 - mant_bits)
    return _bf16_from_fields(sign, exp, mant)


def _exact(words: torch.Tensor) -> torch.Tensor:
    return formats.from_bits(words).to(torch.float64)


def _rna_bf16(x: torch.Tensor) -> torch.Tensor:
    """Reference: round float64 values (exact in float32) to bf16, ties away from zero -> words."""
    b = formats.to_bits(x.to(torch.float32))
    assert torch.equal(formats.from_bits(b).double(), x), "reference needs float32-exact values"
    mag = ((b & 0x7FFFFFFF) + 0x8000) & 0x7FFF0000
    return (b & 0x80000000) | mag


def test_elwmul_hifi4_fp32_dst_is_exact():
    """Rule 1: HiFi4 multiplies bf16 x bf16 exactly; an FP32 Dst keeps the <= 16-bit product."""
    rng = np.random.default_rng(RNG_SEED)
    a, b = _random_bf16(rng, 20000), _random_bf16(rng, 20000)
    got = fpu.eltwise_mul(a, b, "HiFi4", "fp32")
    assert torch.equal(_exact(got), _exact(a) * _exact(b))


def test_elwmul_rounds_half_away_when_the_slices_hold_the_operands():
    """When in0 fits SrcA's phase-0 slice (hidden + 4 bits) and in1 SrcB's (hidden + 6), every
    fidelity computes the exact product in phase 0 and a BF16 Dst rounds it once, ties away from
    zero (a product of 5- and 7-bit significands has <= 12 bits, so ties are frequent)."""
    rng = np.random.default_rng(RNG_SEED + 1)
    a, b = _random_bf16(rng, 20000, mant_bits=4), _random_bf16(rng, 20000, mant_bits=6)
    want = _rna_bf16(_exact(a) * _exact(b))
    ties = ((formats.to_bits((_exact(a) * _exact(b)).float()) & 0xFFFF) == 0x8000).sum().item()
    assert ties > 500  # the property is really exercised on ties
    for fid in ("LoFi", "HiFi2", "HiFi3", "HiFi4"):
        assert torch.equal(fpu.eltwise_mul(a, b, fid, "bf16"), want), fid


def test_elwmul_lofi_drops_exactly_the_srca_low_bits():
    """LoFi = phase 0 only: in0 (SrcA) keeps hidden + 4 mantissa bits, in1 (SrcB) hidden + 6; with an
    FP32 Dst the result is the exact product of the truncated operands."""
    rng = np.random.default_rng(RNG_SEED + 2)
    a, b = _random_bf16(rng, 20000), _random_bf16(rng, 20000)
    trunc_a, trunc_b = a & 0xFFF80000, b & 0xFFFE0000
    got = fpu.eltwise_mul(a, b, "LoFi", "fp32")
    assert torch.equal(_exact(got), _exact(trunc_a) * _exact(trunc_b))


def test_elwadd_exact_within_three_binades():
    """Rule 5: bf16 + bf16 on the FPU is exact when the exponents differ by at most 3 (FP32 Dst),
    and then a BF16 Dst rounds the exact sum once, ties away from zero."""
    rng = np.random.default_rng(RNG_SEED + 3)
    n = 20000
    a = _random_bf16(rng, n, exp_range=(124, 130))
    ea = formats.exponent(a).numpy()
    eb = ea - rng.integers(-3, 4, n)
    b = _bf16_from_fields(rng.integers(0, 2, n), eb, rng.integers(0, 128, n))
    exact = _exact(a) + _exact(b)
    got32 = fpu.eltwise_add(a, b, "fp32")
    nonzero = exact != 0
    assert torch.equal(_exact(got32)[nonzero], exact[nonzero])
    assert (formats.to_bits(formats.from_bits(got32)[~nonzero]) == 0).all()  # cancellation -> +0
    got16 = fpu.eltwise_add(a, b, "bf16")
    assert torch.equal(got16[nonzero], _rna_bf16(exact)[nonzero])
    # subtraction is the same with in1's sign flipped
    assert torch.equal(fpu.eltwise_add(a, b, "fp32", subtract=True), fpu.eltwise_add(a, b ^ 0x80000000, "fp32"))


def test_elwadd_far_operand_is_rounded_in_an_11_bit_window():
    """Rule 5: 12 or more binades apart, the smaller operand vanishes even into an FP32 Dst."""
    rng = np.random.default_rng(RNG_SEED + 4)
    n = 5000
    a = _random_bf16(rng, n, exp_range=(130, 140))
    b = _bf16_from_fields(rng.integers(0, 2, n), formats.exponent(a).numpy() - rng.integers(12, 40, n), rng.integers(0, 128, n))
    assert torch.equal(fpu.eltwise_add(a, b, "fp32"), a)


def test_matmul_fidelity_exactness_by_input_format():
    """Facts 2.2: bfp8_b inputs (<= 6 fraction bits) multiply exactly at HiFi2 but not at LoFi;
    bfp4_b inputs (<= 2 fraction bits) are exact at LoFi; bf16 needs HiFi4.  One non-zero product per
    output (K = 32, a diagonal in0), so no sum rounding interferes; FP32 Dst."""
    rng = np.random.default_rng(RNG_SEED + 5)
    eye = torch.eye(32)
    for mant_bits, exact_from in ((6, "HiFi2"), (2, "LoFi"), (7, "HiFi4")):
        diag = formats.from_bits(_random_bf16(rng, 32, mant_bits=mant_bits)).reshape(32)
        in0 = unpacker.unpack_bf16(formats.to_bits(eye * diag[:, None]))  # row i: diag[i] at k = i
        in1 = _random_bf16(rng, 32 * 64, mant_bits=mant_bits).reshape(32, 64)
        exact = diag[:, None].double() * _exact(in1)
        order = ["LoFi", "HiFi2", "HiFi3", "HiFi4"]
        for fid in order:
            got = _exact(fpu.matmul_tiles(in0, in1, fid, "fp32"))
            if order.index(fid) >= order.index(exact_from):
                assert torch.equal(got, exact), (mant_bits, fid)
            else:
                assert not torch.equal(got, exact), (mant_bits, fid)


def test_packer_bf16_is_round_half_away():
    """Rule 7 on random normal fp32 words (a quarter of them exact ties): RNA to bf16."""
    rng = np.random.default_rng(RNG_SEED + 6)
    n = 20000
    words = torch.from_numpy((rng.integers(0, 2, n) << 31) | (rng.integers(1, 254, n) << 23) | rng.integers(0, 1 << 23, n))
    words[::4] = (words[::4] & 0xFFFF0000) | 0x8000
    want = _rna_bf16(formats.from_bits(words).double())
    finite = formats.exponent(want) < 255
    assert torch.equal(packer.pack_fp32_to_bf16(words)[finite], want[finite])


def test_bfp8_pack_of_one_exponent_block_is_exact_for_e8m6_values():
    """Rule 8: a block whose elements all share the maximum exponent and already have <= 6
    mantissa bits is packed losslessly, and unpacking gives the same bf16 words back."""
    rng = np.random.default_rng(RNG_SEED + 7)
    rows = 64
    exp = np.repeat(rng.integers(100, 150, rows), 32).reshape(rows, 32)
    words = _bf16_from_fields(rng.integers(0, 2, (rows, 32)), exp, rng.integers(0, 64, (rows, 32)) << 1)
    codes, shared = packer.pack_bfp(words, "bf16", "bfp8_b")
    assert torch.equal(shared, torch.from_numpy(exp[:, ::16]))
    back = unpacker.bfp_to_bf16(codes, shared.repeat_interleave(16, dim=1), "bfp8_b")
    assert torch.equal(back, words)
