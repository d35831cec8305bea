"""Command queues and events: ``record_event``, ``wait_for_event``, ``event_synchronize``, ``synchronize_device``,
``QueueId``, ``MeshEvent``.

The card's contract (tt-metal's "command queues and events" model, 0.81.1 signatures): a device opened with
``num_command_queues=2`` has two queues that run concurrently; work on one queue runs in the order enqueued, and
nothing orders it against the other queue except events. ``record_event(device, cq_id)`` marks the point the
queue has reached; ``wait_for_event(cq_id, event)`` makes queue ``cq_id`` wait until that point is done;
``event_synchronize(event)`` and ``synchronize_device(device, cq_id=None)`` make the host wait. The usual
two-queue decode writes the next inputs on cq 1 while cq 0 computes, with an event each way.

The emulator runs every command at once, in program order, so a missing event never changes its results; on a
card it is a data race (a queue reads a buffer before the other queue's write lands, or overwrites it while the
other queue still reads it), which computes on whatever the buffer held. So the emulator checks each access
instead: a device tensor remembers the queue and position of its last write and of its last read per queue, and
an access from another queue that has not waited for an event at or after that position raises
:class:`~ttbringup.emu.errors.QueueRaceError`. Device ops run on cq 0 (0.81.1's ops take no queue), a replayed
trace on its ``execute_trace`` queue, transfers on their ``cq_id`` / ``queue_id``. An op's tensor arguments
count as reads and its results as writes (an in-place op's write into an argument counts as a read). With one
queue nothing is tracked. A non-blocking ``from_device`` hands back a host tensor that ``to_torch`` refuses until
the host has waited for its queue (either queue count).
"""

from __future__ import annotations

from .errors import QueueRaceError, TTError, check


class QueueId:
    """``ttnn.QueueId(int)``: a command queue index, accepted wherever a ``cq_id`` / ``queue_id`` is."""

    __slots__ = ("_id",)

    def __init__(self, queue: int):
        self._id = int(queue)

    def __int__(self) -> int:
        return self._id

    def __index__(self) -> int:
        return self._id

    def __eq__(self, other) -> bool:
        return isinstance(other, (QueueId, int)) and int(other) == self._id

    def __hash__(self) -> int:
        return hash(self._id)

    def __repr__(self) -> str:
        return f"QueueId({self._id})"


class MeshEvent:
    """A point in one command queue of one device (what ``record_event`` returns)."""

    __slots__ = ("device", "cq_id", "position")

    def __init__(self, device, cq_id: int, position: int):
        self.device, self.cq_id, self.position = device, cq_id, position

    def __repr__(self) -> str:
        return f"MeshEvent(cq_id={self.cq_id}, position={self.position})"


class CommandQueues:
    """Per device: how far each queue has got, and how far each queue has waited for each other queue."""

    def __init__(self, count: int):
        self.count = count
        self.position = [0] * count
        self.seen = [[0] * count for _ in range(count)]  # seen[a][b]: queue a has waited for queue b up to here
        self.host_seen = [0] * count  # the host has waited for queue b up to here

    def queue(self, cq_id, op: str) -> int:
        """``cq_id`` (None, int or QueueId) as a checked queue index."""
        cq = 0 if cq_id is None else int(cq_id)
        check(0 <= cq < self.count, op, f"cq_id {cq} is out of range: the device was opened with {self.count} "
                                        f"command queue(s)")
        return cq

    def access(self, cq: int, reads, writes, op: str) -> None:
        """Queue ``cq`` reads ``reads`` and writes ``writes`` (device tensors); raise on an unordered access."""
        if self.count == 1:
            return
        self.position[cq] += 1
        now = self.position[cq]
        seen = self.seen[cq]
        for t in reads:
            last = _access_of(t)
            if last.write is not None and last.write[0] != cq and seen[last.write[0]] < last.write[1]:
                raise _race(op, cq, "reads", last.write[0], "wrote")
            last.reads[cq] = now
        for t in writes:
            last = _access_of(t)
            if last.write is not None and last.write[0] != cq and seen[last.write[0]] < last.write[1]:
                raise _race(op, cq, "overwrites", last.write[0], "wrote")
            for other, at in last.reads.items():
                if other != cq and seen[other] < at:
                    raise _race(op, cq, "overwrites", other, "reads")
            last.write, last.reads = (cq, now), {}

    def host_waits(self, cq: int, position: int) -> None:
        """The host waited for queue ``cq`` up to ``position``: whatever is enqueued after is ordered after it."""
        self.host_seen[cq] = max(self.host_seen[cq], position)
        for seen in self.seen:
            seen[cq] = max(seen[cq], position)


class _Access:
    __slots__ = ("write", "reads")

    def __init__(self):
        self.write: tuple[int, int] | None = None  # (queue, position) of the last write
        self.reads: dict[int, int] = {}  # queue -> position of its last read since that write


def _access_of(t) -> _Access:
    last = getattr(t, "_access", None)
    if last is None:
        last = t._access = _Access()
    return last


def _race(op: str, cq: int, verb: str, other: int, other_verb: str) -> QueueRaceError:
    return QueueRaceError(
        f"{op}: cq {cq} {verb} a tensor that cq {other} {other_verb} without waiting for it: record an event on cq "
        f"{other} after that access and wait for it on cq {cq} (ttnn.wait_for_event({cq}, "
        f"ttnn.record_event(device, {other}))); on a card the two queues race")


def queues_of(device):
    """The ``CommandQueues`` of a device (None for a host tensor's missing device)."""
    return None if device is None else device._queues


# ----------------------------------------------------------------------------- the ttnn functions


def record_event(mesh_device, cq_id=None, sub_device_ids=(), device_range=None) -> MeshEvent:
    """An event at the point queue ``cq_id`` has reached on ``mesh_device``."""
    queues = mesh_device._queues
    cq = queues.queue(cq_id, "ttnn.record_event")
    return MeshEvent(mesh_device, cq, queues.position[cq])


def wait_for_event(cq_id, mesh_event: MeshEvent) -> None:
    """Queue ``cq_id`` of the event's device waits until the event's point is done."""
    if not isinstance(mesh_event, MeshEvent):
        raise TypeError("wait_for_event(): incompatible function arguments: mesh_event must be a MeshEvent")
    queues = mesh_event.device._queues
    cq = queues.queue(cq_id, "ttnn.wait_for_event")
    queues.seen[cq][mesh_event.cq_id] = max(queues.seen[cq][mesh_event.cq_id], mesh_event.position)


def event_synchronize(mesh_event: MeshEvent) -> None:
    """The host waits until the event's point is done."""
    if not isinstance(mesh_event, MeshEvent):
        raise TypeError("event_synchronize(): incompatible function arguments: mesh_event must be a MeshEvent")
    mesh_event.device._queues.host_waits(mesh_event.cq_id, mesh_event.position)


def synchronize_device(device, cq_id=None, sub_device_ids=()) -> None:
    """The host waits until queue ``cq_id`` (every queue when None) has finished what was enqueued."""
    queues = device._queues
    for cq in range(queues.count) if cq_id is None else (queues.queue(cq_id, "ttnn.synchronize_device"),):
        queues.host_waits(cq, queues.position[cq])


def mark_pending(host_tensor, device, cq: int) -> None:
    """``host_tensor`` is the target of a non-blocking read on queue ``cq``: not readable until the host waits."""
    queues = device._queues
    queues.position[cq] += 1
    host_tensor._pending = (queues, cq, queues.position[cq])


def host_read(device, cq: int) -> None:
    """A blocking read on queue ``cq``: the host has waited for everything enqueued on it so far."""
    queues = device._queues
    queues.host_waits(cq, queues.position[cq])


def check_host_ready(host_tensor, op: str) -> None:
    """Refuse to read a host tensor a non-blocking ``from_device`` filled before the host waited for it."""
    pending = getattr(host_tensor, "_pending", None)
    if pending is not None:
        queues, cq, position = pending
        if queues.host_seen[cq] < position:
            raise TTError(f"{op}: the host tensor comes from a non-blocking from_device on cq {cq} that the host has "
                          "not waited for: call ttnn.synchronize_device(device) or ttnn.event_synchronize(event) "
                          "first (on a card its contents are not there yet)")
        host_tensor._pending = None
