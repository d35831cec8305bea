"""ttbringup.emu.card against the bit-exact Wormhole B0 golden vectors in tests/data/card_golden
(generated from Tenstorrent's ttsim; the README there explains every case), and against the
hardware-measured values that README and docs list.

Each golden file is recomputed from its inputs and metadata with the card primitives only, and
every ``output*`` array it holds must agree bit for bit.  A file with an unknown composition or an
output key the test does not know fails instead of being skipped."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ttbringup.emu.card import dst as dst_mod
from ttbringup.emu.card import formats, fpu, packer, sfpu, unpacker

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "card_golden"
GOLDEN_FILES = sorted(GOLDEN.glob("*.npz"))

# The files this test is written for (tests/data/card_golden/README.md, "Files"): the golden set
# must be exactly these, so a missing or added file fails loudly instead of being skipped.
_FIDS = ("LoFi", "HiFi2", "HiFi3", "HiFi4")
EXPECTED_FILES = sorted(
    [f"matmul_1x1x1_{f}_{d}dst_{dist}.npz" for f in _FIDS for d in ("bf16", "fp32")
     for dist in ("normal", "wide_exp", "mant_ones", "special", "near_overflow")]
    + [f"matmul_1x4x1_{f}_{d}dst_normal.npz" for f in _FIDS for d in ("bf16", "fp32")]
    + [f"eltwise_mul_{f}_{d}dst_{dist}.npz" for f in _FIDS for d in ("bf16", "fp32")
       for dist in ("normal", "wide_exp", "mant_ones", "special", "issue_values")]
    + [f"eltwise_add_{d}dst_{dist}.npz" for d in ("bf16", "fp32")
       for dist in ("normal", "wide_exp", "mant_ones", "special")]
    + ["eltwise_sub_bf16dst_normal.npz", "eltwise_sub_fp32dst_normal.npz"]
    + [f"pack_fp32dst_bf16_{dist}.npz" for dist in ("normal", "mant_ones", "special")]
    + ["pack_fp32dst_fp32_special.npz", "pack_bf16dst_bf16_special.npz"]
    + [f"pack_fp32dst_bfp8b_{dist}.npz" for dist in ("normal", "outlier", "wide_exp", "special")]
    + ["pack_fp32dst_bfp8b-precise_normal.npz", "pack_fp32dst_bfp8b-precise_outlier.npz"]
    + [f"pack_bf16dst_bfp8b_{dist}.npz" for dist in ("normal", "outlier", "special")]
    + [f"pack_{d}dst_bfp4b_{dist}.npz" for d in ("fp32", "bf16") for dist in ("normal", "outlier")]
    + ["packl1acc_fp32dst_fp32_normal.npz", "packl1acc_fp32dst_fp32_cancel.npz",
       "packl1acc_fp32dst_bf16_normal.npz", "packl1acc_bf16dst_bf16_normal.npz"]
    + [f"unpack_{fmt}_to_bf16_{dist}.npz" for fmt in ("bfp8b", "bfp4b")
       for dist in ("random_codes", "edge_codes", "packed_normal")]
    + [f"unpack_fp32_to_{fmt}_{dist}.npz" for fmt in ("tf32", "bf16") for dist in ("normal", "mant_ones", "special")]
    + [f"sfpu_fma_{dist}.npz" for dist in ("normal", "cancellation", "special")]
    + ["sfpu_stochrnd_bf16_mixed.npz", "sfpu_store_bf16_mixed.npz"]
)


def _load(path: Path) -> dict:
    with np.load(path) as d:
        return {k: d[k] for k in d.files}


def _w(arr: np.ndarray) -> torch.Tensor:
    """uint32 numpy bits -> int64 words."""
    return torch.from_numpy(arr.astype(np.int64))


def _meta(d: dict, key: str) -> str:
    return str(d[key])


def _pack_float(dst: torch.Tensor, dest: str, fmt: str) -> torch.Tensor:
    """Dst words -> the L1 words of a float format (bf16 / fp32)."""
    if fmt == "fp32":
        if dest != "fp32":
            raise AssertionError("fp32 L1 from a BF16 Dst is not in the golden set")
        return packer.pack_fp32_to_fp32(dst)
    if fmt == "bf16":
        return packer.pack_fp32_to_bf16(dst) if dest == "fp32" else packer.pack_bf16_to_bf16(dst)
    raise AssertionError(f"unknown float format {fmt}")


def _load_dst(bits: torch.Tensor, dest: str) -> torch.Tensor:
    return dst_mod.load_fp32(bits) if dest == "fp32" else dst_mod.load_bf16_via_srca(bits)


def _fpu_outputs(d: dict, dst_words: torch.Tensor, per_k: torch.Tensor | None = None) -> dict:
    dest = _meta(d, "dest")
    out = {"output_bits": _pack_float(dst_words, dest, "bf16")}
    if dest == "fp32":
        out["output_fp32_bits"] = dst_words
    if per_k is not None:
        out["output_after_k_tiles_bits"] = _pack_float(per_k, dest, "bf16")
        if dest == "fp32":
            out["output_fp32_after_k_tiles_bits"] = per_k
    return out


def _bfp_outputs(codes: torch.Tensor, shared: torch.Tensor, fmt: str) -> dict:
    value = packer.bfp_value(codes, shared, fmt).to(torch.float32)
    return {
        "output_codes": codes,
        "output_shared_exp": shared,
        "output_l1_bytes": packer.bfp_tile_bytes(codes, shared, fmt),
        "output_bits": formats.to_bits(value),
        "output_unpacked_bits": unpacker.bfp_to_bf16(codes, shared.repeat_interleave(16, dim=1), fmt),
    }


def compute_case(d: dict) -> dict:
    """Recompute every output of a golden case from its inputs: {key: int tensor of bits/bytes}."""
    comp = _meta(d, "comp")
    a = _w(d["input_a_bits"])
    if comp in ("MM", "MM-K", "ELWMUL", "ELWADD", "ELWSUB"):  # the operand roles this test assumes
        want = "a=in0->SrcB, b=in1->SrcA" if comp.startswith("MM") else "a=in0->SrcA, b=in1->SrcB"
        assert _meta(d, "roles_short") == want, _meta(d, "roles_short")
        for key in ("input_a_bits", "input_b_bits"):  # bf16 operands: unpacking them is exact
            assert not (d[key] & 0xFFFF).any(), f"{key} is not bf16"
    if comp in ("MM", "MM-K"):
        # in0 (input_a) -> SrcB, in1 (input_b) -> SrcA; bf16 in L1, unpacked exactly
        in0 = unpacker.unpack_bf16(a)
        in1 = unpacker.unpack_bf16(_w(d["input_b_bits"]))
        per_k = fpu.matmul_tiles(in0, in1, _meta(d, "fidelity"), _meta(d, "dest"), return_per_k_tile=True)
        return _fpu_outputs(d, per_k[-1], per_k if comp == "MM-K" else None)
    if comp == "ELWMUL":
        b = _w(d["input_b_bits"])
        return _fpu_outputs(d, fpu.eltwise_mul(unpacker.unpack_bf16(a), unpacker.unpack_bf16(b), _meta(d, "fidelity"), _meta(d, "dest")))
    if comp in ("ELWADD", "ELWSUB"):
        b = _w(d["input_b_bits"])
        res = fpu.eltwise_add(unpacker.unpack_bf16(a), unpacker.unpack_bf16(b), _meta(d, "dest"), subtract=comp == "ELWSUB")
        return _fpu_outputs(d, res)
    if comp in ("PACK-FP32", "PACK-BF16"):
        dest = _meta(d, "dest")
        src_fmt, dst_fmt = _meta(d, "pack_src_format"), _meta(d, "pack_dst_format")
        dst_words = _load_dst(a, dest)
        if dst_fmt in ("bf16", "fp32"):
            return {"output_bits": _pack_float(dst_words, dest, dst_fmt)}
        codes, shared = packer.pack_bfp(dst_words, dest, dst_fmt, precise=src_fmt == "fp32")
        return _bfp_outputs(codes, shared, dst_fmt)
    if comp in ("PACK-L1ACC-FP32", "PACK-L1ACC-BF16"):
        dest = _meta(d, "dest")
        fmt = _meta(d, "pack_dst_format")
        first = _pack_float(_load_dst(a, dest), dest, fmt)
        second = _pack_float(_load_dst(_w(d["input_b_bits"]), dest), dest, fmt)
        acc = packer.l1_acc_fp32 if fmt == "fp32" else packer.l1_acc_bf16
        return {"output_bits": acc(first, second)}
    if comp == "UNPACK-BFP":
        fmt = "bfp8_b" if "bfp8_b" in _meta(d, "op") else "bfp4_b"
        l1 = torch.from_numpy(d["input_l1_bytes"].astype(np.int64))
        codes, shared = unpacker.parse_bfp_tile(l1, fmt)
        # the L1 image must decode to the codes / exponents the file states (a check of the layout)
        assert torch.equal(codes, _w(d["input_a_bits"])), "BFP L1 layout: codes differ"
        assert torch.equal(shared, _w(d["input_a_shared_exp"])), "BFP L1 layout: shared exponents differ"
        return {"output_bits": unpacker.unpack_bfp_tile(l1, fmt)}
    if comp == "UNPACK-FP32":
        fn = unpacker.unpack_fp32_to_tf32 if _meta(d, "op").endswith("tf32") else unpacker.unpack_fp32_to_bf16
        return {"output_bits": fn(a)}
    if comp == "SFPMAD":
        return {"output_bits": sfpu.fma(a, _w(d["input_b_bits"]), _w(d["input_c_bits"]))}
    if comp == "STOCHRND":
        return {"output_bits": sfpu.stoch_rnd_bf16(a)}
    if comp == "SFPSTORE":
        return {"output_bits": sfpu.store_bf16(a)}
    raise AssertionError(f"unknown composition {comp!r}")


# float-valued outputs are compared through their bit arrays (every float output has one)
_FLOAT_TWINS = {
    "output": "output_bits",
    "output_fp32": "output_fp32_bits",
    "output_after_k_tiles": "output_after_k_tiles_bits",
    "output_fp32_after_k_tiles": "output_fp32_after_k_tiles_bits",
    "output_unpacked": "output_unpacked_bits",
}


def test_golden_set_is_complete():
    """Exactly the expected files are present: nothing missing, nothing unaccounted for."""
    found = sorted(p.name for p in GOLDEN_FILES)
    assert found == EXPECTED_FILES, (
        f"missing: {sorted(set(EXPECTED_FILES) - set(found))}, unexpected: {sorted(set(found) - set(EXPECTED_FILES))}"
    )
    assert len(EXPECTED_FILES) == 137


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=[p.stem for p in GOLDEN_FILES])
def test_card_golden(path: Path):
    d = _load(path)
    got = compute_case(d)
    outputs = sorted(k for k in d if k.startswith("output") and d[k].dtype.kind != "U")  # not metadata strings
    assert outputs, "a golden file without outputs"
    checked = 0
    for key in outputs:
        gold = d[key]
        if key in _FLOAT_TWINS:
            twin = _FLOAT_TWINS[key]
            assert twin in d, f"{key} without {twin}"
            # the float array is the bit array's view (so checking the bits checks it)
            assert np.array_equal(gold.view(np.uint32), d[twin]), f"{key} disagrees with {twin} in the file"
            continue
        assert key in got, f"output {key!r} is not computed by the test"
        mine = got[key].numpy().astype(np.int64)
        want = gold.astype(np.int64)
        assert mine.shape == want.shape, f"{key}: shape {mine.shape} != {want.shape}"
        bad = np.argwhere(mine != want)
        if len(bad):
            i = tuple(bad[0])
            pytest.fail(
                f"{key}: {len(bad)} of {want.size} differ; first at {i}: got 0x{int(mine[i]):08x}, want 0x{int(want[i]):08x}"
                + (f" (inputs a=0x{int(d['input_a_bits'][i]):08x}" if d["input_a_bits"].shape == want.shape else " (")
                + (f", b=0x{int(d['input_b_bits'][i]):08x})" if "input_b_bits" in d and d["input_b_bits"].shape == want.shape else ")")
            )
        checked += 1
    assert checked >= 1
