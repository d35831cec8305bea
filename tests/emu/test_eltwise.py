"""Elementwise ops of the emulator: add/subtract/multiply and silu/relu/gelu against torch."""

import inspect

import pytest
import torch
import torch.nn.functional as F

import ttbringup.emu as ttnn
from ttbringup.emu.errors import NotEmulatedError, TTError


def dev_tensor(x, device, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT):
    return ttnn.from_torch(x, dtype=dtype, layout=layout, device=device)


def host(t):
    return ttnn.to_torch(t).float()


BINARY = [(ttnn.add, torch.add), (ttnn.sub, torch.sub), (ttnn.subtract, torch.sub),
          (ttnn.mul, torch.mul), (ttnn.multiply, torch.mul)]


@pytest.mark.parametrize("op,ref", BINARY)
def test_binary_same_shape_is_one_rounding(device, op, ref):
    torch.manual_seed(0)
    a = dev_tensor(torch.randn(1, 1, 37, 50), device)
    b = dev_tensor(torch.randn(1, 1, 37, 50), device)
    out = op(a, b)
    assert out.shape == [1, 1, 37, 50] and out.padded_shape == [1, 1, 64, 64]
    assert out.dtype == ttnn.bfloat16 and out.layout == ttnn.TILE_LAYOUT
    assert torch.equal(ttnn.to_torch(out), ref(host(a), host(b)).bfloat16())


def test_broadcast_rank3_with_rank4(device):
    """The embedding output [1,S,H] plus a [1,1,S,H] residual, and a row broadcast."""
    a = dev_tensor(torch.randn(1, 40, 64), device)
    b = dev_tensor(torch.randn(1, 1, 40, 64), device)
    out = ttnn.add(a, b)
    assert out.shape == [1, 1, 40, 64]
    assert torch.equal(ttnn.to_torch(out), (host(a) + host(b)).bfloat16())
    row = dev_tensor(torch.randn(1, 1, 1, 64), device)
    assert torch.equal(ttnn.to_torch(ttnn.mul(b, row)), (host(b) * host(row)).bfloat16())


def test_scalar_operands(device):
    a = dev_tensor(torch.randn(2, 33), device)
    assert torch.equal(ttnn.to_torch(ttnn.mul(a, 0.5)), (host(a) * 0.5).bfloat16())
    assert torch.equal(ttnn.to_torch(ttnn.sub(1.0, a)), (1.0 - host(a)).bfloat16())
    assert torch.equal(ttnn.to_torch(ttnn.add(a, 3)), (host(a) + 3).bfloat16())


def test_mixed_float_dtypes_take_a_dtype_and_layout(device, pcc):
    a = dev_tensor(torch.randn(64, 64), device, dtype=ttnn.bfloat8_b)
    b = dev_tensor(torch.randn(64, 64), device, layout=ttnn.ROW_MAJOR_LAYOUT)
    out = ttnn.add(a, b)
    assert out.dtype == ttnn.bfloat8_b and out.layout == ttnn.TILE_LAYOUT
    assert pcc(host(a) + host(b), host(out)) >= 0.999
    out32 = ttnn.add(b, a, dtype=ttnn.float32, memory_config=ttnn.L1_MEMORY_CONFIG)
    assert out32.dtype == ttnn.float32 and out32.layout == ttnn.ROW_MAJOR_LAYOUT
    assert out32.memory_config() == ttnn.L1_MEMORY_CONFIG
    assert torch.equal(ttnn.to_torch(out32), host(a) + host(b))


def test_integer_add_is_exact(device):
    x = torch.randint(-2**30, 2**30, (32, 32), dtype=torch.int32)
    a = dev_tensor(x, device, dtype=ttnn.int32)
    out = ttnn.add(a, a)
    assert out.dtype == ttnn.int32 and torch.equal(ttnn.to_torch(out), x + x)


def test_binary_validation(device):
    a = dev_tensor(torch.randn(1, 1, 32, 64), device)
    with pytest.raises(TTError, match="not broadcastable"):
        ttnn.add(a, dev_tensor(torch.randn(1, 1, 32, 48), device))
    with pytest.raises(TTError, match="floating point or equal"):
        ttnn.mul(a, dev_tensor(torch.randint(0, 3, (1, 1, 32, 64)), device, dtype=ttnn.int32))
    with pytest.raises(TTError, match="on device"):
        ttnn.add(a, ttnn.from_torch(torch.randn(1, 1, 32, 64), dtype=ttnn.bfloat16))
    with pytest.raises(NotEmulatedError):
        ttnn.add(a, a, activations=["relu"])
    with pytest.raises(TypeError):
        ttnn.add(1.0, 2.0)


def test_binary_signature_defaults():
    assert inspect.signature(ttnn.add).parameters["fast_and_approximate_mode"].default is True
    assert inspect.signature(ttnn.mul).parameters["fast_and_approximate_mode"].default is False
    assert ttnn.mul is ttnn.multiply and ttnn.sub is ttnn.subtract


@pytest.mark.parametrize("op,ref", [(ttnn.silu, F.silu), (ttnn.relu, F.relu), (ttnn.gelu, F.gelu)])
def test_unary_matches_torch(device, op, ref):
    x = dev_tensor(torch.randn(1, 3, 37, 70) * 3, device)
    out = op(x)
    assert out.shape == [1, 3, 37, 70] and out.padded_shape == [1, 3, 64, 96]
    assert out.dtype == ttnn.bfloat16 and out.layout == ttnn.TILE_LAYOUT
    assert torch.equal(ttnn.to_torch(out), ref(host(x)).bfloat16())


def test_gelu_variants(device):
    x = dev_tensor(torch.randn(32, 32) * 3, device)
    tanh = ttnn.gelu(x, variant=ttnn.GeluVariant.Tanh)
    assert torch.equal(ttnn.to_torch(tanh), F.gelu(host(x), approximate="tanh").bfloat16())
    with pytest.raises(NotEmulatedError):
        ttnn.gelu(x, fast_and_approximate_mode=True)
    with pytest.raises(NotEmulatedError):
        ttnn.gelu(x, variant=ttnn.GeluVariant.FastLut)


def test_relu_on_integers_and_bf8_silu(device, pcc):
    x = torch.randint(-50, 50, (32, 32), dtype=torch.int32)
    assert torch.equal(ttnn.to_torch(ttnn.relu(dev_tensor(x, device, dtype=ttnn.int32))), x.clamp(min=0))
    b = dev_tensor(torch.randn(64, 64), device, dtype=ttnn.bfloat8_b)
    out = ttnn.silu(b)
    assert out.dtype == ttnn.bfloat8_b and pcc(F.silu(host(b)), host(out)) >= 0.999
    with pytest.raises(TTError, match="Unsupported dtype"):
        ttnn.silu(dev_tensor(x, device, dtype=ttnn.int32))


def test_unary_requires_device_and_allocation(device):
    with pytest.raises(TTError, match="Unary operation requires input to be on Device"):
        ttnn.relu(ttnn.from_torch(torch.randn(4, 4), dtype=ttnn.bfloat16))
    x = dev_tensor(torch.randn(32, 32), device)
    alias = ttnn.reshape(x, (1, 32, 32))
    ttnn.deallocate(x)
    with pytest.raises(TTError, match="not allocated"):
        ttnn.add(alias, alias)
    with pytest.raises(TTError, match="not allocated"):
        ttnn.silu(x)


def test_data_free_inputs_give_shapes(device):
    a = dev_tensor(torch.empty(1, 128, 2048, device="meta"), device)
    b = dev_tensor(torch.empty(1, 1, 128, 2048, device="meta"), device)
    for out in (ttnn.add(a, b), ttnn.mul(b, 2.0), ttnn.silu(a), ttnn.gelu(b)):
        assert out.is_data_free() and out.dtype == ttnn.bfloat16
    assert ttnn.add(a, b).shape == [1, 1, 128, 2048]


def special_bf16_values():
    """Every bf16 bit pattern: zeros, denormals, extremes, infinities and NaNs included."""
    return torch.arange(-(2**15), 2**15, dtype=torch.int32).to(torch.int16).view(torch.bfloat16)


def same_bits(got, want):
    nan = want.isnan()
    assert torch.equal(got.isnan(), nan)
    assert torch.equal(got[~nan].view(torch.int16), want[~nan].view(torch.int16))


@pytest.mark.parametrize("op,ref", [(ttnn.add, torch.add), (ttnn.sub, torch.sub), (ttnn.mul, torch.mul)])
def test_binary_bf16_is_float32_math_rounded_once_on_every_value(device, op, ref):
    """Whichever kernel the emulator picks, bf16 results equal float32 math + one RNE rounding, bit for bit."""
    a_vals = special_bf16_values().reshape(1, 1, 2048, 32)
    b_vals = a_vals.flip(-2).roll(7, dims=-1)
    a = ttnn.from_torch(a_vals, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    b = ttnn.from_torch(b_vals, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    same_bits(ttnn.to_torch(op(a, b)), ref(a_vals.float(), b_vals.float()).bfloat16())


@pytest.mark.parametrize("op,ref", [(ttnn.silu, F.silu), (ttnn.relu, torch.relu), (ttnn.gelu, F.gelu)])
def test_unary_bf16_is_float32_math_rounded_once_on_every_value(device, op, ref):
    x_vals = special_bf16_values().reshape(1, 1, 2048, 32)
    x = ttnn.from_torch(x_vals, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    same_bits(ttnn.to_torch(op(x)), ref(x_vals.float()).bfloat16())
