"""Trace against the real ttnn 0.81.1 (mock n150): what the mock can answer about ``trace_region_size`` and capture.

The mock answers two things: how much DRAM per bank a trace region takes, and that a host read inside a capture is
refused (with its text). It does not check host writes during a capture (no data moves on a mock) and it crashes
on the first op captured, so replay cannot be compared here; see docs/conformance.md.
The real side runs in a child process: a crashed capture must not take the lane with it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.conformance

REGION_SIZES = [0, 1, 49153, 800768, 30_000_000, 104_857_600]


def _real_facts() -> dict:
    proc = subprocess.run([sys.executable, __file__, "--real"], capture_output=True, text=True, timeout=600,
                          cwd=os.getcwd(), env=dict(os.environ, TT_LOGGER_LEVEL="off"))
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("TRACE_FACTS ")]
    assert lines, (proc.stdout + proc.stderr)[-3000:]
    return json.loads(lines[-1][len("TRACE_FACTS "):])


def _emu_facts(emu) -> dict:
    import torch

    banks = []
    for size in REGION_SIZES:
        d = emu.open_device(device_id=0, trace_region_size=size)
        banks.append(d._chips[0].dram.bank_size)
        emu.close_device(d)
    d = emu.open_device(device_id=0, trace_region_size=1 << 20)
    try:
        x = emu.from_torch(torch.zeros(1, 1, 32, 32), dtype=emu.bfloat16, layout=emu.TILE_LAYOUT, device=d)
        emu.add(x, x)
        tid = emu.begin_trace_capture(d, cq_id=0)
        try:
            emu.to_torch(x)
            read = "no error"
        except Exception as err:  # noqa: BLE001
            read = str(err)
        emu.end_trace_capture(d, tid, cq_id=0)
    finally:
        emu.close_device(d)
    return {"dram_bank_bytes": banks, "read_during_capture": read}


def test_trace_region_and_capture_refusals(emu, summary_line):
    real, em = _real_facts(), _emu_facts(emu)
    summary_line(f"trace: DRAM bank bytes for trace_region_size {REGION_SIZES}: real {real['dram_bank_bytes']}, "
                 f"emulator {em['dram_bank_bytes']}")
    assert em["dram_bank_bytes"] == real["dram_bank_bytes"]
    # the real text is "TT_FATAL @ <file>:<line>: !trace_id_.has_value()\ninfo:\n<message>\n"
    real_message = real["read_during_capture"].split("info:")[-1].strip()
    summary_line(f"trace: read during capture: real {real_message!r}, emulator {em['read_during_capture']!r}")
    assert real_message == em["read_during_capture"] == "Reads are not supported during trace capture."


if __name__ == "__main__" and "--real" in sys.argv:
    import torch
    import ttnn

    banks = []
    for size in REGION_SIZES:
        d = ttnn.open_device(device_id=0, trace_region_size=size)
        banks.append(ttnn.get_memory_view(d, ttnn.BufferType.DRAM).total_bytes_per_bank)
        ttnn.close_device(d)
    d = ttnn.open_device(device_id=0, trace_region_size=1 << 20)
    x = ttnn.from_torch(torch.zeros(1, 1, 32, 32), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=d)
    ttnn.add(x, x)
    tid = ttnn.begin_trace_capture(d, cq_id=0)
    try:
        ttnn.to_torch(x)
        read = "no error"
    except Exception as err:  # noqa: BLE001
        read = str(err).split("backtrace")[0]
    print("TRACE_FACTS " + json.dumps({"dram_bank_bytes": banks, "read_during_capture": read}), flush=True)
    os._exit(0)  # ending the capture on the mock is not needed and closing the device mid-capture may hang
