"""Head split and merge of the fused QKV projection: ``nlp_create_qkv_heads`` (prefill),
``nlp_create_qkv_heads_decode``, ``nlp_concat_heads`` and ``nlp_concat_heads_decode``.

Pure data movement: values are copied exactly (block floats keep their values; a K transpose
re-quantises like the card's transpose does). Column order of the fused input is
``[Q heads | K heads | V heads]``, each head a contiguous ``head_dim`` slice. head_dim is
inferred from the *padded* width. The kernels move whole tiles, so a head_dim that is not a
tile multiple is not emulated.

Decode outputs are ``[1, B, heads, hd]`` with the heads padded to 32 inside the tile
(``padded_shape == [1, B, 32, hd]``) and always live in L1, height-sharded one user per core,
whatever ``memory_config`` asks for.
"""

from __future__ import annotations

import dataclasses

import torch

from ..core import height_sharded_config
from ..errors import check, fatal
from ..tensor import Tensor, new_tensor, pad_to
from ..types import (
    TILE_SIZE,
    BufferType,
    DataType,
    Layout,
    MemoryConfig,
    ShardOrientation,
    TensorMemoryLayout,
    round_up,
)
from ..operands import not_emulated, on_device
from ..per_chip import chip_values, computed_like_chip_zero, per_chip

_FLOATS = (DataType.FLOAT32, DataType.BFLOAT16, DataType.BFLOAT8_B)


def _padded_values(t: Tensor, op: str) -> torch.Tensor:
    """float32 values over the padded shape (padding reads as zero); meta if data-free."""
    if t.is_data_free():
        return torch.empty(tuple(t.padded_shape), device="meta")
    return pad_to(t._values(op), tuple(t.padded_shape))


def _stacked_padded_values(t: Tensor, op: str) -> torch.Tensor:
    """``_padded_values`` of every chip of a mesh tensor, stacked on a leading chip dim."""
    if t.is_data_free():
        return torch.empty((t.num_chips(),) + tuple(t.padded_shape), device="meta")
    return pad_to(torch.stack(chip_values(t, op)), (t.num_chips(),) + tuple(t.padded_shape))


def _make(values: torch.Tensor, like: Tensor, config: MemoryConfig) -> Tensor:
    return new_tensor(values, dtype=like.dtype, layout=Layout.TILE, device=like.device(), memory_config=config,
                      tile=like.tile)


# ----------------------------------------------------------------------------- prefill split

CREATE = "ttnn.experimental.nlp_create_qkv_heads"


@per_chip
def nlp_create_qkv_heads(input: Tensor, input_kv: Tensor | None = None, *, num_heads: int,
                         num_kv_heads: int | None = None, transpose_k_heads: bool = True, kv_tied: bool = False,
                         memory_config: MemoryConfig | None = None, output_tensors=None):
    """Split ``[B, 1, S, (nh + 2 nkv) hd]`` into q ``[B, nh, S, hd]``, k, v ``[B, nkv, S, hd]``.

    k is ``[B, nkv, hd, S]`` when ``transpose_k_heads`` (the default). With ``input_kv`` the
    input holds only Q and ``input_kv`` holds ``[K | V]``; with ``kv_tied`` there is one K/V
    section that serves as both K and V.
    """
    if output_tensors is not None:
        not_emulated(CREATE, "output_tensors=...")
    nkv = num_heads if num_kv_heads is None else num_kv_heads
    head_dim = _infer_head_dim(input, input_kv, num_heads, nkv, kv_tied)

    on_device(input, CREATE, "Operands to TM need to be on device! HOST")
    check(input.dtype in _FLOATS, CREATE, "Unsupported data format")
    check(input.layout == Layout.TILE, CREATE, f"Input tensor layout must be TILE but got {input.layout.name}")
    padded = tuple(input.padded_shape)
    check(len(padded) == 4, CREATE, f"Input tensor must be 4D [B, 1, S, W] but got {list(padded)}")
    check(padded[2] % TILE_SIZE == 0, CREATE, f"Unsupported input height {padded[2]} is not tile aligned")
    check(padded[1] == 1, CREATE, f"Unsupported input sequence length {padded[1]} is not equal to 1")
    out_config = memory_config or input.memory_config()
    if input.is_sharded():
        not_emulated(CREATE, "sharded input")
    check(out_config.memory_layout == TensorMemoryLayout.INTERLEAVED, CREATE,
          f"Output memory config layout must be INTERLEAVED but got {out_config.memory_layout.name}")
    if input_kv is not None:
        on_device(input_kv, CREATE, "Operands to TM need to be on device!")
        check(input_kv.dtype == input.dtype, CREATE, "KV tensor dtype must be same as Q tensor dtype!")
        check(input_kv.layout == Layout.TILE, CREATE,
              f"Input tensor KV layout must be TILE but got {input_kv.layout.name}")
        kv_padded = tuple(input_kv.padded_shape)
        check(kv_padded[0] == padded[0], CREATE, "KV tensor batch dim must be same as Q tensor batch!")
        check(kv_padded[1] == 1, CREATE, f"Unsupported input shape {kv_padded[1]} is not equal to 1")
        check(kv_padded[2] == padded[2], CREATE, "KV tensor seq_len dim must be same as Q tensor seq_len!")
        if input_kv.is_sharded():
            not_emulated(CREATE, "sharded input_kv")
    if head_dim % TILE_SIZE:
        not_emulated(CREATE, f"head_dim {head_dim} (not a multiple of {TILE_SIZE})")

    seq = input.shape[2]
    q_cols = _padded_values(input, CREATE)[:, 0, :seq, :]
    kv_cols = q_cols[..., num_heads * head_dim:] if input_kv is None else _padded_values(input_kv, CREATE)[:, 0, :seq]
    batch = padded[0]

    def heads(cols: torch.Tensor, first: int, count: int) -> torch.Tensor:
        part = cols[..., first * head_dim:(first + count) * head_dim]
        return part.reshape(batch, seq, count, head_dim).transpose(1, 2)

    q = heads(q_cols, 0, num_heads)
    k = heads(kv_cols, 0, nkv)
    v = k if kv_tied else heads(kv_cols, nkv, nkv)
    if transpose_k_heads:
        k = k.transpose(-2, -1)
    return _make(q, input, out_config), _make(k, input, out_config), _make(v, input, out_config)


def _infer_head_dim(q: Tensor, kv: Tensor | None, nh: int, nkv: int, kv_tied: bool) -> int:
    """head_dim from the padded widths, as the wrapper infers it."""
    width = q.padded_shape[-1]
    if kv is None:
        tied, untied = nh + nkv, nh + 2 * nkv
        if not kv_tied:
            check(width % untied == 0, CREATE, "Unsupported input shape")
            return width // untied
        check(width % tied == 0, CREATE, "Unsupported input shape")
        check(width % untied != 0, CREATE, f"Ambiguous kv_tied fused input shape: width {width} is divisible by both "
                                           f"{tied} (tied) and {untied} (untied) sections")
        return width // tied
    kv_width = kv.padded_shape[-1]
    check(width % nh == 0, CREATE, "Unsupported input shape")
    head_dim = width // nh
    if kv_tied:
        check(kv_width == nkv * head_dim, CREATE, f"kv_tied KV width ({kv_width}) must be num_kv_heads {nkv} * "
                                                  f"head_dim {head_dim} -- one K/V section, not two")
        return head_dim
    check(kv_width % (2 * nkv) == 0, CREATE, "Unsupported input shape")
    check(kv_width // (2 * nkv) == head_dim, CREATE, "Head dims must be the same for Q and K, V")
    return head_dim


# ----------------------------------------------------------------------------- decode split

CREATE_DECODE = "ttnn.experimental.nlp_create_qkv_heads_decode"
_MAX_USERS = 32


def _decode_split_on_all_chips(input_tensor: Tensor, *, num_heads: int, num_kv_heads: int | None = None, **rest):
    """Every chip's split at once: chip 0 checks and gives the outputs' specs, the split runs on the stacked rows."""
    x = input_tensor
    if not isinstance(x, Tensor) or x._device is None:
        return NotImplemented
    mesh = x._device
    specs = nlp_create_qkv_heads_decode(x._chip_view(0, mesh.chip(0)), num_heads=num_heads, num_kv_heads=num_kv_heads,
                                        **rest)
    nkv = num_heads if num_kv_heads is None else num_kv_heads
    rows = _stacked_padded_values(x, CREATE_DECODE)[:, 0, 0, :x.shape[2], :]
    return tuple(computed_like_chip_zero(spec, mesh, values)
                 for spec, values in zip(specs, _split_decode_rows(rows, num_heads, nkv)))


@per_chip(all_chips=_decode_split_on_all_chips)
def nlp_create_qkv_heads_decode(input_tensor: Tensor, *, num_heads: int, num_kv_heads: int | None = None,
                                output_tensors=None, overlap_qk_coregrid: bool | None = True, batch_offset=None,
                                slice_size: int | None = None, memory_config: MemoryConfig | None = None):
    """Split ``[1, 1, B, (nh + 2 nkv) hd]`` (row b = user b) into q ``[1, B, nh, hd]`` and
    k, v ``[1, B, nkv, hd]``, each L1 height-sharded over B cores (one user per core)."""
    op = CREATE_DECODE
    if output_tensors is not None:
        not_emulated(op, "output_tensors=...")
    if batch_offset is not None or slice_size is not None:
        not_emulated(op, "batch_offset/slice_size")
    nkv = num_heads if num_kv_heads is None else num_kv_heads
    x = input_tensor
    if not x.is_sharded():
        overlap_qk_coregrid = True
    elif overlap_qk_coregrid is None:
        overlap_qk_coregrid = True
    width = x.padded_shape[-1]
    check(width % (num_heads + 2 * nkv) == 0, op,
          f"Input shape {width} must be divisible by num_heads + 2*num_kv_heads = {num_heads + 2 * nkv}")
    head_dim = width // (num_heads + 2 * nkv)

    on_device(x, op, "Operands to TM need to be on device!")
    check(x.dtype in (DataType.FLOAT32, DataType.BFLOAT16), op, "Unsupported data format")
    check(x.layout == Layout.TILE, op, "Only tile layout is supported for input tensor")
    shape = tuple(x.shape)
    # the shape messages are built only when raising: formatting a Shape costs per op
    if len(shape) != 4:
        raise fatal(op, f"Unsupported input shape = {x.shape}")
    users = shape[2]
    if shape[3] % TILE_SIZE != 0:
        raise fatal(op, f"Unsupported input shape = {x.shape}, input_shape[3]={shape[3]} must be multiple of "
                        f"TILE_WIDTH={TILE_SIZE}")
    if not users <= _MAX_USERS:
        raise fatal(op, f"Unsupported input shape = {x.shape}, num_users={users} exceeds max supported={_MAX_USERS}")
    if shape[1] != 1:
        raise fatal(op, f"Unsupported input shape = {x.shape}, input_shape[1]={shape[1]} must be 1")
    if shape[0] != 1:
        raise fatal(op, f"Unsupported input shape = {x.shape}, input_shape[0]={shape[0]} must be 1")
    if x.is_sharded():
        in_config = x.memory_config()
        check(in_config.memory_layout == TensorMemoryLayout.WIDTH_SHARDED, op,
              f"Current input memory layout is {in_config.memory_layout.name}. It must be width sharded")
        check(in_config.shard_spec.shape[0] == x.volume() // width, op, "Shard shape must be correct")
        check(in_config.shard_spec.orientation == ShardOrientation.ROW_MAJOR, op, "Shard orientation must be ROW_MAJOR")
        if not overlap_qk_coregrid:
            not_emulated(op, "overlap_qk_coregrid=False")
    else:
        check(overlap_qk_coregrid, op, "Overlap_qk_coregrid must be true for non-sharded input")
    check(num_heads >= nkv, op, f"num_q_heads={num_heads} must be greater than or equal to num_kv_heads={nkv}")
    grid_cores, grid_x = _output_grid(x, memory_config, op)
    check(grid_cores >= users, op, f"Grid Size is {grid_cores}. Need at least 32 cores for decode")

    # one user per core; each output's shard holds its own heads padded to whole tiles (real 0.81.1: nh=40, nkv=8
    # gives q shards [64, hd] and k/v shards [32, hd]; more than 32 q heads are accepted)
    q_config = height_sharded_config(users, (round_up(num_heads, TILE_SIZE), head_dim), grid_x=grid_x)
    kv_config = height_sharded_config(users, (round_up(nkv, TILE_SIZE), head_dim), grid_x=grid_x)
    q, k, v = _split_decode_rows(_padded_values(x, op)[0, 0, :users, :], num_heads, nkv)
    return _make(q, x, q_config), _make(k, x, kv_config), _make(v, x, kv_config)


def _split_decode_rows(rows: torch.Tensor, num_heads: int, nkv: int) -> tuple:
    """Rows ``[..., B, (nh + 2 nkv) hd]`` -> q ``[..., 1, B, nh, hd]``, k and v ``[..., 1, B, nkv, hd]``."""
    split = rows.unflatten(-1, (num_heads + 2 * nkv, -1)).unsqueeze(-4)
    return split[..., :num_heads, :], split[..., num_heads:num_heads + nkv, :], split[..., num_heads + nkv:, :]


def _output_grid(x: Tensor, memory_config: MemoryConfig | None, op: str) -> tuple[int, int]:
    """(cores, grid width) of the output grid: a caller's shard grid if given, else the device's."""
    if memory_config is not None and memory_config.shard_spec is not None:
        ranges = memory_config.shard_spec.grid.ranges()
        if len(ranges) != 1 or (ranges[0].start.x, ranges[0].start.y) != (0, 0):
            not_emulated(op, "memory_config with a shard grid that is not one rectangle from core (0, 0)")
        return ranges[0].num_cores(), ranges[0].end.x + 1
    grid = x.device().compute_with_storage_grid_size()
    return grid.x * grid.y, grid.x


# ----------------------------------------------------------------------------- merge

CONCAT = "ttnn.experimental.nlp_concat_heads"


def _concat_heads_on_all_chips(input_tensor: Tensor, *, memory_config: MemoryConfig | None = None):
    """Every chip's merge at once: chip 0 checks and gives the output's spec, the merge runs on the stacked heads."""
    x = input_tensor
    if not isinstance(x, Tensor) or x._device is None:
        return NotImplemented
    mesh = x._device
    spec = nlp_concat_heads(x._chip_view(0, mesh.chip(0)), memory_config=memory_config)
    return computed_like_chip_zero(spec, mesh, _merge_heads(_stacked_padded_values(x, CONCAT), x))


@per_chip(all_chips=_concat_heads_on_all_chips)
def nlp_concat_heads(input_tensor: Tensor, *, memory_config: MemoryConfig | None = None) -> Tensor:
    """Merge ``[B, nh, S, hd]`` into ``[B, 1, S, nh * hd]`` (nh, S, hd logical).

    Heads are copied tile by tile, so a head_dim that is not a tile multiple keeps its padded
    stride inside the merged row (as on the card); the logical width is ``nh * hd``.
    """
    x = input_tensor
    on_device(x, CONCAT, "Operands to TM need to be on device!")
    check(x.dtype in _FLOATS, CONCAT, "Unsupported data format")
    check(x.layout == Layout.TILE, CONCAT, f"Input tensor layout must be TILE but got {x.layout.name}")
    check(len(x.shape) == 4, CONCAT, f"Input tensor must be 4D [B, nh, S, hd] but got {list(x.shape)}")
    out_config = memory_config or x.memory_config()
    padded = tuple(x.padded_shape)
    if x.is_sharded():
        spec = x.memory_config().shard_spec
        check(x.memory_config().memory_layout != TensorMemoryLayout.WIDTH_SHARDED, CONCAT,
              f"Input tensor memory layout must not be WIDTH_SHARDED but got {x.memory_config().memory_layout.name}")
        check(spec.shape[1] == padded[-1], CONCAT,
              f"Input tensor shard width ({spec.shape[1]}) must equal padded width ({padded[-1]})")
        check(spec.shape[0] % padded[-2] == 0, CONCAT,
              f"Input tensor shard height ({spec.shape[0]}) must be divisible by padded height ({padded[-2]})")
        check(padded[1] % (spec.shape[0] // padded[-2]) == 0, CONCAT,
              f"Input tensor padded height ({padded[1]}) must be divisible by shard height / padded height "
              f"({spec.shape[0]} / {padded[-2]})")
        check(out_config.memory_layout != TensorMemoryLayout.HEIGHT_SHARDED, CONCAT,
              f"Output memory config layout must not be HEIGHT_SHARDED but got {out_config.memory_layout.name}")
        if out_config.is_sharded():
            per_shard = spec.shape[0] // padded[-2]
            out_spec = dataclasses.replace(spec, shape=(spec.shape[0] // per_shard, spec.shape[1] * per_shard))
            out_config = MemoryConfig(out_config.memory_layout, out_config.buffer_type, out_spec)
    else:
        check(out_config.memory_layout == TensorMemoryLayout.INTERLEAVED, CONCAT,
              f"Output memory config layout must be INTERLEAVED but got {out_config.memory_layout.name}")

    return _make(_merge_heads(_padded_values(x, CONCAT), x), x, out_config)


def _merge_heads(padded_values: torch.Tensor, x: Tensor) -> torch.Tensor:
    """``[..., B, nh, S, hd]`` (padded) -> ``[..., B, 1, S, nh * hd]`` with each head at its padded stride."""
    _, heads, seq, head_dim = tuple(x.shape)
    values = padded_values[..., :heads, :seq, :]
    merged = values.transpose(-3, -2).flatten(-2).unsqueeze(-3)
    return merged[..., :heads * head_dim]


CONCAT_DECODE = "ttnn.experimental.nlp_concat_heads_decode"


@per_chip
def nlp_concat_heads_decode(input_tensor: Tensor, *, num_heads: int, memory_config: MemoryConfig | None = None,
                            output_tensor: Tensor | None = None, sub_core_grids=None) -> Tensor:
    """Merge decode heads ``[1, B, heads padded to a tile multiple, hd]`` into
    ``[1, 1, max(B, 32), num_heads * hd]``, keeping the first ``num_heads``; the output is L1
    width-sharded, one head per core."""
    op = CONCAT_DECODE
    if output_tensor is not None or sub_core_grids is not None:
        not_emulated(op, "output_tensor/sub_core_grids")
    x = input_tensor
    padded = tuple(x.padded_shape)
    on_device(x, op, "Operands to TM need to be on device!")
    check(x.dtype in (DataType.FLOAT32, DataType.BFLOAT16), op, "Unsupported data format")
    check(x.layout == Layout.TILE, op, f"Input tensor layout must be TILE but got {x.layout.name}")
    check(len(padded) == 4, op, f"Input tensor must be 4D [1, B, 32, hd] but got {list(padded)}")
    check(padded[0] == 1, op, "seqlen=1 for decode")
    check(padded[1] <= 32, op, "currently only support less than 32 users")
    check(padded[2] % TILE_SIZE == 0, op, f"padded heads must be a multiple of TILE_HEIGHT ({TILE_SIZE}), got {padded[2]}")
    check(padded[2] >= num_heads, op, "head_dim must be multiple of TILE_WIDTH")
    check(x.is_sharded(), op, "Input tensor must be sharded")
    config = x.memory_config()
    check(config.memory_layout == TensorMemoryLayout.HEIGHT_SHARDED, op,
          f"Input tensor memory layout must be HEIGHT_SHARDED but got {config.memory_layout.name}")
    spec = config.shard_spec
    check(spec.shape[1] == padded[-1], op,
          f"Shard spec shape[1] ({spec.shape[1]}) must match input tensor padded shape[-1] ({padded[-1]})")
    check(spec.shape[0] == padded[-2], op,
          f"Shard spec shape[0] ({spec.shape[0]}) must match input tensor padded shape[-2] ({padded[-2]})")
    ranges = spec.grid.ranges()
    if len(ranges) > 1 or (ranges[0].start.x, ranges[0].start.y) != (0, 0):
        not_emulated(op, "input sharded on sub-core-grids")
    check(spec.num_cores() == padded[1], op, "Input core grid num_cores must be equal to num users")

    users, head_dim = padded[1], padded[3]
    rows = max(users, 32)
    grid = x.device().compute_with_storage_grid_size()
    by_head = height_sharded_config(num_heads, (rows, head_dim), grid_x=grid.x)
    out_config = MemoryConfig(TensorMemoryLayout.WIDTH_SHARDED, BufferType.L1, by_head.shard_spec)
    heads = _padded_values(x, op)[0, :, :num_heads, :].reshape(users, num_heads * head_dim)
    merged = pad_to(heads, (rows, num_heads * head_dim)).reshape(1, 1, rows, num_heads * head_dim)
    return _make(merged, x, out_config)
