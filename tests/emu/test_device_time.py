"""Device-time recording and the Wormhole cost model (``ttbringup.emu.device_time``).

Counts are checked against values computed by hand here; times against the formulas with the constants of
``device_time.constants`` (so a changed constant does not break them, a changed formula does)."""

import dataclasses

import pytest
import torch

import ttbringup.emu as ttnn
from ttbringup.emu import device_time
from ttbringup.emu.device_time import constants as C
from ttbringup.emu.device_time.cost import bound_of, ccl_link_bytes, estimate, sdpa_flops
from ttbringup.emu.device_time.timeline import timed_rows, total_seconds

N150 = C.SYSTEMS["n150"]
N300 = C.SYSTEMS["n300"]
pytestmark = pytest.mark.filterwarnings("ignore:Allocating device buffers is unsafe")


def meta(*shape):
    return torch.empty(*shape, dtype=torch.bfloat16, device="meta")


def dev(x, device, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, **kw):
    return ttnn.from_torch(x, dtype=dtype, layout=layout, device=device, **kw)


def fidelity_config(name):
    return ttnn.WormholeComputeKernelConfig(math_fidelity=getattr(ttnn.MathFidelity, name))


def record_of(fn):
    """The single record ``fn()`` leaves."""
    with device_time.recording() as rec:
        fn()
    assert len(rec.records) == 1, [r.op for r in rec.records]
    return rec.records[0]


# ----------------------------------------------------------------------------- recording


def test_a_recorded_linear_has_shapes_dtypes_memory_fidelity_and_mesh(device):
    a, w = dev(torch.randn(1, 1, 64, 256), device), dev(torch.randn(256, 512), device, ttnn.bfloat8_b)
    r = record_of(lambda: ttnn.linear(a, w))
    assert r.op == "ttnn.linear" and not r.traced and r.kind == "op"
    assert [s.name for s in r.inputs] == ["input_tensor_a", "input_tensor_b"]
    assert r.inputs[1].dtype == "BFLOAT8_B" and r.inputs[1].memory == "DRAM_INTERLEAVED"
    assert r.outputs[0].shape == (1, 1, 64, 512)
    assert r.fidelity == "HiFi2"  # 0.81.1's default for bf16 x bfp8 without a program config
    assert r.mesh == (1, 1) and r.device_ids == (0,)


def test_recording_off_adds_no_records(device):
    a = dev(torch.randn(1, 1, 32, 64), device)
    rec = device_time.Recorder()
    assert device_time.active() is None
    ttnn.add(a, a)
    with device_time.recording(rec):
        ttnn.add(a, a)
    ttnn.add(a, a)
    assert len(rec.records) == 1
    assert device_time.active() is None


def test_phases_tag_records(device):
    a = dev(torch.randn(1, 1, 32, 64), device)
    with device_time.recording() as rec:
        with rec.in_phase("p1"):
            ttnn.add(a, a)
        ttnn.silu(a)
    assert [(r.op, r.phase) for r in rec.records] == [("ttnn.add", "p1"), ("ttnn.silu", "")]


def test_a_reshape_view_is_recorded_as_view_and_gets_no_row(device):
    a = dev(torch.randn(32, 64), device)
    r = record_of(lambda: ttnn.reshape(a, (1, 1, 32, 64)))
    assert r.kind == "view"
    assert timed_rows([r], N150) == []


def test_fidelity_defaults_follow_0_81_1(device):
    a, b = dev(torch.randn(32, 64), device), dev(torch.randn(64, 64), device)
    a8, b8 = dev(torch.randn(32, 64), device, ttnn.bfloat8_b), dev(torch.randn(64, 64), device, ttnn.bfloat8_b)
    assert record_of(lambda: ttnn.linear(a, b)).fidelity == "HiFi2"
    assert record_of(lambda: ttnn.linear(a8, b8)).fidelity == "LoFi"
    assert record_of(lambda: ttnn.linear(a, b, core_grid=ttnn.CoreGrid(x=8, y=8))).fidelity == "LoFi"
    assert record_of(lambda: ttnn.linear(a, b, compute_kernel_config=fidelity_config("HiFi4"))).fidelity == "HiFi4"
    assert record_of(lambda: ttnn.softmax(a, dim=-1)).fidelity == "HiFi3"
    assert record_of(lambda: ttnn.rms_norm(a, epsilon=1e-5)).fidelity == "HiFi4"
    assert record_of(lambda: ttnn.concat([a, a], dim=-1)).fidelity is None


# ----------------------------------------------------------------------------- matmul


def test_matmul_flops_and_bytes_are_the_hand_counts(device):
    a, w = dev(torch.randn(1, 1, 64, 256), device), dev(torch.randn(256, 512), device)
    cost = estimate(record_of(lambda: ttnn.linear(a, w)), N150)
    assert cost.flops == 2 * 64 * 256 * 512 == 16_777_216
    assert cost.dram_bytes == 64 * 256 * 2 + 256 * 512 * 2 + 64 * 512 * 2 == 360_448
    w8 = dev(torch.randn(256, 512), device, ttnn.bfloat8_b)
    cost8 = estimate(record_of(lambda: ttnn.linear(a, w8)), N150)
    assert cost8.dram_bytes == 64 * 256 * 2 + 256 * 512 * 1088 // 1024 + 64 * 512 * 2  # 1088 B per bfp8 tile


def test_matmul_flops_are_logical_but_compute_runs_on_whole_tiles(device):
    w = dev(meta(2048, 2048), device)
    one = estimate(record_of(lambda: ttnn.linear(dev(meta(1, 1, 1, 2048), device), w)), N150)
    full = estimate(record_of(lambda: ttnn.linear(dev(meta(1, 1, 32, 2048), device), w)), N150)
    assert one.flops == 2 * 1 * 2048 * 2048 and full.flops == 32 * one.flops
    assert one.compute_s == full.compute_s  # a decode batch of 1 costs what 32 rows cost


def test_fidelity_scales_compute_time(device):
    a, w = dev(meta(1, 1, 4096, 4096), device), dev(meta(4096, 4096), device)
    times = {}
    for fid in ("LoFi", "HiFi2", "HiFi3", "HiFi4"):
        cost = estimate(record_of(lambda: ttnn.linear(a, w, compute_kernel_config=fidelity_config(fid))), N150)
        times[fid] = cost
    assert times["LoFi"].device_s < times["HiFi2"].device_s < times["HiFi3"].device_s < times["HiFi4"].device_s
    assert times["HiFi4"].compute_s == pytest.approx(4 * times["LoFi"].compute_s)
    expected = 2 * 4096 ** 3 / (64 * 4096 / 4 * C.CLOCK_HZ * C.MATMUL_EFFICIENCY)
    assert times["HiFi4"].compute_s == pytest.approx(expected)
    assert times["HiFi4"].limit == "compute"


def test_bfp8_weights_predict_a_faster_dram_bound_decode_matmul_than_bf16(device):
    x = dev(meta(1, 1, 32, 2048), device)
    bf16 = estimate(record_of(lambda: ttnn.linear(x, dev(meta(2048, 8192), device))), N150)
    bfp8 = estimate(record_of(lambda: ttnn.linear(x, dev(meta(2048, 8192), device, ttnn.bfloat8_b))), N150)
    assert bf16.bound == "DRAM" and bf16.limit == "dram"
    assert bfp8.device_s < bf16.device_s
    assert bf16.device_s == pytest.approx(bf16.dram_bytes / C.DRAM_INTERLEAVED_BPS)


def test_a_dram_sharded_weight_uses_12_cores_and_the_sharded_bandwidth(device):
    """The emulator cannot place a weight DRAM width-sharded (0.81.1's to_device refuses it too), so the record
    is the one a DRAM-sharded decode matmul would leave, with the weight's spec changed by hand."""
    x, w = dev(meta(1, 1, 32, 2048), device), dev(meta(2048, 8192), device, ttnn.bfloat8_b)
    r = record_of(lambda: ttnn.linear(x, w))
    interleaved = estimate(r, N150)
    r.inputs = (r.inputs[0], dataclasses.replace(r.inputs[1], memory_layout="WIDTH_SHARDED"))
    cost = estimate(r, N150)
    assert cost.dram_sharded and cost.cores == 12 and not interleaved.dram_sharded
    assert cost.dram_bytes == interleaved.dram_bytes
    assert cost.device_s == pytest.approx(C.DRAM_SHARDED_MATMUL_FIXED_S + cost.dram_bytes / C.DRAM_SHARDED_BPS)
    assert cost.device_s < interleaved.device_s


def test_a_dram_sharded_decode_qkv_reproduces_the_facts_worked_example(device):
    """perf-facts §5.2: Llama-3.1-8B QKV (4096 x 6144, BFP8, HiFi2) at batch <= 32: compute 65 us, DRAM 109 us."""
    x = dev(meta(1, 1, 32, 4096), device, memory_config=ttnn.L1_MEMORY_CONFIG)  # decode activations live in L1
    w = dev(meta(4096, 6144), device, ttnn.bfloat8_b)
    r = record_of(lambda: ttnn.linear(x, w, compute_kernel_config=fidelity_config("HiFi2"),
                                      memory_config=ttnn.L1_MEMORY_CONFIG))
    r.inputs = (r.inputs[0], dataclasses.replace(r.inputs[1], memory_layout="WIDTH_SHARDED"))
    cost = estimate(r, N150)
    assert cost.compute_s * 1e6 == pytest.approx(65, abs=1)
    assert cost.device_s * 1e6 == pytest.approx(109, abs=1.5)
    assert cost.limit == "dram"


def test_the_dram_sharded_what_if_marks_only_decode_matmul_weights(device):
    """tt_transformers' decode matmuls are DRAM-sharded; the what-if marks a decode-phase linear's weight so (the
    activation, the prefill linear and the non-matmul op stay as recorded) and the cost follows the sharded law."""
    from ttbringup.emu.device_time.what_if import dram_sharded_decode

    x, w = dev(meta(1, 1, 32, 2048), device), dev(meta(2048, 8192), device, ttnn.bfloat8_b)
    with device_time.recording() as rec:
        with rec.in_phase("prefill"):
            ttnn.linear(x, w)
        with rec.in_phase("decode 1"):
            ttnn.linear(x, w)
            ttnn.add(x, x)
    prefill, decode, add = dram_sharded_decode(rec.records)
    assert prefill is rec.records[0] and add is rec.records[2]
    assert [s.memory for s in decode.inputs] == ["DRAM_INTERLEAVED", "DRAM_WIDTH_SHARDED"]
    assert rec.records[1].inputs[1].memory == "DRAM_INTERLEAVED"  # the log itself is untouched
    cost = estimate(decode, N150)
    assert cost.dram_sharded and cost.cores == 12
    assert cost.device_s == pytest.approx(C.DRAM_SHARDED_MATMUL_FIXED_S + cost.dram_bytes / C.DRAM_SHARDED_BPS)
    assert not estimate(prefill, N150).dram_sharded


# ----------------------------------------------------------------------------- bound


def test_bound_classification_follows_tt_perf_report_thresholds(device):
    a, w = dev(torch.randn(32, 64), device), dev(torch.randn(64, 64), device)
    r = record_of(lambda: ttnn.linear(a, w))  # HiFi2
    peak = C.PERF_REPORT_TFLOPS_PER_CORE["HiFi2"] * 64
    t = 1e-3
    assert bound_of(r, 0, int(0.7 * C.DRAM_PEAK_BPS * t), 64, t) == "DRAM"
    assert bound_of(r, int(0.7 * peak * t), 0, 64, t) == "FLOP"
    assert bound_of(r, int(0.7 * peak * t), int(0.7 * C.DRAM_PEAK_BPS * t), 64, t) == "BOTH"
    assert bound_of(r, int(0.6 * peak * t), int(0.6 * C.DRAM_PEAK_BPS * t), 64, t) == "SLOW"
    assert estimate(r, N150).bound == "SLOW"  # a tiny matmul is at the small-op floor


# ----------------------------------------------------------------------------- attention


def test_sdpa_prefill_flops_are_the_hand_counts(device):
    q, k, v = dev(meta(1, 8, 128, 64), device), dev(meta(1, 2, 128, 64), device), dev(meta(1, 2, 128, 64), device)
    causal = estimate(record_of(lambda: ttnn.transformer.scaled_dot_product_attention(q, k, v, is_causal=True)),
                      N150)
    assert causal.flops == 4 * 8 * 64 * (128 * 129 // 2) == 16_908_288
    full = estimate(record_of(lambda: ttnn.transformer.scaled_dot_product_attention(q, k, v, is_causal=False)),
                    N150)
    assert full.flops == 4 * 8 * 64 * 128 * 128
    assert sdpa_flops(2, 4, 32, 96, 128, causal=False) == 4 * 2 * 4 * 128 * 32 * 96


def _decode_inputs(device, position):
    q = dev(meta(1, 32, 8, 64), device)
    k, v = dev(meta(32, 2, 1024, 64), device), dev(meta(32, 2, 1024, 64), device)
    pos = ttnn.from_torch(torch.tensor([position] + [-1] * 31, dtype=torch.int32), dtype=ttnn.int32, device=device)
    return q, k, v, pos


def test_sdpa_decode_streams_only_the_attended_prefix(device):
    q, k, v, pos = _decode_inputs(device, 100)
    r = record_of(lambda: ttnn.transformer.scaled_dot_product_attention_decode(q, k, v, cur_pos_tensor=pos))
    assert r.positions["cur_pos_tensor"][:2] == (100, -1)
    cost = estimate(r, N150)
    kv_bytes = 128 * 2 * 2 * 64 * 2  # 101 tokens -> 128 (a tile), K and V, 2 heads, hd 64, bf16
    assert cost.flops == 4 * 8 * 64 * 101
    assert cost.device_s == pytest.approx(C.SDPA_DECODE_FIXED_S + kv_bytes / C.SDPA_DECODE_BPS)
    q, k, v, pos = _decode_inputs(device, 1000)
    longer = estimate(record_of(lambda: ttnn.transformer.scaled_dot_product_attention_decode(
        q, k, v, cur_pos_tensor=pos)), N150)
    assert longer.device_s > cost.device_s


# ----------------------------------------------------------------------------- collectives


@pytest.fixture
def n300():
    ttnn.set_fabric_config(ttnn.FabricConfig.FABRIC_1D)
    mesh = ttnn.open_mesh_device(ttnn.MeshShape(1, 2))
    yield mesh
    ttnn.close_mesh_device(mesh)
    ttnn.set_fabric_config(ttnn.FabricConfig.DISABLED)


def test_collective_link_bytes_and_time_are_the_hand_counts(n300):
    x = ttnn.from_torch(torch.randn(1, 1, 32, 2048), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=n300)
    t_bytes = 32 * 2048 * 2  # the per-chip tensor
    ar = record_of(lambda: ttnn.all_reduce(x))
    assert ar.mesh == (1, 2)
    assert ccl_link_bytes(ar) == 2 * (2 - 1) * t_bytes // 2
    cost = estimate(ar, N300)
    assert cost.device_s == pytest.approx(C.CCL_FIXED_S + 2 * C.HOP_LATENCY_S + t_bytes / (1 * C.LINK_BPS))
    rs = record_of(lambda: ttnn.reduce_scatter(x, dim=3))
    assert ccl_link_bytes(rs) == t_bytes // 2
    part = ttnn.from_torch(torch.randn(1, 1, 32, 2048), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=n300,
                           mesh_mapper=ttnn.ShardTensorToMesh(n300, dim=3))
    ag = record_of(lambda: ttnn.all_gather(part, dim=3))
    assert ag.inputs[0].shape == (1, 1, 32, 1024)  # per chip
    assert ccl_link_bytes(ag) == t_bytes // 2  # (N-1)/N of the gathered output
    assert estimate(ag, N300).device_s == pytest.approx(C.CCL_FIXED_S + C.HOP_LATENCY_S + t_bytes / 2 / C.LINK_BPS)


# ----------------------------------------------------------------------------- trace and gaps


def _step(x, w):
    h = ttnn.rms_norm(x, epsilon=1e-5)
    y = ttnn.linear(h, w)
    ttnn.deallocate(h)
    return ttnn.add(y, x)


def test_trace_replays_are_recorded_as_traced_and_remove_host_dispatch():
    device = ttnn.open_device(device_id=0, trace_region_size=1 << 20)
    try:
        x, w = dev(torch.randn(1, 1, 32, 64), device), dev(torch.randn(64, 64), device)
        with device_time.recording() as rec:
            with rec.in_phase("eager"):
                _step(x, w)
            with rec.in_phase("capture"), rec.in_block("block A"):
                tid = ttnn.begin_trace_capture(device, cq_id=0)
                _step(x, w)
                ttnn.end_trace_capture(device, tid, cq_id=0)
            with rec.in_phase("replay"):
                ttnn.execute_trace(device, tid, cq_id=0)
        ttnn.release_trace(device, tid)
    finally:
        ttnn.close_device(device)
    assert rec.of_phase("capture") == []  # a card runs captured ops at replay
    eager, replay = rec.of_phase("eager"), rec.of_phase("replay")
    assert [r.op for r in replay] == [r.op for r in eager] == ["ttnn.rms_norm", "ttnn.linear", "ttnn.add"]
    assert all(r.traced for r in replay) and not any(r.traced for r in eager)
    assert {r.block for r in replay} == {"block A"} and {r.block for r in eager} == {""}  # kept from the capture
    eager_rows, replay_rows = timed_rows(eager, N150), timed_rows(replay, N150)
    assert [r.cost.device_s for r in eager_rows] == [r.cost.device_s for r in replay_rows]
    assert all(r.gap_s == C.OP_TO_OP_TRACED_S for r in replay_rows)
    assert eager_rows[0].gap_s == C.HOST_DISPATCH_S
    assert total_seconds(replay_rows) < total_seconds(eager_rows)
    assert total_seconds(replay_rows) == pytest.approx(sum(r.cost.device_s for r in replay_rows)
                                                       + 3 * C.OP_TO_OP_TRACED_S)


def test_every_constant_names_a_source():
    rows = C.table()
    assert len(rows) > 20
    for name, value, unit, source in rows:
        assert source and unit, name
        assert "facts" in source or "[uncertain]" in source, (name, source)


def test_the_environment_switch_records_for_the_whole_process(tmp_path):
    import os
    import subprocess
    import sys

    code = ("import torch, ttbringup.emu as ttnn\n"
            "from ttbringup.emu import device_time\n"
            "d = ttnn.open_device(device_id=0)\n"
            "x = ttnn.from_torch(torch.ones(32, 32), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=d)\n"
            "ttnn.add(x, x)\n"
            "print(len(device_time.active().records) if device_time.active() else 'off')\n")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for value, expected in (("1", "1"), ("0", "off")):
        env = dict(os.environ, PYTHONPATH=root, TTBRINGUP_DEVICE_TIME=value, OMP_NUM_THREADS="1")
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == expected
