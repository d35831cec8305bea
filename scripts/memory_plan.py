"""Memory plan of each seed bringup at its real shape on an emulated n150, n300 or T3000, without weights' data.

The HF model is built on torch's ``meta`` device from the seed's real config, so ``build_model`` uploads
data-free tensors: the emulator charges every allocation its real size in DRAM but keeps no values. The plan
then runs one prefill of ``cache_len - 1`` tokens (the largest the cache allows) and one decode step, and
reads ``ttbringup.emu.memory.usage``:

* weights: DRAM in use after ``build_model`` minus the KV cache (includes the small RoPE tables),
* KV cache: the per-layer K/V tensors, ``[32, n_kv, cache_len, head_dim]`` each,
* peak: the DRAM high-water mark over build, prefill and decode; headroom = 12 x 1,072,693,184 B - peak.

On a mesh (the model file's ``MESH_SHAPE``) every figure is per chip: the emulator charges each chip for its own
shard, and the table shows the chip with the highest peak (tensor-parallel chips allocate alike).

A bringup that does not fit fails with the emulator's ``OutOfMemoryError`` (raised, device closed).

    python scripts/memory_plan.py                          # every seed on every system it has, print the tables
    python scripts/memory_plan.py --systems t3000 --write  # also refresh those MODEL_BRINGUP.md memory sections

``--numerics exact|card`` (the flag every entry point has) sets the emulator's numerics; device memory does not
depend on it (the same tensors are allocated either way, and a data-free run computes no values).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import re
import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
DRAM_CAPACITY = 12 * 1_072_693_184  # one Wormhole chip: 12 DRAM banks
BEGIN, END = "<!-- memory-plan:begin (scripts/memory_plan.py --write) -->", "<!-- memory-plan:end -->"


def model_dir(hf_id: str, system: str = "n150") -> Path:
    return REPO / "models" / hf_id / system / "functional"


def load_model_py(path: Path):
    """Import a bringup ``model.py`` by path (its folder names have dots and dashes)."""
    name = "bringup_" + re.sub(r"\W", "_", str(path.relative_to(REPO)))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def systems_of(hf_id: str) -> list[str]:
    """The systems a seed has model files for, n150 first."""
    return [s for s in ("n150", "n300", "t3000") if (model_dir(hf_id, s) / "model.py").is_file()]


@contextlib.contextmanager
def _device(ttnn, mesh_shape):
    """A free emulated n150 (any device id), or the mesh ``mesh_shape`` with its fabric, closed afterwards."""
    if mesh_shape is not None:
        from ttbringup.evaluation.device import opened_device

        with opened_device(ttnn, mesh_shape) as mesh:
            yield mesh
        return
    for device_id in range(8):
        try:
            device = ttnn.open_device(device_id=device_id)
            break
        except RuntimeError:
            continue
    else:
        raise RuntimeError("no free emulated device")
    try:
        yield device
    finally:
        ttnn.close_device(device)


def memory_plan(hf_id: str, system: str = "n150", *, max_seq_len: int | None = None, overrides: dict | None = None,
                run: bool = True) -> dict:
    """Build ``hf_id``'s ``model.py`` for ``system`` data-free at real shape and measure DRAM per chip.

    ``overrides``: module attributes of the model.py to replace first (e.g. ``{"MAX_CACHE_LEN": 4096}``).
    ``max_seq_len`` defaults to the config's ``max_position_embeddings`` (so the model's cap decides).
    """
    from transformers import AutoModelForCausalLM

    from ttbringup import backend
    from ttbringup.evaluation.loading import mesh_shape_of
    from ttbringup.fixtures import real_config

    ttnn = backend.load("emu", announce=False)
    from ttbringup.emu.memory import DRAM_BANKS, bytes_per_bank, usage

    config = real_config(hf_id)
    with torch.device("meta"):
        hf_model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    module = load_model_py(model_dir(hf_id, system) / "model.py")
    for name, value in (overrides or {}).items():
        setattr(module, name, value)
    max_seq_len = max_seq_len or config.max_position_embeddings
    with _device(ttnn, mesh_shape_of(module)) as device:
        model = module.build_model(hf_model, device, max_seq_len)
        built = max(chip["dram"]["used"] for chip in usage(device))
        caches = [t for layer in model.layers for t in (layer.attention.cache.k, layer.attention.cache.v)]
        kv_bytes = sum(bytes_per_bank(t.padded_shape, t.dtype, t.layout, t.tile, t.memory_config()) * DRAM_BANKS
                       for t in caches)
        if run:
            prompt = torch.zeros(1, model.max_cache_len - 1, dtype=torch.long)
            out = model(prompt)
            model(torch.zeros(1, 1, dtype=torch.long), past_key_values=out.past_key_values)
        dram = max((chip["dram"] for chip in usage(device)), key=lambda d: d["peak"])
        k = caches[0]
        return {
            "hf_id": hf_id,
            "system": system,
            "chips": device.get_num_devices(),
            "cache_len": model.max_cache_len,
            "kv_cache_shape": list(k.shape),
            "weight_dtype": module.WEIGHT_DTYPE.name,
            "embedding": f"{module.EMBEDDING_DTYPE.name} {module.EMBEDDING_LAYOUT.name}",
            "kv_dtype": k.dtype.name,
            "weights_bytes": built - kv_bytes,
            "kv_cache_bytes": kv_bytes,
            "peak_bytes": dram["peak"],
            "capacity_bytes": DRAM_CAPACITY,
            "headroom_bytes": DRAM_CAPACITY - dram["peak"],
            "ran": "prefill + decode" if run else "build only",
        }


def _gb(n: int) -> str:
    return f"{n / 1e9:.2f} GB"


def render_markdown(plan: dict) -> str:
    """The plan as the markdown table MODEL_BRINGUP.md carries (tests compare it verbatim)."""
    each = " per chip" if plan["chips"] > 1 else ""
    rows = [
        (f"weights{each} (incl. RoPE tables)", f"{plan['weights_bytes']:,} B", _gb(plan["weights_bytes"])),
        (f"KV cache{each} ({plan['cache_len']} tokens, {plan['kv_dtype']}, 2 x layers x {plan['kv_cache_shape']})",
         f"{plan['kv_cache_bytes']:,} B", _gb(plan["kv_cache_bytes"])),
        (f"peak DRAM{each} ({plan['ran']})", f"{plan['peak_bytes']:,} B", _gb(plan["peak_bytes"])),
        (f"headroom{each} of 12 x 1,072,693,184 B", f"{plan['headroom_bytes']:,} B", _gb(plan["headroom_bytes"])),
    ]
    lines = ["| item | bytes | |", "|---|---:|---:|"] + [f"| {a} | {b} | {c} |" for a, b, c in rows]
    lines.append(f"\nWeights {plan['weight_dtype']}, embedding table {plan['embedding']}, norms and RoPE tables "
                 f"BFLOAT16; cache length {plan['cache_len']} tokens.")
    return "\n".join(lines)


def write_section(hf_id: str, text: str, system: str = "n150") -> None:
    path = model_dir(hf_id, system) / "MODEL_BRINGUP.md"
    doc = path.read_text()
    start, end = doc.index(BEGIN) + len(BEGIN), doc.index(END)
    path.write_text(doc[:start] + "\n" + text + "\n" + doc[end:])


def main(argv=None) -> int:
    from ttbringup.evaluation.cli import cli_errors
    from ttbringup.evaluation.numerics import add_numerics_arg, apply, requested
    from ttbringup.fixtures import SEED_MODELS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", default=list(SEED_MODELS))
    parser.add_argument("--systems", nargs="*", default=None, help="n150, n300, t3000 (default: all a seed has)")
    parser.add_argument("--write", action="store_true", help="refresh the memory section of each MODEL_BRINGUP.md")
    add_numerics_arg(parser, both=False)
    args = parser.parse_args(argv)
    with cli_errors():
        mode = requested(args.numerics, both=False)[0]
    apply(mode)
    print(f"numerics: {mode} (device memory does not depend on it)", file=sys.stderr)
    for hf_id in args.models:
        for system in args.systems or systems_of(hf_id):
            text = render_markdown(memory_plan(hf_id, system))
            print(f"## {hf_id} ({system})\n{text}\n")
            if args.write:
                write_section(hf_id, text, system)
    return 0


if __name__ == "__main__":
    sys.exit(main())
