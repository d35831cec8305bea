"""Metal trace: ``begin_trace_capture``, ``end_trace_capture``, ``execute_trace``, ``release_trace``, and the
program cache a capture depends on.

The card's contract (tt-metal's trace documentation and the 0.81.1 error texts):

* A device opened with ``trace_region_size=S`` loses ``S`` bytes of DRAM to the trace region, split over its 12
  banks (measured on the 0.81.1 mock: ``round_up(ceil(S / 12), 8192)`` bytes per bank).
* Between ``begin_trace_capture`` and ``end_trace_capture`` the device ops are recorded, buffers may be allocated
  and freed, but nothing may move between host and device ("Reads/Writes are not supported during trace
  capture"), and every op must already be in the program cache: an op never run with those tensor specs before
  the capture cannot be compiled during it ("Cannot load new binaries during trace capture ...").
* ``end_trace_capture`` stores the trace in the region; traces larger than it are refused ("Creating trace
  buffers of size ...").
* ``execute_trace`` replays the recorded ops on the buffers fixed at capture time: the inputs are read with
  their current contents (written with ``copy_host_to_device_tensor``), the captured outputs are overwritten;
  Python between the ops, and host-side arguments such as a ``cur_pos`` list, are what they were at capture.
* While a trace exists and no capture is open, allocating is unsafe (the buffers may be overwritten by a replay):
  0.81.1 warns once per process. ``release_trace`` frees the region's space.

What the emulator adds and where it differs, on purpose:

* The capture computes eagerly (the card defers the work to the first replay), so a captured output holds the
  capture-time result until the first ``execute_trace``, where a card's holds whatever its buffer held.
* A replay re-runs each recorded op on the recorded arguments with allocation suppressed and copies the results
  into the captured tensors, so no replay allocates device memory. A buffer the trace uses that was deallocated
  after the capture makes ``execute_trace`` raise (on a card the replay would write into freed memory);
  intermediates freed during the capture are the trace's own scratch and stay usable by it.
* The program cache is keyed by the op and its tensor arguments' padded shapes, dtypes, layouts and memory
  configs (the card's key also hashes some op attributes; scalar arguments here never make a new program).
* A trace's size in the region is :data:`TRACE_BYTES_PER_OP` per recorded op, an estimate (the card's size
  depends on each program's core count and runtime arguments): a region the emulator accepts may still be too
  small on a card. Raise ``trace_region_size`` by the margin the card's error message names.
"""

from __future__ import annotations

import functools

from . import device_time, memory, nd_sharding, tensor
from .errors import TTError, check, fatal
from .types import round_up

TRACE_BYTES_PER_OP = 4096  # estimate of one op's recorded dispatch commands; see the module docstring
_REGION_ALIGNMENT = 8192  # per-bank granule of the carve-out, measured on the 0.81.1 mock

_depth = 0  # > 0 inside a device op or a replay: nested ops belong to their caller's program


def region_bytes_per_bank(trace_region_size: int, banks: int) -> int:
    """The DRAM each bank gives up for a trace region of ``trace_region_size`` bytes."""
    if trace_region_size <= 0:
        return 0
    return round_up(-(-trace_region_size // banks), _REGION_ALIGNMENT)


class MeshTraceId:
    """``ttnn.MeshTraceId``: the handle ``begin_trace_capture`` returns."""

    __slots__ = ("_id",)

    def __init__(self, arg: int):
        self._id = int(arg)

    def __int__(self) -> int:
        return self._id

    def __eq__(self, other) -> bool:
        return isinstance(other, MeshTraceId) and other._id == self._id

    def __hash__(self) -> int:
        return hash(self._id)

    def __repr__(self) -> str:
        return f"MeshTraceId({self._id})"


class _Call:
    __slots__ = ("name", "op", "args", "kwargs", "output", "block")

    def __init__(self, name, op, args, kwargs, output):
        self.name, self.op, self.args, self.kwargs, self.output = name, op, args, kwargs, output
        self.block = device_time.current_block()  # device-time tag, kept for the replays


class _Trace:
    """One capture: the ops in order, the tensors they touched, and which of those the capture itself freed."""

    def __init__(self, trace_id: MeshTraceId, cq_id: int):
        self.id = trace_id
        self.cq_id = cq_id
        self.calls: list[_Call] = []
        self.touched: dict[int, tensor.Tensor] = {}  # every tensor an op read or wrote, by id (kept alive here)
        self.reads: dict[int, tensor.Tensor] = {}  # the ops' tensor arguments
        self.writes: dict[int, tensor.Tensor] = {}  # their results
        self.scratch: set[int] = set()  # ids of tensors made and freed inside the capture

    def record(self, name, op, args, kwargs, output) -> None:
        self.calls.append(_Call(name, op, args, kwargs, output))
        for t in _tensors((args, tuple(kwargs.values()))):
            self.touched[id(t)] = self.reads[id(t)] = t
        for t in _tensors(output):
            self.touched[id(t)] = self.writes[id(t)] = t

    def size(self) -> int:
        return TRACE_BYTES_PER_OP * len(self.calls)


class DeviceTraces:
    """A device's program cache, trace region and traces (``MeshDevice._traces``)."""

    def __init__(self, region_size: int):
        self.region_size = region_size
        self.programs: set = set()
        self.cache_enabled = True
        self.capturing: _Trace | None = None
        self.traces: dict[MeshTraceId, _Trace] = {}
        self.allocations_unsafe = False
        self._next_id = 0

    def stored_bytes(self) -> int:
        return sum(t.size() for t in self.traces.values())

    def program_count(self) -> int:
        """Distinct programs compiled so far (what ``device.num_program_cache_entries()`` counts on a card)."""
        return len(self.programs)


# ----------------------------------------------------------------------------- recording device ops


def device_op(name: str, fn):
    """Wrap a device op: add its program to the device's cache, refuse a cold one during a capture, record it."""

    @functools.wraps(fn)
    def run(*args, **kwargs):
        global _depth
        if _depth:
            return fn(*args, **kwargs)
        inputs = _tensor_args(args, kwargs)
        device = _device_of(inputs)
        if device is None:
            return fn(*args, **kwargs)
        if nd_sharding.placed_any:  # only processes that made an ND-sharded tensor pay for the scan
            nd_sharding.check_op_inputs(name, _tensors((args, tuple(kwargs.values()))))
        traces = device._traces
        key = _program_key(name, inputs, kwargs)
        capture = traces.capturing
        if capture is not None and key not in traces.programs:
            raise TTError(f"{name}: Cannot load new binaries during trace capture. This program is not yet in "
                          "program cache. Warm up before capturing a trace.")
        if traces.cache_enabled:
            traces.programs.add(key)
        _depth = 1
        try:
            out = fn(*args, **kwargs)
        finally:
            _depth = 0
        if capture is not None:
            capture.record(name, fn, args, kwargs, out)
        elif device_time._active is not None:  # a captured op runs on the card at replay, not now
            device_time._active.add(name, fn, args, kwargs, out, device, traced=False)
        queues = device._queues
        if queues.count > 1:
            queues.access(0 if capture is None else capture.cq_id, _tensors((args, tuple(kwargs.values()))),
                          _tensors(out), name)
        return out

    return run


def recorded_op(name: str):
    """Decorator form of :func:`device_op` for device ops that do not run per chip (the collectives)."""
    return functools.partial(device_op, name)


def _tensor_args(args, kwargs) -> list:
    """The tensor arguments, in order, one level into lists and tuples (what a program is keyed by)."""
    found = []
    for v in (*args, *kwargs.values()):
        if isinstance(v, tensor.Tensor):
            found.append(v)
        elif isinstance(v, (list, tuple)):
            found.extend(t for t in v if isinstance(t, tensor.Tensor))
    return found


def _device_of(inputs: list):
    for t in inputs:
        if t._device is not None:
            return t._device
    return None


def _program_key(name: str, inputs: list, kwargs) -> tuple:
    return name, tuple([(t._padded_shape._dims, t._dtype, t._layout, t._memory_config) for t in inputs]), tuple(kwargs)


def _tensors(value) -> list:
    """The ttnn tensors in ``value`` (nested tuples and lists)."""
    if isinstance(value, tensor.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for item in value for t in _tensors(item)]
    return []


# ----------------------------------------------------------------------------- host transfers


def refuse_during_capture(device, transfer: str) -> None:
    """Raise the card's error when ``transfer`` ("Reads" / "Writes") hits ``device`` while it is capturing."""
    traces = getattr(device, "_traces", None)
    if traces is not None and traces.capturing is not None:
        raise TTError(f"{transfer} are not supported during trace capture.")


# ----------------------------------------------------------------------------- the ttnn API


def _traces_of(mesh_device, op: str) -> DeviceTraces:
    traces = getattr(mesh_device, "_traces", None)
    if traces is None:
        raise TypeError(f"{op}(): incompatible function arguments: {type(mesh_device).__name__} is not a MeshDevice")
    mesh_device._check_open()
    return traces


def begin_trace_capture(mesh_device, *, cq_id=None) -> MeshTraceId:
    """Start recording the device ops issued on ``mesh_device``; returns the new trace's id."""
    op = "ttnn.begin_trace_capture"
    traces = _traces_of(mesh_device, op)
    cq = mesh_device._queues.queue(cq_id, op)
    check(traces.capturing is None, op, "a trace capture is already in progress on this device")
    trace_id = MeshTraceId(traces._next_id)
    traces._next_id += 1
    traces.capturing = _Trace(trace_id, cq)
    traces.allocations_unsafe = False
    return trace_id


def end_trace_capture(mesh_device, trace_id: MeshTraceId, *, cq_id=None) -> None:
    """Stop recording and store the trace in the device's trace region."""
    op = "ttnn.end_trace_capture"
    traces = _traces_of(mesh_device, op)
    capture = traces.capturing
    check(capture is not None and capture.id == trace_id, op, f"trace {trace_id!r} is not being captured")
    check(mesh_device._queues.queue(cq_id, op) == capture.cq_id, op,
          f"trace {trace_id!r} is being captured on cq {capture.cq_id}")
    traces.capturing = None
    capture.scratch = {i for i, t in capture.touched.items() if not t.is_allocated()}
    needed = traces.stored_bytes() + capture.size()
    if needed > traces.region_size:
        raise TTError(f"Creating trace buffers of size {needed}B on MeshDevice {mesh_device.id()}, but only "
                      f"{traces.region_size}B is allocated for trace region.")
    traces.traces[trace_id] = capture
    traces.allocations_unsafe = True


def execute_trace(mesh_device, trace_id: MeshTraceId, *, cq_id=None, blocking: bool = True) -> None:
    """Replay a stored trace: every recorded op again, on the current contents of its buffers."""
    global _depth
    op = "ttnn.execute_trace"
    traces = _traces_of(mesh_device, op)
    check(traces.capturing is None, op, "cannot execute a trace while a trace capture is in progress")
    trace = _stored(traces, trace_id, op)
    check(mesh_device._queues.queue(cq_id, op) == trace.cq_id, op,
          f"trace {trace_id!r} was captured on cq {trace.cq_id}")
    for i, t in trace.touched.items():
        if not t.is_allocated() and i not in trace.scratch:
            raise fatal(op, f"a buffer trace {trace_id!r} reads or writes was deallocated after the capture "
                            f"({t!r}); keep the trace's inputs and outputs allocated until release_trace")
    queues = mesh_device._queues
    if queues.count > 1:
        queues.access(trace.cq_id, trace.reads.values(), trace.writes.values(), op)
    if blocking:
        queues.host_waits(trace.cq_id, queues.position[trace.cq_id])
    _depth = 1
    memory.suppress_allocation(True)
    tensor.skip_alive_checks(True)
    try:
        for call in trace.calls:
            fresh = call.op(*call.args, **call.kwargs)
            if device_time._active is not None:
                device_time._active.add(call.name, call.op, call.args, call.kwargs, fresh, mesh_device, traced=True,
                                        block=call.block)
            _refill(call.output, fresh)
    finally:
        tensor.skip_alive_checks(False)
        memory.suppress_allocation(False)
        _depth = 0


def release_trace(mesh_device, trace_id: MeshTraceId) -> None:
    """Drop a stored trace and free its space in the region."""
    op = "ttnn.release_trace"
    traces = _traces_of(mesh_device, op)
    _stored(traces, trace_id, op)
    del traces.traces[trace_id]
    if not traces.traces:
        traces.allocations_unsafe = False


def _stored(traces: DeviceTraces, trace_id, op: str) -> _Trace:
    if not isinstance(trace_id, MeshTraceId):
        raise TypeError(f"{op}(): incompatible function arguments: trace_id must be a MeshTraceId, "
                        f"got {type(trace_id).__name__}")
    trace = traces.traces.get(trace_id)
    check(trace is not None, op, f"trace {trace_id!r} does not exist on this device (never captured, or released)")
    return trace


def _refill(captured, fresh) -> None:
    """Put a replayed op's results into the tensors its capture returned (the buffers the trace fixed)."""
    if isinstance(captured, tensor.Tensor):
        if fresh is not captured:
            captured._value, captured._shards = fresh._value, fresh._shards
    elif isinstance(captured, (list, tuple)):
        for c, f in zip(captured, fresh):
            _refill(c, f)
