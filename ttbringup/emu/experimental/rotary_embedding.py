"""``ttnn.experimental.rotary_embedding``: HuggingFace rotate-half RoPE.

``out = x * cos + rotate_half(x) * sin`` with ``rotate_half(x) = cat(-x2, x1)`` over the padded
width. Prefill (no ``token_index``): row ``s`` of dim -2 uses cos/sin row ``s`` for every
leading index. Decode (``token_index = p``): every row uses cos/sin row ``p``; dim 0 must be 1.

The output spec is built from the input's *padded* shape, so tile padding becomes logical data:
a decode input ``[1, 32, 8, 128]`` (heads padded to 32) comes back as ``[1, 32, 32, 128]``. The
wrapper zero-fills the input's padding first, so those rows are exact zeros. ROW_MAJOR inputs are
tilized (zero-padded) by the wrapper and come back in TILE layout.
"""

from __future__ import annotations

import torch

from ..core import height_sharded_config
from ..errors import check, fatal
from ..kv_storage import is_data_free
from ..tensor import BlockFloat, Tensor, new_tensor, pad_to
from ..types import TILE_SIZE, Layout, MemoryConfig, TensorMemoryLayout, tile_padded_shape
from ..per_chip import computed_like_chip_zero, per_chip

OP = "ttnn.experimental.rotary_embedding"


def _on_all_chips(input_tensor, cos_cache, sin_cache, token_index=None, *, memory_config=None,
                  compute_kernel_config=None):
    """Every chip's rotation at once: the input distributed (dense storage), the cos/sin tables replicated."""
    x = input_tensor
    if (not isinstance(x, Tensor) or x._device is None or isinstance(x._shards, BlockFloat)
            or not all(isinstance(c, Tensor) and c._shards is None for c in (cos_cache, sin_cache))):
        return NotImplemented
    chip0 = x._device.chip(0)
    spec = rotary_embedding(x._chip_view(0, chip0), cos_cache._chip_view(0, chip0), sin_cache._chip_view(0, chip0),
                            token_index, memory_config=memory_config)
    padded, chips = tuple(spec.padded_shape), x.num_chips()
    if is_data_free(x, cos_cache, sin_cache):
        values = torch.empty((chips,) + padded, device="meta")
    else:
        values = _rotate(pad_to(x._shards.float(), (chips,) + padded), cos_cache, sin_cache, token_index, padded)
    return computed_like_chip_zero(spec, x._device, values)


@per_chip(all_chips=_on_all_chips)
def rotary_embedding(input_tensor: Tensor, cos_cache: Tensor, sin_cache: Tensor, token_index: int | None = None, *,
                     memory_config: MemoryConfig | None = None, compute_kernel_config=None) -> Tensor:
    """Rotate ``input_tensor`` by the cos/sin caches ``[1, 1, L, X]`` (X = the input's padded width)."""
    if token_index is not None and token_index < 0:
        raise TypeError(f"{OP}(): incompatible function arguments (token_index must be a uint32, got {token_index})")
    padded = _tile_shape(input_tensor)
    width = padded[-1]
    check(width == TILE_SIZE or width % (2 * TILE_SIZE) == 0, OP,
          f"Input X dimension ({width}) must be either {TILE_SIZE} (single tile) or divisible by {2 * TILE_SIZE} "
          "(rotate_half midpoint must align with a tile boundary).")
    check(input_tensor.device() is not None, OP, "Input tensor must be on device")
    cos_shape, sin_shape = _tile_shape(cos_cache), _tile_shape(sin_cache)
    if cos_shape != sin_shape:  # these messages only when raising: formatting lists costs per op
        raise fatal(OP, f"Cosine and Sine cache dimensions must match. Cos cache dimensions: {list(cos_shape)}, "
                        f"Sin cache dimensions: {list(sin_shape)}.")
    if not (len(cos_shape) >= 3 and cos_shape[0] == 1 and cos_shape[1] == 1 and cos_shape[-1] == width):
        raise fatal(OP, f"Cosine cache dimensions must match input dimensions. Expected (1, 1, {width}), but got "
                        f"{list(cos_shape)}.")
    cache_len = cos_shape[-2]
    if token_index is not None:
        check(padded[0] == 1, OP, f"When token index is provided, sequence length must be 1. "
                                  f"Current sequence length: {padded[0]}.")
        check(cache_len >= token_index, OP, f"Cosine cache must cover the token index. Token index: {token_index}, "
                                            f"Cos cache sequence length: {cache_len}.")
        # the card accepts token_index == L and reads past the cache; no values exist to emulate that
        check(token_index < cache_len, OP, f"token_index ({token_index}) reads past the cos/sin cache "
                                           f"({cache_len} rows): the card would read out of bounds")
    else:
        check(cache_len >= padded[-2], OP, f"Cosine cache must cover the input sequence length. Input sequence "
                                           f"length: {padded[-2]}, Cos cache sequence length: {cache_len}.")
    for t in (input_tensor, cos_cache, sin_cache):
        check(t.device() is not None, OP, "Operands to rotary embedding need to be on device!")
        t._check_alive(OP)
        check(t.device() is input_tensor.device(), OP, "Operands to rotary embedding need to be on same device!")
    check(cos_cache.dtype == sin_cache.dtype, OP, "Cos and Sin dtypes must match")
    out_config = _output_memory_config(input_tensor, memory_config or input_tensor.memory_config(), padded)

    if is_data_free(input_tensor, cos_cache, sin_cache):
        values = torch.empty(padded, device="meta")
    else:
        values = _rotate(pad_to(input_tensor._values(OP), padded), cos_cache, sin_cache, token_index, padded)
    return new_tensor(values, dtype=input_tensor.dtype, layout=Layout.TILE, device=input_tensor.device(),
                      memory_config=out_config, tile=input_tensor.tile)


def _tile_shape(t: Tensor) -> tuple:
    """The shape ``t`` has once tilized (the wrapper tilizes ROW_MAJOR operands)."""
    if t.layout == Layout.TILE:
        return tuple(t.padded_shape)
    return tile_padded_shape(tuple(t.shape), t.tile)


def _rotate(x: torch.Tensor, cos_t: Tensor, sin_t: Tensor, token_index: int | None, padded: tuple) -> torch.Tensor:
    """``x``: the input over its padded shape (padding zero, as the wrapper fills it), any leading dims."""
    if token_index is None:
        rows = slice(0, padded[-2])
    else:
        rows = slice(token_index, token_index + 1)  # one row, broadcast over every row of x
    cos, sin = _table_rows(cos_t, rows, padded[-1]), _table_rows(sin_t, rows, padded[-1])
    half = padded[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos + rotated * sin


def _table_rows(t: Tensor, rows: slice, width: int) -> torch.Tensor:
    """float32 ``rows`` of a cos/sin table ``[1, 1, L, width]``, converting only those rows when the storage
    holds them (decode reads one row of a table of thousands)."""
    value = t._value
    if isinstance(value, torch.Tensor) and value.shape[-1] == width and rows.stop <= value.shape[-2]:
        return value.reshape(-1, width)[rows].float()
    return pad_to(t._values(OP), _tile_shape(t)).reshape(-1, width)[rows]


def _output_memory_config(x: Tensor, config: MemoryConfig, padded: tuple) -> MemoryConfig:
    """Validate the placement like the device op and give sharded outputs their shard spec."""
    layout = config.memory_layout
    if x.is_sharded():
        in_config = x.memory_config()
        check(in_config.memory_layout != TensorMemoryLayout.WIDTH_SHARDED, OP,
              f"Input tensor memory layout must not be WIDTH_SHARDED but got {in_config.memory_layout.name}")
        shard_width = in_config.shard_spec.shape[1]
        check(shard_width == padded[-1], OP,
              f"Input tensor shard width ({shard_width}) must equal padded width ({padded[-1]})")
    if config.is_sharded():
        check(layout != TensorMemoryLayout.WIDTH_SHARDED, OP,
              f"Output memory config layout must not be WIDTH_SHARDED but got {layout.name}")
        if x.is_sharded():
            spec = x.memory_config().shard_spec
            return MemoryConfig(layout, config.buffer_type, spec)
        return _spread_over_cores(x, config, padded)
    return config


def _spread_over_cores(x: Tensor, config: MemoryConfig, padded: tuple) -> MemoryConfig:
    """Interleaved input, sharded output: tile rows over the largest core count dividing them."""
    rows = 1
    for d in padded[:-1]:
        rows *= d
    blocks = rows // TILE_SIZE
    grid = x.device().compute_with_storage_grid_size()
    cores = next(n for n in range(min(grid.x * grid.y, blocks), 0, -1) if blocks % n == 0)
    sharded = height_sharded_config(cores, (blocks // cores * TILE_SIZE, padded[-1]), grid_x=grid.x)
    return MemoryConfig(config.memory_layout, config.buffer_type, sharded.shard_spec)
