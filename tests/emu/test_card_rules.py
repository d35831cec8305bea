"""ttbringup.emu.card against hardware-measured values (tests/data/card_golden/README.md "Sanity
checks", docs: tt-metal #12923, #16448, #17018, #12453) and against the tie-rounding rules of that
README on hand-built operands whose exact results are worked out in the comments (the golden set
keeps its tie cases back, so these are the tie checks)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ttbringup.emu.card import formats, fpu, packer, sfpu, unpacker


def _bf16_words(values) -> torch.Tensor:
    t = torch.tensor(values, dtype=torch.float32)
    assert torch.equal(t.to(torch.bfloat16).to(torch.float32), t), "operands must be exact bf16 values"
    return unpacker.unpack_bf16(formats.to_bits(t))


def _values(words: torch.Tensor) -> list[float]:
    return formats.from_bits(words).tolist()


def _elwmul_bf16(a: float, b: float, fidelity: str) -> float:
    """ELWMUL a (in0 -> SrcA) x b (in1 -> SrcB) into a BF16 Dst, packed to bf16."""
    d = fpu.eltwise_mul(_bf16_words([a]), _bf16_words([b]), fidelity, "bf16")
    return _values(packer.pack_bf16_to_bf16(d))[0]


# README sanity table: hardware values (#12923, #16448) and ttsim's per-fidelity values ("info")
ELWMUL_TABLE = {
    (1.3125, 7.96875): {"LoFi": 10.4375, "HiFi2": 10.4375, "HiFi3": 10.5, "HiFi4": 10.5},
    (-3.640625, 0.298828125): {"LoFi": -1.078125, "HiFi2": -1.0859375, "HiFi3": -1.09375, "HiFi4": -1.09375},
    (-3.640625, 0.30078125): {"LoFi": -1.09375, "HiFi2": -1.1015625, "HiFi3": -1.1015625, "HiFi4": -1.1015625},
}


@pytest.mark.parametrize("pair", list(ELWMUL_TABLE), ids=lambda p: f"{p[0]}x{p[1]}")
@pytest.mark.parametrize("fidelity", ["LoFi", "HiFi2", "HiFi3", "HiFi4"])
def test_elwmul_measured_values(pair, fidelity):
    assert _elwmul_bf16(*pair, fidelity) == ELWMUL_TABLE[pair][fidelity]


def test_elwmul_hardware_points():
    """The four measured points named in the README: #12923 HiFi2 10.4375 / HiFi4 10.5, #16448."""
    assert _elwmul_bf16(1.3125, 7.96875, "HiFi2") == 10.4375
    assert _elwmul_bf16(1.3125, 7.96875, "HiFi4") == 10.5
    assert _elwmul_bf16(-3.640625, 0.298828125, "HiFi4") == -1.09375
    assert _elwmul_bf16(-3.640625, 0.30078125, "HiFi4") == -1.1015625
    # operand roles matter: with in0/in1 swapped HiFi2 would already give 10.5 (facts file 2.5)
    assert _elwmul_bf16(7.96875, 1.3125, "HiFi2") == 10.5


def test_packer_tie_measured():
    """#17018: FP32 Dst 1.0039063 (0x3F808000) packs to bf16 1.0078125: ties away from zero."""
    words = torch.tensor([0x3F808000, 0xBF808000, 0x3F807FFF, 0x3F818000, 0x7F7FFFFF, 0x00400000, 0x80000000])
    got = (packer.pack_fp32_to_bf16(words) >> 16).tolist()
    assert got == [0x3F81, 0xBF81, 0x3F80, 0x3F82, 0x7F80, 0x0000, 0x0000]
    assert _values(packer.pack_fp32_to_bf16(torch.tensor([0x3F808000])))[0] == 1.0078125


def test_elwmul_ties_away_from_zero_in_bf16_dst():
    """3 x 87 = 261 = 0b100000101: 9 significant bits, exactly half a bf16 ulp (2) above 260.  Both
    operands fit the phase-0 slices (3 in SrcA's 5 bits, 87 in SrcB's 7), so LoFi computes the exact
    product; the BF16 Dst rounds the tie away from zero to 262 (RNE would give 260), -261 to -262;
    the later HiFi phases add zero slices and change nothing; an FP32 Dst holds 261."""
    for fid in ("LoFi", "HiFi2", "HiFi4"):
        assert _elwmul_bf16(3.0, 87.0, fid) == 262.0
        assert _elwmul_bf16(-3.0, 87.0, fid) == -262.0
        d = fpu.eltwise_mul(_bf16_words([3.0, -3.0]), _bf16_words([87.0, 87.0]), fid, "fp32")
        assert _values(d) == [261.0, -261.0]
    # with the roles swapped, 87 = 0b1010111 sits in SrcA, whose LoFi slice keeps hidden bit + 4:
    # 0b1010100 = 84, and 84 x 3 = 252
    assert _elwmul_bf16(87.0, 3.0, "LoFi") == 252.0


def test_elwadd_rules():
    """ELWADD: 1 + 2^-8 is a bf16 tie -> 1.0078125 in a BF16 Dst (away from zero), exact in FP32;
    the smaller operand is aligned in an 11-bit window: 1 + 2^-12 loses it even in an FP32 Dst
    (exponents 12 apart), 1 + 2^-11 rounds the lone bit up to 2^-10 (round half up), and
    1 + 2^-3 + 2^-10 (exponents 3 apart) is exact."""
    def add(a, b, dest, sub=False):
        return _values(fpu.eltwise_add(_bf16_words([a]), _bf16_words([b]), dest, subtract=sub))[0]

    assert add(1.0, 2.0**-8, "bf16") == 1.0078125
    assert add(-1.0, -(2.0**-8), "bf16") == -1.0078125
    assert add(1.0, 2.0**-8, "fp32") == 1.0 + 2.0**-8
    assert add(1.0, 2.0**-12, "fp32") == 1.0
    assert add(1.0, 2.0**-11, "fp32") == 1.0 + 2.0**-10
    assert add(1.0, 0.125 + 2.0**-10, "fp32") == 1.125 + 2.0**-10
    assert add(1.5, 1.5, "bf16", sub=True) == 0.0
    assert formats.to_bits(torch.tensor(add(1.5, 1.5, "bf16", sub=True))).item() == 0  # +0


def test_matmul_integer_tie_rounds_away_in_bf16_dst():
    """A K=32 dot product 256*1 + 1*1 = 257 (exact products, LoFi slices suffice): a BF16 Dst holds
    8 significant bits, so 257 is a tie between 256 and 258 and goes away from zero to 258 (and
    -257 to -258); an FP32 Dst holds 257 exactly."""
    in0 = torch.zeros(32, 32)
    in0[0, 0], in0[0, 1] = 1.0, 1.0
    in1 = torch.zeros(32, 32)
    in1[0, 0], in1[1, 0] = 256.0, 1.0
    in1[0, 1], in1[1, 1] = -256.0, -1.0
    a = unpacker.unpack_bf16(formats.to_bits(in0))
    b = unpacker.unpack_bf16(formats.to_bits(in1))
    for fid in ("LoFi", "HiFi2", "HiFi4"):
        bf = formats.from_bits(fpu.matmul_tiles(a, b, fid, "bf16"))
        fp = formats.from_bits(fpu.matmul_tiles(a, b, fid, "fp32"))
        assert bf[0, :2].tolist() == [258.0, -258.0]
        assert fp[0, :2].tolist() == [257.0, -257.0]


def test_matmul_order_rounds_every_instruction():
    """Each MVMUL (a 16-wide K chunk) rounds into Dst.  Column 0: 256 in K 0-15 plus eight 0.5 in
    K 16-31 is 260 exactly (no rounding).  Column 1: 256 + 1 in K 0-15 is the 257 tie -> 258, then
    + 1 from K 16 is 259, again a tie -> 260; the exact sum 258 is what an FP32 Dst gives."""
    in0 = torch.zeros(32, 32)
    in0[0, :] = 1.0
    in1 = torch.zeros(32, 32)
    in1[0, 0] = 256.0
    in1[16:24, 0] = 0.5
    in1[0, 1], in1[1, 1], in1[16, 1] = 256.0, 1.0, 1.0
    a = unpacker.unpack_bf16(formats.to_bits(in0))
    b = unpacker.unpack_bf16(formats.to_bits(in1))
    assert formats.from_bits(fpu.matmul_tiles(a, b, "LoFi", "bf16"))[0, :2].tolist() == [260.0, 260.0]
    assert formats.from_bits(fpu.matmul_tiles(a, b, "LoFi", "fp32"))[0, :2].tolist() == [260.0, 258.0]


def test_bfp8_double_rounding_and_shared_exponent():
    """pack_bfp, BF16 Dst -> bfp8_b (default path): a block of 1.0 and 0.75 + 2^-7 + 2^-8...
    Worked values: 1.0 -> code 64 (shared exponent 127); 0.5 + 2^-7 (bf16 0x3F02, exponent 126,
    significand 0b10000010) is first rounded to E8M6 ((x + 1) & ~1: unchanged, LSB already 0), then
    shifted right by 1 with round half up: (130 + 2) >> 2 = 33, i.e. 33 * 2^-6 = 0.515625 (the exact
    value 0.5078125 = 32.5 units: a tie, rounded up); 1.0 + 2^-7 (0x3F81, odd LSB) is rounded up
    to E8M6 first (0x3F82 = 1.015625) and then encodes 65; the sign is dropped on a zero
    magnitude (2^-10 shifts out completely)."""
    vals = [1.0, 0.5 + 2.0**-7, 1.0 + 2.0**-7, -(2.0**-10)] + [0.0] * 12
    bits = formats.to_bits(torch.tensor(vals).reshape(1, 16))
    codes, shared = packer.pack_bfp(bits, "bf16", "bfp8_b")
    assert shared.tolist() == [[127]]
    assert codes[0, :4].tolist() == [64, 33, 65, 0]
    value = packer.bfp_value(codes, shared, "bfp8_b")
    assert value[0, :4].tolist() == [1.0, 0.515625, 1.015625, 0.0]
    # bfp4_b keeps the top 3 bits of the bfp8_b magnitude: 64 -> 4, 33 -> 2, 65 -> 4
    codes4, _ = packer.pack_bfp(bits, "bf16", "bfp4_b")
    assert codes4[0, :4].tolist() == [4, 2, 4, 0]


def test_sfpu_rounding_rules():
    """STOCH_RND ties away from zero; SFPSTORE truncates; FMA rounds once to nearest even."""
    words = torch.tensor([0x3F808000, 0xBF808000, 0x3F807FFF, 0x3F80FFFF, 0x00400000])
    assert (sfpu.stoch_rnd_bf16(words) >> 16).tolist() == [0x3F81, 0xBF81, 0x3F80, 0x3F81, 0]
    assert (sfpu.store_bf16(words) >> 16).tolist() == [0x3F80, 0xBF80, 0x3F80, 0x3F80, 0]
    one = formats.to_bits(torch.tensor([1.0]))
    eps = formats.to_bits(torch.tensor([2.0**-24]))  # half an ulp of 1.0
    three_q = formats.to_bits(torch.tensor([1.5 * 2.0**-23]))  # 1.5 ulp of 1.0
    assert formats.from_bits(sfpu.fma(one, one, eps)).item() == 1.0  # tie to even
    assert formats.from_bits(sfpu.fma(one, one, three_q)).item() == 1.0 + 2.0**-22  # tie to even (up)


def test_accumulate_wormhole_minus_one_quirk():
    """ttsim's Wormhole renormalisation bug (README rule 4): a sum of exactly -1 unit is renormalised
    by the wrong shift.  Dst = 1.0 (FP32) plus a term of -(1 + 2^-23) at the same exponent leaves -1
    unit (-2^-23); the modelled hardware gives -2^4 = -16.0 instead."""
    dst = formats.to_bits(torch.tensor([1.0]))
    s0, e0, m0 = torch.tensor([1]), torch.tensor([127]), torch.tensor([0x800001])
    z = torch.tensor([0])
    out = fpu.accumulate(s0, e0, m0, z, z, z, dst, "fp32")
    assert formats.from_bits(out).item() == -16.0
    # the same with +1 unit left over is normal: 2^-23
    out = fpu.accumulate(torch.tensor([1]), e0, torch.tensor([0x7FFFFF]), z, z, z, dst, "fp32")
    assert formats.from_bits(out).item() == 2.0**-23


def _bf16_normal(rng_vals: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(rng_vals.astype(np.float32)).to(torch.bfloat16).to(torch.float32)


def test_matmul_hifi4_vs_hifi2_32x1024x1024():
    """#12453 (Wormhole, bf16 32x1024 @ 1024x1024): max |HiFi4 - HiFi2| of the bf16 outputs is 1.0
    with fp32_dest_acc_en=True and 1.5 with a BF16 Dst.  Composition as in the golden README's
    sanity table: inputs standard normal from numpy ``default_rng(12453)`` (in0 first, then in1,
    float64 -> float32 -> bf16 RNE), the 32 K tiles accumulated in order in one Dst (no K blocking),
    packed to bf16.  The README's counts for this composition (21848 / 17091 differing outputs, max
    |output| 142.0) pin the inputs down as well."""
    rng = np.random.default_rng(12453)
    a = _bf16_normal(rng.standard_normal((32, 1024)))
    b = _bf16_normal(rng.standard_normal((1024, 1024)))
    in0 = unpacker.unpack_bf16(formats.to_bits(a))
    in1 = unpacker.unpack_bf16(formats.to_bits(b))
    configs = [("HiFi4", "fp32"), ("HiFi2", "fp32"), ("HiFi4", "bf16"), ("HiFi2", "bf16")]
    h4f, h2f, h4b, h2b = fpu.matmul_tiles_configs(in0, in1, configs)
    out = {
        "fp32": (formats.from_bits(packer.pack_fp32_to_bf16(h4f)), formats.from_bits(packer.pack_fp32_to_bf16(h2f))),
        "bf16": (formats.from_bits(packer.pack_bf16_to_bf16(h4b)), formats.from_bits(packer.pack_bf16_to_bf16(h2b))),
    }
    diff_f = (out["fp32"][0] - out["fp32"][1]).abs()
    diff_b = (out["bf16"][0] - out["bf16"][1]).abs()
    assert diff_f.max().item() == 1.0  # hardware: 1.0
    assert diff_b.max().item() == 1.5  # hardware: 1.5
    assert int((diff_f > 0).sum()) == 21848
    assert int((diff_b > 0).sum()) == 17091
    assert out["fp32"][0].abs().max().item() == 142.0
    # and the card is not float32: HiFi4 with an FP32 Dst still differs from the exact product
    exact = (a.double() @ b.double()).to(torch.float32).to(torch.bfloat16).float()
    assert not torch.equal(out["fp32"][0], exact)
