"""The K blocking of the program config 0.81.1's matmul runs with (``ttnn/operations/matmul/device/config``):
how many K tiles (``in0_block_w``) its kernel accumulates in one Dst before the partials are packed. Card
numerics need it (``card_matmul.k_blocked``); nothing else in the config changes a value.

``in0_block_w(a, b, ...)`` -> K tiles per block; ``Kt`` (all of K) for the kernels that accumulate K in one Dst
(``MatmulMultiCoreProgramConfig``'s ``bmm``, a height-sharded 1D config). The rules, from the near-version
``matmul_program_config.cpp`` (read with the ``search`` tool) and checked against the kernel args the real
0.81.1 wheel compiles in mock mode (tests/conformance/test_conformance_k_blocking.py, docs/card-numerics.md):

* a passed program config: its own ``in0_block_w``;
* a ``core_grid`` (``create_matmul_program_config``): a narrow shape (rows / columns ratio above 8, or a side
  within one tile) takes the 1D systolic config, ``Kt / cores`` rounded up, then lowered to a divisor of
  ``Kt``; otherwise 4 lowered to a divisor of ``Kt``; a batched ``b`` takes 2 or 1 (``b`` batched, ``a`` not)
  or 1;
* a sharded ``a`` (``get_matmul_program_config``): width-sharded ``gcd(shard width, Kt)``, height-sharded
  ``Kt``, block-sharded on a 2D grid ``gcd(shard width, Kt)`` when its columns span K, else 1;
* otherwise (``create_simple_matmul_program_config``): a batched ``b`` with a batch-1 ``a`` takes the 1D
  config (2 when ``Kt`` is even, else 1). With everything in DRAM interleaved, a narrow shape takes the 1D
  config (2 / 1) and any other the 2D one (``Kt / 8`` when 8 divides ``Kt``, else 1, lowered to a divisor until
  one core's circular buffers fit L1: ``_dram_2d``; on both points 0.81.1 differs from the near-version source,
  and the wheel's kernel args decide). With an operand or the output in L1, the output blocks of the largest per-core
  factor (16, 8, 4, 2 or 1 tiles square) whose buffers fit L1 decide: more blocks than cores falls back to
  ``bmm`` (one Dst); a single row or column of blocks, or a narrow shape, takes the 1D config (2 / 1); blocks
  that fit the grid take the 2D config at 2 (1 for odd ``Kt``); a single block is ``bmm``.

"Fit L1" is the host's estimate: two buffers of each input block, the output and the intermediate block, the
bias row, against the space below the lowest L1 buffer (``MeshDevice.max_l1_space``).
"""

from __future__ import annotations

import math

from .memory import TILE_BYTES
from .types import BufferType, DataType, TensorMemoryLayout

_TILE = 32
_INPUT_BUFFERS = 2  # double-buffered input circular buffers
_NARROW_RATIO = 8


def _matrix_padded(t, transpose: bool) -> list[int]:
    shape = list(t.padded_shape)
    if transpose:
        shape[-2], shape[-1] = shape[-1], shape[-2]
    return shape


def _is_narrow(height: int, width: int, all_dram: bool) -> bool:
    if max(height, width) // min(height, width) > _NARROW_RATIO:
        return True
    return all_dram and min(height, width) <= _TILE


def _mcast_1d(kt: int) -> int:
    return 2 if kt % 2 == 0 else 1


def _largest_divisor_up_to(kt: int, start: int) -> int:
    w = max(1, start)
    while kt % w:
        w -= 1
    return w


class _Buffers:
    """The host's estimate of one core's circular buffer bytes for a block of ``m x n`` output tiles and
    ``w`` K tiles, against the L1 space the matmul may use."""

    def __init__(self, a, b, transpose_a: bool, fp32_dest: bool, out_dtype: DataType, has_bias: bool):
        self.in0 = TILE_BYTES[a.dtype]
        self.in1 = TILE_BYTES[b.dtype]
        self.interm = TILE_BYTES[DataType.FLOAT32] if fp32_dest else max(TILE_BYTES[DataType.BFLOAT16],
                                                                           TILE_BYTES[out_dtype])
        self.bias = self.in0 if has_bias else 0  # the bias tile is taken to be in0's dtype
        self.transpose_a = transpose_a
        self.space = a.device().max_l1_space()

    def fits(self, m: int, n: int, w: int) -> bool:
        size = (m * w * _INPUT_BUFFERS * self.in0 + n * w * _INPUT_BUFFERS * self.in1 + m * n * self.in0
                + m * n * self.interm + n * self.bias)
        if self.transpose_a:
            size += m * w * _INPUT_BUFFERS * self.in0
        return size < self.space

    def per_core_factor(self, w: int) -> int:
        return next((f for f in (16, 8, 4, 2) if self.fits(f, f, w)), 1)


def in0_block_w(a, b, *, transpose_a: bool, transpose_b: bool, memory_config, program_config, core_grid,
                fp32_dest_acc_en: bool, out_dtype: DataType, has_bias: bool) -> int:
    """K tiles per Dst block of ``a @ b`` (see the module docstring); ``memory_config`` is the output's (None:
    DRAM interleaved), ``fp32_dest_acc_en`` the passed compute config's (False without one)."""
    if program_config is not None:
        return program_config.in0_block_w
    shapes = _Shapes(_matrix_padded(a, transpose_a), _matrix_padded(b, transpose_b))
    buffers = _Buffers(a, b, transpose_a, fp32_dest_acc_en, out_dtype, has_bias)
    if core_grid is not None:
        return _user_grid(a, b, shapes, core_grid, memory_config, buffers)
    if a.is_sharded():
        return _from_shard_spec(a, b, shapes, memory_config, buffers)
    return _simple(a, b, shapes, memory_config, buffers)


class _Shapes:
    """The padded matrix shapes of a matmul's operands, with their tile counts."""

    def __init__(self, a_pad: list[int], b_pad: list[int]):
        self.batch_a, self.batch_b = math.prod(a_pad[:-2]), math.prod(b_pad[:-2])
        self.height, self.width = a_pad[-2], b_pad[-1]
        self.mt, self.kt, self.nt = a_pad[-2] // _TILE, a_pad[-1] // _TILE, b_pad[-1] // _TILE


def _simple(a, b, shapes: _Shapes, memory_config, buffers: _Buffers) -> int:
    """``create_simple_matmul_program_config``'s choice (an interleaved ``a``, no grid)."""
    kt = shapes.kt
    out_sharded = memory_config is not None and memory_config.is_sharded()
    out_dram = memory_config is None or memory_config.buffer_type == BufferType.DRAM
    all_interleaved = not out_sharded and not b.is_sharded()
    all_dram = (a.memory_config().buffer_type == BufferType.DRAM and b.memory_config().buffer_type == BufferType.DRAM
                and out_dram)
    if shapes.batch_a == 1 and shapes.batch_b > 1 and all_interleaved:
        return _mcast_1d(kt)
    narrow = all_interleaved and _is_narrow(shapes.height, shapes.width, all_dram)
    grid = a.device().compute_with_storage_grid_size()
    if all_dram and all_interleaved:
        return _mcast_1d(kt) if narrow else _dram_2d(shapes, grid, buffers)
    w = 2
    factor = buffers.per_core_factor(w)
    blocks_y, blocks_x = -(-shapes.mt // factor), -(-shapes.nt // factor)
    if (out_sharded or blocks_y > 1 or blocks_x > 1) and kt % w:
        w = 1
    if blocks_x * blocks_y > grid.x * grid.y or kt % w:
        return kt  # MatmulMultiCoreProgramConfig: bmm, all of K in one Dst
    spread = not (blocks_x == 1 and blocks_y == 1) and blocks_y <= grid.y and blocks_x <= grid.x
    range_x, range_y = (blocks_x, blocks_y) if spread else (0, 0)
    if range_y == 1 or range_x == 1 or narrow:
        return _mcast_1d(kt)
    if range_y == 0 and out_sharded:
        return _mcast_1d(kt) if _out_sharded_1d(memory_config) else w
    return w if range_y > 0 else kt


def _dram_2d(shapes: _Shapes, grid, buffers: _Buffers) -> int:
    """The 2D multicast config of an all-DRAM-interleaved matmul: K split over the grid's columns (``Kt / 8``
    when that divides, else 1), lowered to the largest divisor whose buffers fit L1 for one core's whole output
    block (``Mt / 8`` x ``Nt / 8`` tiles, rounded up). This is what the wheel's kernel args show (the
    near-version source would instead shrink the output block first); when no divisor fits the whole block, the
    largest that fits a one-tile block (the source's last resort)."""
    kt = shapes.kt
    w = kt // grid.x if kt % grid.x == 0 else 1
    m, n = -(-shapes.mt // grid.y), -(-shapes.nt // grid.x)
    divisors = [d for d in range(w, 0, -1) if w % d == 0]
    return next((d for d in divisors if buffers.fits(m, n, d)),
                next((d for d in divisors if buffers.fits(1, 1, d)), 1))


def _out_sharded_1d(memory_config) -> bool:
    """A sharded output that takes the 1D config when the output blocks do not decide: width or height
    sharded, or block sharded on one row or column of cores (one core is 2D)."""
    if memory_config.memory_layout != TensorMemoryLayout.BLOCK_SHARDED:
        return True
    box = memory_config.shard_spec.grid.bounding_box()
    cols, rows = box.end.x - box.start.x + 1, box.end.y - box.start.y + 1
    return (cols == 1) != (rows == 1)


def _user_grid(a, b, shapes: _Shapes, core_grid, memory_config, buffers: _Buffers) -> int:
    """``create_matmul_program_config``'s choice (a ``core_grid`` given, or a sharded ``a`` no sharded rule
    covers)."""
    kt = shapes.kt
    if shapes.batch_b > 1:
        if shapes.batch_a == 1 and not a.is_sharded() and not b.is_sharded():
            return _mcast_1d(kt)
        if a.is_sharded():
            return a.memory_config().shard_spec.shape[1] // _TILE
        if not b.is_sharded() and not buffers.fits(shapes.mt, shapes.nt, 1):
            return _simple(a, b, shapes, memory_config, buffers)
        return 1
    grid = a.device().compute_with_storage_grid_size()
    inside = core_grid.x <= grid.x and core_grid.y <= grid.y
    cores = core_grid.x * core_grid.y if inside else grid.x * grid.y
    within_tile = min(shapes.kt, shapes.mt, shapes.nt) <= 1
    block_sharded = a.memory_config().memory_layout == TensorMemoryLayout.BLOCK_SHARDED
    narrow = _is_narrow(shapes.batch_a * shapes.height, shapes.width, False)
    if (narrow or within_tile or a.is_sharded()) and not block_sharded:
        return _largest_divisor_up_to(kt, -(-kt // cores))  # 1D systolic: K split over the cores
    if not a.is_sharded():
        return _largest_divisor_up_to(kt, 4)
    return math.gcd(a.memory_config().shard_spec.shape[1] // _TILE, kt)


def _from_shard_spec(a, b, shapes: _Shapes, memory_config, buffers: _Buffers) -> int:
    """``get_matmul_program_config``'s choice (a sharded ``a``, no grid)."""
    kt = shapes.kt
    spec = a.memory_config().shard_spec
    layout = a.memory_config().memory_layout
    box = spec.grid.bounding_box()
    cols, rows = box.end.x - box.start.x + 1, box.end.y - box.start.y + 1
    shard_w = spec.shape[1] // _TILE
    if layout == TensorMemoryLayout.WIDTH_SHARDED and (cols > 1 or rows > 1):
        return math.gcd(shard_w, kt)
    if layout == TensorMemoryLayout.HEIGHT_SHARDED and (cols > 1 or rows > 1):
        return kt
    if layout == TensorMemoryLayout.BLOCK_SHARDED and cols > 1 and rows > 1:
        across = rows if spec.orientation.name == "COL_MAJOR" else cols
        return math.gcd(shard_w, kt) if across == kt // shard_w else 1
    return _user_grid(a, b, shapes, a.device().compute_with_storage_grid_size(), memory_config, buffers)
