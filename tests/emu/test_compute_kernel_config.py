"""0.81.1's one-time warning for a passed HiFi4 + fp32 accumulation config (``compute_kernel_config``): which ops
give it, once per process, on stdout (as measured with the real wheel in mock mode)."""

import importlib

import pytest
import torch

import ttbringup.emu as ttnn

checks = importlib.import_module("ttbringup.emu.compute_kernel_config")


def _config(fidelity, fp32):
    return ttnn.WormholeComputeKernelConfig(math_fidelity=fidelity, fp32_dest_acc_en=fp32)


@pytest.fixture()
def fresh(monkeypatch):
    monkeypatch.setattr(checks, "_state", {"warned": False})
    monkeypatch.delenv("TT_LOGGER_LEVEL", raising=False)


@pytest.fixture()
def x(device):
    return ttnn.from_torch(torch.randn(1, 1, 32, 64), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)


def _warnings(text):
    return [line for line in text.splitlines() if checks.HIFI4_FP32_WARNING in line]


@pytest.mark.parametrize("op", ("matmul", "linear", "softmax"))
def test_hifi4_with_fp32_accumulation_warns_once(fresh, x, device, capsys, op):
    w = ttnn.from_torch(torch.randn(64, 32), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    cfg = _config(ttnn.MathFidelity.HiFi4, True)
    run = {"matmul": lambda: ttnn.matmul(x, w, compute_kernel_config=cfg),
           "linear": lambda: ttnn.linear(x, w, compute_kernel_config=cfg),
           "softmax": lambda: ttnn.softmax(x, dim=-1, compute_kernel_config=cfg)}[op]
    run()
    run()
    ttnn.matmul(x, w, compute_kernel_config=cfg)  # another op: still once per process
    out = capsys.readouterr()
    lines = _warnings(out.out)
    assert len(lines) == 1 and not _warnings(out.err)
    assert " | warning  |              Op | " in lines[0] and lines[0].endswith("(compute_kernel_config.cpp:66)")


def test_other_configs_and_ops_do_not_warn(fresh, x, device, capsys):
    w = ttnn.from_torch(torch.randn(64, 32), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    for cfg in (None, _config(ttnn.MathFidelity.HiFi3, True), _config(ttnn.MathFidelity.HiFi4, False)):
        ttnn.matmul(x, w, compute_kernel_config=cfg)
    hifi4_fp32 = _config(ttnn.MathFidelity.HiFi4, True)
    ttnn.rms_norm(x, epsilon=1e-5, compute_kernel_config=hifi4_fp32)  # 0.81.1's norms do not check
    ttnn.layer_norm(x, epsilon=1e-5, compute_kernel_config=hifi4_fp32)
    f32 = ttnn.from_torch(torch.randn(32, 64), dtype=ttnn.float32, layout=ttnn.TILE_LAYOUT, device=device)
    ttnn.matmul(f32, ttnn.from_torch(torch.randn(64, 32), dtype=ttnn.float32, layout=ttnn.TILE_LAYOUT, device=device))
    assert not _warnings(capsys.readouterr().out)


def test_the_warning_comes_before_the_argument_checks(fresh, x, capsys):
    """As in the real wheel, where scale_mask_softmax with a scale but no mask warns, then fails its check."""
    with pytest.raises(Exception, match="Scale value must not be set when mask is not present"):
        ttnn.scale_mask_softmax(x, 0.5, compute_kernel_config=_config(ttnn.MathFidelity.HiFi4, True))
    assert len(_warnings(capsys.readouterr().out)) == 1


@pytest.mark.parametrize("level, warns", [("off", False), ("ERROR", False), ("warning", True), ("debug", True)])
def test_the_logger_level_silences_it_as_tt_logger_does(fresh, x, capsys, monkeypatch, level, warns):
    monkeypatch.setenv("TT_LOGGER_LEVEL", level)
    ttnn.softmax(x, dim=-1, compute_kernel_config=_config(ttnn.MathFidelity.HiFi4, True))
    assert bool(_warnings(capsys.readouterr().out)) is warns
