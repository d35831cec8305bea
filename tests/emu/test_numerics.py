"""ttbringup.emu.numerics against the real ttnn 0.81.1 golden vectors (every *.npz in
tests/data/ttnn_golden is picked up automatically), an independent numpy reference of the README
rules on random bit patterns, and the meta (data-free) path."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from ttbringup.emu import numerics as nm

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "ttnn_golden"
GOLDEN_FILES = sorted(GOLDEN.glob("*.npz"))
BITS = {"bfloat8_b": nm.BFLOAT8_B_BITS, "bfloat4_b": nm.BFLOAT4_B_BITS}


def _load(path: Path) -> dict:
    with np.load(path) as d:
        return {k: d[k] for k in d.files}


def _pad_value(d: dict) -> float:
    return float(json.loads(str(d["meta_json"])).get("pad_value", 0.0)) if "meta_json" in d else 0.0


def _crop(y: torch.Tensor, shape: tuple) -> torch.Tensor:
    """Undo nm.tile_pad: the logical region (a 0-D/1-D input is row 0)."""
    if len(shape) < 2:
        return y[0, : int(np.prod(shape))].reshape(shape)
    return y[..., : shape[-2], : shape[-1]]


def _round_trip(x: torch.Tensor, dtype: str, pad_value: float) -> torch.Tensor:
    """What ttnn.to_dtype(ttnn.Tensor(x, dtype, TILE), float32) gives, per numerics."""
    if dtype == "bfloat16":
        return nm.to_bfloat16(x).float()
    w = BITS[dtype]
    padded = nm.tile_pad(x, pad_value)
    return _crop(nm.bfp_dequantize(*nm.bfp_quantize(padded, w), w), tuple(x.shape))


_INT_HELPERS = {
    "uint32": lambda x: nm.int_to_uint32(x).numpy(),
    "int32": lambda x: nm.int_to_int32(x).numpy(),
    "float32": lambda x: x.to(torch.float32).numpy(),
    "bfloat16": lambda x: nm.to_bfloat16(x).float().numpy(),
}


def _golden_cases(d: dict):
    """(key, computed, golden) for every result array of a golden file; fails on unknown keys."""
    x = torch.from_numpy(d["input"]) if "input" in d else None
    pad = _pad_value(d)
    for key, gold in d.items():
        if key in ("input", "meta_json") or key.endswith("_input") or key.endswith("_packed"):
            continue
        if m := re.fullmatch(r"(int\d+)_to_(\w+)", key):
            src = torch.from_numpy(d[f"{m[1]}_input"])
            yield key, _INT_HELPERS[m[2]](src), gold
        elif m := re.fullmatch(r"(bfloat16|bfloat8_b|bfloat4_b)(_direct|_from_bf16)?", key):
            src = nm.to_bfloat16(x).float() if m[2] == "_from_bf16" else x
            yield key, _round_trip(src, m[1], pad).numpy(), gold
        else:
            pytest.fail(f"unknown golden key {key!r}: teach tests/emu/test_numerics.py what it means")


def _bits(a: np.ndarray) -> np.ndarray:
    return a.view(np.uint32) if a.dtype == np.float32 else a


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=[p.name for p in GOLDEN_FILES])
def test_golden_bit_exact(path):
    d = _load(path)
    checked = 0
    for key, got, gold in _golden_cases(d):
        assert got.dtype == gold.dtype and got.shape == gold.shape, key
        bad = np.flatnonzero(_bits(got).ravel() != _bits(gold).ravel())
        assert bad.size == 0, (
            f"{path.name}:{key}: {bad.size} mismatches, first at flat index {bad[0]}: "
            f"got {_bits(got).ravel()[bad[0]]:#x} want {_bits(gold).ravel()[bad[0]]:#x}")
        checked += 1
    assert checked, f"{path.name} has no result arrays"


def test_golden_folder_is_not_empty():
    assert len(GOLDEN_FILES) >= 15


PACKED = [(p, k) for p in GOLDEN_FILES for k in _load(p) if k.endswith("_packed")]


@pytest.mark.parametrize("path,key", PACKED, ids=[f"{p.name}:{k}" for p, k in PACKED])
def test_packed_device_bytes(path, key):
    d = _load(path)
    x = nm.tile_pad(torch.from_numpy(d["input"]), _pad_value(d))
    dtype = key[: -len("_packed")]
    if dtype == "bfloat16":
        assert sys.byteorder == "little"
        got = nm.face_order(nm.to_bfloat16(x).view(torch.int16)).contiguous().numpy().view(np.uint8).ravel()
    else:
        w = BITS[dtype]
        got = nm.pack_bfp_tiles(*nm.bfp_quantize(x, w), w).numpy()
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, d[key])


# ----------------------------------------------------------------------------- independent reference


def _ref_bf16_bits(bits: np.ndarray) -> np.ndarray:
    """README bf16 rule on uint32 patterns -> uint16 patterns."""
    b = bits.astype(np.uint64)
    upper, low = b >> 16, b & 0xFFFF
    up = (low > 0x8000) | ((low == 0x8000) & (upper & 1 == 1))
    r = (upper + up).astype(np.uint16)
    nan = ((b >> 23) & 0xFF == 0xFF) & (b & 0x7FFFFF != 0)
    r[nan] = 0x7FC0
    return r


def _ref_bfp(bits: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """README bfp rules on uint32 patterns [..., 16k] -> (signed code, shared exponent, decoded fp32 word)."""
    b = bits.astype(np.int64).reshape(*bits.shape[:-1], -1, 16)
    e = (b >> 23) & 0xFF
    shared = e.max(axis=-1, keepdims=True)
    m = np.where(e == 0, 0, (b & 0x7FFFFF) | (1 << 23)) >> (shared - e).clip(max=40)
    drop = 24 - w
    kept, rest, half = m >> drop, m & ((1 << drop) - 1), 1 << (drop - 1)
    code = np.minimum(kept + ((rest > half) | ((rest == half) & (kept & 1 == 1))), (1 << w) - 1)
    sign = np.where(code == 0, 0, (b >> 31) & 1)
    # decode by constructing the fp32 word: normalise the code under the shared exponent
    lead = np.floor(np.log2(np.maximum(code, 1))).astype(np.int64)
    field = shared - (w - 1 - lead)
    frac = ((code - (1 << lead)) << (23 - lead)) & 0x7FFFFF
    word = np.where(code == 0, 0, (field << 23) | frac) | (sign << 31)
    assert (field[code > 0] >= 1).all()  # decoded values are never denormal
    signed = np.where(sign == 1, -code, code)
    return signed.reshape(bits.shape), shared[..., 0], word.astype(np.uint32).reshape(bits.shape)


def _random_patterns(n_rows: int, width: int, seed: int) -> np.ndarray:
    """fp32 bit patterns of every class: uniform random words (NaN payloads, Inf-heavy exponents),
    blocks of similar magnitude around a random exponent (incl. denormal-range ones), values with
    many trailing zero fraction bits (rounding ties), zeros of both signs, denormals, +-Inf, NaNs."""
    rng = np.random.default_rng(seed)
    shape = (n_rows, width)
    words = rng.integers(0, 2**32, size=shape, dtype=np.uint64)
    base = rng.integers(0, 256, size=(n_rows, width // 16, 1))
    exps = np.clip(base - rng.integers(0, 12, size=(n_rows, width // 16, 16)), 0, 255).reshape(shape)
    tz = rng.integers(0, 24, size=shape).astype(np.uint64)
    frac = (words >> np.uint64(9)) & np.uint64(0x7FFFFF)
    frac = (frac >> tz) << tz  # trailing zeros -> exact ties
    clustered = (words & np.uint64(1 << 31)) | (exps.astype(np.uint64) << np.uint64(23)) | frac
    kind = rng.random(shape)
    out = np.where(kind < 0.25, words, clustered)
    out = np.where((kind > 0.90) & (kind < 0.93), words & np.uint64(0x80000000), out)  # +-0
    out = np.where((kind > 0.93) & (kind < 0.95), words & np.uint64(0x807FFFFF), out)  # denormals
    out = np.where((kind > 0.95) & (kind < 0.96), (words & np.uint64(0x80000000)) | np.uint64(0x7F800000), out)
    nan = (words & np.uint64(0x807FFFFF)) | np.uint64(0x7F800000)
    nan = np.where(nan & np.uint64(0x7FFFFF) == 0, nan | np.uint64(1), nan)
    out = np.where((kind > 0.96) & (kind < 0.965), nan, out)
    return out.astype(np.uint32)


PATTERNS = _random_patterns(784, 256, seed=20240)  # 200,704 values


def _as_float(bits: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(bits.view(np.float32).copy())


def test_random_patterns_cover_all_classes():
    e, f = (PATTERNS >> 23) & 0xFF, PATTERNS & 0x7FFFFF
    assert PATTERNS.size >= 200_000
    for name, mask in {"zero": (e == 0) & (f == 0), "denormal": (e == 0) & (f != 0), "inf": (e == 255) & (f == 0),
                       "nan": (e == 255) & (f != 0), "normal": (e > 0) & (e < 255)}.items():
        assert mask.sum() > 100, name


def test_bfloat16_matches_reference_on_random_patterns():
    got = nm.to_bfloat16(_as_float(PATTERNS)).view(torch.int16).numpy().view(np.uint16)
    np.testing.assert_array_equal(got, _ref_bf16_bits(PATTERNS))
    slow = nm._bf16_by_bits(_as_float(PATTERNS)).view(torch.int16).numpy().view(np.uint16)
    np.testing.assert_array_equal(slow, _ref_bf16_bits(PATTERNS))


@pytest.mark.parametrize("n", [1, 7, 15, 16, 17, 33, 100])
def test_bfloat16_every_nan_position_is_canonical(n):
    for i in range(n):
        x = torch.randn(n)
        x[i] = -float("nan")
        y = nm.to_bfloat16(x).view(torch.int16)
        assert y[i].item() == 0x7FC0
    assert nm.to_bfloat16(torch.tensor([float("nan")], dtype=torch.bfloat16)).view(torch.int16).item() == 0x7FC0


@pytest.mark.parametrize("w", [nm.BFLOAT8_B_BITS, nm.BFLOAT4_B_BITS])
def test_bfp_matches_reference_on_random_patterns(w):
    mant, exp = nm.bfp_quantize(_as_float(PATTERNS), w)
    ref_code, ref_exp, ref_word = _ref_bfp(PATTERNS, w)
    assert mant.dtype == torch.int8 and exp.dtype == torch.uint8
    np.testing.assert_array_equal(mant.numpy(), ref_code)
    np.testing.assert_array_equal(exp.numpy(), ref_exp)
    assert (exp == 255).any()  # the NaN/Inf slow path is exercised
    got = nm.bfp_dequantize(mant, exp, w).numpy().view(np.uint32)
    np.testing.assert_array_equal(got, ref_word)


@pytest.mark.parametrize("w", [nm.BFLOAT8_B_BITS, nm.BFLOAT4_B_BITS])
def test_bfp_requantize_is_idempotent(w):
    mant, exp = nm.bfp_quantize(_as_float(PATTERNS), w)
    y = nm.bfp_dequantize(mant, exp, w)
    mant2, exp2 = nm.bfp_quantize(y, w)
    assert torch.equal(mant2, mant) and torch.equal(exp2, exp)
    assert torch.equal(nm.bfp_dequantize(mant2, exp2, w).view(torch.int32), y.view(torch.int32))


@pytest.mark.parametrize("w", [nm.BFLOAT8_B_BITS, nm.BFLOAT4_B_BITS])
def test_bfp_works_on_views(w):
    x = _as_float(PATTERNS).reshape(2, -1, 256)
    mant, exp = nm.bfp_quantize(x, w)
    full = nm.bfp_dequantize(mant, exp, w)
    for lo, hi in [(0, 16), (32, 208), (240, 256)]:
        part = nm.bfp_dequantize(mant[..., lo:hi], exp[..., lo // 16: hi // 16], w)
        assert torch.equal(part.view(torch.int32), full[..., lo:hi].view(torch.int32))
        m2, e2 = nm.bfp_quantize(x[..., lo:hi], w)  # non-contiguous input
        assert torch.equal(m2, mant[..., lo:hi]) and torch.equal(e2, exp[..., lo // 16: hi // 16])
    xt = x.transpose(-1, -2).contiguous().transpose(-1, -2)  # same values, column-major strides
    mt, et = nm.bfp_quantize(xt, w)
    assert torch.equal(mt, mant) and torch.equal(et, exp)


def test_bfp_exact_with_denormal_scales():
    """Shared exponents 1..8 use denormal fp32 scales; products must still be exact."""
    bits = np.zeros((8, 16), dtype=np.uint32)
    for r in range(8):
        bits[r] = ((r + 1) << 23) | np.arange(16, dtype=np.uint32) * 0x7FFFF
        bits[r, 1::2] = 0x00800000 | np.arange(8, dtype=np.uint32) * 0x100000  # exponent field 1
    for w in (nm.BFLOAT8_B_BITS, nm.BFLOAT4_B_BITS):
        mant, exp = nm.bfp_quantize(_as_float(bits), w)
        got = nm.bfp_dequantize(mant, exp, w).numpy().view(np.uint32)
        np.testing.assert_array_equal(got, _ref_bfp(bits, w)[2])


def test_bad_arguments():
    with pytest.raises(ValueError):
        nm.bfp_quantize(torch.zeros(2, 24), 7)
    with pytest.raises(ValueError):
        nm.bfp_quantize(torch.zeros(2, 32), 8)
    with pytest.raises(TypeError):
        nm.bfp_quantize(torch.zeros(2, 32, dtype=torch.float64), 7)
    with pytest.raises(ValueError):
        nm.bfp_dequantize(torch.zeros(2, 32, dtype=torch.int8), torch.zeros(2, 1, dtype=torch.uint8), 7)


# ----------------------------------------------------------------------------- helpers


def test_tile_pad_shapes_and_values():
    assert nm.tile_pad(torch.ones(40)).shape == (32, 64)
    assert nm.tile_pad(torch.ones(2, 3, 33, 65)).shape == (2, 3, 64, 96)
    x = torch.ones(64, 32)
    assert nm.tile_pad(x) is x
    y = nm.tile_pad(torch.ones(20, 20), pad_value=100.0)
    assert y.shape == (32, 32) and y[:20, :20].eq(1).all() and y[20:].eq(100).all() and y[:, 20:].eq(100).all()
    assert nm.tile_pad(torch.ones(3, 5), tile=(16, 16)).shape == (16, 16)


def test_int_wrapping_helpers():
    x = torch.tensor([-(2**31) - 1, -1, 2**31, 2**32 + 5, 2**40 - 1], dtype=torch.int64)
    assert nm.int_to_int32(x).tolist() == [2**31 - 1, -1, -(2**31), 5, -1]
    assert nm.int_to_uint32(x).to(torch.int64).tolist() == [2**31 - 1, 2**32 - 1, 2**31, 5, 2**32 - 1]
    assert nm.int_to_int32(x).dtype == torch.int32 and nm.int_to_uint32(x).dtype == torch.uint32


# ----------------------------------------------------------------------------- meta device


@pytest.mark.parametrize("w", [nm.BFLOAT8_B_BITS, nm.BFLOAT4_B_BITS])
def test_meta_path(w):
    x = torch.empty(3, 2, 64, 96, device="meta")
    b = nm.to_bfloat16(x)
    assert b.is_meta and b.dtype == torch.bfloat16 and b.shape == x.shape
    mant, exp = nm.bfp_quantize(x, w)
    assert mant.is_meta and mant.dtype == torch.int8 and mant.shape == x.shape
    assert exp.is_meta and exp.dtype == torch.uint8 and exp.shape == (3, 2, 64, 6)
    y = nm.bfp_dequantize(mant[..., 16:64], exp[..., 1:4], w)
    assert y.is_meta and y.dtype == torch.float32 and y.shape == (3, 2, 64, 48)
    packed = nm.pack_bfp_tiles(mant, exp, w)
    assert packed.is_meta and packed.dtype == torch.uint8
    assert packed.shape == (3 * 2 * 2 * 3 * (1088 if w == 7 else 576),)
    p = nm.tile_pad(torch.empty(5, 40, device="meta"), 1.0)
    assert p.is_meta and p.shape == (32, 64)
