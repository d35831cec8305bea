"""Program configs: the real constructors, accepted by matmul / linear / SDPA the way tt_transformers passes them,
results unchanged by them (a fused activation applied), and recorded for the device-time model."""

import pytest
import torch

import ttbringup.emu as ttnn
from ttbringup.emu.device_time.record import make_record

CC = ttnn.CoreCoord


def dev(device, x, dtype=ttnn.bfloat16, mc=ttnn.DRAM_MEMORY_CONFIG):
    return ttnn.from_torch(x, dtype=dtype, layout=ttnn.TILE_LAYOUT, device=device, memory_config=mc)


def mlp_config(**kw):
    """A 2-D multicast config as tt_transformers builds one for a [64, 256] @ [256, 512] prefill matmul."""
    fields = dict(compute_with_storage_grid_size=CC(8, 2), in0_block_w=2, out_subblock_h=1, out_subblock_w=2,
                  per_core_M=1, per_core_N=2, transpose_mcast=False, fused_activation=None)
    return ttnn.MatmulMultiCoreReuseMultiCastProgramConfig(**{**fields, **kw})


def test_constructors_take_the_real_keyword_fields():
    p2 = mlp_config()
    assert (p2.out_block_h, p2.out_block_w, p2.fuse_batch) == (1, 2, True)  # out block defaults to the per-core block
    p1 = ttnn.MatmulMultiCoreReuseMultiCast1DProgramConfig(
        compute_with_storage_grid_size=CC(8, 1), in0_block_w=2, out_subblock_h=1, out_subblock_w=2, per_core_M=2,
        per_core_N=2, fuse_batch=True, fused_activation=None, mcast_in0=True)
    assert (p1.gather_in0, p1.num_global_cb_receivers, p1.untilize_out, p1.hop_cores.empty()) == (False, 1, False, True)
    dram = ttnn.MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig(in0_block_w=2, per_core_M=1, per_core_N=3,
                                                                        fused_activation=None)
    assert dram.per_core_N == 3
    sdpa = ttnn.SDPAProgramConfig(compute_with_storage_grid_size=CC(8, 8), q_chunk_size=64, k_chunk_size=128,
                                  exp_approx_mode=False)
    assert (sdpa.max_cores_per_head_batch, sdpa.sub_core_grids) == (16, None)
    assert ttnn.transformer.SDPAProgramConfig is ttnn.SDPAProgramConfig
    with pytest.raises(TypeError):
        ttnn.MatmulMultiCoreReuseMultiCastProgramConfig(compute_with_storage_grid_size=CC(8, 2), in0_block_w=2)
    with pytest.raises(TypeError):
        ttnn.SDPAProgramConfig(compute_with_storage_grid_size=CC(8, 8))


def test_matmul_with_a_program_config_equals_torch(device, pcc):
    a, b = torch.randn(1, 1, 64, 256), torch.randn(1, 1, 256, 512)
    for op in (ttnn.matmul, ttnn.linear):
        out = ttnn.to_torch(op(dev(device, a), dev(device, b), program_config=mlp_config())).float()
        assert pcc(a.bfloat16().float() @ b.bfloat16().float(), out) >= 0.9999


def test_fused_activation_of_the_program_config_is_applied(device, pcc):
    """tt_transformers fuses SiLU into the MLP's w1 matmul through the program config."""
    a, b = torch.randn(1, 1, 64, 256), torch.randn(1, 1, 256, 512)
    want = torch.nn.functional.silu(a.bfloat16().float() @ b.bfloat16().float())
    cfg = mlp_config(fused_activation=ttnn.UnaryWithParam(ttnn.UnaryOpType.SILU))
    out = ttnn.to_torch(ttnn.linear(dev(device, a), dev(device, b), program_config=cfg)).float()
    assert pcc(want, out) >= 0.9999
    relu = ttnn.linear(dev(device, a), dev(device, b), activation=ttnn.UnaryWithParam(ttnn.UnaryOpType.RELU))
    assert float(ttnn.to_torch(relu).min()) >= 0


def test_sdpa_with_a_program_config_equals_torch(device, pcc):
    q, k, v = torch.randn(1, 8, 128, 64), torch.randn(1, 2, 128, 64), torch.randn(1, 2, 128, 64)
    cfg = ttnn.SDPAProgramConfig(compute_with_storage_grid_size=CC(8, 8), q_chunk_size=64, k_chunk_size=64)
    out = ttnn.transformer.scaled_dot_product_attention(dev(device, q), dev(device, k), dev(device, v),
                                                        is_causal=True, program_config=cfg)
    ref = torch.nn.functional.scaled_dot_product_attention(q.bfloat16().float(), k.bfloat16().float(),
                                                           v.bfloat16().float(), is_causal=True, enable_gqa=True)
    assert pcc(ref, ttnn.to_torch(out).float()) >= 0.999


def test_a_matmul_program_config_of_another_type_is_refused(device):
    a, b = dev(device, torch.zeros(1, 1, 64, 256)), dev(device, torch.zeros(1, 1, 256, 512))
    with pytest.raises(TypeError):
        ttnn.matmul(a, b, program_config=ttnn.CoreGrid(x=8, y=8))


def test_the_device_time_record_keeps_the_config_fields(device):
    a, b = dev(device, torch.zeros(1, 1, 64, 256)), dev(device, torch.zeros(1, 1, 256, 512))
    cfg = mlp_config()
    out = ttnn.matmul(a, b, program_config=cfg)
    rec = make_record("ttnn.matmul", ttnn.matmul, (a, b), {"program_config": cfg}, out, device, traced=False)
    got = rec.attrs["program_config"]
    assert got["config"] == "MatmulMultiCoreReuseMultiCastProgramConfig"
    assert (got["compute_with_storage_grid_size"], got["per_core_M"], got["per_core_N"]) == ((8, 2), 1, 2)
    assert rec.fidelity == "LoFi"  # 0.81.1's default once a program config is given


def test_dram_sharded_decode_matmul_equals_torch(device, pcc):
    """The tt_transformers decode pattern: in0 width-sharded in L1, the bfloat8_b weight width-sharded over the 12
    DRAM banks, an L1 width-sharded output."""
    def l1_width(shape, cores):
        return ttnn.create_sharded_memory_config(shape, ttnn.CoreGrid(x=cores, y=1), ttnn.ShardStrategy.WIDTH,
                                                 ttnn.ShardOrientation.ROW_MAJOR)

    x, w = torch.randn(1, 1, 32, 256), torch.randn(1, 1, 256, 384)
    banks = ttnn.CoreRangeSet({ttnn.CoreRange(CC(0, 0), CC(11, 0))})
    dram = ttnn.MemoryConfig(ttnn.TensorMemoryLayout.WIDTH_SHARDED, ttnn.BufferType.DRAM,
                             ttnn.ShardSpec(banks, [256, 32], ttnn.ShardOrientation.ROW_MAJOR))
    tw = dev(device, w, ttnn.bfloat8_b, dram)
    cfg = ttnn.MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig(in0_block_w=2, per_core_M=1, per_core_N=3,
                                                                       fused_activation=None)
    out = ttnn.linear(dev(device, x, mc=l1_width([1, 1, 32, 256], 4)), tw, program_config=cfg,
                      memory_config=l1_width([1, 1, 32, 384], 4))
    assert out.memory_config().memory_layout == ttnn.TensorMemoryLayout.WIDTH_SHARDED
    want = x.bfloat16().float() @ ttnn.to_torch(tw).float()
    assert pcc(want, ttnn.to_torch(out).float()) >= 0.9999
    with pytest.raises(RuntimeError, match="Output memory config must be sharded for DRAM sharded program config"):
        ttnn.linear(dev(device, x, mc=l1_width([1, 1, 32, 256], 4)), tw, program_config=cfg)


def test_column_parallel_linear_on_a_mesh_takes_a_program_config(pcc):
    """The per-chip check runs on each chip's operands: a 1-D config sized for one chip's half of the weight."""
    mesh = ttnn.open_mesh_device(ttnn.MeshShape(1, 2))
    try:
        x, w = torch.randn(1, 1, 32, 256), torch.randn(1, 1, 256, 512)
        tx = ttnn.from_torch(x, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=mesh,
                             mesh_mapper=ttnn.ReplicateTensorToMesh(mesh))
        tw = ttnn.from_torch(w, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=mesh,
                             mesh_mapper=ttnn.ShardTensorToMesh(mesh, dim=3))
        cfg = ttnn.MatmulMultiCoreReuseMultiCast1DProgramConfig(
            compute_with_storage_grid_size=CC(8, 1), in0_block_w=2, out_subblock_h=1, out_subblock_w=1, per_core_M=1,
            per_core_N=1, fuse_batch=True, fused_activation=None, mcast_in0=True)  # 8 column tiles per chip
        out = ttnn.linear(tx, tw, program_config=cfg)
        got = ttnn.to_torch(out, mesh_composer=ttnn.ConcatMeshToTensor(mesh, dim=3)).float()
        assert pcc(x.bfloat16().float() @ w.bfloat16().float(), got) >= 0.9999
        too_small = ttnn.MatmulMultiCoreReuseMultiCast1DProgramConfig(
            compute_with_storage_grid_size=CC(4, 1), in0_block_w=2, out_subblock_h=1, out_subblock_w=1, per_core_M=1,
            per_core_N=1, fuse_batch=True, fused_activation=None, mcast_in0=True)
        with pytest.raises(RuntimeError, match="Number of blocks exceeds number of cores: 8 blocks > 4 cores"):
            ttnn.linear(tx, tw, program_config=too_small)
    finally:
        ttnn.close_mesh_device(mesh)
