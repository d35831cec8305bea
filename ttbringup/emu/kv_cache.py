"""``ttnn.fill_cache`` and ``ttnn.update_cache``: in-place writes into a KV cache
``[B, nkv, S, hd]`` (TILE, on device).

``fill_cache`` writes a prompt: ``cache[batch_idx, :, update_idx : update_idx + S_pad, :] =
input[0]``, whole padded rows (padding tokens land past the prompt, harmless because decode
attends only up to its position). ``update_cache`` writes one position for all users:
``cache[u, :, update_idx, :] = input[0, :, batch_offset + u, :]``. Both return the cache
tensor object itself. 0.81.1 has no grid-size limit on interleaved fills (older versions did).
"""

from __future__ import annotations

from .errors import check, fatal, not_emulated_getattr
from .kv_storage import is_data_free, write_rows
from .tensor import Tensor, pad_to
from .types import TILE_SIZE, BufferType, DataType, Layout, TensorMemoryLayout
from .operands import on_device
from .per_chip import per_chip

_DTYPES = (DataType.FLOAT32, DataType.BFLOAT16, DataType.BFLOAT8_B)


def _validate_common(cache: Tensor, x: Tensor, op: str) -> None:
    """The checks fill and update share (update_cache_device_operation)."""
    check(cache.device() is not None and x.device() is not None, op, "Operands to update_cache need to be on device!")
    check(cache.device() is x.device(), op, "Operands to update_cache need to be on the same device!")
    on_device(cache, op, "Operands to update_cache need to be allocated in buffers on device!")
    on_device(x, op, "Operands to update_cache need to be allocated in buffers on device!")
    check(x.layout == Layout.TILE and cache.layout == Layout.TILE, op, "Inputs to update_cache must be tilized")
    check(x.dtype in _DTYPES, op, f"Input tensor dtype must be FLOAT32, BFLOAT16, or BFLOAT8_B but got {x.dtype.name}")
    check(cache.dtype in _DTYPES, op,
          f"Cache tensor dtype must be FLOAT32, BFLOAT16, or BFLOAT8_B but got {cache.dtype.name}")
    x_padded, cache_padded = tuple(x.padded_shape), tuple(cache.padded_shape)
    check(len(x_padded) == 4 and len(cache_padded) == 4, op, "Input and cache tensors must be 4D")
    check(x_padded[-1] == cache_padded[-1], op,
          f"Input tensor width ({x_padded[-1]}) must equal cache tensor width ({cache_padded[-1]})")
    check(x_padded[0] == 1, op, f"Input tensor batch size must be 1 but got {x_padded[0]}")
    check(x_padded[1] == cache_padded[1], op,
          f"Input tensor height ({x_padded[1]}) must equal cache tensor height ({cache_padded[1]})")
    config = cache.memory_config()
    # a DRAM height-sharded cache stands for an ND shard spec collapsed to one shard per bank
    ok = config.memory_layout in (TensorMemoryLayout.INTERLEAVED, TensorMemoryLayout.ND_SHARDED) or (
        config.memory_layout == TensorMemoryLayout.HEIGHT_SHARDED and config.buffer_type == BufferType.DRAM)
    check(ok, op, "Cache tensor memory layout must be INTERLEAVED, ND_SHARDED, or HEIGHT_SHARDED (created from ND "
                  f"shard spec) but got {config.memory_layout.name}")


def _check_sharded_input(x: Tensor, op: str, rows_divisible: bool) -> None:
    if not x.is_sharded():
        return
    config = x.memory_config()
    check(config.memory_layout != TensorMemoryLayout.WIDTH_SHARDED, op,
          f"Input tensor memory layout must not be WIDTH_SHARDED but got {config.memory_layout.name}")
    width = x.padded_shape[-1]
    check(config.shard_spec.shape[1] == width, op,
          f"Input tensor shard width ({config.shard_spec.shape[1]}) must equal padded width ({width})")
    shard_h = config.shard_spec.shape[0]
    if rows_divisible:
        check(x.padded_shape[-2] % shard_h == 0, op, "Seq len must be divisible by shard height!")
    else:
        check((x.volume() // width) % shard_h == 0, op, "Error")


FILL = "ttnn.fill_cache"


@per_chip(writes_first=True)
def fill_cache(cache_tensor: Tensor, input_tensor: Tensor, batch_idx: int, *, update_idx: int = 0) -> Tensor:
    """``cache[batch_idx, :, update_idx : update_idx + S_pad, :] = input[0]`` in place; returns the cache.

    The input ``[1, nkv, S, hd]`` must have the cache's dtype (no conversion for fills); it may be
    interleaved or height-sharded (not width-sharded).
    """
    op = FILL
    if batch_idx < 0 or update_idx < 0:
        raise TypeError(f"{op}(): incompatible function arguments (batch_idx and update_idx are uint32)")
    cache, x = cache_tensor, input_tensor
    _validate_common(cache, x, op)
    check(x.dtype == cache.dtype, op, "Input and cache tensors must have same dtype!")
    _check_sharded_input(x, op, rows_divisible=True)
    cache_padded, x_padded = tuple(cache.padded_shape), tuple(x.padded_shape)
    check(batch_idx < cache_padded[0], op,
          f"Batch index ({batch_idx}) must be less than cache tensor batch size ({cache_padded[0]})")
    check(update_idx % TILE_SIZE == 0, op,
          f"Fill update_idx ({update_idx}) must be a multiple of TILE_HEIGHT ({TILE_SIZE})")
    check(update_idx <= cache_padded[-2] and x_padded[-2] <= cache_padded[-2] - update_idx, op,
          f"Fill update_idx ({update_idx}) + input tensor height ({x_padded[-2]}) must be <= cache tensor height "
          f"({cache_padded[-2]})")
    if is_data_free(cache, x):
        return cache
    rows = pad_to(x._values(op), x_padded)[0]  # [nkv, S_pad, hd]: padding rows are written too
    write_rows(cache, (batch_idx, slice(None), slice(update_idx, update_idx + x_padded[-2])), rows, op)
    return cache


UPDATE = "ttnn.update_cache"


@per_chip(writes_first=True)
def update_cache(cache: Tensor, input: Tensor, update_idx: int, *, batch_offset: int = 0,
                 compute_kernel_config=None) -> Tensor:
    """``cache[u, :, update_idx, :] = input[0, :, batch_offset + u, :]`` for every cache user u,
    in place (converted to the cache dtype); returns the cache.

    The input is ``[1, nkv, B_pad, hd]`` with users on dim -2.
    """
    op = UPDATE
    if update_idx < 0 or batch_offset < 0:
        raise TypeError(f"{op}(): incompatible function arguments (update_idx and batch_offset are uint32)")
    x = input
    _validate_common(cache, x, op)
    if x.is_sharded():
        _check_sharded_input(x, op, rows_divisible=False)
    else:
        check(x.memory_config().memory_layout == TensorMemoryLayout.INTERLEAVED, op,
              f"Input tensor memory layout must be INTERLEAVED but got {x.memory_config().memory_layout.name}")
    cache_padded, x_padded = tuple(cache.padded_shape), tuple(x.padded_shape)
    users = cache_padded[0]
    check(users <= x_padded[-2], op,
          f"Cache tensor batch size ({users}) must be <= input tensor height ({x_padded[-2]})")
    if users < 32:
        check(batch_offset + users <= 32, op,
              f"Batch offset ({batch_offset}) + cache tensor batch size ({users}) must be <= 32")
    else:
        check(batch_offset == 0, op, "Batch offset must be 0 when cache tensor batch size >= 32")
    if update_idx >= cache_padded[-2]:
        raise fatal(op, f"update_idx ({update_idx}) is outside the cache's sequence length {cache_padded[-2]} "
                        "(the card would write out of bounds)")
    if is_data_free(cache, x):
        return cache
    rows = pad_to(x._values(op), x_padded)[0, :, batch_offset:batch_offset + users, :]  # [nkv, B, hd]
    write_rows(cache, (slice(None), slice(None), update_idx), rows.transpose(0, 1), op)
    return cache


__getattr__ = not_emulated_getattr("ttnn")
