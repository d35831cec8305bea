"""Card-mode matmul K blocking (``card_matmul.k_blocked``, the compiled kernel, ``matmul_program_config``): the
kernel, the torch formulation and the bit-exact reference against the K-blocked specification in
benchmarks/card_k_blocking.py (``blocked``, written from the 0.81.1 kernel source), the fused-bias fold against
the packer primitives, the block choice against the real wheel's kernel args, and ttnn.linear end to end."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import pytest
import torch

import ttbringup.emu as ttnn
from ttbringup.emu.card import formats, packer
from ttbringup.emu.types import DataType

card_matmul = importlib.import_module("ttbringup.emu.card_matmul")
numerics_mode = importlib.import_module("ttbringup.emu.numerics_mode")
mpc = importlib.import_module("ttbringup.emu.matmul_program_config")

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "card_k_blocking.py"
_SPEC = importlib.util.spec_from_file_location("card_k_blocking", _PATH)
kb = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(kb)

BF16 = DataType.BFLOAT16


def _packed(d, fp32_dest):
    return card_matmul.pack(d, fp32_dest, BF16)


@pytest.mark.parametrize("rows", (1, 2, 5, 40))
@pytest.mark.parametrize("fidelity", ("LoFi", "HiFi2", "HiFi4"))
@pytest.mark.parametrize("fp32_dest", (False, True), ids=("bf16_dst", "fp32_dst"))
@pytest.mark.parametrize("block_w", (1, 2, 4))
def test_kernel_and_torch_formulation_are_the_specification(rows, fidelity, fp32_dest, block_w):
    """Every row-count path of both formulations, K = 8 tiles in blocks of 1, 2 and 4: the packed output is
    ``blocked(..., "l1acc")`` bit for bit (each block's Dst from ``dst_on_top``, bf16 RNE / float32 L1 adds,
    the last block on the reloaded partials)."""
    x, w = kb.operands(rows, 256, 96, seed=rows + block_w)
    want = kb.blocked(x, w, fidelity, fp32_dest, block_w, "l1acc")
    blocking = card_matmul.KBlocking(block_w)
    assert torch.equal(_packed(card_matmul.dst_fast(x, w, fidelity, fp32_dest, blocking), fp32_dest), want)
    assert torch.equal(_packed(card_matmul.dst_torch(x, w, fidelity, fp32_dest, blocking), fp32_dest), want)


def test_blocking_changes_a_bf16_dst_result():
    """The blocked result is not the one-block one (BF16 Dst, K = 2048): the test above can tell them apart."""
    x, w = kb.operands(4, 2048, 64, seed=1)
    one = _packed(card_matmul.dst_fast(x, w, "HiFi2", False), False)
    two = _packed(card_matmul.dst_fast(x, w, "HiFi2", False, card_matmul.KBlocking(2)), False)
    assert (one != two).float().mean() > 0.5


@pytest.mark.parametrize("fp32_dest", (False, True), ids=("bf16_dst", "fp32_dst"))
def test_reference_formulation_is_the_specification(fp32_dest):
    x, w = kb.operands(32, 128, 32, seed=2)
    want = kb.blocked(x, w, "HiFi2", fp32_dest, 1, "l1acc", reference=True)
    got = card_matmul.dst_reference(x, w, "HiFi2", fp32_dest, card_matmul.KBlocking(1))
    assert torch.equal(_packed(got, fp32_dest), want)


@pytest.mark.parametrize("fp32_dest", (False, True), ids=("bf16_dst", "fp32_dst"))
def test_fused_bias_folds_every_block_into_the_partials(fp32_dest):
    """With a fused bias (``fold_last``) the last block is packed with L1 accumulation like the others and the
    partials are the result: block 0 packed as is, then one L1 add per later block (``card.packer``). Five rows:
    the torch formulation's many-rows path, which sums each chunk as ``dst_on_top`` does."""
    x, w = kb.operands(5, 192, 64, seed=3)
    words = []
    for k0 in range(0, 192, 64):
        d = kb.dst_on_top(x[:, k0:k0 + 64], w[k0:k0 + 64], "HiFi2", fp32_dest)
        bits = formats.to_bits(d)
        words.append(packer.pack_fp32_to_fp32(bits) if fp32_dest else packer.pack_bf16_to_bf16(bits))
    partials = words[0]
    for more in words[1:]:
        partials = packer.l1_acc_fp32(partials, more) if fp32_dest else packer.l1_acc_bf16(partials, more)
    want = formats.from_bits(partials)
    blocking = card_matmul.KBlocking(2, fold_last=True)
    assert torch.equal(card_matmul.dst_fast(x, w, "HiFi2", fp32_dest, blocking), want)
    assert torch.equal(card_matmul.dst_torch(x, w, "HiFi2", fp32_dest, blocking), want)


def test_block_float_weight_read_as_stored_is_blocked_alike(device):
    w = ttnn.from_torch(torch.randn(256, 64) / 16, dtype=ttnn.bfloat8_b, layout=ttnn.TILE_LAYOUT, device=device)
    stored = w._value
    x = torch.randn(2, 256).bfloat16().float()
    blocking = card_matmul.KBlocking(2)
    got = card_matmul.dst_fast_block_float(x, stored.mant.reshape(stored.mant.shape[-2:]),
                                           stored.exp.reshape(stored.exp.shape[-2:]), stored.bits, 64, "LoFi",
                                           False, blocking)
    want = card_matmul.dst_fast(x, stored.decode().reshape(256, 64), "LoFi", False, blocking)
    assert torch.equal(got, want)


def _cfg(l1_acc=True):
    return card_matmul.CardConfig("HiFi2", False, l1_acc, False)


def test_k_blocking_rule():
    bf8 = DataType.BFLOAT8_B
    assert card_matmul.k_blocking(2, 64, _cfg(), False, BF16) == card_matmul.KBlocking(2, False)
    assert card_matmul.k_blocking(2, 64, _cfg(), True, BF16) == card_matmul.KBlocking(2, True)
    assert card_matmul.k_blocking(64, 64, _cfg(), False, BF16) == card_matmul.ONE_BLOCK
    assert card_matmul.k_blocking(64, 64, _cfg(), True, BF16) == card_matmul.KBlocking(0, True)  # bias reads partials
    assert card_matmul.k_blocking(2, 64, _cfg(l1_acc=False), False, BF16) == card_matmul.ONE_BLOCK  # lossless spill
    assert card_matmul.k_blocking(2, 64, _cfg(), False, bf8) == card_matmul.KBlocking(2, False)  # bf16 partials
    assert card_matmul.k_blocking(2, 64, _cfg(l1_acc=False), False, bf8) == card_matmul.KBlocking(2, False, bf8)
    fp32_cfg = card_matmul.CardConfig("HiFi2", True, False, False)
    assert card_matmul.k_blocking(2, 64, fp32_cfg, False, bf8) == card_matmul.ONE_BLOCK  # Float32 partials


# ----------------------------------------------------------------------------- the block choice


def _meta(device, shape, memory_config=ttnn.DRAM_MEMORY_CONFIG):
    return ttnn.from_torch(torch.empty(shape, dtype=torch.bfloat16, device="meta"), dtype=ttnn.bfloat16,
                           layout=ttnn.TILE_LAYOUT, device=device, memory_config=memory_config)


def _choice(a, b, **kwargs):
    args = dict(transpose_a=False, transpose_b=False, memory_config=None, program_config=None, core_grid=None,
                fp32_dest_acc_en=False, out_dtype=BF16, has_bias=False)
    return mpc.in0_block_w(a, b, **{**args, **kwargs})


# in0_block_w of the 0.81.1 wheel's compiled matmul kernels in mock mode (n150, bf16, default config: the
# compile-time args in its kernel cache, docs/card-numerics.md "K blocking"); Kt where it ran bmm (one Dst)
@pytest.mark.parametrize("m, k, n, a_in_l1, want", [
    (32, 2048, 2048, False, 2), (128, 2048, 512, False, 8), (32, 2048, 128256, False, 2),
    (32, 2048, 2048, True, 2), (32, 512, 512, True, 2), (32, 2048, 128256, True, 64), (128, 2048, 512, True, 64)])
def test_choice_matches_the_wheel_with_activations_in_dram_or_l1(device, m, k, n, a_in_l1, want):
    a = _meta(device, (1, 1, m, k), ttnn.L1_MEMORY_CONFIG if a_in_l1 else ttnn.DRAM_MEMORY_CONFIG)
    assert _choice(a, _meta(device, (1, 1, k, n))) == want


def test_a_passed_program_config_gives_its_own_block(device):
    cfg = ttnn.MatmulMultiCoreReuseMultiCast1DProgramConfig(
        compute_with_storage_grid_size=(8, 8), in0_block_w=4, out_subblock_h=1, out_subblock_w=1, per_core_M=1,
        per_core_N=1, fuse_batch=True, fused_activation=None, mcast_in0=True)
    assert _choice(_meta(device, (1, 1, 32, 2048)), _meta(device, (1, 1, 2048, 2048)), program_config=cfg) == 4


def test_2d_block_is_lowered_until_one_core_fits_l1(device):
    """The 2D config's K / 8 block shrinks to the largest divisor whose buffers fit the L1 below the L1 buffers
    for one core's whole output block (4 x 4 tiles here: 2 x 2 x 4 x d x 2 KiB of inputs plus 64 KiB; d = 32
    fits the 1.39 MB a core has, 64 does not); with L1 buffers below it, a smaller one."""
    a, b = _meta(device, (1, 1, 1024, 65536)), _meta(device, (1, 1, 65536, 1024))  # Kt / 8 = 256 tiles
    assert _choice(a, b) == 32
    taken = _meta(device, (1, 1, 2048, 4096), ttnn.L1_MEMORY_CONFIG)  # 8192 tiles: 256 KiB per core
    assert _choice(a, b) == 32  # 1,131,168 B left: 32 needs 1,114,112
    more = _meta(device, (1, 1, 2048, 4096), ttnn.L1_MEMORY_CONFIG)
    assert _choice(a, b) == 16  # 869,024 B left: 16 needs 589,824
    ttnn.deallocate(more)
    ttnn.deallocate(taken)


# ----------------------------------------------------------------------------- ttnn.linear end to end


def _linear_card(device, x, w, **kwargs):
    xt, wt = (ttnn.from_torch(t, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device) for t in (x, w))
    with numerics_mode.use("card"):
        return ttnn.to_torch(ttnn.linear(xt, wt, **kwargs)).float().reshape(x.shape[-2], w.shape[-1])


def test_linear_accumulates_k_in_the_chosen_blocks(device):
    """A default-config bf16 linear (HiFi2, BF16 Dst, packer_l1_acc; 1D multicast, in0_block_w 2) is the
    specification's blocking by 2; its one-block result differs."""
    x, w = kb.operands(32, 512, 64, seed=4)
    got = _linear_card(device, x, w)
    assert torch.equal(got, kb.blocked(x, w, "HiFi2", False, 2, "l1acc"))
    assert not torch.equal(got, kb.blocked(x, w, "HiFi2", False, 16, "l1acc"))


def test_linear_without_l1_accumulation_is_one_block(device):
    x, w = kb.operands(32, 512, 64, seed=5)
    cfg = ttnn.WormholeComputeKernelConfig(math_fidelity=ttnn.MathFidelity.HiFi2, packer_l1_acc=False)
    assert torch.equal(_linear_card(device, x, w, compute_kernel_config=cfg),
                       kb.blocked(x, w, "HiFi2", False, 16, "l1acc"))


@pytest.mark.parametrize("fp32", (False, True), ids=("bf16_dst", "fp32_dst"))
def test_linear_adds_a_fused_bias_to_the_partials_on_the_fpu(device, fp32):
    """A bias: every K block folded into the partials, then the bias stage's ELWADD of partials (SrcA: TF32 for
    Float32 partials) and the bias row (``card_binary.fpu``), then the packer."""
    x, w = kb.operands(32, 256, 64, seed=6)
    bias = torch.randn(1, 64).bfloat16().float()
    cfg = ttnn.WormholeComputeKernelConfig(math_fidelity=ttnn.MathFidelity.HiFi2, fp32_dest_acc_en=fp32,
                                           packer_l1_acc=True)
    bt = ttnn.from_torch(bias.reshape(1, 1, 1, 64), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    got = _linear_card(device, x, w, bias=bt, compute_kernel_config=cfg)
    partials = card_matmul.dst_torch(x, w, "HiFi2", fp32, card_matmul.KBlocking(2, fold_last=True))
    card_binary = importlib.import_module("ttbringup.emu.card_binary")
    want = card_matmul.pack(card_binary.fpu("add", partials, bias.expand(32, 64), fp32), fp32, BF16)
    assert torch.equal(got, want)
    if fp32:  # the partials' low mantissa bits are lost in SrcA: not the float32 add of before
        plain = card_matmul.pack(partials + bias, fp32, BF16)
        assert not torch.equal(got, plain)


@pytest.mark.parametrize("activation, fp32", [("silu", False), ("silu", True), ("relu", False), ("gelu", False)])
def test_linear_runs_a_fused_activation_on_the_sfpu(device, activation, fp32):
    """A fused activation is the unary op's SFPU kernel on the Dst values before the packer (``card_unary``),
    not the float32 function of exact mode."""
    card_unary = importlib.import_module("ttbringup.emu.card_unary")
    x, w = kb.operands(32, 128, 64, seed=7)
    cfg = ttnn.WormholeComputeKernelConfig(math_fidelity=ttnn.MathFidelity.HiFi2, fp32_dest_acc_en=fp32,
                                           packer_l1_acc=True)
    got = _linear_card(device, x, w, activation=activation, compute_kernel_config=cfg)
    dst = card_matmul.dst_torch(x, w, "HiFi2", fp32, card_matmul.KBlocking(2))
    ar = card_unary.Arith(False, wide=fp32)
    kernel = {"silu": lambda v: card_unary.silu(v, ar, fp32), "relu": card_unary.relu,
              "gelu": lambda v: card_unary.gelu(v, ar)}[activation]
    assert torch.equal(got, card_matmul.pack(kernel(dst), fp32, BF16))
    if activation != "relu" and not fp32:  # relu is exact; with an FP32 Dst silu rounds to the float32 one's bf16
        float32_fn = {"silu": torch.nn.functional.silu, "gelu": torch.nn.functional.gelu}[activation]
        assert not torch.equal(got, card_matmul.pack(float32_fn(dst), fp32, BF16))


def test_fused_gelu_card_mode_cannot_model_stays_float32(device):
    """An FP32 Dst gelu (rational erf) is not modelled: card mode applies the float32 gelu to the Dst values."""
    x, w = kb.operands(32, 128, 64, seed=8)
    cfg = ttnn.WormholeComputeKernelConfig(math_fidelity=ttnn.MathFidelity.HiFi2, fp32_dest_acc_en=True,
                                           packer_l1_acc=True)
    got = _linear_card(device, x, w, activation="gelu", compute_kernel_config=cfg)
    dst = card_matmul.dst_torch(x, w, "HiFi2", True, card_matmul.KBlocking(2))
    assert torch.equal(got, card_matmul.pack(torch.nn.functional.gelu(dst), True, BF16))


@pytest.mark.parametrize("bias", (False, True))
def test_block_float_output_without_l1_accumulation_spills_through_its_format(device, bias):
    """No packer_l1_acc, a BF16 Dst and a bfloat8_b output: the partials CB has the output's format, so every K
    block is packed to bfloat8_b (the device's packing) and reloaded through SrcA under the next one; with a bias
    the last block's Dst is packed there too and the bias stage reads it. Lossier than one block."""
    card_binary = importlib.import_module("ttbringup.emu.card_binary")
    x, w = kb.operands(32, 256, 64, seed=9)
    b = torch.randn(1, 64).bfloat16().float()
    d0 = None
    for k0 in range(0, 256, 64):  # in0_block_w 2 (1D multicast)
        d = kb.dst_on_top(x[:, k0:k0 + 64], w[k0:k0 + 64], "HiFi2", False, d0)
        words = formats.to_bits(d)
        codes, shared = packer.pack_bfp(words, "bf16", "bfp8_b")
        spilled = packer.bfp_value(codes, shared, "bfp8_b").to(torch.float32)
        d0 = torch.where(spilled == 0, torch.zeros_like(spilled), spilled)  # SrcA: zero exponent -> +0
    want = card_binary.fpu("add", d0, b.expand(32, 64), False) if bias else d
    want = card_matmul.pack(want, False, DataType.BFLOAT8_B)
    kwargs = {"bias": ttnn.from_torch(b.reshape(1, 1, 1, 64), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT,
                                      device=device)} if bias else {}
    cfg = ttnn.WormholeComputeKernelConfig(math_fidelity=ttnn.MathFidelity.HiFi2)  # packer_l1_acc False
    got = _linear_card(device, x, w, dtype=ttnn.bfloat8_b, compute_kernel_config=cfg, **kwargs)
    assert torch.equal(got, want)
    if not bias:
        one = card_matmul.pack(card_matmul.dst_torch(x, w, "HiFi2", False), False, DataType.BFLOAT8_B)
        assert not torch.equal(got, one)
