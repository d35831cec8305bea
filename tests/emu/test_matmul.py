"""ttnn.linear / ttnn.matmul of the emulator against torch on the same device-rounded inputs."""

import importlib
import inspect

import pytest
import torch

import ttbringup.emu as ttnn
from ttbringup.emu.errors import NotEmulatedError, TTError

mm = importlib.import_module("ttbringup.emu.matmul")  # the package attribute is the function


def dev_tensor(x, device, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, **kw):
    return ttnn.from_torch(x, dtype=dtype, layout=layout, device=device, **kw)


def host(t):
    return ttnn.to_torch(t).float()


@pytest.mark.parametrize("wdtype", [ttnn.bfloat16, ttnn.bfloat8_b, ttnn.bfloat4_b, ttnn.float32])
def test_linear_rank3_by_rank4_weight(device, pcc, wdtype):
    torch.manual_seed(0)
    a = dev_tensor(torch.randn(1, 37, 100), device)
    b = dev_tensor(torch.randn(1, 1, 100, 70), device, dtype=wdtype)
    out = ttnn.linear(a, b)
    assert out.shape == [1, 1, 37, 70] and out.padded_shape == [1, 1, 64, 96]
    assert out.dtype == ttnn.bfloat16 and out.layout == ttnn.TILE_LAYOUT
    assert out.memory_config() == ttnn.DRAM_MEMORY_CONFIG
    ref = host(a) @ host(b)[0, 0]
    assert pcc(ref, host(out)[0, 0]) >= 0.999


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 128 columns for K = 256, so small weights take several chunks and a ragged last one."""
    monkeypatch.setattr(mm, "_CHUNK_ELEMENTS", 128 * 256)


@pytest.mark.parametrize("wdtype", [ttnn.bfloat8_b, ttnn.bfloat4_b])
def test_block_float_weight_matches_dequantised_weight(device, small_chunks, wdtype):
    """float32 output, so only summation order differs from torch on the decoded weight."""
    torch.manual_seed(1)
    a = dev_tensor(torch.randn(1, 1, 40, 256), device)
    b = dev_tensor(torch.randn(1, 1, 256, 300) * 0.02, device, dtype=wdtype)
    out = ttnn.linear(a, b, dtype=ttnn.float32)
    ref = host(a)[0, 0] @ host(b)[0, 0]
    assert out.dtype == ttnn.float32
    torch.testing.assert_close(host(out)[0, 0], ref, rtol=1e-4, atol=1e-4)


def test_bf16_weight_is_exact_up_to_one_rounding(device, small_chunks):
    """A bf16 weight wider than one chunk: float32 math, then a single RNE rounding to bf16."""
    torch.manual_seed(2)
    a = dev_tensor(torch.randn(64, 256), device)
    b = dev_tensor(torch.randn(256, 450), device)
    out = ttnn.matmul(a, b)
    ref = (host(a).double() @ host(b).double()).float().bfloat16().float()
    got = host(out)
    # fp32 and fp64 sums round to the same bf16 value except near ties: then one bf16 step apart
    assert (got != ref).float().mean() < 0.01
    torch.testing.assert_close(got, ref, rtol=2 ** -7, atol=1e-3)


@pytest.mark.parametrize("wdtype", [ttnn.bfloat16, ttnn.bfloat8_b])
def test_transpose_b(device, pcc, small_chunks, wdtype):
    torch.manual_seed(3)
    a = dev_tensor(torch.randn(1, 1, 33, 64), device)
    bt = dev_tensor(torch.randn(1, 1, 300, 64), device, dtype=wdtype)
    out = ttnn.linear(a, bt, transpose_b=True)
    assert out.shape == [1, 1, 33, 300]
    assert pcc(host(a) @ host(bt).transpose(-1, -2), host(out)) >= 0.999


def test_transpose_a(device, pcc):
    a = dev_tensor(torch.randn(1, 64, 40), device)
    b = dev_tensor(torch.randn(64, 32), device)
    out = ttnn.matmul(a, b, transpose_a=True)
    assert out.shape == [1, 40, 32]
    assert pcc(host(a).transpose(-1, -2) @ host(b), host(out)) >= 0.999


def test_bias_and_activation(device, pcc):
    torch.manual_seed(4)
    a = dev_tensor(torch.randn(1, 1, 20, 64), device)
    b = dev_tensor(torch.randn(1, 1, 64, 96), device)
    bias = dev_tensor(torch.randn(1, 1, 1, 96), device)
    out = ttnn.linear(a, b, bias=bias, activation="silu")
    ref = torch.nn.functional.silu(host(a) @ host(b) + host(bias))
    assert pcc(ref, host(out)) >= 0.999


def test_batched_matmul(device, pcc):
    q = dev_tensor(torch.randn(1, 4, 40, 64), device)
    k = dev_tensor(torch.randn(1, 4, 64, 40), device)
    out = ttnn.matmul(q, k)
    assert out.shape == [1, 4, 40, 40] and out.padded_shape == [1, 4, 64, 64]
    assert pcc(host(q) @ host(k), host(out)) >= 0.999


def test_vector_times_matrix(device, pcc):
    a = dev_tensor(torch.randn(64), device)
    b = dev_tensor(torch.randn(64, 48), device)
    out = ttnn.matmul(a, b)
    assert out.shape == [48]
    assert pcc(host(a) @ host(b), host(out)) >= 0.999


def test_memory_config_and_dtype_arguments(device):
    a = dev_tensor(torch.randn(32, 64), device)
    b = dev_tensor(torch.randn(64, 32), device)
    out = ttnn.linear(a, b, memory_config=ttnn.L1_MEMORY_CONFIG, dtype=ttnn.bfloat8_b)
    assert out.memory_config() == ttnn.L1_MEMORY_CONFIG and out.dtype == ttnn.bfloat8_b


def test_signatures_match_the_wheel():
    lin = inspect.signature(ttnn.linear).parameters
    assert list(lin)[:3] == ["input_tensor_a", "input_tensor_b", "bias"]
    assert lin["bias"].kind == inspect.Parameter.KEYWORD_ONLY and "in0_column_offset" in lin
    assert "bias" not in inspect.signature(ttnn.matmul).parameters


def test_k_mismatch_raises(device):
    a = dev_tensor(torch.randn(32, 64), device)
    b = dev_tensor(torch.randn(96, 32), device)
    with pytest.raises(TTError, match="The width of the first tensor must be equal to the height"):
        ttnn.linear(a, b)


def test_requires_tile_and_device(device):
    a = dev_tensor(torch.randn(32, 64), device)
    b_rm = dev_tensor(torch.randn(64, 32), device, layout=ttnn.ROW_MAJOR_LAYOUT)
    with pytest.raises(TTError, match="Inputs to matmul must be tilized"):
        ttnn.matmul(a, b_rm)
    b_host = ttnn.from_torch(torch.randn(64, 32), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT)
    with pytest.raises(TTError, match="Operands to matmul need to be on device!"):
        ttnn.matmul(a, b_host)


def test_integer_dtype_rejected(device):
    a = dev_tensor(torch.randint(0, 5, (32, 64)), device, dtype=ttnn.int32)
    b = dev_tensor(torch.randn(64, 32), device)
    with pytest.raises(TTError, match="Unsupported data format"):
        ttnn.matmul(a, b)


def test_batch_mismatch_raises(device):
    a = dev_tensor(torch.randn(1, 2, 32, 64), device)
    b = dev_tensor(torch.randn(1, 3, 64, 32), device)
    with pytest.raises(TTError, match="bmm \\(non-bcast matmul\\)"):
        ttnn.matmul(a, b)


def test_bias_checks(device):
    a = dev_tensor(torch.randn(32, 64), device)
    b = dev_tensor(torch.randn(64, 64), device)
    narrow = dev_tensor(torch.randn(1, 32), device)
    with pytest.raises(TTError, match="padded last dimension of bias"):
        ttnn.linear(a, b, bias=narrow)
    batched = dev_tensor(torch.randn(2, 1, 1, 64), device)
    with pytest.raises(TTError, match="batch size not equal to 1"):
        ttnn.linear(a, b, bias=batched)


def test_unimplemented_arguments_are_not_emulated(device):
    a = dev_tensor(torch.randn(32, 64), device)
    b = dev_tensor(torch.randn(64, 32), device)
    with pytest.raises(NotEmulatedError):
        ttnn.linear(a, b, activation="mish")
    with pytest.raises(NotEmulatedError):
        ttnn.linear(a, b, in0_column_offset=32)
    ttnn.linear(a, b, compute_kernel_config=ttnn.WormholeComputeKernelConfig(math_fidelity=ttnn.MathFidelity.HiFi4),
                core_grid=ttnn.CoreGrid(x=8, y=8))  # perf-only arguments are accepted


def test_deallocated_input_raises(device):
    a = dev_tensor(torch.randn(32, 64), device)
    b = dev_tensor(torch.randn(64, 32), device, dtype=ttnn.bfloat8_b)
    ttnn.deallocate(b)
    with pytest.raises(TTError, match="not allocated"):
        ttnn.linear(a, b)


@pytest.mark.parametrize("wdtype", [ttnn.bfloat16, ttnn.bfloat8_b])
def test_data_free_inputs_give_shapes(device, wdtype):
    a = dev_tensor(torch.empty(1, 128, 2048, device="meta"), device)
    b = dev_tensor(torch.empty(1, 1, 2048, 8192, device="meta"), device, dtype=wdtype)
    bias = dev_tensor(torch.randn(1, 1, 1, 8192), device)
    out = ttnn.linear(a, b, bias=bias, activation="gelu")
    assert out.is_data_free() and out.shape == [1, 1, 128, 8192] and out.dtype == ttnn.bfloat16


def test_chunk_width_is_tile_aligned():
    for k in (64, 1000, 2048, 8192, 14336, 1 << 20):
        w = mm._chunk_columns(k)
        assert w % 32 == 0 and 128 <= w <= 4096


@pytest.fixture
def k_major_small(monkeypatch):
    """Store even small bf16 weights K-major, as from_torch stores large ones."""
    monkeypatch.setattr(importlib.import_module("ttbringup.emu.core"), "_K_MAJOR_MIN_ELEMENTS", 1)


@pytest.mark.parametrize("transpose_b", [False, True])
def test_decode_batch_few_distinct_rows_on_k_major_weight(device, k_major_small, transpose_b):
    """32 rows, 31 of them equal (idle decode users): the bf16 fast path, still one rounding."""
    torch.manual_seed(4)
    rows = torch.randn(32, 256)
    rows[1:] = torch.randn(256)
    a = dev_tensor(rows.reshape(1, 1, 32, 256), device)
    w = torch.randn(300, 256) if transpose_b else torch.randn(256, 300)
    b = dev_tensor(w.reshape(1, 1, *w.shape), device)
    assert ttnn.to_torch(b).is_contiguous()  # storage order does not leak
    out = ttnn.linear(a, b, transpose_b=transpose_b)
    w64 = w.bfloat16().double()
    ref = (host(a).double() @ (w64.T if transpose_b else w64)).float().bfloat16().float()
    got = host(out)
    assert (got != ref).float().mean() < 0.01
    torch.testing.assert_close(got, ref, rtol=2 ** -7, atol=1e-3)
    assert torch.equal(got[0, 0, 1:], got[0, 0, 1:2].expand(31, -1))


@pytest.mark.parametrize("pattern", ["trailing", "scattered"])
def test_rows_equal_to_the_last_are_exact_wherever_they_sit(device, k_major_small, pattern):
    """Only a trailing run of rows equal to the last is multiplied once and fanned out; copies of the last row
    elsewhere (between distinct rows) are multiplied as ordinary rows: both give the float64 product, rounded."""
    torch.manual_seed(6)
    rows = torch.randn(32, 128)
    if pattern == "trailing":
        rows[20:] = rows[31].clone()
    else:
        rows[[2, 5, 9, 17]] = rows[31].clone()
    a = dev_tensor(rows, device)
    w = torch.randn(128, 96)
    out = host(ttnn.linear(a, dev_tensor(w, device)))
    ref = (host(a).double() @ w.bfloat16().double()).float().bfloat16().float()
    torch.testing.assert_close(out, ref, rtol=2 ** -7, atol=1e-3)
    copies = [i for i in range(32) if torch.equal(rows[i], rows[31])]
    assert all(torch.equal(out[i], out[31]) for i in copies)


@pytest.mark.parametrize("out_dtype", [ttnn.float32, ttnn.bfloat8_b])
def test_repeated_rows_keep_float32_math_for_other_output_dtypes(device, k_major_small, out_dtype):
    """Non-bf16 outputs never take the bf16 kernel: equal to the all-distinct computation."""
    torch.manual_seed(5)
    rows = torch.randn(32, 256)
    rows[3:] = rows[3]
    a = dev_tensor(rows, device)
    b = dev_tensor(torch.randn(256, 96), device)
    out = ttnn.linear(a, b, dtype=out_dtype)
    distinct = ttnn.linear(dev_tensor(rows[:4], device), b, dtype=ttnn.float32)
    ref = ttnn.to_torch(distinct).float()
    ref = torch.cat([ref[:3], ref[3:4].expand(29, -1)])
    if out_dtype == ttnn.float32:
        torch.testing.assert_close(host(out), ref, rtol=1e-5, atol=1e-5)
    else:
        assert torch.equal(host(out), ttnn.to_torch(dev_tensor(ref, device, dtype=out_dtype)).float())


@pytest.fixture
def no_bf16_instructions(monkeypatch):
    """The matmul as on a CPU without bf16 instructions: many rows widen the weight to float32."""
    monkeypatch.setattr(importlib.import_module("ttbringup.emu.host_cpu"), "fast_bf16", lambda: False)


def test_k_major_weight_with_many_rows_matches_row_major(device, small_chunks, no_bf16_instructions, monkeypatch):
    """Prefill (many distinct rows) widens K-major storage chunk by chunk: same result as row-major."""
    torch.manual_seed(6)
    a = dev_tensor(torch.randn(64, 256), device)
    w = torch.randn(256, 450)
    row_major = ttnn.matmul(a, dev_tensor(w, device))
    monkeypatch.setattr(importlib.import_module("ttbringup.emu.core"), "_K_MAJOR_MIN_ELEMENTS", 1)
    k_major = ttnn.matmul(a, dev_tensor(w, device))
    assert torch.equal(host(row_major), host(k_major))


def _one_bf16_ulp(x: torch.Tensor) -> torch.Tensor:
    """The spacing of bf16 values at |x| (8 significant bits)."""
    return torch.exp2(torch.floor(torch.log2(x.abs().clamp_min(2.0**-126))) - 7)


@pytest.mark.parametrize("wdtype", [ttnn.bfloat16, ttnn.bfloat8_b, ttnn.bfloat4_b])
@pytest.mark.parametrize("rows", [32, 128])
def test_bf16_kernel_agrees_with_the_float32_path_up_to_summation_order(device, monkeypatch, wdtype, rows):
    """Real-shape projection (Llama-3.2-1B's q_proj, K = N = 2048): the bf16 kernel and the widened float32 path
    both round one float32 sum to bf16, so they differ at most by one bf16 step where the summation order tips a
    rounding (plus float32 summation noise, which matters only where the sum cancels to near zero), and both are
    within that of the float64 product."""
    torch.manual_seed(7)
    a = dev_tensor(torch.randn(1, 1, rows, 2048), device)
    b = dev_tensor(torch.randn(1, 1, 2048, 2048) * 0.02, device, dtype=wdtype)
    host_cpu = importlib.import_module("ttbringup.emu.host_cpu")
    monkeypatch.setattr(host_cpu, "fast_bf16", lambda: True)
    kernel = host(ttnn.linear(a, b))
    monkeypatch.setattr(host_cpu, "fast_bf16", lambda: False)
    widened = host(ttnn.linear(a, b))
    exact = (host(a).double() @ host(b).double()).float()
    step = _one_bf16_ulp(exact) + 2.0**-20 * (host(a).abs() @ host(b).abs())
    assert ((kernel - widened).abs() <= step).all()
    assert ((kernel - exact).abs() <= step).all() and ((widened - exact).abs() <= step).all()
    assert (kernel != widened).float().mean() < 0.02  # rare ties of summation order, not a different computation
