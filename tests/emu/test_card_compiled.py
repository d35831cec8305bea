"""The compiled card-mode matmul kernel (``card.compiled``) against the torch formulation (``card_matmul.dst_torch``)
it replaces, and card mode's fallback to that formulation when the kernel cannot be built. (Both are checked
against the bit-exact reference and the plain formulation in test_card_fast_path.py.)"""

import importlib
import shutil

import pytest
import torch

from ttbringup.emu.card import compiled, fpu

card_matmul = importlib.import_module("ttbringup.emu.card_matmul")


@pytest.fixture(scope="module")
def kernel():
    """The built kernel. Only a machine without a C++ compiler may lack it (the requirements install ninja)."""
    if compiled.module() is None:
        if shutil.which("g++") is None and shutil.which("c++") is None:
            pytest.skip("no C++ compiler: card mode runs the torch formulation here")
        pytest.fail(compiled.status())
    return compiled.module()


def _weight(k, n, layout, dtype, seed):
    g = torch.Generator().manual_seed(seed)
    if layout == "k_major":  # as from_torch stores large weights
        w = torch.randn(n, k, generator=g).T
    elif layout == "n_major":
        w = torch.randn(k, n, generator=g)
    else:  # a strided view: every other column of a wider weight
        w = torch.randn(k, 2 * n, generator=g)[:, ::2]
    w = w / k ** 0.5
    return w.bfloat16() if dtype == "bf16" else card_matmul.src_values(w.float(), card_matmul.DataType.FLOAT32)


# decode rows (1, 2), a few and many rows; K and N whole tiles and not (the edge tiles); N-major, K-major, strided
SHAPES = [(1, 2048, 512), (2, 1024, 96), (5, 200, 70), (37, 80, 48), (64, 64, 33)]


@pytest.mark.parametrize("m, k, n", SHAPES)
@pytest.mark.parametrize("layout", ("k_major", "n_major", "strided"))
@pytest.mark.parametrize("w_dtype", ("bf16", "tf32"))
@pytest.mark.parametrize("fidelity", ("LoFi", "HiFi2", "HiFi3", "HiFi4"))
@pytest.mark.parametrize("fp32_dest", (False, True), ids=("bf16_dst", "fp32_dst"))
def test_kernel_matches_the_torch_formulation(kernel, m, k, n, layout, w_dtype, fidelity, fp32_dest):
    """BF16 Dst: bit for bit on these random cases (the Dst rounding after each chunk hides the order of a chunk's
    16-term float32 sum except in rare ties: 0.002-0.05 % of a real-shape decode step's outputs).
    FP32 Dst: the two sum a chunk's products in different orders, so outputs differ by the float32 rounding of
    those sums: measured at most 2^-24.8 x sum|x w| on these shapes; asserted 2^-22."""
    torch.manual_seed(m * 1000 + k + n)
    x = torch.randn(m, k).bfloat16().float()
    w = _weight(k, n, layout, w_dtype, seed=n)
    got = compiled.dst(x, w, fpu.phases(fidelity), fp32_dest)
    want = card_matmul.dst_torch(x, w, fidelity, fp32_dest)
    assert got.shape == (m, n) and got.dtype == torch.float32
    if not fp32_dest:
        assert torch.equal(got.view(torch.int32), want.view(torch.int32))
    else:
        magnitude = x.double().abs() @ w.double().abs()
        assert bool(((got.double() - want.double()).abs() <= 2.0 ** -22 * magnitude).all())


def test_kernel_result_does_not_depend_on_the_thread_count(kernel):
    torch.manual_seed(3)
    x = torch.randn(2, 512).bfloat16().float()
    w = _weight(512, 1000, "k_major", "bf16", seed=4)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = compiled.dst(x, w, fpu.phases("HiFi2"), True)
        torch.set_num_threads(2)
        two = compiled.dst(x, w, fpu.phases("HiFi2"), True)
    finally:
        torch.set_num_threads(before)
    assert torch.equal(one.view(torch.int32), two.view(torch.int32))


def test_dst_fast_uses_the_kernel(kernel, monkeypatch):
    calls = []
    real = compiled.dst
    monkeypatch.setattr(compiled, "dst", lambda *a: calls.append(a) or real(*a))
    x, w = torch.randn(3, 64).bfloat16().float(), torch.randn(64, 32).bfloat16()
    card_matmul.dst_fast(x, w, "HiFi2", False)
    assert len(calls) == 1


def test_kernel_refuses_what_it_cannot_compute(kernel):
    with pytest.raises(RuntimeError, match=r"x \[M, K\], w \[K, N\]"):
        kernel.dst(torch.zeros(2, 64), torch.zeros(32, 8), [0], False, 0, False)
    with pytest.raises(RuntimeError, match="w must be bfloat16 or float32"):
        kernel.dst(torch.zeros(2, 64), torch.zeros(64, 8, dtype=torch.float64), [0], False, 0, False)
    with pytest.raises(RuntimeError, match="a phase is 0..3"):
        kernel.dst(torch.zeros(2, 64), torch.zeros(64, 8), [4], False, 0, False)
    with pytest.raises(RuntimeError, match="block_tiles must be >= 0"):
        kernel.dst(torch.zeros(2, 64), torch.zeros(64, 8), [0], False, -1, False)


def test_without_the_kernel_card_mode_warns_once_and_uses_the_torch_formulation(monkeypatch):
    """A failed build is reported in one warning line with its reason, not retried, and ``dst_fast`` then
    computes by ``dst_torch`` (same values)."""
    def failing_build():
        raise RuntimeError("Ninja is required to load C++ extensions\nsecond line")

    monkeypatch.setattr(compiled, "_build", failing_build)
    monkeypatch.setattr(compiled, "_state", {"module": None, "tried": False, "reason": "not built yet"})
    x, w = torch.randn(2, 96).bfloat16().float(), torch.randn(96, 40).bfloat16()
    with pytest.warns(RuntimeWarning, match="cannot build the compiled matmul kernel: Ninja is required") as record:
        got = card_matmul.dst_fast(x, w, "HiFi2", False)
        card_matmul.dst_fast(x, w, "HiFi2", False)
    assert len(record) == 1 and "second line" not in str(record[0].message)
    assert compiled.status().startswith("cannot build the compiled matmul kernel: Ninja is required")
    assert torch.equal(got, card_matmul.dst_torch(x, w, "HiFi2", False))


@pytest.mark.parametrize("dtype_name", ("bfloat8_b", "bfloat4_b"))
@pytest.mark.parametrize("m, k, n", [(1, 256, 96), (2, 200, 70), (37, 80, 48)])
@pytest.mark.parametrize("fp32_dest", (False, True), ids=("bf16_dst", "fp32_dst"))
def test_block_float_weights_read_as_stored_equal_the_decoded_ones(kernel, device, dtype_name, m, k, n, fp32_dest):
    """The kernel reading a bfloat8_b / bfloat4_b weight's codes and shared exponents gives the Dst values of the
    kernel on its decoded values, bit for bit (the same values reach SrcA); K and N past whole tiles included."""
    import ttbringup.emu as ttnn

    torch.manual_seed(k + n)
    w = ttnn.from_torch(torch.randn(k, n), dtype=getattr(ttnn, dtype_name), layout=ttnn.TILE_LAYOUT, device=device)
    x = torch.randn(m, k).bfloat16().float()
    stored = w._value
    mant, exp = stored.mant.reshape(stored.mant.shape[-2:]), stored.exp.reshape(stored.exp.shape[-2:])
    got = card_matmul.dst_fast_block_float(x, mant, exp, stored.bits, n, "HiFi2", fp32_dest)
    want = compiled.dst(x, stored.decode().reshape(k, n), fpu.phases("HiFi2"), fp32_dest)
    assert torch.equal(got.view(torch.int32), want.view(torch.int32))


def test_card_linear_reads_block_float_weights_as_stored_and_decodes_special_blocks(kernel, device, monkeypatch):
    """``ttnn.linear`` in card mode takes the stored path for a block-float weight; a weight with a block of the
    special exponent 255 (inf / NaN codes) is decoded instead, and both give the decoded path's values."""
    import ttbringup.emu as ttnn

    numerics_mode = importlib.import_module("ttbringup.emu.numerics_mode")
    stored_calls = []
    real = compiled.dst_block_float
    monkeypatch.setattr(compiled, "dst_block_float", lambda *a: stored_calls.append(1) or real(*a))
    torch.manual_seed(5)
    values = torch.randn(64, 96)
    x = ttnn.from_torch(torch.randn(3, 64), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    for special in (False, True):
        if special:
            values[3, 17] = float("inf")
        w = ttnn.from_torch(values, dtype=ttnn.bfloat8_b, layout=ttnn.TILE_LAYOUT, device=device)
        stored_calls.clear()
        with numerics_mode.use("card"):
            got = ttnn.to_torch(ttnn.linear(x, w, dtype=ttnn.float32))
        want = card_matmul.dst_fast(ttnn.to_torch(x).float(), ttnn.to_torch(w).float(), "HiFi2", True)  # fp32 out
        assert len(stored_calls) == (0 if special else 1)
        finite = torch.isfinite(want)
        assert torch.equal(torch.isfinite(got), finite) and torch.equal(got[finite], want[finite])


@pytest.mark.parametrize("age_s, removed", [(3600, True), (5, False)], ids=("stale", "a build in progress"))
def test_a_lock_left_by_a_killed_build_is_removed_and_a_fresh_one_kept(tmp_path, monkeypatch, age_s, removed):
    """torch's builder waits as long as its lock file exists: a lock older than STALE_LOCK_SECONDS is removed with a
    warning before the build; a recent one (another process building now) is left to torch's wait."""
    import os
    import time
    import warnings

    from torch.utils import cpp_extension

    monkeypatch.setenv("TORCH_EXTENSIONS_DIR", str(tmp_path))
    folder = compiled.build_directory(compiled.isa())
    folder.mkdir(parents=True)
    lock = folder / "lock"
    lock.touch()
    os.utime(lock, (time.time() - age_s, time.time() - age_s))
    seen = {}
    monkeypatch.setattr(cpp_extension, "load", lambda *a, **kw: seen.update(lock=lock.exists(), **kw) or "module")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert compiled._build() == "module"
    assert seen["build_directory"] == str(folder)
    assert seen["lock"] is not removed
    assert any("stale build lock" in str(w.message) for w in caught) is removed
