"""Program configs of ttnn 0.81.1 that choose how an op is split over the cores: the matmul multicast configs
(``ttnn.operations.matmul``) and ``SDPAProgramConfig`` (``ttnn.operations.transformer``).

They change where a card computes, never what: the emulator's results do not depend on them, except a matmul
config's ``fused_activation`` (applied by ``matmul``). Constructors take the real keyword-only fields (a missing
required field is a ``TypeError``); a bare ``UnaryOpType`` as ``fused_activation`` becomes a ``UnaryWithParam``, as
the real binding converts it.

``check_matmul`` makes the checks 0.81.1 makes on a matmul config against its operands, with its messages
(measured on the real wheel, mock device): the block divisibilities, the subblock register limit (8 tiles, 4 with
fp32 accumulation), the grid against the device's, and the output blocks against the grid; the DRAM-sharded
config's operand placements. ``check_sdpa_chunks`` / ``check_sdpa_grid`` are the prefill attention checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .activation import as_unary_with_param
from .cores import CoreCoord, CoreRangeSet
from .errors import check
from .types import TILE_SIZE, MathFidelity, TensorMemoryLayout


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
    allowed_worker_cores: CoreRangeSet | None = None

    def __post_init__(self):
        _defaults(self)


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
    hop_cores: CoreRangeSet = field(default_factory=lambda: CoreRangeSet(set()))
    num_global_cb_receivers: int = 1
    untilize_out: bool = False
    allowed_worker_cores: CoreRangeSet | None = None
    stream_in1: bool = False

    def __post_init__(self):
        _defaults(self)


@dataclass(kw_only=True)
class MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig:
    """Decode matmul with a width-sharded ``in0`` in L1 and the weight width-sharded over the DRAM banks."""

    in0_block_w: int
    per_core_M: int
    per_core_N: int
    fused_activation: object = None
    num_workers_per_dram_bank: int = 1

    def __post_init__(self):
        self.fused_activation = as_unary_with_param(self.fused_activation)


@dataclass(kw_only=True)
class SDPAProgramConfig:
    """Flash attention tiling: ``q_chunk_size`` query rows against ``k_chunk_size`` key rows per step."""

    compute_with_storage_grid_size: CoreCoord
    sub_core_grids: CoreRangeSet | None = None
    q_chunk_size: int
    k_chunk_size: int
    exp_approx_mode: bool | None = None
    max_cores_per_head_batch: int = 16
    max_k_splits: int = 1
    matmul_math_fidelity: MathFidelity | None = None
    segmented_accumulation: bool = False


MATMUL_PROGRAM_CONFIGS = (MatmulMultiCoreReuseMultiCastProgramConfig, MatmulMultiCoreReuseMultiCast1DProgramConfig,
                          MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig)


def _defaults(config) -> None:
    """An out block left unset is the whole per-core output (the real constructor's default)."""
    if config.out_block_h is None:
        config.out_block_h = config.per_core_M
    if config.out_block_w is None:
        config.out_block_w = config.per_core_N
    config.fused_activation = as_unary_with_param(config.fused_activation)


def _blocks(total: int, per_core: int) -> int:
    return -(-total // per_core)


def check_matmul(op: str, config, a, b, transpose_a: bool, transpose_b: bool, fp32_dest_acc_en: bool,
                 output_memory_config) -> None:
    """The checks 0.81.1 makes on a matmul / linear ``program_config`` (see the module docstring)."""
    if config is None:
        return
    if not isinstance(config, MATMUL_PROGRAM_CONFIGS):
        raise TypeError(f"{op}(): incompatible function arguments: program_config must be a matmul program config, "
                        f"got {type(config).__name__}")
    name = type(config).__name__
    a_pad, b_pad = list(a.padded_shape), list(b.padded_shape)
    if transpose_a:
        a_pad[-2], a_pad[-1] = a_pad[-1], a_pad[-2]
    if transpose_b:
        b_pad[-2], b_pad[-1] = b_pad[-1], b_pad[-2]
    kt, nt = a_pad[-1] // TILE_SIZE, b_pad[-1] // TILE_SIZE
    if isinstance(config, MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig):
        _check_dram_sharded(op, name, config, a, b, kt, output_memory_config)
        return
    batch = 1
    for d in a_pad[:-2]:
        batch *= d
    mt = (batch if config.fuse_batch else 1) * a_pad[-2] // TILE_SIZE
    check(kt % config.in0_block_w == 0, op, f"{name}: Kt ({kt}) must be divisible by in0_block_w ({config.in0_block_w})")
    for outer, inner in (("per_core_M", "out_block_h"), ("per_core_N", "out_block_w"),
                         ("out_block_h", "out_subblock_h"), ("out_block_w", "out_subblock_w")):
        o, i = getattr(config, outer), getattr(config, inner)
        check(o % i == 0, op, f"{name}: {outer} ({o}) must be divisible by {inner} ({i})")
    registers = 4 if fp32_dest_acc_en else 8
    check(config.out_subblock_h * config.out_subblock_w <= registers, op,
          f"{name}: out_subblock_w {config.out_subblock_w} times out_subblock_h {config.out_subblock_h} needs to be at "
          f"most {registers} to fit in hardware")
    grid, device_grid = config.compute_with_storage_grid_size, a.device().compute_with_storage_grid_size()
    check(grid.x <= device_grid.x and grid.y <= device_grid.y, op,
          f"{name}: compute_with_storage_grid_size ({grid.x}, {grid.y}) must fit within device grid "
          f"({device_grid.x}, {device_grid.y})")
    m_blocks, n_blocks = _blocks(mt, config.per_core_M), _blocks(nt, config.per_core_N)
    if isinstance(config, MatmulMultiCoreReuseMultiCastProgramConfig):
        layout = a.memory_config().memory_layout
        check(layout in (TensorMemoryLayout.INTERLEAVED, TensorMemoryLayout.BLOCK_SHARDED), op,
              f"{name}: Unsupported memory layout TensorMemoryLayout::{layout.name}.")
        y_blocks, x_blocks = (n_blocks, m_blocks) if config.transpose_mcast else (m_blocks, n_blocks)
        check(y_blocks <= grid.y, op, f"{name}: Num output blocks along y ({y_blocks}) must be smaller than or equal "
                                      f"to the number of rows in compute grid ({grid.y})!")
        check(x_blocks <= grid.x, op, f"{name}: Num output blocks along x ({x_blocks}) must be smaller than or equal "
                                      f"to the number of columns in compute grid ({grid.x})!")
    else:
        cores = grid.x * grid.y
        check(m_blocks * n_blocks <= cores, op,
              f"{name}: Number of blocks exceeds number of cores: {m_blocks * n_blocks} blocks > {cores} cores")


def _check_dram_sharded(op: str, name: str, config, a, b, kt: int, output_memory_config) -> None:
    check(a.is_sharded(), op, f"{name}: Input tensor A must be sharded for DRAM sharded program config")
    b_layout = b.memory_config().memory_layout
    check(b_layout == TensorMemoryLayout.WIDTH_SHARDED, op,
          f"{name}: Input B memory layout must be WIDTH_SHARDED, got: TensorMemoryLayout::{b_layout.name}")
    check(output_memory_config is not None and output_memory_config.is_sharded(), op,
          f"{name}: Output memory config must be sharded for DRAM sharded program config")
    check(kt % config.in0_block_w == 0, op, f"{name}: K ({kt}) must be divisible by in0_block_w ({config.in0_block_w})")
    rows = a.padded_shape[-2]
    check(config.per_core_M * TILE_SIZE == rows, op,
          f"Shard height {config.per_core_M * TILE_SIZE} must match physical height {rows} for width sharded")


def check_sdpa_chunks(op: str, config) -> None:
    """Prefill SDPA: the chunk sizes are positive tile multiples."""
    if config is None:
        return
    for name in ("q_chunk_size", "k_chunk_size"):
        size = getattr(config, name)
        check(size > 0 and size % TILE_SIZE == 0, op,
              f"{name} must be a positive multiple of TILE_SIZE. Got {name}: {size}, TILE_SIZE: {TILE_SIZE}")


def check_sdpa_grid(op: str, config, device) -> None:
    """Prefill SDPA: the config's grid has no more cores than the device's."""
    if config is None:
        return
    grid, device_grid = config.compute_with_storage_grid_size, device.compute_with_storage_grid_size()
    cores, most = grid.x * grid.y, device_grid.x * device_grid.y
    check(cores <= most, op, f"Provided grid must not contain more cores than the device. Got {cores} cores, expected "
                             f"at most {most} cores.")
