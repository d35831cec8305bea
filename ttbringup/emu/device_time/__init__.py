"""Device time on a Wormhole card, predicted from the ops the emulator executes.

Two parts:

* **Recording** (this module, :mod:`.record`): while a :class:`Recorder` is active, every executed device op
  appends a :class:`~.record.Record` (op, shapes, dtypes, memory configs, the fidelity it would run at, chip/mesh,
  traced or not). The hook sits where every emulated device op already passes (``ttbringup.emu.trace.device_op``:
  the program cache and trace capture) and in ``execute_trace`` (each replayed op, ``traced=True``); ops captured
  into a trace are not recorded at capture (a card runs them at replay). When no recorder is active the hook is
  one ``is None`` test.
* **The cost model** (:mod:`.cost`, constants in :mod:`.constants`): a record on a system (n150 / n300 / t3000)
  -> FLOPs, DRAM bytes, cores, predicted device time, bound; :mod:`.timeline` adds the op-to-op gaps (host
  dispatch when eager, the device gap when traced).
* **What-ifs** (:mod:`.what_if`): record rewrites for placements the emulator cannot run (decode matmuls
  DRAM-sharded, as tt_transformers runs them), priced by the same model.

Switch it on with the context manager::

    from ttbringup.emu import device_time
    with device_time.recording() as rec:
        ...  # run ops
    rec.records

or for a whole process with ``TTBRINGUP_DEVICE_TIME=1`` (then ``device_time.active()`` is the process recorder).
"""

from __future__ import annotations

import contextlib
import os

from .record import Record, TensorSpec, make_record

ENV_SWITCH = "TTBRINGUP_DEVICE_TIME"


class Recorder:
    """The device-time log: records in execution order, each tagged with the phase it ran in and the block (e.g.
    ``"layer 3"``) the caller said it belongs to. A traced op keeps the block it was captured in."""

    def __init__(self):
        self.records: list[Record] = []
        self.phase = ""
        self.block = ""

    def add(self, name: str, fn, args, kwargs, out, device, traced: bool, block: str | None = None) -> None:
        record = make_record(name, fn, args, kwargs, out, device, traced, self.phase)
        record.block = self.block if block is None else block
        self.records.append(record)

    @contextlib.contextmanager
    def in_block(self, block: str):
        """Tag the records made inside the ``with`` block (and ops captured into a trace there) with ``block``."""
        previous, self.block = self.block, block
        try:
            yield self
        finally:
            self.block = previous

    @contextlib.contextmanager
    def in_phase(self, phase: str):
        """Tag the records made inside the block with ``phase``."""
        previous, self.phase = self.phase, phase
        try:
            yield self
        finally:
            self.phase = previous

    def of_phase(self, phase: str) -> list[Record]:
        return [r for r in self.records if r.phase == phase]


_active: Recorder | None = None


def current_block() -> str:
    """The active recorder's block tag ("" when recording is off): what a trace capture stores with each op."""
    return _active.block if _active is not None else ""


def active() -> Recorder | None:
    """The recorder ops are logged to, or None when recording is off."""
    return _active


@contextlib.contextmanager
def recording(recorder: Recorder | None = None):
    """Log every device op executed inside the block to ``recorder`` (a new one by default); yields it."""
    global _active
    rec = recorder if recorder is not None else Recorder()
    previous, _active = _active, rec
    try:
        yield rec
    finally:
        _active = previous


if os.environ.get(ENV_SWITCH, "") not in ("", "0"):
    _active = Recorder()

__all__ = ["ENV_SWITCH", "Record", "Recorder", "TensorSpec", "active", "current_block", "recording"]
