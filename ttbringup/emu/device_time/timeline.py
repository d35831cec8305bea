"""Records in execution order -> timed rows: each op's predicted device time and the gap before it.

The op-to-op gap models how ops reach the device:

* **traced** (replayed from a metal trace): the device's own gap between programs, ``OP_TO_OP_TRACED_S``.
* **eager**: the host dispatches each op (``HOST_DISPATCH_S``, Python + ttnn host work) while the device runs
  the previous one (fast dispatch is asynchronous), so the device waits ``HOST_DISPATCH_S - previous device
  time`` when the host is the slower, and never less than the traced gap. The first op of a list has nothing to
  overlap with and waits a whole dispatch.

Views (a reshape that only relabels a buffer) run no program and get no row. Host transfers (``from_torch``,
``to_torch``, ``copy_host_to_device_tensor``) are not device ops and are not timed here.

Totals are sums of the rows: ``sum(device_s) + sum(gap_s)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import constants as C
from .cost import Cost, estimate
from .record import Record


@dataclass(frozen=True)
class Row:
    record: Record
    cost: Cost
    gap_s: float

    @property
    def total_s(self) -> float:
        return self.cost.device_s + self.gap_s


def gap_before(traced: bool, previous_device_s: float | None) -> float:
    """The op-to-op gap before an op (see the module docstring); ``previous_device_s`` None for the first op."""
    if traced:
        return float(C.OP_TO_OP_TRACED_S)
    if previous_device_s is None:
        return float(C.HOST_DISPATCH_S)
    return max(float(C.OP_TO_OP_TRACED_S), C.HOST_DISPATCH_S - previous_device_s)


def timed_rows(records: list[Record], system: C.System) -> list[Row]:
    """The device-op rows of ``records`` (views dropped), each with its cost and the gap before it."""
    rows, previous = [], None
    for r in records:
        if r.kind == "view":
            continue
        cost = estimate(r, system)
        rows.append(Row(r, cost, gap_before(r.traced, previous)))
        previous = cost.device_s
    return rows


def total_seconds(rows: list[Row]) -> float:
    return sum(row.cost.device_s for row in rows) + sum(row.gap_s for row in rows)
