"""Program configs of ttnn 0.81.1 that choose how an op is split over the cores: the matmul multicast configs
(``ttnn.operations.matmul``) and ``SDPAProgramConfig`` (``ttnn.operations.transformer``).

They change where a card computes, never what: the emulator's results do not depend on them. Constructors take
the real keyword-only fields (a missing required field is a ``TypeError``); the checks the real matmul makes on
them, against its operands, are in ``matmul_program_checks``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .cores import CoreCoord, CoreRangeSet


@dataclass(kw_only=True)
class MatmulMultiCoreReuseMultiCastProgramConfig:
    """2-D multicast matmul: ``in0`` blocks multicast along rows and ``in1`` blocks along columns of the grid."""

    compute_with_storage_grid_size: CoreCoord
    in0_block_w: int
    out_subblock_h: int
    out_subblock_w: int
    out_block_h: int | None = None
    out_block_w: int | None = None
    per_core_M: int
    per_core_N: int
    transpose_mcast: bool
    fused_activation: object = None
    fuse_batch: bool = True

    def __post_init__(self):
        _default_out_block(self)


@dataclass(kw_only=True)
class MatmulMultiCoreReuseMultiCast1DProgramConfig:
    """1-D multicast matmul: ``in0`` (``mcast_in0``) or ``in1`` multicast over a line of cores."""

    compute_with_storage_grid_size: CoreCoord
    in0_block_w: int
    out_subblock_h: int
    out_subblock_w: int
    out_block_h: int | None = None
    out_block_w: int | None = None
    per_core_M: int
    per_core_N: int
    fuse_batch: bool
    fused_activation: object = None
    mcast_in0: bool
    gather_in0: bool = False
    hop_cores: CoreRangeSet = field(default_factory=CoreRangeSet)
    num_global_cb_receivers: int = 1
    untilize_out: bool = False

    def __post_init__(self):
        _default_out_block(self)


@dataclass(kw_only=True)
class MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig:
    """Decode matmul with a width-sharded ``in0`` in L1 and the weight sharded over the DRAM banks."""

    in0_block_w: int
    per_core_M: int
    per_core_N: int
    fused_activation: object = None


@dataclass(kw_only=True)
class SDPAProgramConfig:
    """Flash attention tiling: ``q_chunk_size`` query rows against ``k_chunk_size`` key rows per step."""

    compute_with_storage_grid_size: CoreCoord
    sub_core_grids: CoreRangeSet | None = None
    q_chunk_size: int
    k_chunk_size: int
    exp_approx_mode: bool | None = None
    max_cores_per_head_batch: int = 16


MATMUL_PROGRAM_CONFIGS = (MatmulMultiCoreReuseMultiCastProgramConfig, MatmulMultiCoreReuseMultiCast1DProgramConfig,
                          MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig)


def _default_out_block(config) -> None:
    """An out block left unset is the whole per-core output (the real constructor's default)."""
    if config.out_block_h is None:
        config.out_block_h = config.per_core_M
    if config.out_block_w is None:
        config.out_block_w = config.per_core_N


def check_matmul(op: str, config, a, b, transpose_a: bool, transpose_b: bool) -> None:
    """The checks 0.81.1 makes on a matmul / linear ``program_config`` against its operands (None: nothing)."""
    if config is None:
        return
    if not isinstance(config, MATMUL_PROGRAM_CONFIGS):
        raise TypeError(f"{op}(): incompatible function arguments: program_config must be a matmul program config, "
                        f"got {type(config).__name__}")
