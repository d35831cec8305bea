"""Card numerics mode of the emulator: the switch, the 0.81.1 matmul compute configs, card-mode ttnn.matmul /
ttnn.linear against the bit-exact primitives (reference path) and the fast path's measured distance from them."""

import importlib

import pytest
import torch

import ttbringup.emu as ttnn
from ttbringup.emu.card import fpu, formats, packer

numerics_mode = importlib.import_module("ttbringup.emu.numerics_mode")
card_matmul = importlib.import_module("ttbringup.emu.card_matmul")


def dev_tensor(x, device, dtype=ttnn.bfloat16):
    return ttnn.from_torch(x, dtype=dtype, layout=ttnn.TILE_LAYOUT, device=device)


def host(t):
    return ttnn.to_torch(t).float()


def config(fidelity, fp32=False, l1_acc=False, approx=False):
    return ttnn.WormholeComputeKernelConfig(math_fidelity=fidelity, fp32_dest_acc_en=fp32, packer_l1_acc=l1_acc,
                                            math_approx_mode=approx)


# ----------------------------------------------------------------------------- the switch


@pytest.fixture
def fresh_mode(monkeypatch):
    """The mode state as at process start (the environment not read yet); restored afterwards."""
    monkeypatch.setattr(numerics_mode, "_state", {"mode": None, "reference": False})
    return monkeypatch


def test_default_is_exact(fresh_mode):
    fresh_mode.delenv("TTBRINGUP_NUMERICS", raising=False)
    assert numerics_mode.mode() == "exact" and not numerics_mode.is_card()


def test_environment_selects_card_once(fresh_mode):
    fresh_mode.setenv("TTBRINGUP_NUMERICS", "Card")
    assert numerics_mode.is_card()
    fresh_mode.setenv("TTBRINGUP_NUMERICS", "exact")  # read once: later changes do not count
    assert numerics_mode.is_card()


def test_bad_environment_value_raises(fresh_mode):
    fresh_mode.setenv("TTBRINGUP_NUMERICS", "fast")
    with pytest.raises(ValueError, match="unknown numerics mode"):
        numerics_mode.mode()


def test_use_restores_the_previous_mode(fresh_mode):
    fresh_mode.delenv("TTBRINGUP_NUMERICS", raising=False)
    with pytest.raises(RuntimeError):
        with numerics_mode.use("card", reference=True):
            assert numerics_mode.is_card() and numerics_mode.card_reference()
            raise RuntimeError("inside")
    assert numerics_mode.mode() == "exact" and not numerics_mode.card_reference()
    with pytest.raises(ValueError):
        numerics_mode.use("exact", reference=True).__enter__()
    numerics_mode.set_mode("card")
    assert numerics_mode.is_card()


# ----------------------------------------------------------------------------- default configs (facts §4)

D = ttnn.DataType


@pytest.mark.parametrize("a, b, out, fidelity", [
    (D.BFLOAT16, D.BFLOAT16, D.BFLOAT16, "HiFi2"),
    (D.BFLOAT16, D.BFLOAT8_B, D.BFLOAT16, "HiFi2"),
    (D.BFLOAT8_B, D.BFLOAT16, D.BFLOAT16, "HiFi2"),
    (D.BFLOAT8_B, D.BFLOAT8_B, D.BFLOAT16, "LoFi"),
    (D.BFLOAT8_B, D.BFLOAT4_B, D.BFLOAT16, "LoFi"),
    (D.BFLOAT4_B, D.BFLOAT4_B, D.BFLOAT8_B, "LoFi"),
    (D.FLOAT32, D.FLOAT32, D.FLOAT32, "HiFi3"),
    (D.FLOAT32, D.FLOAT32, D.BFLOAT16, "HiFi3"),
    (D.BFLOAT16, D.FLOAT32, D.FLOAT32, "HiFi2"),
])
def test_default_config_per_dtype_pair(a, b, out, fidelity):
    cfg = card_matmul.resolve_config(a, b, out)
    fp32_out = out == D.FLOAT32
    assert cfg == card_matmul.CardConfig(fidelity, fp32_out, not fp32_out, False)


def test_program_config_or_core_grid_lowers_the_default_to_lofi():
    assert card_matmul.resolve_config(D.BFLOAT16, D.BFLOAT16, D.BFLOAT16, program_config=object()).math_fidelity == "LoFi"
    assert card_matmul.resolve_config(D.BFLOAT16, D.BFLOAT16, D.BFLOAT16, core_grid=object()).math_fidelity == "LoFi"
    fp32 = card_matmul.resolve_config(D.FLOAT32, D.FLOAT32, D.FLOAT32, program_config=object())
    assert fp32.math_fidelity == "HiFi3"  # the float32 override comes last in 0.81.1


def test_passed_config_is_taken_field_by_field():
    cfg = card_matmul.resolve_config(D.BFLOAT8_B, D.BFLOAT8_B, D.BFLOAT16,
                                     config(ttnn.MathFidelity.HiFi4, fp32=True, l1_acc=False, approx=True))
    assert cfg == card_matmul.CardConfig("HiFi4", True, False, True)
    unset = card_matmul.resolve_config(D.BFLOAT16, D.BFLOAT16, D.FLOAT32, ttnn.WormholeComputeKernelConfig())
    assert unset == card_matmul.CardConfig("LoFi", False, False, True)  # the struct's defaults, not the op's


# ----------------------------------------------------------------------------- reference path = primitives


def _primitive_bf16_out(x, w, fidelity, dest):
    """The bit-exact composition by hand: unpack (bf16 exact), matmul_tiles into Dst, pack to bf16."""
    pad = -x.shape[1] % 32
    x = torch.nn.functional.pad(x, (0, pad))
    w = torch.nn.functional.pad(w, (0, 0, 0, pad))
    d = fpu.matmul_tiles(formats.to_bits(x), formats.to_bits(w), fidelity, dest)
    packed = packer.pack_fp32_to_bf16(d) if dest == "fp32" else packer.pack_bf16_to_bf16(d)
    return formats.from_bits(packed)


@pytest.mark.parametrize("fidelity, fp32", [("LoFi", False), ("HiFi2", True), ("HiFi4", False)])
def test_reference_path_is_the_bit_exact_primitive(device, fidelity, fp32):
    torch.manual_seed(3)
    a = dev_tensor(torch.randn(32, 80), device)  # K = 80: one partial tile, zero padded
    b = dev_tensor(torch.randn(80, 48), device)
    with numerics_mode.use("card", reference=True):
        out = ttnn.matmul(a, b, compute_kernel_config=config(getattr(ttnn.MathFidelity, fidelity), fp32=fp32))
    want = _primitive_bf16_out(host(a), host(b), fidelity, "fp32" if fp32 else "bf16")
    assert torch.equal(host(out).view(torch.int32), want.view(torch.int32))


def test_default_config_reaches_the_op(device):
    """No config: bf16 x bf16 runs HiFi2 with a BF16 Dst (the output is not float32)."""
    torch.manual_seed(4)
    a = dev_tensor(torch.randn(32, 64), device)
    b = dev_tensor(torch.randn(64, 32), device)
    with numerics_mode.use("card", reference=True):
        out = ttnn.matmul(a, b)
    want = _primitive_bf16_out(host(a), host(b), "HiFi2", "bf16")
    assert torch.equal(host(out).view(torch.int32), want.view(torch.int32))


def test_bfp8_output_is_the_device_packing(device):
    """bfloat8_b output: the device's codes (double rounding), not the host's re-quantisation of the value."""
    torch.manual_seed(5)
    a = dev_tensor(torch.randn(32, 64), device)
    b = dev_tensor(torch.randn(64, 64), device)
    cfg = config(ttnn.MathFidelity.HiFi4, fp32=True)
    with numerics_mode.use("card", reference=True):
        out = ttnn.matmul(a, b, dtype=ttnn.bfloat8_b, compute_kernel_config=cfg)
    d = fpu.matmul_tiles(formats.to_bits(host(a)), formats.to_bits(host(b)), "HiFi4", "fp32")
    codes, shared = packer.pack_bfp(d, "fp32", "bfp8_b")
    want = packer.bfp_value(codes, shared, "bfp8_b").float()
    assert torch.equal(host(out), want)


# ----------------------------------------------------------------------------- the fast path


def _rel_rms(v, ref):
    return float((v.double() - ref).pow(2).mean().sqrt() / ref.pow(2).mean().sqrt())


@pytest.mark.parametrize("fidelity, fp32", [("LoFi", False), ("HiFi2", False), ("HiFi2", True), ("HiFi4", True)])
def test_fast_path_against_the_reference(device, fidelity, fp32):
    """The fast path is not bit-exact (it sums each MVMUL's products exactly instead of in the hardware's
    rounded group-of-8 window and skips the BF16 Dst's 11-bit pre-rounding). Measured on 32x512x64 bf16
    normal data: 65-88 % of bf16 outputs differ with a BF16 Dst, ~15 % with an FP32 Dst; |fast - reference|
    at most 0.096 x mean |exact|; the fast path's relative RMS error against float64 is 0.70-1.16x the
    reference's. The bounds below leave ~1.5x room over those measurements, and still fail for a path that
    ignores the Dst format or the fidelity (e.g. a float32 matmul: ratio ~0.1 for a BF16 Dst)."""
    torch.manual_seed(6)
    a = dev_tensor(torch.randn(32, 512), device)
    b = dev_tensor(torch.randn(512, 64), device)
    exact = host(a).double() @ host(b).double()
    cfg = config(getattr(ttnn.MathFidelity, fidelity), fp32=fp32)
    with numerics_mode.use("card"):
        fast = host(ttnn.matmul(a, b, compute_kernel_config=cfg))
    with numerics_mode.use("card", reference=True):
        ref = host(ttnn.matmul(a, b, compute_kernel_config=cfg))
    assert float((fast - ref).abs().max()) <= 0.15 * float(exact.abs().mean())
    assert 0.5 <= _rel_rms(fast, exact) / _rel_rms(ref, exact) <= 1.6


def test_lofi_is_less_accurate_than_exact_mode(device, pcc):
    torch.manual_seed(7)
    a = dev_tensor(torch.randn(64, 1024), device)
    b = dev_tensor(torch.randn(1024, 256), device)
    exact = host(a).double() @ host(b).double()
    exact_mode = host(ttnn.matmul(a, b))
    with numerics_mode.use("card"):
        lofi = host(ttnn.matmul(a, b, compute_kernel_config=config(ttnn.MathFidelity.LoFi)))
        hifi4 = host(ttnn.matmul(a, b, compute_kernel_config=config(ttnn.MathFidelity.HiFi4, fp32=True)))
    assert pcc(exact, lofi) < pcc(exact, hifi4)
    assert pcc(exact, lofi) < pcc(exact, exact_mode)
    # (the fast path's HiFi4 + FP32 Dst is within ties of exact mode: the MVMUL window is not modelled)
    assert pcc(exact, lofi) > 0.99  # still a matmul


def test_bfp4_times_bfp4_at_lofi_is_exact_mode(device):
    """LoFi multiplies bfloat4_b operands exactly (<= 2 fraction bits fit SrcA's 4 and SrcB's 6); with an FP32
    Dst and a float32 output the sums are exact here, so card mode equals exact mode bit for bit."""
    torch.manual_seed(8)
    a = dev_tensor(torch.randn(32, 256), device, dtype=ttnn.bfloat4_b)
    b = dev_tensor(torch.randn(256, 96), device, dtype=ttnn.bfloat4_b)
    cfg = config(ttnn.MathFidelity.LoFi, fp32=True)
    exact_mode = host(ttnn.matmul(a, b, dtype=ttnn.float32, compute_kernel_config=cfg))
    with numerics_mode.use("card"):
        card = host(ttnn.matmul(a, b, dtype=ttnn.float32, compute_kernel_config=cfg))
    with numerics_mode.use("card", reference=True):
        reference = host(ttnn.matmul(a, b, dtype=ttnn.float32, compute_kernel_config=cfg))
    assert torch.equal(card, exact_mode)
    assert torch.equal(reference, exact_mode)


def test_card_mode_linear_with_bias_and_mesh(device):
    """Bias and activation go through (float32, not card-modelled); shapes and dtypes as in exact mode."""
    torch.manual_seed(9)
    a = dev_tensor(torch.randn(1, 1, 40, 96), device)
    b = dev_tensor(torch.randn(1, 1, 96, 64), device, dtype=ttnn.bfloat8_b)
    bias = dev_tensor(torch.randn(1, 1, 1, 64), device)
    want = ttnn.linear(a, b, bias=bias, activation="relu")
    with numerics_mode.use("card"):
        got = ttnn.linear(a, b, bias=bias, activation="relu")
    assert got.shape == want.shape and got.dtype == want.dtype
    assert float((host(got) - host(want)).abs().max()) <= 0.05 * float(host(want).abs().max())


def test_float32_inputs_default_to_hifi3_on_tf32(device):
    """float32 x float32 (transposed weight, ragged K): TF32 operands, HiFi3, FP32 Dst, float32 output. The card's
    error is ~1e-3 relative (TF32 truncation, HiFi3 misses A-lo x B-lo); exact mode's ~1e-7. The fast path's
    float32 outputs differ from the reference's in their low bits almost everywhere (measured 99.9 %), its
    error level matches (measured ratio 0.996)."""
    torch.manual_seed(10)
    a = dev_tensor(torch.randn(40, 200), device, dtype=ttnn.float32)
    b = dev_tensor(torch.randn(70, 200), device, dtype=ttnn.float32)
    exact = host(a).double() @ host(b).double().T
    with numerics_mode.use("card"):
        fast = host(ttnn.matmul(a, b, transpose_b=True))
    with numerics_mode.use("card", reference=True):
        ref = host(ttnn.matmul(a, b, transpose_b=True))
    exact_mode = host(ttnn.matmul(a, b, transpose_b=True))
    assert _rel_rms(ref, exact) > 1e-4 > _rel_rms(exact_mode, exact)
    assert 0.8 <= _rel_rms(fast, exact) / _rel_rms(ref, exact) <= 1.25


def test_card_mode_on_a_mesh_runs_chip_by_chip():
    """A column-parallel linear on a 1x2 mesh: each chip's card-mode product equals that chip's single-chip one."""
    mesh = ttnn.open_mesh_device(ttnn.MeshShape(1, 2))
    try:
        torch.manual_seed(11)
        x, w = torch.randn(1, 1, 32, 64), torch.randn(1, 1, 64, 128)
        tile = dict(dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT)
        a = ttnn.from_torch(x, device=mesh, mesh_mapper=ttnn.ReplicateTensorToMesh(mesh), **tile)
        b = ttnn.from_torch(w, device=mesh, mesh_mapper=ttnn.ShardTensorToMesh(mesh, dim=3), **tile)
        with numerics_mode.use("card", reference=True):
            out = ttnn.to_torch(ttnn.linear(a, b), mesh_composer=ttnn.ConcatMeshToTensor(mesh, dim=3))
    finally:
        ttnn.close_mesh_device(mesh)
    xb, wb = x[0, 0].bfloat16().float(), w[0, 0].bfloat16().float()
    want = torch.cat([_primitive_bf16_out(xb, wb[:, :64], "HiFi2", "bf16"),
                      _primitive_bf16_out(xb, wb[:, 64:], "HiFi2", "bf16")], dim=1)
    assert torch.equal(out[0, 0].float(), want)
