"""What the host CPU offers the emulator's kernels, decided once per process.

``fast_bf16()``: the CPU multiplies bfloat16 in hardware (``avx512_bf16`` or ``amx_bf16`` in ``/proc/cpuinfo``), so
torch's bf16 matmul (products exact in float32, float32 sums, one rounding) beats widening the operands to float32
at every row count. Without it torch emulates bf16 products and the bf16 kernel only pays off for a few rows.
"""

from __future__ import annotations

import functools
import os
import time
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


def busy_cores_elsewhere(seconds: float = 0.25) -> float:
    """Cores' worth of CPU time other processes used over ``seconds`` (``/proc/stat`` minus this process)."""

    def sample():
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(fields), fields[3] + fields[4], time.perf_counter(), os.times()

    try:
        total0, idle0, t0, own0 = sample()
        time.sleep(seconds)
        total1, idle1, t1, own1 = sample()
    except (OSError, ValueError, IndexError):
        return 0.0
    busy_share = 1 - (idle1 - idle0) / max(total1 - total0, 1)
    own = (own1.user - own0.user + own1.system - own0.system) / (t1 - t0)
    return max(0.0, busy_share * (os.cpu_count() or 1) - own)


def fit_threads() -> int:
    """Use one torch thread fewer per core that other processes keep busy (at least one) and return the count.

    Two threads on two cores next to a busy neighbour stall at every parallel region of the emulator's many small
    ops (measured: Llama-3.2-1B decode 2.06 s/token against 0.55 s for HF); one thread runs at HF's pace.
    """
    import torch

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    threads = max(1, min(torch.get_num_threads(), cores - round(busy_cores_elsewhere())))
    torch.set_num_threads(threads)
    return threads
