"""Two command queues and events (``ttnn.record_event`` / ``wait_for_event`` / ``event_synchronize`` /
``synchronize_device``): the two-queue decode pattern runs and gives the one-queue results, and every access
the queues do not order raises ``QueueRaceError`` (on a card: a data race)."""

import pytest
import torch

import ttbringup.emu as ttnn
from ttbringup.emu.errors import QueueRaceError, TTError

pytestmark = pytest.mark.filterwarnings("ignore:Allocating device buffers is unsafe")


@pytest.fixture
def two_cq():
    d = ttnn.open_mesh_device(ttnn.MeshShape(1, 1), trace_region_size=1 << 20, num_command_queues=2)
    yield d
    ttnn.close_mesh_device(d)


def host(x, dtype=ttnn.bfloat16):
    return ttnn.from_torch(x, dtype=dtype, layout=ttnn.TILE_LAYOUT)


def dev(x, device, **kw):
    return ttnn.from_torch(x, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device, **kw)


def test_two_queue_traced_loop_gives_the_one_queue_results(two_cq):
    """Inputs written on cq 1 while cq 0 replays the trace, an event each way (the tt-metal two-queue pattern)."""
    torch.manual_seed(0)
    w = torch.randn(64, 64)
    xs = [torch.randn(32, 64) for _ in range(4)]
    weight = dev(w, two_cq)
    x = dev(xs[0], two_cq)
    ttnn.linear(x, weight)  # warm-up: the program is cached
    tid = ttnn.begin_trace_capture(two_cq, cq_id=0)
    y = ttnn.linear(x, weight)
    ttnn.end_trace_capture(two_cq, tid, cq_id=0)
    op_done = ttnn.record_event(two_cq, 0)
    got = []
    for step in xs:
        ttnn.wait_for_event(1, op_done)  # cq 1 overwrites the input only once cq 0 has read it
        ttnn.copy_host_to_device_tensor(host(step), x, cq_id=1)
        written = ttnn.record_event(two_cq, ttnn.QueueId(1))
        ttnn.wait_for_event(0, written)  # cq 0 reads the input only once cq 1 has written it
        ttnn.execute_trace(two_cq, tid, cq_id=0, blocking=False)
        op_done = ttnn.record_event(two_cq, 0)
        got.append(ttnn.to_torch(y, cq_id=0))
    want = [(s.bfloat16().float() @ w.bfloat16().float()).bfloat16() for s in xs]
    for g, wv in zip(got, want):
        assert torch.allclose(g.float(), wv.float(), atol=0.05, rtol=0.02)
    ttnn.release_trace(two_cq, tid)


def test_uploads_and_writes_on_different_queues_need_an_event_between_them(two_cq):
    x = dev(torch.ones(32, 32), two_cq)  # written on cq 0
    with pytest.raises(QueueRaceError, match="cq 1 overwrites a tensor that cq 0 wrote"):
        ttnn.copy_host_to_device_tensor(host(torch.zeros(32, 32)), x, cq_id=1)


def test_reading_a_tensor_before_the_other_queue_is_waited_for_races(two_cq):
    x = dev(torch.ones(32, 32), two_cq)
    ttnn.add(x, x)  # cq 0 reads x
    ttnn.synchronize_device(two_cq)
    ttnn.copy_host_to_device_tensor(host(torch.full((32, 32), 2.0)), x, cq_id=1)
    with pytest.raises(QueueRaceError, match="cq 0 reads a tensor that cq 1 wrote"):
        ttnn.add(x, x)
    ttnn.wait_for_event(0, ttnn.record_event(two_cq, 1))
    assert torch.equal(ttnn.to_torch(ttnn.add(x, x)), torch.full((32, 32), 4.0, dtype=torch.bfloat16))


def test_overwriting_what_the_other_queue_still_reads_races(two_cq):
    x = dev(torch.ones(32, 32), two_cq, cq_id=1)
    ttnn.wait_for_event(0, ttnn.record_event(two_cq, 1))
    ttnn.mul(x, x)  # cq 0 reads x
    with pytest.raises(QueueRaceError, match="cq 1 overwrites a tensor that cq 0 reads"):
        ttnn.copy_host_to_device_tensor(host(torch.zeros(32, 32)), x, cq_id=1)
    ttnn.wait_for_event(1, ttnn.record_event(two_cq, 0))
    ttnn.copy_host_to_device_tensor(host(torch.zeros(32, 32)), x, cq_id=1)


def test_a_tensor_uploaded_on_cq1_needs_an_event_before_cq0_uses_it(two_cq):
    x = ttnn.to_device(host(torch.ones(32, 32)), two_cq, queue_id=ttnn.QueueId(1))
    with pytest.raises(QueueRaceError, match="cq 0 reads a tensor that cq 1 wrote"):
        ttnn.relu(x)


@pytest.mark.parametrize("sync", ["event_synchronize", "synchronize_device", "synchronize_device_cq1"])
def test_a_host_wait_orders_the_queues_too(two_cq, sync):
    x = dev(torch.ones(32, 32), two_cq)
    ttnn.synchronize_device(two_cq)  # the upload on cq 0 has landed before cq 1 overwrites it
    ttnn.copy_host_to_device_tensor(host(torch.full((32, 32), 3.0)), x, cq_id=1)
    if sync == "event_synchronize":
        ttnn.event_synchronize(ttnn.record_event(two_cq, 1))
    elif sync == "synchronize_device":
        ttnn.synchronize_device(two_cq)
    else:
        ttnn.synchronize_device(two_cq, cq_id=1)
    assert torch.equal(ttnn.to_torch(ttnn.relu(x)), torch.full((32, 32), 3.0, dtype=torch.bfloat16))


def test_a_traced_replay_reads_on_its_own_queue(two_cq):
    x = dev(torch.ones(32, 32), two_cq)
    ttnn.relu(x)
    tid = ttnn.begin_trace_capture(two_cq, cq_id=0)
    ttnn.relu(x)
    ttnn.end_trace_capture(two_cq, tid, cq_id=0)
    ttnn.wait_for_event(1, ttnn.record_event(two_cq, 0))
    ttnn.copy_host_to_device_tensor(host(torch.zeros(32, 32)), x, cq_id=1)
    with pytest.raises(QueueRaceError, match="ttnn.execute_trace: cq 0 reads a tensor that cq 1 wrote"):
        ttnn.execute_trace(two_cq, tid, cq_id=0)
    ttnn.release_trace(two_cq, tid)


@pytest.mark.parametrize("queues", [1, 2])
def test_a_non_blocking_read_is_readable_once_the_host_waits(queues):
    d = ttnn.open_mesh_device(ttnn.MeshShape(1, 1), num_command_queues=queues)
    try:
        x = dev(torch.full((32, 32), 5.0), d)
        pending = ttnn.from_device(x, blocking=False)
        with pytest.raises(TTError, match="non-blocking from_device on cq 0 that the host has not waited for"):
            ttnn.to_torch(pending)
        ttnn.synchronize_device(d)
        assert torch.equal(ttnn.to_torch(pending), torch.full((32, 32), 5.0, dtype=torch.bfloat16))
        blocking = ttnn.from_device(x)
        assert torch.equal(ttnn.to_torch(blocking), torch.full((32, 32), 5.0, dtype=torch.bfloat16))
    finally:
        ttnn.close_mesh_device(d)


def test_one_queue_devices_track_nothing_and_refuse_cq1(device):
    x = dev(torch.ones(32, 32), device)
    ttnn.add(x, x)
    assert x._access is None  # no bookkeeping on the common path
    with pytest.raises(TTError, match="cq_id 1 is out of range: the device was opened with 1 command queue"):
        ttnn.record_event(device, 1)
    with pytest.raises(TTError, match="cq_id 1 is out of range"):
        ttnn.copy_host_to_device_tensor(host(torch.ones(32, 32)), x, cq_id=1)
    with pytest.raises(TypeError, match="mesh_event must be a MeshEvent"):
        ttnn.wait_for_event(0, "event")
