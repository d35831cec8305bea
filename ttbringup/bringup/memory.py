"""Memory plan of one bringup choice at real shape, measured by the emulator's allocator in data-free mode.

The HF model is built on torch's ``meta`` device from the config, so ``build_decoder_lm`` uploads data-free
tensors: the emulator charges every allocation its real size per chip and keeps no values. The plan then runs one
prefill of ``prompt_len`` tokens (default ``cache_len - 1``, the largest the cache allows) and one decode step, as
``scripts/memory_plan.py`` does for a model file, and reads ``ttbringup.emu.memory.usage``. Every figure is per
chip (the chip with the highest peak); an allocation that does not fit ends the plan with ``fits=False``.

Call ``ttbringup.backend.load("emu")`` before importing this module (the blocks import ``ttnn``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import ttnn

from ttbringup.llm import build_decoder_lm

DRAM_CAPACITY = 12 * 1_072_693_184  # one Wormhole chip: 12 DRAM banks
MESH_SHAPES = {"n150": None, "n300": (1, 2), "t3000": (2, 4)}  # the reference repository's mesh shapes


@dataclass(frozen=True)
class Choice:
    """The dtypes of one ``--weights`` choice. ``lm_head`` None: the weights' dtype."""

    name: str
    weight: object
    embedding: object
    embedding_layout: object
    lm_head: object = None


# bf16 keeps the table ROW_MAJOR (what ttnn.embedding reads natively); block floats need TILE. bfp4 keeps the lm_head
# and table in bfp8, as tt_transformers' performance mode does (bfp4 only for the projections).
CHOICES = {
    "bf16": Choice("bf16", ttnn.bfloat16, ttnn.bfloat16, ttnn.ROW_MAJOR_LAYOUT),
    "bfp8": Choice("bfp8", ttnn.bfloat8_b, ttnn.bfloat8_b, ttnn.TILE_LAYOUT),
    "bfp4": Choice("bfp4", ttnn.bfloat4_b, ttnn.bfloat8_b, ttnn.TILE_LAYOUT, lm_head=ttnn.bfloat8_b),
}


@dataclass(frozen=True)
class Plan:
    """Per-chip DRAM bytes of one build + prefill + decode. ``fits`` False: out of memory (``error`` says where);
    then only the fields measured before it are set."""

    system: str
    chips: int
    choice: str
    cache_len: int
    prompt_len: int
    fits: bool
    weights_bytes: int = 0
    kv_cache_bytes: int = 0
    peak_bytes: int = 0
    kv_cache_shape: tuple = ()
    error: str = ""

    @property
    def capacity_bytes(self) -> int:
        return DRAM_CAPACITY

    @property
    def headroom_bytes(self) -> int:
        return DRAM_CAPACITY - self.peak_bytes

    @property
    def activation_bytes(self) -> int:
        """What the prefill and decode step add above the built model at their peak."""
        return self.peak_bytes - self.weights_bytes - self.kv_cache_bytes

    @property
    def kv_bytes_per_token(self) -> int:
        return self.kv_cache_bytes // self.cache_len if self.cache_len else 0


def meta_model(config):
    """The HF model of ``config`` on torch's meta device, bf16 on the host (the device dtypes are the choice's)."""
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        return AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)


def measure(config, system: str, choice: Choice, cache_len: int, build_flags: dict, *,
            prompt_len: int | None = None, hf_model=None) -> Plan:
    """The plan of ``config`` on ``system`` with ``choice`` and a ``cache_len``-token cache (see module docstring).

    ``build_flags``: the architecture's extra ``build_decoder_lm`` keywords (``qk_norm``, ``shard_kv``).
    ``hf_model``: a meta model of ``config`` to reuse (built when None).
    """
    from ttbringup.emu.errors import OutOfMemoryError
    from ttbringup.emu.memory import DRAM_BANKS, bytes_per_bank, usage
    from ttbringup.evaluation.device import opened_device

    prompt_len = cache_len - 1 if prompt_len is None else min(int(prompt_len), cache_len - 1)
    hf_model = meta_model(config) if hf_model is None else hf_model
    base = dict(system=system, choice=choice.name, cache_len=cache_len, prompt_len=prompt_len)
    with opened_device(ttnn, MESH_SHAPES[system]) as device:
        chips = device.get_num_devices()
        try:
            model = build_decoder_lm(hf_model, device, cache_len, cache_cap=cache_len, weight_dtype=choice.weight,
                                     embedding_dtype=choice.embedding, embedding_layout=choice.embedding_layout,
                                     lm_head_dtype=choice.lm_head, **build_flags)
        except OutOfMemoryError as err:
            return Plan(chips=chips, fits=False, error=f"build: {err}", **base)
        built = max(chip["dram"]["used"] for chip in usage(device))
        caches = [t for layer in model.layers for t in (layer.attention.cache.k, layer.attention.cache.v)]
        kv_bytes = sum(bytes_per_bank(t.padded_shape, t.dtype, t.layout, t.tile, t.memory_config()) * DRAM_BANKS
                       for t in caches)
        sizes = dict(weights_bytes=built - kv_bytes, kv_cache_bytes=kv_bytes, kv_cache_shape=tuple(caches[0].shape))
        try:
            # the device computes every position's logits either way; the host keeps one (65535 x 128256 floats
            # would be 33.6 GB of host memory)
            out = model(torch.zeros(1, prompt_len, dtype=torch.long), logits_to_keep=1)
            model(torch.zeros(1, 1, dtype=torch.long), past_key_values=out.past_key_values)
        except OutOfMemoryError as err:
            return Plan(chips=chips, fits=False, error=f"prefill/decode: {err}", **sizes, **base)
        peak = max(chip["dram"]["peak"] for chip in usage(device))
        return Plan(chips=chips, fits=True, peak_bytes=peak, **sizes, **base)


_PLANS: dict[tuple, Plan] = {}


def measure_cached(config, system: str, choice: Choice, cache_len: int, build_flags: dict, *,
                   prompt_len: int | None = None) -> Plan:
    """``measure``, remembered per (config values, system, choice, cache length, flags, prompt length) for this
    process: ``fit`` and ``new`` probe the same points."""
    key = (config.to_json_string(use_diff=False), system, choice.name, int(cache_len),
           tuple(sorted(build_flags.items())), prompt_len)
    if key not in _PLANS:
        _PLANS[key] = measure(config, system, choice, cache_len, build_flags, prompt_len=prompt_len)
    return _PLANS[key]
