"""Row-level access to a KV cache's stored data, for the cache ops and decode attention.

A cache is a TILE tensor ``[batch_or_blocks, heads, seq, head_dim]``. Its storage is either a
torch tensor of the logical shape (bfloat16 / float32) or a :class:`~ttbringup.emu.tensor.BlockFloat`
over the tile-padded shape. A *row* is one ``(b, h, s)`` vector of the last dim; bfloat8_b /
bfloat4_b blocks hold 16 consecutive values of one row, so rows can be rewritten (and
re-quantised) independently, which is what the card's tile writes amount to.

Everything here is data-free aware: on a cache without values (torch ``meta``) writes do
nothing and reads return ``meta`` tensors of the right shape.
"""

from __future__ import annotations

import torch

from . import numerics
from .tensor import BlockFloat, Tensor, pad_to
from .types import DataType


def is_data_free(*tensors) -> bool:
    """True if any given ttnn Tensor (``None`` ignored) carries no values."""
    return any(t is not None and t.is_data_free() for t in tensors)


def int_values(t: Tensor, op: str) -> torch.Tensor | None:
    """The flat int64 values of an integer index tensor, or ``None`` if it is data-free."""
    if t.is_data_free():
        return None
    return t._native(op).reshape(-1).to(torch.int64)


def write_rows(cache: Tensor, index: tuple, rows: torch.Tensor, op: str) -> None:
    """In place: ``cache[index] = rows`` for whole rows, rounded to the cache dtype.

    ``index`` addresses the first three dims only (ints, slices or index tensors, as torch
    indexing takes them); ``rows`` has the indexed shape with the cache's last dim, logical
    or tile-padded width. Rows past the logical extent of a non-block cache do not exist in
    its storage and are dropped (they are tile padding).
    """
    cache._check_alive(op)
    store = cache._value
    if cache.is_data_free() or rows.is_meta:
        return
    rows = rows.float()
    if not isinstance(store, BlockFloat):
        index, rows = _clip_to_logical(index, rows, store.shape[2])
        if rows is None or rows.numel() == 0:
            return
    _store_rows(store, cache.dtype, index, rows)


def write_rows_all_chips(cache: Tensor, index: tuple, rows: torch.Tensor, op: str) -> None:
    """``write_rows`` on every chip of a distributed cache at once: ``rows[c]`` goes to chip c at ``index``, an
    index of the advanced form ``(users, slice(None), rows)`` that the cache ops make."""
    cache._check_alive(op)
    store = cache._shards  # [chips, batch, heads, seq, width]
    if cache.is_data_free() or rows.is_meta:
        return
    rows = rows.float().transpose(0, 1)  # users first: the shape torch gives the separated advanced dims below
    if not isinstance(store, BlockFloat):
        index, rows = _clip_to_logical(index, rows, store.shape[3])
        if rows is None or rows.numel() == 0:
            return
    _store_rows(store, cache.dtype, (slice(None),) + index, rows)


def _store_rows(store, dtype: DataType, index: tuple, rows: torch.Tensor) -> None:
    """``store[index] = rows`` (float32, logical or tile-padded width) in the storage's format: block floats
    quantised per row, bfloat16 rounded, other dtypes cast."""
    if isinstance(store, BlockFloat):
        width = store.mant.shape[-1]
        if rows.shape[-1] != width:
            rows = pad_to(rows, tuple(rows.shape[:-1]) + (width,))
        mant, exp = numerics.bfp_quantize(rows.contiguous(), store.bits)
        store.mant[index] = mant
        store.exp[index] = exp
        return
    rows = rows[..., :store.shape[-1]]
    store[index] = numerics.to_bfloat16(rows) if dtype == DataType.BFLOAT16 else rows.to(store.dtype)


def _clip_to_logical(index: tuple, rows: torch.Tensor, seq: int):
    """Drop the rows whose dim-2 index lies in the (unstored) tile padding past ``seq``."""
    if len(index) < 3:
        return index, rows
    if isinstance(index[2], torch.Tensor):  # advanced indexing: rows are [n, ...] along the index
        keep = index[2] < seq
        if bool(keep.all()):
            return index, rows
        return tuple(i[keep] if isinstance(i, torch.Tensor) else i for i in index), rows[keep]
    if isinstance(index[2], int):
        return (index, rows) if index[2] < seq else (index, None)
    if not isinstance(index[2], slice):
        return index, rows
    start, stop = index[2].start or 0, index[2].stop
    if stop is None or stop <= seq:
        return index, rows
    keep = max(seq - start, 0)
    return index[:2] + (slice(start, start + keep),), rows.narrow(rows.dim() - 2, 0, keep)


def read_prefix(cache: Tensor, length: int, users, op: str) -> torch.Tensor:
    """float32 ``cache[users, :, :length, :]`` (logical width), converting only that part.

    ``users`` selects batch rows: a slice, an index tensor, or ``None`` for all of them.
    """
    cache._check_alive(op)
    store = cache._value
    width = cache.shape[-1]
    if isinstance(store, BlockFloat):
        # the prefix is cut before the users are picked, so an index tensor copies only the prefix
        mant, exp = _rows(store.mant[:, :, :length], users), _rows(store.exp[:, :, :length], users)
        values = numerics.bfp_dequantize(mant, exp, store.bits)
        return values[..., :width]
    part = _rows(store[:, :, :length], users)
    if part.is_meta:
        return torch.empty(part.shape, dtype=torch.float32, device="meta")
    out = torch.empty(part.shape, dtype=torch.float32)
    out.copy_(part)  # one pass, no intermediate contiguous copy
    return out


def read_prefix_all_chips(cache: Tensor, chips: int, length: int, users, op: str) -> torch.Tensor:
    """``read_prefix`` of every chip of a mesh cache at once, the chips' heads side by side:
    ``[users, chips * heads, length, width]`` (chip-major heads). A replicated cache is the same on every chip."""
    if cache._shards is None:
        return read_prefix(cache, length, users, op).repeat(1, chips, 1, 1)
    cache._check_alive(op)
    store = cache._shards  # [chips, batch, heads, seq, width]
    width = cache.shape[-1]
    if isinstance(store, BlockFloat):
        mant = _rows(store.mant[:, :, :, :length].transpose(0, 1), users)
        exp = _rows(store.exp[:, :, :, :length].transpose(0, 1), users)
        values = numerics.bfp_dequantize(mant, exp, store.bits)[..., :width]
    else:
        part = _rows(store[:, :, :, :length].transpose(0, 1), users)
        values = torch.empty(part.shape, dtype=torch.float32, device=part.device)
        values.copy_(part)
    return values.flatten(1, 2)


def _rows(t: torch.Tensor, users) -> torch.Tensor:
    if users is None:
        return t
    if isinstance(users, slice):
        return t[users]
    return t.index_select(0, users)
