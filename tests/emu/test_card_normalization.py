"""Card-mode rms_norm / layer_norm / softmax (ttbringup/emu/card_normalization.py).

References: the 0.81.1 default compute configs (facts §4, from the 0.81.1 binary), float64 math, exact mode, and
the bit-exact ``card`` primitives (the reference path) for the fast path."""

import importlib

import pytest
import torch

import ttbringup.emu as ttnn

card_norm = importlib.import_module("ttbringup.emu.card_normalization")
card_matmul = importlib.import_module("ttbringup.emu.card_matmul")
numerics_mode = importlib.import_module("ttbringup.emu.numerics_mode")
D = ttnn.DataType


@pytest.fixture
def device():
    dev = ttnn.open_device(device_id=0)
    yield dev
    ttnn.close_device(dev)


def dev_tensor(x, device, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT):
    return ttnn.from_torch(x, dtype=dtype, layout=layout, device=device)


def host(t):
    return ttnn.to_torch(t).float()


def config(fidelity, fp32=False, approx=False):
    return ttnn.WormholeComputeKernelConfig(math_fidelity=fidelity, fp32_dest_acc_en=fp32, packer_l1_acc=False,
                                            math_approx_mode=approx)


def rows(n=32, w=2048, seed=0, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(1, 1, n, w, generator=g) * scale).to(torch.bfloat16).float()


def rms_ref(x, w=None, eps=1e-5):
    x = x.double()
    out = x * torch.rsqrt(x.square().mean(-1, keepdim=True) + eps)
    return out if w is None else out * w.double()


def rel_rms(got, want):
    return float((got.double() - want).square().mean().sqrt() / want.square().mean().sqrt())


# ------------------------------------------------------------------ configs (facts §4)


@pytest.mark.parametrize("op, dtype, want", [
    ("rms_norm", D.BFLOAT16, ("HiFi4", False, True)),
    ("layer_norm", D.BFLOAT16, ("HiFi4", True, False)),
    ("softmax", D.BFLOAT16, ("HiFi3", True, True)),
    ("softmax", D.FLOAT32, ("HiFi3", True, False)),
])
def test_default_configs(op, dtype, want):
    cfg = card_norm.resolve_config(op, dtype)
    assert (cfg.math_fidelity, cfg.fp32_dest_acc_en, cfg.math_approx_mode) == want


def test_passed_config_is_taken_field_by_field():
    cfg = card_norm.resolve_config("layer_norm", D.BFLOAT16, config(ttnn.MathFidelity.LoFi, fp32=False, approx=True))
    assert (cfg.math_fidelity, cfg.fp32_dest_acc_en, cfg.math_approx_mode) == ("LoFi", False, True)
    invalid = ttnn.WormholeComputeKernelConfig(fp32_dest_acc_en=True)
    assert card_norm.resolve_config("rms_norm", D.BFLOAT16, invalid).math_fidelity == "LoFi"


# ------------------------------------------------------------------ rms_norm


def test_rms_norm_less_accurate_than_exact_and_config_matters(device):
    """The default BF16 Dst sums 2048 squares with a bf16 rounding per 16-wide chunk: worse than exact mode;
    an FP32 Dst passed by the user brings it back towards exact mode; LoFi is worse than HiFi4."""
    x = rows(seed=1)
    g = torch.linspace(0.5, 1.5, 2048).to(torch.bfloat16).float()
    t, gt = dev_tensor(x, device), dev_tensor(g.reshape(1, 1, 1, -1), device)
    want = rms_ref(x, g)
    exact = rel_rms(host(ttnn.rms_norm(t, weight=gt, epsilon=1e-5)), want)
    with numerics_mode.use("card"):
        card = rel_rms(host(ttnn.rms_norm(t, weight=gt, epsilon=1e-5)), want)
        fp32 = rel_rms(host(ttnn.rms_norm(t, weight=gt, epsilon=1e-5,
                                          compute_kernel_config=config(ttnn.MathFidelity.HiFi4, fp32=True))), want)
        lofi = rel_rms(host(ttnn.rms_norm(t, weight=gt, epsilon=1e-5,
                                          compute_kernel_config=config(ttnn.MathFidelity.LoFi))), want)
    assert exact < card < 0.02
    assert fp32 < card
    assert lofi > card


def test_rms_norm_sum_of_squares_rounds_in_a_bf16_dst():
    """A row of 1.0078125 (x^2 = 1.01568603515625, bf16 1.015625 in Dst): its mean square in a BF16 Dst is
    below float64's, the per-chunk roundings are what an FP32 Dst avoids."""
    x = torch.full((1, 4096), 1.0078125)
    cfg_bf16 = card_norm.resolve_config("rms_norm", D.BFLOAT16)
    cfg_fp32 = card_matmul.CardConfig("HiFi4", True, False, True)
    squares = card_norm._buffer(card_norm._fpu("mul", x, x, cfg_bf16, False), False)
    mean_bf16 = card_norm._row_mean(squares, cfg_bf16, False)
    mean_fp32 = card_norm._row_mean(card_norm._fpu("mul", x, x, cfg_fp32, False), cfg_fp32, False)
    assert mean_fp32.item() == pytest.approx(1.0078125**2, rel=2**-10)
    assert mean_bf16.item() != mean_fp32.item()
    assert abs(mean_bf16.item() - 1.0078125**2) > abs(mean_fp32.item() - 1.0078125**2)


def test_rms_norm_fast_path_close_to_the_reference_path(device):
    x = rows(n=32, w=256, seed=2)
    t = dev_tensor(x, device)
    with numerics_mode.use("card"):
        fast = host(ttnn.rms_norm(t, epsilon=1e-5))
    with numerics_mode.use("card", reference=True):
        ref = host(ttnn.rms_norm(t, epsilon=1e-5))
    want = rms_ref(x)
    assert (fast - ref).abs().max() <= 2 * 2.0**-7 * ref.abs().max()
    assert rel_rms(fast, want) == pytest.approx(rel_rms(ref, want), rel=0.3)


def test_rms_norm_residual_and_bfloat8_b(device):
    x, r = rows(seed=3, w=512), rows(seed=4, w=512)
    with numerics_mode.use("card"):
        out = host(ttnn.rms_norm(dev_tensor(x, device), residual_input_tensor=dev_tensor(r, device), epsilon=1e-5))
        bfp8 = host(ttnn.rms_norm(dev_tensor(x, device, ttnn.bfloat8_b), epsilon=1e-5))
    assert rel_rms(out, rms_ref(x + r)) < 0.02
    assert rel_rms(bfp8, rms_ref(host(dev_tensor(x, device, ttnn.bfloat8_b)))) < 0.05


# ------------------------------------------------------------------ layer_norm


def test_layer_norm_card_mode(device):
    x = rows(seed=5, w=1024) * 3 + 2
    g = torch.linspace(0.5, 1.5, 1024).to(torch.bfloat16).float().reshape(1, 1, 1, -1)
    b = torch.linspace(-1, 1, 1024).to(torch.bfloat16).float().reshape(1, 1, 1, -1)
    xd = x.double()
    want = (xd - xd.mean(-1, keepdim=True)) * torch.rsqrt(xd.var(-1, unbiased=False, keepdim=True) + 1e-5)
    want = want * g.double() + b.double()
    args = dict(weight=dev_tensor(g, device), bias=dev_tensor(b, device), epsilon=1e-5)
    exact = host(ttnn.layer_norm(dev_tensor(x, device), **args))
    with numerics_mode.use("card"):
        card = host(ttnn.layer_norm(dev_tensor(x, device), **args))
        bf16_dst = host(ttnn.layer_norm(dev_tensor(x, device), compute_kernel_config=config(ttnn.MathFidelity.HiFi4),
                                        **args))
    # the default FP32 Dst keeps float32 intermediates: about exact mode's accuracy (which rounds the normalised
    # value to bf16 before the weight), not the same numbers; a BF16 Dst (a passed config) is clearly worse
    assert rel_rms(card, want) < 1.5 * rel_rms(exact, want) and not torch.equal(card, exact)
    assert rel_rms(bf16_dst, want) > 1.5 * rel_rms(card, want)


# ------------------------------------------------------------------ softmax


def test_softmax_default_uses_the_approximate_exp(device):
    """bf16 softmax defaults to math_approx_mode (Schraudolph's exp, several % off): far less accurate than exact
    mode; the accurate exp (a passed config) is much closer; rows still sum to about 1."""
    x = rows(n=32, w=512, seed=6, scale=2.0)
    t = dev_tensor(x, device)
    want = torch.softmax(x.double(), -1)
    exact = rel_rms(host(ttnn.softmax(t, -1)), want)
    with numerics_mode.use("card"):
        card_out = host(ttnn.softmax(t, -1))
        accurate = rel_rms(host(ttnn.softmax(t, -1, compute_kernel_config=config(ttnn.MathFidelity.HiFi3, fp32=True))),
                           want)
    card = rel_rms(card_out, want)
    assert exact < accurate < card
    assert card > 5 * exact
    assert torch.allclose(card_out.sum(-1), torch.ones(1, 1, 32), atol=0.05)


def test_softmax_fast_path_close_to_reference(device):
    x = rows(n=32, w=128, seed=7)
    t = dev_tensor(x, device, ttnn.float32)
    with numerics_mode.use("card"):
        fast = host(ttnn.softmax(t, -1))
    with numerics_mode.use("card", reference=True):
        ref = host(ttnn.softmax(t, -1))
    assert (fast - ref).abs().max() < 1e-3 * ref.abs().max()


@pytest.mark.parametrize("fidelity", ["LoFi", "HiFi2", "HiFi3", "HiFi4"])
@pytest.mark.parametrize("fp32_dest", [False, True])
def test_row_sum_is_the_matmul_fast_path_against_ones(fidelity, fp32_dest):
    """The reduce's own fast formulation gives card_matmul.dst_fast(x, ones) exactly (ragged width too)."""
    g = torch.Generator().manual_seed(9)
    x = (torch.randn(8, 1000, generator=g) * 4).to(torch.bfloat16).float()
    cfg = card_matmul.CardConfig(fidelity, fp32_dest, False, False)
    want = card_matmul.dst_fast(x, torch.ones(1000, 1), fidelity, fp32_dest)
    assert torch.equal(card_norm._row_sum(x, cfg, False), want)


def test_softmax_without_numeric_stable_skips_the_max(device):
    """numeric_stable=False: exp of the raw scores; with the approximate exp a shift changes the result (the
    Schraudolph error depends on the argument), so the two differ."""
    x = rows(n=32, w=64, seed=10)
    t = dev_tensor(x, device)
    with numerics_mode.use("card"):
        stable = host(ttnn.softmax(t, -1))
        raw = host(ttnn.softmax(t, -1, numeric_stable=False))
    cfg = card_norm.resolve_config("softmax", D.BFLOAT16)
    want = card_matmul.pack(card_norm.softmax(x, cfg, numeric_stable=False), True, D.BFLOAT16)
    assert torch.equal(raw, want.reshape(raw.shape)) and not torch.equal(raw, stable)
    assert (raw.double() - torch.softmax(x.double(), -1)).abs().max() < 0.05
