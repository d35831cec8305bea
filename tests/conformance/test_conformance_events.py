"""Two command queues and events against the real ttnn 0.81.1 (mock n150): which calls a 2-queue and a 1-queue
device accept and which they refuse.

Each call of ``CALLS`` runs on a 1x1 mesh opened with ``num_command_queues=2`` (and the ``one_queue`` ones on a
plain ``open_device``), in the order listed, in the real module (a child process) and in the emulator; the verdicts
(OK or the exception type) must agree. The real ``wait_for_event`` segfaults on the mock (in
``DeviceCommand::add_dispatch_wait``), so only its argument check is compared; the ordering the emulator enforces
between queues is tested in tests/emu/test_events.py and its rules are in ttbringup/emu/events.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.conformance

CALLS = [
    ("record_event on cq 1", "two", "ttnn.record_event(d, 1)"),
    ("record_event on QueueId(1)", "two", "ttnn.record_event(d, ttnn.QueueId(1))"),
    ("record_event on cq 2", "two", "ttnn.record_event(d, 2)"),
    ("event_synchronize", "two", "ttnn.event_synchronize(ttnn.record_event(d, 1))"),
    ("synchronize_device, all queues and cq 1", "two", "ttnn.synchronize_device(d); ttnn.synchronize_device(d, cq_id=1)"),
    ("synchronize_device on cq 2", "two", "ttnn.synchronize_device(d, cq_id=2)"),
    ("wait_for_event with no event", "two", "ttnn.wait_for_event(0, 'not an event')"),
    ("copy_host_to_device_tensor on cq 1", "two", "ttnn.copy_host_to_device_tensor(host(), x, cq_id=1)"),
    ("from_device non-blocking, queue_id QueueId(1)", "two", "ttnn.from_device(x, blocking=False, queue_id=ttnn.QueueId(1))"),
    ("from_device cq_id=1", "two", "ttnn.from_device(x, cq_id=1)"),
    ("to_device queue_id=1", "two", "ttnn.to_device(host(), d, queue_id=ttnn.QueueId(1))"),
    ("to_torch cq_id=1", "two", "ttnn.to_torch(x, cq_id=1)"),
    ("record_event on cq 1 of a one-queue device", "one", "ttnn.record_event(d, 1)"),
    ("from_device cq_id=1 on a one-queue device", "one", "ttnn.from_device(x, cq_id=1)"),
    ("to_device queue_id=1 on a one-queue device", "one", "ttnn.to_device(host(), d, queue_id=1)"),
    ("synchronize_device on a one-queue device", "one", "ttnn.synchronize_device(d)"),
]


def verdicts(ttnn) -> dict:
    """Run every call of ``CALLS`` on ``ttnn``; ``{name: "OK" | exception type name}``."""
    import torch

    def host():
        return ttnn.from_torch(torch.ones(32, 32), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT)

    out = {}
    for queues in ("two", "one"):
        if queues == "two":
            d = ttnn.open_mesh_device(ttnn.MeshShape(1, 1), num_command_queues=2)
        else:
            d = ttnn.open_device(device_id=0)
        try:
            x = ttnn.from_torch(torch.ones(32, 32), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=d)
            ttnn.synchronize_device(d)  # the upload has landed before another queue touches x
            for name, where, code in CALLS:
                if where != queues:
                    continue
                try:
                    exec(code, {"ttnn": ttnn, "d": d, "x": x, "host": host})
                    out[name] = "OK"
                except Exception as err:  # noqa: BLE001
                    out[name] = type(err).__name__
        finally:
            (ttnn.close_mesh_device if queues == "two" else ttnn.close_device)(d)
    return out


def _real_verdicts() -> dict:
    proc = subprocess.run([sys.executable, __file__, "--real"], capture_output=True, text=True, timeout=600,
                          cwd=os.getcwd(), env=dict(os.environ, TT_LOGGER_LEVEL="off"))
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("EVENT_VERDICTS ")]
    assert lines, (proc.stdout + proc.stderr)[-3000:]
    return json.loads(lines[-1][len("EVENT_VERDICTS "):])


def test_event_calls_accept_and_refuse_what_the_real_ones_do(emu, summary_line):
    real, em = _real_verdicts(), verdicts(emu)
    # the emulator raises its TTError (a RuntimeError) where the real wheel raises RuntimeError from TT_FATAL
    em = {k: "RuntimeError" if v == "TTError" else v for k, v in em.items()}
    differ = {k: (real[k], em[k]) for k in real if real[k] != em[k]}
    summary_line(f"events: {len(real) - len(differ)}/{len(real)} calls agree" + (f"; differ: {differ}" if differ else ""))
    assert not differ
    assert real["record_event on cq 2"] == real["record_event on cq 1 of a one-queue device"] == "RuntimeError"


if __name__ == "__main__" and "--real" in sys.argv:
    import ttnn

    print("EVENT_VERDICTS " + json.dumps(verdicts(ttnn)))
