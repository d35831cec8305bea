"""0.81.1's one-time warning for a passed HiFi4 + fp32 accumulation config, against the real wheel (mock n150): for
each scenario, how many times the warning line reaches stdout, real and emulated.

The warning is once per process, so each real scenario runs in its own child process; the emulator's runs in this
process with its once-flag cleared between scenarios. Both sides run with the scenario's ``TT_LOGGER_LEVEL``.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.conformance

WARNING = "output accuracy can be worse with HiFi4 than HiFi3 due to a hardware bug"
# name -> (ops run in order, fidelity, fp32 accumulation); every op gets the same config
SCENARIOS = {
    "matmul HiFi4 fp32, twice": (("matmul", "matmul"), "HiFi4", True),
    "linear HiFi4 fp32": (("linear",), "HiFi4", True),
    "softmax HiFi4 fp32": (("softmax",), "HiFi4", True),
    "matmul then softmax HiFi4 fp32": (("matmul", "softmax"), "HiFi4", True),
    "rms_norm HiFi4 fp32": (("rms_norm",), "HiFi4", True),
    "layer_norm HiFi4 fp32": (("layer_norm",), "HiFi4", True),
    "sdpa HiFi4 fp32": (("sdpa",), "HiFi4", True),
    "sdpa_decode HiFi4 fp32": (("sdpa_decode",), "HiFi4", True),
    "matmul HiFi3 fp32": (("matmul",), "HiFi3", True),
    "matmul HiFi4 bf16 Dst": (("matmul",), "HiFi4", False),
}
# the lane runs with TT_LOGGER_LEVEL=off, which silences the warning: every scenario runs at level warning, and one
# also at off
CASES = [(name, "warning") for name in SCENARIOS] + [("matmul HiFi4 fp32, twice", "off")]


def run_scenario(ttnn, name: str) -> None:
    """The scenario's ops on an open n150 (``ttnn``: the real wheel or the emulator)."""
    import torch

    ops, fidelity, fp32 = SCENARIOS[name]
    cfg = ttnn.WormholeComputeKernelConfig(math_fidelity=getattr(ttnn.MathFidelity, fidelity), fp32_dest_acc_en=fp32)
    d = ttnn.open_device(device_id=0)
    try:
        tile = lambda *shape: ttnn.from_torch(torch.randn(*shape), dtype=ttnn.bfloat16,  # noqa: E731
                                              layout=ttnn.TILE_LAYOUT, device=d)
        x, w = tile(1, 1, 32, 64), tile(1, 1, 64, 32)
        for op in ops:
            if op in ("matmul", "linear"):
                getattr(ttnn, op)(x, w, compute_kernel_config=cfg)
            elif op == "softmax":
                ttnn.softmax(x, dim=-1, compute_kernel_config=cfg)
            elif op in ("rms_norm", "layer_norm"):
                getattr(ttnn, op)(x, epsilon=1e-5, compute_kernel_config=cfg)
            elif op == "sdpa":
                q = tile(1, 2, 32, 64)
                ttnn.transformer.scaled_dot_product_attention(q, q, q, is_causal=True, compute_kernel_config=cfg)
            else:
                kv = tile(1, 1, 64, 64)
                ttnn.transformer.scaled_dot_product_attention_decode(x, kv, kv, cur_pos=[10], compute_kernel_config=cfg)
    finally:
        ttnn.close_device(d)


def _real_count(name: str, level: str) -> int:
    proc = subprocess.run([sys.executable, __file__, "--real", name], capture_output=True, text=True, timeout=300,
                          cwd=os.getcwd(), env=dict(os.environ, TT_LOGGER_LEVEL=level))
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    assert WARNING not in proc.stderr
    return proc.stdout.count(WARNING)


def _emu_count(emu, name: str, level: str, monkeypatch) -> int:
    checks = importlib.import_module("ttbringup.emu.compute_kernel_config")
    monkeypatch.setitem(checks._state, "warned", False)
    monkeypatch.setenv("TT_LOGGER_LEVEL", level)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        run_scenario(emu, name)
    return out.getvalue().count(WARNING)


@pytest.mark.parametrize("name, level", CASES)
def test_hifi4_fp32_warning_like_the_real_wheel(emu, summary_line, monkeypatch, name, level):
    real, em = _real_count(name, level), _emu_count(emu, name, level, monkeypatch)
    summary_line(f"HiFi4 + fp32 warning, {name}, TT_LOGGER_LEVEL={level}: real {real}, emulator {em}")
    assert em == real


if __name__ == "__main__" and "--real" in sys.argv:
    import ttnn

    run_scenario(ttnn, sys.argv[sys.argv.index("--real") + 1])
