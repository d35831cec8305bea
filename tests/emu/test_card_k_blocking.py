"""benchmarks/card_k_blocking.py: its K-blocked formulation against the one-block matmul
(``card_matmul.dst_torch`` / ``pack`` without blocking), hand-worked L1-accumulation ties, and the in0_block_w
choice against the compile-time args the real 0.81.1 wheel wrote in mock mode (docs/card-numerics.md, "K
blocking")."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ttbringup.emu import card_matmul
from ttbringup.emu.types import DataType

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "card_k_blocking.py"
_SPEC = importlib.util.spec_from_file_location("card_k_blocking", _PATH)
kb = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(kb)


@pytest.mark.parametrize("fidelity", ("LoFi", "HiFi2", "HiFi4"))
@pytest.mark.parametrize("fp32_dest", (False, True), ids=("bf16_dst", "fp32_dst"))
def test_one_block_is_card_mode(fidelity, fp32_dest):
    """From a zero Dst, ``dst_on_top`` is ``card_matmul.dst_torch`` bit for bit, and one K block is card
    mode's packed bf16 output."""
    x, w = kb.operands(32, 256, 96, seed=5)
    d = card_matmul.dst_torch(x, w, fidelity, fp32_dest)
    assert torch.equal(kb.dst_on_top(x, w, fidelity, fp32_dest), d)
    want = card_matmul.pack(d, fp32_dest, DataType.BFLOAT16)
    assert torch.equal(kb.blocked(x, w, fidelity, fp32_dest, 8, "l1acc"), want)


@pytest.mark.parametrize("fp32_dest", (False, True), ids=("bf16_dst", "fp32_dst"))
def test_spill_reload_is_lossless(fp32_dest):
    """Without packer_l1_acc the partials CB has the Dst's own format (bf16 output from a BF16 Dst, Float32
    from an FP32 Dst), so spilling and reloading every block changes nothing (normal values)."""
    x, w = kb.operands(32, 256, 64, seed=6)
    one = kb.blocked(x, w, "HiFi2", fp32_dest, 8, "l1acc")
    assert torch.equal(kb.blocked(x, w, "HiFi2", fp32_dest, 1, "spill"), one)


def _tie_operands() -> tuple[torch.Tensor, torch.Tensor]:
    """Three K tiles: block 0 gives 1.0, block 1 gives 2^-8 (half a bf16 ulp of 1.0), block 2 gives 0."""
    x = torch.zeros(32, 96)
    w = torch.zeros(96, 32)
    x[:, 0] = x[:, 32] = 1.0
    w[0, 0] = 1.0
    w[32, 0] = 2.0 ** -8
    return x, w


def test_l1_accumulation_rules_at_a_tie():
    """1.0 + 2^-8 is a bf16 tie: the L1 add of ttsim (round to nearest even) keeps 1.0, the float32-add
    alternative and a BF16 Dst (one block: ties away from zero, facts §2.3) give 1.0078125; with an FP32 Dst
    the partials are exact and the final pack rounds the tie away."""
    x, w = _tie_operands()
    out = {rule: kb.blocked(x, w, "HiFi2", False, 1, rule)[0, 0].item() for rule in kb.RULES}
    assert out["l1acc"] == 1.0
    assert out["l1acc-ties-away"] == 1.0078125
    assert out["spill"] == 1.0078125
    assert kb.blocked(x, w, "HiFi2", False, 3, "l1acc")[0, 0].item() == 1.0078125
    assert kb.blocked(x, w, "HiFi2", True, 1, "l1acc")[0, 0].item() == 1.0078125
    assert kb.blocked(x, w, "HiFi2", False, 1, "l1acc", reference=True)[0, 0].item() == 1.0


def test_two_blocks_use_no_l1_add():
    """With two K blocks the kernel packs block 0 and reloads it under block 1: no L1 addition, so the
    rules agree (and equal the one-block result: the bf16 partials hold the BF16 Dst exactly)."""
    x, w = kb.operands(32, 128, 64, seed=7)
    outs = [kb.blocked(x, w, "HiFi2", False, 2, rule) for rule in kb.RULES]
    assert all(torch.equal(o, outs[0]) for o in outs)
    assert torch.equal(outs[0], kb.blocked(x, w, "HiFi2", False, 4, "l1acc"))


@pytest.mark.parametrize("m, k, n, in0_block_w", [
    (32, 2048, 2048, 2), (32, 2048, 512, 2), (32, 2048, 8192, 2), (32, 8192, 2048, 2), (32, 2048, 128256, 2),
    (128, 2048, 2048, 2), (128, 2048, 512, 8), (128, 8192, 2048, 2), (32, 512, 512, 2), (32, 1024, 1024, 2)])
def test_choice_matches_the_wheel(m, k, n, in0_block_w):
    """``in0_block_w`` of the 0.81.1 wheel's matmul kernel in mock mode (DRAM-interleaved bf16 operands,
    default config, n150; the compile-time args it wrote into its kernel cache), docs/card-numerics.md."""
    assert kb.choice(m, k, n) == in0_block_w


def test_bad_block_width():
    x, w = kb.operands(32, 96, 32, seed=8)
    with pytest.raises(ValueError, match="does not divide"):
        kb.blocked(x, w, "HiFi2", False, 2, "l1acc")


@pytest.mark.parametrize("flags", (["--cols", "0"], ["--rules", "bogus"], ["--shape", "32,100,32"], ["--bogus"]))
def test_bad_flags_one_error_line(flags):
    """Bad input: one ``error: ...`` line and exit status 2."""
    run = subprocess.run([sys.executable, str(_PATH), *flags], capture_output=True, text=True)
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
