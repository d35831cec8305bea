"""Metal trace on the emulator: capture, replay on new inputs, and what a capture refuses (``ttnn.*_trace``)."""

import warnings

import pytest
import torch

import ttbringup.emu as ttnn
from ttbringup.emu import memory
from ttbringup.emu.core import height_sharded_config
from ttbringup.emu.errors import TTError
from ttbringup.emu.trace import TRACE_BYTES_PER_OP, region_bytes_per_bank

REGION = 1 << 20
# Eager runs after a capture allocate, which 0.81.1 warns about once per process; one test checks that warning.
pytestmark = pytest.mark.filterwarnings("ignore:Allocating device buffers is unsafe")


@pytest.fixture
def device():
    d = ttnn.open_device(device_id=0, trace_region_size=REGION)
    yield d
    ttnn.close_device(d)


def dev(x, device, dtype=ttnn.bfloat16, **kw):
    return ttnn.from_torch(x, dtype=dtype, layout=ttnn.TILE_LAYOUT, device=device, **kw)


def host(x, dtype=ttnn.bfloat16):
    return ttnn.from_torch(x, dtype=dtype, layout=ttnn.TILE_LAYOUT)


def step(x, w, gamma):
    """A small decode-like graph: norm, linear, residual, softmax; the intermediate is freed as models do."""
    h = ttnn.rms_norm(x, epsilon=1e-5, weight=gamma)
    y = ttnn.linear(h, w)
    ttnn.deallocate(h)
    return ttnn.softmax(ttnn.add(y, x), dim=-1)


def graph(device):
    torch.manual_seed(0)
    w = dev(torch.randn(64, 64) / 8, device)
    gamma = ttnn.from_torch(torch.randn(1, 1, 2, 32), dtype=ttnn.bfloat16, layout=ttnn.ROW_MAJOR_LAYOUT,
                            device=device)
    x = dev(torch.randn(1, 1, 32, 64), device)
    return x, w, gamma


def capture(device, fn, *args):
    tid = ttnn.begin_trace_capture(device, cq_id=0)
    try:
        out = fn(*args)
    finally:
        ttnn.end_trace_capture(device, tid, cq_id=0)
    return tid, out


def test_replay_on_new_inputs_is_bit_identical_to_eager(device):
    x, w, gamma = graph(device)
    step(x, w, gamma)  # warm-up: the programs enter the cache
    tid, out = capture(device, step, x, w, gamma)
    for seed in (1, 2):
        new = torch.randn(1, 1, 32, 64, generator=torch.Generator().manual_seed(seed))
        ttnn.copy_host_to_device_tensor(host(new), x)
        ttnn.execute_trace(device, tid, cq_id=0, blocking=True)
        eager = ttnn.to_torch(step(dev(new, device), w, gamma))
        assert torch.equal(ttnn.to_torch(out), eager)
    ttnn.release_trace(device, tid)


def test_replay_allocates_nothing(device):
    x, w, gamma = graph(device)
    step(x, w, gamma)
    tid, out = capture(device, step, x, w, gamma)
    before = memory.usage(device)[0]["dram"]["used"]
    ttnn.execute_trace(device, tid)
    assert memory.usage(device)[0]["dram"]["used"] == before


def test_a_host_list_argument_is_baked_into_the_trace_a_device_tensor_is_not(device):
    """update_idxs=[p] is fixed at capture time (a runtime argument of the recorded program); update_idxs_tensor is
    read on every replay: the reason decode code keeps positions in a device tensor."""
    cache = dev(torch.zeros(1, 1, 64, 32), device)
    k = dev(torch.ones(1, 1, 1, 32), device, memory_config=height_sharded_config(1, (32, 32)))
    pos = ttnn.from_torch(torch.tensor([3], dtype=torch.int32), dtype=ttnn.int32, device=device)

    def write():
        ttnn.experimental.paged_update_cache(cache, k, update_idxs_tensor=pos)
        ttnn.experimental.paged_update_cache(cache, k, update_idxs=[5])

    write()
    tid, _ = capture(device, write)
    ttnn.copy_host_to_device_tensor(ttnn.from_torch(torch.tensor([9], dtype=torch.int32), dtype=ttnn.int32), pos)
    ttnn.execute_trace(device, tid)
    rows = ttnn.to_torch(cache)[0, 0, :, 0]
    assert rows.nonzero().flatten().tolist() == [3, 5, 9]


def test_host_reads_and_writes_are_refused_during_capture(device):
    x, w, gamma = graph(device)
    step(x, w, gamma)
    tid = ttnn.begin_trace_capture(device, cq_id=0)
    with pytest.raises(TTError, match="^Reads are not supported during trace capture\\.$"):
        ttnn.to_torch(x)
    with pytest.raises(TTError, match="^Writes are not supported during trace capture\\.$"):
        dev(torch.zeros(1, 1, 32, 64), device)
    with pytest.raises(TTError, match="^Writes are not supported during trace capture\\.$"):
        ttnn.copy_host_to_device_tensor(host(torch.zeros(1, 1, 32, 64)), x)
    with pytest.raises(TTError, match="^Writes are not supported during trace capture\\.$"):
        ttnn.zeros((1, 1, 32, 32), device=device)
    assert ttnn.empty((1, 1, 32, 32), device=device, layout=ttnn.TILE_LAYOUT).shape == [1, 1, 32, 32]  # allocation
    ttnn.end_trace_capture(device, tid, cq_id=0)
    assert ttnn.to_torch(x).shape == (1, 1, 32, 64)  # reads work again after the capture


def test_an_op_not_run_before_the_capture_cannot_be_compiled_during_it(device):
    x, w, gamma = graph(device)
    tid = ttnn.begin_trace_capture(device, cq_id=0)
    with pytest.raises(TTError, match="Cannot load new binaries during trace capture. This program is not yet in "
                                      "program cache. Warm up before capturing a trace."):
        ttnn.linear(x, w)
    ttnn.end_trace_capture(device, tid, cq_id=0)
    ttnn.linear(x, w)
    other = dev(torch.randn(1, 1, 64, 64), device)  # same op, new input shape: a new program
    tid = ttnn.begin_trace_capture(device, cq_id=0)
    ttnn.linear(x, w)
    with pytest.raises(TTError, match="Cannot load new binaries"):
        ttnn.linear(other, w)
    ttnn.end_trace_capture(device, tid, cq_id=0)


def test_a_trace_must_fit_the_region_and_release_frees_it():
    ops = 3
    d = ttnn.open_device(device_id=0, trace_region_size=ops * TRACE_BYTES_PER_OP)
    try:
        x, w, gamma = graph(d)
        step(x, w, gamma)  # 4 device ops per step
        with pytest.raises(TTError, match=rf"^Creating trace buffers of size {4 * TRACE_BYTES_PER_OP}B on MeshDevice "
                                          rf"0, but only {ops * TRACE_BYTES_PER_OP}B is allocated for trace region.$"):
            capture(d, step, x, w, gamma)
        tid, _ = capture(d, ttnn.linear, x, w)
        with pytest.raises(TTError, match="Creating trace buffers of size"):  # 2 traces, 1 + 3 ops
            capture(d, lambda: [ttnn.linear(x, w) for _ in range(3)])
        ttnn.release_trace(d, tid)
        tid, _ = capture(d, lambda: [ttnn.linear(x, w) for _ in range(3)])
        with pytest.raises(TTError, match="does not exist"):
            ttnn.execute_trace(d, ttnn.MeshTraceId(int(tid) + 100))
    finally:
        ttnn.close_device(d)


def test_no_region_no_trace():
    d = ttnn.open_device(device_id=0)
    try:
        x, w, _ = graph(d)
        ttnn.linear(x, w)
        with pytest.raises(TTError, match="but only 0B is allocated for trace region"):
            capture(d, ttnn.linear, x, w)
    finally:
        ttnn.close_device(d)


@pytest.mark.parametrize("size, per_bank", [(0, 0), (1, 8192), (49153, 8192), (800768, 73728),
                                            (30_000_000, 2_506_752), (104_857_600, 8_740_864)])
def test_the_region_is_carved_out_of_every_dram_bank(size, per_bank):
    """Bank sizes measured with the real 0.81.1 wheel (mock n150): 1,072,693,184 B minus the region's share."""
    assert region_bytes_per_bank(size, memory.DRAM_BANKS) == per_bank
    d = ttnn.open_device(device_id=0, trace_region_size=size)
    try:
        assert d._chips[0].dram.bank_size == memory.DRAM_BANK_SIZE - per_bank
    finally:
        ttnn.close_device(d)


def test_replay_after_a_captured_buffer_was_deallocated_raises(device):
    x, w, gamma = graph(device)
    step(x, w, gamma)
    tid, out = capture(device, step, x, w, gamma)
    ttnn.execute_trace(device, tid)  # the capture freed its own intermediate: still fine
    ttnn.deallocate(x)
    with pytest.raises(TTError, match="was deallocated after the capture"):
        ttnn.execute_trace(device, tid)


def test_allocating_while_a_trace_exists_warns_once(device, monkeypatch):
    monkeypatch.setattr(memory, "_warned_unsafe", False)
    x, w, gamma = graph(device)
    step(x, w, gamma)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tid, _ = capture(device, step, x, w, gamma)  # allocations inside a capture are safe
    with pytest.warns(RuntimeWarning, match="Allocating device buffers is unsafe due to the existence of an active "
                                            "trace"):
        dev(torch.zeros(1, 1, 32, 32), device)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dev(torch.zeros(1, 1, 32, 32), device)  # once per process, as 0.81.1 logs it


def test_capture_and_queue_misuse(device):
    with pytest.raises(TTError, match="cq_id 1 is out of range"):
        ttnn.begin_trace_capture(device, cq_id=1)
    tid = ttnn.begin_trace_capture(device, cq_id=0)
    with pytest.raises(TTError, match="already in progress"):
        ttnn.begin_trace_capture(device, cq_id=0)
    with pytest.raises(TTError, match="while a trace capture is in progress"):
        ttnn.execute_trace(device, tid)
    ttnn.end_trace_capture(device, tid, cq_id=0)
    with pytest.raises(TypeError, match="MeshTraceId"):
        ttnn.execute_trace(device, 0)
    with pytest.raises(TTError, match="num_command_queues must be 1 or 2"):
        ttnn.open_mesh_device(ttnn.MeshShape(1, 1), num_command_queues=3)


def test_replay_on_a_mesh_matches_eager():
    mesh = ttnn.open_mesh_device(ttnn.MeshShape(1, 2), trace_region_size=REGION)
    try:
        torch.manual_seed(3)
        w = ttnn.from_torch(torch.randn(64, 128), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=mesh,
                            mesh_mapper=ttnn.ShardTensorToMesh(mesh, dim=-1))
        x = ttnn.from_torch(torch.randn(1, 1, 32, 64), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=mesh,
                            mesh_mapper=ttnn.ReplicateTensorToMesh(mesh))
        compose = ttnn.ConcatMeshToTensor(mesh, dim=-1)
        ttnn.silu(ttnn.linear(x, w))
        tid, out = capture(mesh, lambda: ttnn.silu(ttnn.linear(x, w)))
        new = torch.randn(1, 1, 32, 64)
        ttnn.copy_host_to_device_tensor(ttnn.from_torch(new, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT,
                                                        mesh_mapper=ttnn.ReplicateTensorToMesh(mesh)), x)
        ttnn.execute_trace(mesh, tid)
        fresh = ttnn.from_torch(new, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=mesh,
                                mesh_mapper=ttnn.ReplicateTensorToMesh(mesh))
        eager = ttnn.silu(ttnn.linear(fresh, w))
        assert torch.equal(ttnn.to_torch(out, mesh_composer=compose), ttnn.to_torch(eager, mesh_composer=compose))
    finally:
        ttnn.close_mesh_device(mesh)
