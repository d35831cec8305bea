"""Card-mode ``add`` / ``subtract`` / ``multiply`` (ttbringup/emu/card_binary.py).

References: the hardware values of the facts file (§2.5 ELWMUL #12923 / #16448 at HiFi2 / HiFi4, §3.2 the #17018
packer tie), the card's measured bf16 statistics (§7.3: add max 1 ULP, multiply 0), float64 math, and the
``card.fpu`` primitives (bit-exact to the golden set)."""

import importlib

import pytest
import torch

import ttbringup.emu as ttnn
from ttbringup.emu.card import formats, fpu, packer

card_binary = importlib.import_module("ttbringup.emu.card_binary")
numerics_mode = importlib.import_module("ttbringup.emu.numerics_mode")


@pytest.fixture
def device():
    dev = ttnn.open_device(device_id=0)
    yield dev
    ttnn.close_device(dev)


def dev_tensor(x, device, dtype=ttnn.bfloat16):
    return ttnn.from_torch(torch.as_tensor(x, dtype=torch.float32), dtype=dtype, layout=ttnn.TILE_LAYOUT,
                           device=device)


def host(t):
    return ttnn.to_torch(t).float()


def bf16(values):
    return torch.tensor(values, dtype=torch.float32).to(torch.bfloat16).float()


# ------------------------------------------------------------------ hardware values (facts §2.5, §3.2)


@pytest.mark.parametrize("a, b, fidelity, want", [
    (1.3125, 7.96875, "HiFi2", 10.4375),  # #12923
    (1.3125, 7.96875, "HiFi4", 10.5),
    (-3.640625, 0.298828125, "HiFi4", -1.09375),  # #16448
    (-3.640625, 0.30078125, "HiFi4", -1.1015625),
])
def test_elwmul_hardware_values(a, b, fidelity, want):
    dst = card_binary.fpu("mul", bf16([a]), bf16([b]), fp32_dest=False, fidelity=fidelity)
    assert card_binary.pack(dst, False, ttnn.bfloat16).item() == want


def test_multiply_on_the_fpu_gives_the_cards_hifi4_value(device):
    """ttnn.multiply(fast_and_approximate_mode=True) runs ELWMUL at binary_ng's HiFi4: #12923's 10.5; the
    default (SFPU, RNE) gives the correctly rounded 10.4375, like exact mode."""
    a, b = dev_tensor([[1.3125] * 32] * 32, device), dev_tensor([[7.96875] * 32] * 32, device)
    with numerics_mode.use("card"):
        fpu = host(ttnn.multiply(a, b, fast_and_approximate_mode=True))
        sfpu = host(ttnn.multiply(a, b))
    assert torch.all(fpu == 10.5) and torch.all(sfpu == 10.4375)
    assert torch.equal(sfpu, host(ttnn.multiply(a, b)))


def test_packer_tie_from_an_fp32_dst(device):
    """#17018: 1.0039063 in an FP32 Dst packs to bf16 1.0078125 (ties away); exact mode rounds to even (1.0)."""
    a = dev_tensor([[1.0] * 32] * 32, device, ttnn.float32)
    b = dev_tensor([[2.0**-8] * 32] * 32, device, ttnn.float32)
    with numerics_mode.use("card"):
        card = host(ttnn.add(a, b, dtype=ttnn.bfloat16))
    assert torch.all(card == 1.0078125)
    assert torch.all(host(ttnn.add(a, b, dtype=ttnn.bfloat16)) == 1.0)


# ------------------------------------------------------------------ fast path = the primitives


def _wide_operands(n, seed, tf32):
    """Random values over a wide exponent spread (exponent gaps 0..20 between operands), bf16 or TF32."""
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(n, generator=g) * torch.exp2(torch.randint(-10, 11, (n,), generator=g).float())
    b = torch.randn(n, generator=g) * torch.exp2(torch.randint(-10, 11, (n,), generator=g).float())
    if tf32:
        return [(v.view(torch.int32) & ~0x1FFF).view(torch.float32) for v in (a, b)]
    return [v.to(torch.bfloat16).float() for v in (a, b)]


@pytest.mark.parametrize("tf32", [False, True], ids=["bf16", "tf32"])
@pytest.mark.parametrize("fp32_dest", [False, True], ids=["bf16_dst", "fp32_dst"])
@pytest.mark.parametrize("op, fidelity", [("add", "HiFi4"), ("sub", "HiFi4"), ("mul", "LoFi"), ("mul", "HiFi2"),
                                          ("mul", "HiFi3"), ("mul", "HiFi4")])
def test_fast_fpu_is_bit_exact_to_the_primitives(op, fidelity, fp32_dest, tf32):
    a, b = _wide_operands(1 << 15, seed=11, tf32=tf32)
    fast = card_binary.fpu(op, a, b, fp32_dest, fidelity)
    ref = card_binary.fpu(op, a, b, fp32_dest, fidelity, reference=True)
    assert torch.equal(fast.view(torch.int32), ref.view(torch.int32))


# ------------------------------------------------------------------ statistics (facts §7.3)


def _ordered(v):
    b = v.to(torch.bfloat16).view(torch.int16).to(torch.int32)
    return torch.where(b < 0, -(b & 0x7FFF), b)


def _random_bf16_pairs(n=1 << 16, seed=3):
    g = torch.Generator().manual_seed(seed)
    a = (torch.randn(n, generator=g) * torch.exp2(torch.randint(-6, 7, (n,), generator=g).float()))
    b = (torch.randn(n, generator=g) * torch.exp2(torch.randint(-6, 7, (n,), generator=g).float()))
    return a.to(torch.bfloat16).float(), b.to(torch.bfloat16).float()


def test_fpu_add_is_within_one_ulp_and_not_always_rounded(device):
    """The card's add: max 1 ULP (the report); it differs from the correctly rounded sum on some inputs."""
    a, b = _random_bf16_pairs()
    got = card_binary.pack(card_binary.fpu("add", a, b, False), False, ttnn.bfloat16)
    want = (a.double() + b.double()).float().to(torch.bfloat16).float()
    ulps = (_ordered(got) - _ordered(want)).abs()
    assert int(ulps.max()) == 1 and int((ulps > 0).sum()) > 100


def test_sfpu_multiply_is_correctly_rounded():
    """The card's multiply (SFPU, RNE): 0 ULP (the report)."""
    a, b = _random_bf16_pairs(seed=4)
    got = card_binary.sfpu("mul", a, b, False)
    want = (a.double() * b.double()).float().to(torch.bfloat16).float()
    assert torch.equal(_ordered(got), _ordered(want))


def test_fpu_sum_is_the_primitive(device):
    a, b = _random_bf16_pairs(n=32 * 64, seed=5)
    a, b = a.reshape(32, 64), b.reshape(32, 64)
    with numerics_mode.use("card"):
        add = host(ttnn.add(dev_tensor(a, device), dev_tensor(b, device)))
        sub = host(ttnn.subtract(dev_tensor(a, device), dev_tensor(b, device), fast_and_approximate_mode=True))
    wa, wb = formats.to_bits(a), formats.to_bits(b)
    assert torch.equal(add, formats.from_bits(packer.pack_bf16_to_bf16(fpu.eltwise_add(wa, wb, "bf16"))))
    assert torch.equal(sub, formats.from_bits(packer.pack_bf16_to_bf16(fpu.eltwise_add(wa, wb, "bf16", True))))


def test_card_add_less_accurate_than_exact(device):
    a, b = _random_bf16_pairs(n=32 * 256, seed=6)
    a, b = a.reshape(32, 256), b.reshape(32, 256)
    want = a.double() + b.double()
    exact = host(ttnn.add(dev_tensor(a, device), dev_tensor(b, device)))
    with numerics_mode.use("card"):
        card = host(ttnn.add(dev_tensor(a, device), dev_tensor(b, device)))
    assert (card.double() - want).abs().sum() > (exact.double() - want).abs().sum()


def test_scalar_operand_is_truncated_to_bf16(device):
    """PR #27171: a scalar operand reaches the kernel truncated to bf16 (1.0078 -> 1.0, RNE would give 1.0078125)."""
    x = dev_tensor([[1.0] * 32] * 32, device)
    s = 1.0 + 2.0**-7 - 2.0**-12
    with numerics_mode.use("card"):
        card = host(ttnn.multiply(x, s))
    assert torch.all(card == 1.0)
    assert torch.all(host(ttnn.multiply(x, s)) == 1.0078125)


def test_block_float_output_is_the_devices_double_rounding(device):
    a, b = _random_bf16_pairs(n=32 * 64, seed=8)
    a, b = a.reshape(32, 64), b.reshape(32, 64)
    with numerics_mode.use("card"):
        card = host(ttnn.add(dev_tensor(a, device), dev_tensor(b, device), dtype=ttnn.bfloat8_b))
    dst = card_binary.fpu("add", a, b, False)
    assert torch.equal(card, card_binary.pack(dst, False, ttnn.bfloat8_b))
