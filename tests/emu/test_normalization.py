"""ttnn.rms_norm / layer_norm / softmax of the emulator against torch."""

import inspect

import pytest
import torch

import ttbringup.emu as ttnn
from ttbringup.emu.errors import TTError


def dev_tensor(x, device, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT):
    return ttnn.from_torch(x, dtype=dtype, layout=layout, device=device)


def host(t):
    return ttnn.to_torch(t).float()


def torch_rms(x, w, eps):
    normed = x * torch.rsqrt(x.square().mean(-1, keepdim=True) + eps)
    return normed.bfloat16().float() * w


@pytest.mark.parametrize("shape", [(1, 37, 200), (1, 1, 32, 128), (1, 4, 50, 64)])
def test_rms_norm_matches_torch(device, pcc, shape):
    torch.manual_seed(0)
    x = dev_tensor(torch.randn(shape), device)
    w = dev_tensor(torch.randn(1, 1, 1, shape[-1]), device)
    out = ttnn.rms_norm(x, epsilon=1e-6, weight=w)
    assert out.shape == list(shape) and out.padded_shape == x.padded_shape
    assert out.dtype == ttnn.bfloat16 and out.layout == ttnn.TILE_LAYOUT
    ref = torch_rms(host(x), host(w).reshape(-1), 1e-6)
    assert pcc(ref, host(out)) >= 0.999
    assert torch.allclose(host(out), ref, atol=0.05, rtol=0.02)


def test_rms_norm_default_epsilon_is_1e_12():
    assert inspect.signature(ttnn.rms_norm).parameters["epsilon"].default == 1e-12
    assert inspect.signature(ttnn.layer_norm).parameters["epsilon"].default == 1e-12


def test_rms_norm_row_major_weight_and_residual(device, pcc):
    torch.manual_seed(1)
    x = dev_tensor(torch.randn(1, 1, 32, 128), device)
    r = dev_tensor(torch.randn(1, 1, 32, 128), device)
    w = torch.randn(128)
    w_rm = dev_tensor(w.reshape(4, 32), device, layout=ttnn.ROW_MAJOR_LAYOUT)
    out = ttnn.rms_norm(x, epsilon=1e-5, weight=w_rm, residual_input_tensor=r)
    summed = (host(x) + host(r)).bfloat16().float()
    assert pcc(torch_rms(summed, w.bfloat16().float(), 1e-5), host(out)) >= 0.999


def test_rms_norm_bf8_input_and_memory_config(device, pcc):
    x = dev_tensor(torch.randn(1, 1, 64, 96), device, dtype=ttnn.bfloat8_b)
    out = ttnn.rms_norm(x, epsilon=1e-6, memory_config=ttnn.L1_MEMORY_CONFIG)
    assert out.dtype == ttnn.bfloat8_b and out.memory_config() == ttnn.L1_MEMORY_CONFIG
    ref = host(x) * torch.rsqrt(host(x).square().mean(-1, keepdim=True) + 1e-6)
    assert pcc(ref, host(out)) >= 0.999


def test_layer_norm_matches_torch(device, pcc):
    torch.manual_seed(2)
    x = dev_tensor(torch.randn(1, 45, 96) * 3 + 1, device)
    w = dev_tensor(torch.randn(1, 1, 1, 96), device)
    b = dev_tensor(torch.randn(1, 1, 1, 96), device)
    out = ttnn.layer_norm(x, epsilon=1e-5, weight=w, bias=b)
    ref = torch.nn.functional.layer_norm(host(x), (96,), host(w).reshape(-1), host(b).reshape(-1), eps=1e-5)
    assert out.shape == [1, 45, 96]
    assert pcc(ref, host(out)) >= 0.999


@pytest.mark.parametrize("dim", [-1, 2, 1])
def test_softmax_matches_torch(device, pcc, dim):
    x = dev_tensor(torch.randn(1, 3, 40, 50) * 4, device)
    out = ttnn.softmax(x, dim)
    assert out.shape == [1, 3, 40, 50] and out.padded_shape == [1, 3, 64, 64] and out.dtype == ttnn.bfloat16
    assert pcc(torch.softmax(host(x), dim), host(out)) >= 0.999


def test_norm_validation(device):
    rm = dev_tensor(torch.randn(1, 1, 32, 64), device, layout=ttnn.ROW_MAJOR_LAYOUT)
    with pytest.raises(TTError, match="TILE layout"):
        ttnn.rms_norm(rm)
    x = dev_tensor(torch.randn(1, 1, 32, 64), device)
    wrong_width = dev_tensor(torch.randn(1, 1, 1, 96), device)
    with pytest.raises(TTError, match="last padded dim"):
        ttnn.rms_norm(x, weight=wrong_width)
    bad_rm = dev_tensor(torch.randn(1, 64), device, layout=ttnn.ROW_MAJOR_LAYOUT)
    with pytest.raises(TTError, match="must be 32"):
        ttnn.rms_norm(x, weight=bad_rm)
    bf8_w = dev_tensor(torch.randn(1, 1, 1, 64), device, dtype=ttnn.bfloat8_b)
    with pytest.raises(TTError, match="BFLOAT16 or FLOAT32"):
        ttnn.rms_norm(x, weight=bf8_w)
    res = dev_tensor(torch.randn(1, 1, 64, 64), device)
    with pytest.raises(TTError, match="residual_input_tensor padded shape"):
        ttnn.rms_norm(x, residual_input_tensor=res)
    host_x = ttnn.from_torch(torch.randn(1, 1, 32, 64), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT)
    with pytest.raises(TTError, match="on device"):
        ttnn.layer_norm(host_x)
    with pytest.raises(TTError, match="Dimension out of range"):
        ttnn.softmax(x, 4)
    ints = dev_tensor(torch.randint(0, 9, (1, 1, 32, 64)), device, dtype=ttnn.int32)
    with pytest.raises(TTError, match="BFLOAT16, FLOAT32 or BFLOAT8_B"):
        ttnn.softmax(ints)


def test_deallocated_input_raises(device):
    x = dev_tensor(torch.randn(1, 1, 32, 64), device)
    ttnn.deallocate(x)
    with pytest.raises(TTError, match="not allocated"):
        ttnn.rms_norm(x)


def test_data_free_input_gives_shape(device):
    x = dev_tensor(torch.empty(1, 1, 128, 2048, device="meta"), device)
    w = dev_tensor(torch.empty(1, 1, 1, 2048, device="meta"), device)
    for out in (ttnn.rms_norm(x, epsilon=1e-6, weight=w, residual_input_tensor=x),
                ttnn.layer_norm(x, weight=w, bias=w), ttnn.softmax(x)):
        assert out.is_data_free() and out.shape == [1, 1, 128, 2048] and out.dtype == ttnn.bfloat16


def test_layer_norm_and_softmax_take_row_major_input(device, pcc):
    """Real 0.81.1: layer_norm tilizes a ROW_MAJOR input (width a tile multiple) and returns ROW_MAJOR; softmax
    returns TILE; rms_norm refuses ROW_MAJOR input."""
    x = torch.randn(1, 1, 20, 64)
    rm = dev_tensor(x, device, layout=ttnn.ROW_MAJOR_LAYOUT)
    ln = ttnn.layer_norm(rm, epsilon=1e-5)
    assert ln.layout == ttnn.ROW_MAJOR_LAYOUT and ln.shape == [1, 1, 20, 64] and ln.padded_shape == [1, 1, 20, 64]
    assert pcc(torch.nn.functional.layer_norm(host(rm), (64,), eps=1e-5), host(ln)) >= 0.999
    sm = ttnn.softmax(rm)
    assert sm.layout == ttnn.TILE_LAYOUT and sm.padded_shape == [1, 1, 32, 64]
    with pytest.raises(TTError, match="multiple of tile width"):
        ttnn.layer_norm(dev_tensor(torch.randn(1, 1, 20, 50), device, layout=ttnn.ROW_MAJOR_LAYOUT))
    with pytest.raises(TTError, match="Residual tensor must have TILE layout"):
        ttnn.layer_norm(rm, residual_input_tensor=rm)
