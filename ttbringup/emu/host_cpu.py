"""What the host CPU offers the emulator's kernels, decided once per process.

``fast_bf16()``: the CPU multiplies bfloat16 in hardware (``avx512_bf16`` or ``amx_bf16`` in ``/proc/cpuinfo``), so
torch's bf16 matmul (products exact in float32, float32 sums, one rounding) beats widening the operands to float32
at every row count. Without it torch emulates bf16 products and the bf16 kernel only pays off for a few rows.
"""

from __future__ import annotations

import functools
from pathlib import Path

BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_flags() -> set[str]:
    """The feature flags of the first CPU in ``/proc/cpuinfo`` (empty where there is none)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            return set(line.split(":", 1)[1].split())
    return set()


@functools.cache
def fast_bf16() -> bool:
    """True when the CPU has bf16 dot-product instructions (see the module docstring)."""
    return any(flag in cpu_flags() for flag in BF16_FLAGS)


def describe() -> str:
    """One phrase for benchmark headers: which matmul kernel bf16 operands get."""
    if fast_bf16():
        return "bf16 matmuls on the CPU's bf16 kernels (" + "/".join(f for f in BF16_FLAGS if f in cpu_flags()) + ")"
    return "bf16 matmuls widened to float32 beyond 8 rows (no bf16 instructions on this CPU)"
