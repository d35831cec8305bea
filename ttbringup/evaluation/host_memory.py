"""Host memory of an eval: what it will need, what this machine has, and how to hold less.

An eval holds, at different times, the HF reference (its weights; float32 compute), the bringup's host copy (on
the emulator: every device byte lives in host memory; on a card: nothing lasting) and activations. Before any
heavy allocation :func:`plan` picks the first of three ways that fits the memory available:

1. ``float32``: the reference widened to float32 whole, kept while the bringup is built (fastest);
2. ``stored``: the reference held in its checkpoint's dtype and widened one module at a time while it computes
   (``float32_compute``; same values), kept while the bringup is built;
3. ``stored+release``: as 2, and each HF layer is freed once the bringup has uploaded it (``release``): the
   reference tokens and logits are computed first, so nothing reads the HF model afterwards.

When none fits, :func:`plan` raises ``CliError`` with the bytes needed and available and what would fit.
Available memory is ``MemAvailable`` (and the cgroup limit, in a container), or ``$TTBRINGUP_HOST_MEMORY``
(bytes, or with a K/M/G suffix) to simulate a smaller machine.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

from .cli import CliError

BUDGET_ENV = "TTBRINGUP_HOST_MEMORY"
SLACK = 256 << 20  # allocator slack, the tokenizer, generate()'s cache
PLANS = ("float32", "stored", "stored+release")


def _meminfo_available() -> int | None:
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return None
    match = re.search(r"^MemAvailable:\s+(\d+) kB", text, re.M)
    return int(match.group(1)) * 1024 if match else None


def _cgroup_available() -> int | None:
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        current = int(Path("/sys/fs/cgroup/memory.current").read_text())
    except (OSError, ValueError):
        return None
    return None if limit == "max" else max(0, int(limit) - current)


def parse_bytes(text: str) -> int:
    """``"20G"`` / ``"512M"`` / ``"1000000"`` -> bytes (binary multiples)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*", text, re.I)
    if not match:
        raise CliError(f"${BUDGET_ENV}={text!r} is not a size (e.g. 20G, 512M or a number of bytes)")
    scale = 1024 ** " KMGT".index(match.group(2).upper() or " ")
    return int(float(match.group(1)) * scale)


def available_bytes() -> int:
    """Host bytes this process may still allocate (see the module docstring)."""
    budget = os.environ.get(BUDGET_ENV)
    if budget:
        return parse_bytes(budget)
    known = [n for n in (_meminfo_available(), _cgroup_available()) if n is not None]
    return min(known) if known else 1 << 62


@dataclass
class ModelBytes:
    """Sizes that decide the plan, from the model's config (a data-free build) and the bringup's data-free build."""

    params: int  # parameter elements of the HF model
    stored_element: int  # bytes per element in the checkpoint's dtype
    non_layer_params: int  # embedding, final norm, lm_head
    largest_module_params: int  # the largest single module's own parameters (widened to float32 at a time)
    bringup: int  # host bytes of the bringup (emulator: its device bytes over all chips; card: 0)
    activations: int  # reference logits and the like


@dataclass
class HostPlan:
    name: str  # one of PLANS

    @property
    def reference_float32(self) -> bool:
        return self.name == "float32"

    @property
    def release_layers(self) -> bool:
        return self.name == "stored+release"


def _gb(n: int) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{max(n, 0) / 1e6:.0f} MB"


def needs(m: ModelBytes) -> dict[str, int]:
    """Peak host bytes of each plan (a float32 checkpoint has no ``stored`` plan: it is ``float32``)."""
    stored = m.params * m.stored_element
    widened = 0 if m.stored_element == 4 else m.largest_module_params * 4
    # Transients: an upload may hold two float32 copies of the largest weight while it converts it.
    base = SLACK + m.activations + 2 * 4 * m.largest_module_params
    out = {
        "float32": m.params * 4 + m.bringup + base,
        "stored": stored + widened + m.bringup + base,
        # Each layer uploaded frees its HF layer, so the build's peak is at one end of its loop: all of the HF
        # model and none of the bringup, or the bringup and the HF embedding / lm_head still held.
        "stored+release": max(stored + widened, m.non_layer_params * m.stored_element + m.bringup) + base,
    }
    if m.stored_element == 4:
        del out["stored"]
    return out


def plan(m: ModelBytes, *, backend: str, allow_release: bool = False, available: int | None = None) -> HostPlan:
    """The first plan of PLANS that fits ``available`` host bytes, else ``CliError`` naming bytes and options.

    ``allow_release``: the caller does not read the HF model after the build (else ``stored+release`` is out).
    """
    available = available_bytes() if available is None else available
    needed = needs(m)
    if not allow_release:
        del needed["stored+release"]
    for name in PLANS:
        if name in needed and needed[name] <= available:
            return HostPlan(name)
    least = min(needed.values())
    options = [f"free {_gb(least - available)} of host memory", f"use a machine with {_gb(least)} or more"]
    if backend == "emu" and m.bringup:
        card = min(needs(replace(m, bringup=0)).values())
        options.append(f"run on a card (--backend ttnn: the bringup's {_gb(m.bringup)} then live in device DRAM, "
                       f"about {_gb(card)} on the host)")
    raise CliError(f"not enough host memory: this eval needs about {_gb(least)} (reference "
                   f"{_gb(m.params * m.stored_element)} as stored, bringup {_gb(m.bringup)} on the host) but "
                   f"{_gb(available)} is available; options: " + "; ".join(options))
