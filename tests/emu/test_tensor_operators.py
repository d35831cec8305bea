"""ttnn.Tensor's Python surface: operators as 0.81.1 maps them onto ttnn ops, and ``to()``'s two overloads."""

import pytest
import torch

import ttbringup.emu as ttnn
from ttbringup.emu.errors import NotEmulatedError


def _dev(device, x, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT):
    return ttnn.from_torch(x, dtype=dtype, layout=layout, device=device)


def _same(t, u) -> bool:
    """Same spec and bit-identical values."""
    return (t.shape == u.shape and t.padded_shape == u.padded_shape and t.dtype == u.dtype and t.layout == u.layout
            and t.memory_config() == u.memory_config() and torch.equal(ttnn.to_torch(t), ttnn.to_torch(u)))


@pytest.fixture
def operands(device):
    g = torch.Generator().manual_seed(16)
    a = _dev(device, torch.randn(1, 2, 40, 64, generator=g))
    b = _dev(device, torch.randn(1, 2, 40, 64, generator=g))
    row = _dev(device, torch.randn(1, 1, 1, 64, generator=g))
    return a, b, row


@pytest.mark.parametrize("expr, op", [
    (lambda a, b: a + b, lambda a, b: ttnn.add(a, b)),
    (lambda a, b: a - b, lambda a, b: ttnn.subtract(a, b)),
    (lambda a, b: b - a, lambda a, b: ttnn.subtract(b, a)),
    (lambda a, b: a * b, lambda a, b: ttnn.multiply(a, b)),
    (lambda a, b: a + 3, lambda a, b: ttnn.add(a, 3)),
    (lambda a, b: 0.42 + a, lambda a, b: ttnn.add(a, 0.42)),
    (lambda a, b: a - 1.5, lambda a, b: ttnn.subtract(a, 1.5)),
    (lambda a, b: 2 - a, lambda a, b: ttnn.subtract(2, a)),
    (lambda a, b: a * 0.125, lambda a, b: ttnn.multiply(a, 0.125)),
    (lambda a, b: -3 * a, lambda a, b: ttnn.multiply(a, -3)),
])
def test_operators_equal_the_ops_they_map_to(operands, expr, op):
    a, b, _ = operands
    assert _same(expr(a, b), op(a, b))


def test_operators_broadcast_like_the_op_and_pass_keywords_through(operands):
    a, _, row = operands
    assert _same(a + row, ttnn.add(a, row))
    out = a.__add__(row, memory_config=ttnn.L1_MEMORY_CONFIG)
    assert out.memory_config() == ttnn.L1_MEMORY_CONFIG and _same(out, ttnn.add(a, row, memory_config=ttnn.L1_MEMORY_CONFIG))


def test_scalar_results_against_torch(operands):
    a, _, _ = operands
    x = ttnn.to_torch(a).float()
    assert torch.equal(ttnn.to_torch(2 - a), (2 - x).bfloat16())
    assert torch.equal(ttnn.to_torch(0.5 * a), (0.5 * x).bfloat16())


def test_matmul_operator_is_ttnn_matmul(device):
    g = torch.Generator().manual_seed(3)
    a, b = _dev(device, torch.randn(1, 1, 32, 64, generator=g)), _dev(device, torch.randn(1, 1, 64, 96, generator=g))
    assert _same(a @ b, ttnn.matmul(a, b))


def test_operators_the_real_class_lacks_or_emulator_lacks(operands):
    a, b, _ = operands
    with pytest.raises(TypeError, match="bad operand type for unary -"):
        -a  # 0.81.1's Tensor has no __neg__ either
    with pytest.raises(TypeError):
        abs(a)
    with pytest.raises(NotEmulatedError, match="ttnn.divide"):
        a / 2
    with pytest.raises(NotEmulatedError, match="ttnn.rdiv"):
        2 / a
    with pytest.raises(NotEmulatedError, match="ttnn.eq"):
        a == b
    with pytest.raises(NotEmulatedError, match="ttnn.lt"):
        a < b
    with pytest.raises(TypeError):
        a + "x"
    assert {a: 1, b: 2}[b] == 2 and a in [a, b]  # hashable, found by identity, as the real tensors are
    with pytest.raises(NotEmulatedError, match="ttnn.eq"):
        a in [b, a]  # the real one compares b with ttnn.eq first (a tensor, always truthy)


def test_operator_on_a_host_tensor_is_refused_like_the_op():
    h = ttnn.from_torch(torch.ones(1, 1, 32, 32), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT)
    with pytest.raises(RuntimeError, match="on device"):
        h + h


def test_to_by_keyword_places_on_device(device):
    h = ttnn.from_torch(torch.arange(32 * 32, dtype=torch.float32).reshape(32, 32) % 64, dtype=ttnn.bfloat16)
    t = h.to(device=device, mem_config=ttnn.L1_MEMORY_CONFIG, cq_id=0)
    assert t.device() is device and t.memory_config() == ttnn.L1_MEMORY_CONFIG
    assert torch.equal(ttnn.to_torch(t), ttnn.to_torch(h))
    assert h.to(device).memory_config() == ttnn.DRAM_MEMORY_CONFIG
    assert h.to(device, ttnn.L1_MEMORY_CONFIG, ttnn.QueueId(0)).memory_config() == ttnn.L1_MEMORY_CONFIG


def test_to_layout_overload(device):
    h = ttnn.from_torch(torch.ones(3, 5), dtype=ttnn.bfloat16)
    assert h.to(ttnn.TILE_LAYOUT).padded_shape == [32, 32]
    assert h.to(target_layout=ttnn.TILE_LAYOUT).layout == ttnn.TILE_LAYOUT
    on_device = _dev(device, torch.ones(3, 5))
    assert on_device.to(ttnn.ROW_MAJOR_LAYOUT).layout == ttnn.ROW_MAJOR_LAYOUT


@pytest.mark.parametrize("call", [
    lambda h, d: h.to(ttnn.TILE_LAYOUT, ttnn.L1_MEMORY_CONFIG),  # the layout overload takes nothing else
    lambda h, d: h.to(device=d, memory_config=ttnn.L1_MEMORY_CONFIG),  # the keyword is mem_config (real: TypeError)
    lambda h, d: h.to(),
])
def test_to_refuses_what_neither_overload_accepts(device, call):
    h = ttnn.from_torch(torch.ones(32, 32), dtype=ttnn.bfloat16)
    with pytest.raises(TypeError):
        call(h, device)
