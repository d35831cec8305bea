"""Data movement (``ttnn/operations/data_movement``): ``concat``, ``slice``, ``reshape``,
``transpose``, ``permute``, and ``getitem`` behind ``Tensor.__getitem__``.

All ops work on logical shapes like their torch counterparts and move values exactly; TILE
padding is recomputed for each result. Block-float tensors are decoded, moved and re-quantised,
as the card does through bfloat16 (blocks of 16 values are re-formed, so values are unchanged
unless the move regroups a block). ``reshape`` returns a view sharing the device buffer when the
real op does (facts §2.20); every other op allocates its output.
"""

from __future__ import annotations

import builtins
import enum

import torch

from .core import to_memory_config
from .errors import check, not_emulated_getattr
from .tensor import BlockFloat, Tensor, crop_to, new_tensor, pad_to, view_of
from .types import DRAM_MEMORY_CONFIG, DataType, Layout, Shape, tile_padded_shape
from .validate import normalize_dim, not_emulated, on_device, same_device, tensor_arg
from .per_chip import like_chip_zero, per_chip

_slice = builtins.slice  # this module defines ttnn.slice


class TileReshapeMapMode(enum.Enum):
    """``ttnn.TileReshapeMapMode``: how the tiled reshape kernel caches its mapping (perf only)."""

    CACHE = 0
    RECREATE = 1


def _owned(values: torch.Tensor) -> torch.Tensor:
    """A contiguous copy, so an output never aliases its input's storage (caches are updated in place)."""
    return values.clone(memory_format=torch.contiguous_format)


def _like(t: Tensor, values: torch.Tensor, memory_config, pad_value: float | None = None) -> Tensor:
    """A new tensor of ``t``'s dtype, layout, tile and device holding ``values``."""
    return new_tensor(values, dtype=t.dtype, layout=t.layout, device=t.device(),
                      memory_config=(memory_config or t.memory_config()) if t.device() is not None else None,
                      tile=t.tile, pad_value=pad_value or 0.0)


# ----------------------------------------------------------------------------- concat


def _concat_on_all_chips(tensors, dim: int = 0, **rest):
    """Every chip's concat at once (dense storages, at least one distributed): chip 0 checks and decides the output."""
    tensors = list(tensors) if isinstance(tensors, (list, tuple)) else None
    if not tensors or len(tensors) < 2 or not all(isinstance(t, Tensor) and t._device is not None for t in tensors):
        return NotImplemented
    mesh = tensors[0]._device
    if any(t._device is not mesh or isinstance(t._shards if t._shards is not None else t._value, BlockFloat)
           for t in tensors):
        return NotImplemented
    chip0 = mesh.chip(0)
    result = concat([t._chip_view(0, chip0) for t in tensors], dim, **rest)
    chips = mesh.get_num_devices()
    stacked = [t._shards if t._shards is not None else t._value.expand((chips,) + tuple(t._value.shape))
               for t in tensors]
    if any(p.is_meta for p in stacked):
        stacked = [p.to("meta") for p in stacked]
    d = normalize_dim(dim, len(result.shape), "ttnn.concat")
    return like_chip_zero(result, mesh, torch.cat(stacked, dim=d + 1))


@per_chip(all_chips=_concat_on_all_chips)
def concat(tensors, dim: int = 0, *, memory_config=None, output_tensor=None, groups: int = 1,
           sub_core_grids=None) -> Tensor:
    """``torch.cat`` on logical shapes. All inputs: same device, dtype, rank, sharded-ness, equal
    non-concat dims. ``dim`` defaults to 0; the output memory config defaults to DRAM interleaved
    (the 0.81 wrapper's ``value_or(DRAM_MEMORY_CONFIG)``).

    Layouts may differ (real 0.81.1): when every input is whole tiles in its last two dims the result
    takes the first input's layout, otherwise it is ROW_MAJOR; but TILE inputs that are not whole
    tiles along a last-two concat dim go through the untilize path, which needs every input TILE."""
    op = "ttnn.concat"
    tensors = list(tensors)
    check(len(tensors) > 0, op, "expected a non-empty list of Tensors!")
    check(output_tensor is None, op, "optional output tensor currently unsupported!")
    if groups != 1:
        not_emulated(op, f"groups={groups}")
    for i, t in enumerate(tensors):
        tensor_arg(t, op, f"tensors[{i}]")
        on_device(t, op, "Operand to concat needs to be on device.")
    first = tensors[0]
    rank = len(first.shape)
    for t in tensors[1:]:
        same_device(first, t, op)
        check(t.dtype == first.dtype, op, "All Tensors should have same dtypes.")
        check(len(t.shape) == rank, op, "Input tensor ranks must be equal")
        check(t.is_sharded() == first.is_sharded(), op, "All tensors must be sharded or all must be interleaved")
    mem = memory_config or DRAM_MEMORY_CONFIG
    if len(tensors) == 1:
        return to_memory_config(first, mem)
    d = normalize_dim(dim, rank, op)
    for t in tensors[1:]:
        check(all(i == d or a == b for i, (a, b) in enumerate(zip(t.shape, first.shape))), op,
              "All dimensions must be the same size except for the dimension along which the contenation is "
              "taking place.")
    layouts = {t.layout for t in tensors}
    tile = first.tile
    tile_dims = {rank - 1: tile.width, rank - 2: tile.height}
    if Layout.TILE in layouts and d in tile_dims and any(t.shape[d] % tile_dims[d] for t in tensors):
        check(layouts == {Layout.TILE}, op, "ttnn.concat: expected all input tensors to be in tile layout")
    layout = first.layout
    if len(layouts) > 1 and any(t.shape[i] % tile_dims[i] for t in tensors for i in tile_dims if i >= 0):
        layout = Layout.ROW_MAJOR
    parts = [t._native(op) for t in tensors]
    if any(p.is_meta for p in parts):
        parts = [p.to("meta") for p in parts]
    return new_tensor(torch.cat(parts, dim=d), dtype=first.dtype, layout=layout, device=first.device(),
                      memory_config=mem, tile=tile)


# ----------------------------------------------------------------------------- slice


def _check_slice(op: str, t: Tensor, starts, ends, steps) -> list:
    """The bounds rules of ttnn.slice (real 0.81.1): equal ranks; negative starts/ends count from the
    end of the logical dim; ``0 <= start < dim`` (``start == end == dim`` is an empty slice),
    ``start <= end <= dim``; positive steps (a stride other than 1 is not supported for bfloat8_b).

    ``dim`` is the logical size, except for a TILE tensor sliced with unit steps from tile-aligned
    starts in its last two dims: then ends are checked against the padded shape, and padding rows
    and columns become logical data. Returns the starts and ends with negatives resolved.
    """
    shape = list(t.shape)
    check(len(shape) == len(starts) == len(ends), op,
          f"Input tensor rank ({len(shape)}), slice start rank ({len(starts)}), and slice end rank ({len(ends)}) "
          "must all be equal")
    check(len(steps) == len(ends), op, f"Number of steps {len(steps)} must match number of ends/starts {len(ends)}")
    starts = [s + d if s < 0 else s for s, d in zip(starts, shape)]
    ends = [e + d if e < 0 else e for e, d in zip(ends, shape)]
    bounds = shape
    padded = list(t.padded_shape)
    if (t.layout == Layout.TILE and len(padded) == len(shape) >= 2 and all(st == 1 for st in steps)
            and starts[-2] % t.tile.height == 0 and starts[-1] % t.tile.width == 0):
        bounds = padded
    for i, (s, e, st, dim) in enumerate(zip(starts, ends, steps, bounds)):
        check(0 <= s < dim or s == e == dim, op,
              f"Slice start[{i}] ({s}) must be less than input tensor shape[{i}] ({dim})")
        check(e <= dim, op, f"Ends {e} must be less than or equal to the shape of the tensor {dim}")
        check(s <= e, op, f"Slice start[{i}] ({s}) must be <= slice end[{i}] ({e}): End {e} must be greater than "
                          f"or equal to start {s}")
        check(st > 0, op, f"Step({i}) = {st} should be positive")
    check(all(st == 1 for st in steps) or t.dtype != DataType.BFLOAT8_B, op,
          "Strided slice is not supported for BFLOAT8_B")
    return starts, ends


def _slice_tensor(op: str, t: Tensor, starts, ends, steps, memory_config, pad_value) -> Tensor:
    starts, ends = [int(s) for s in starts], [int(e) for e in ends]
    steps = [1] * len(ends) if steps is None else [int(s) for s in steps]
    starts, ends = _check_slice(op, t, starts, ends, steps)
    index = tuple(_slice(s, e, st) for s, e, st in zip(starts, ends, steps))
    values = t._native(op)
    if any(e > d for e, d in zip(ends, t.shape)):  # the slice reaches into tile padding: it reads what it holds
        values = pad_to(values, tuple(t.padded_shape), t._pad_value)
    return _like(t, _owned(values[index]), memory_config, pad_value)


@per_chip
def slice(input_tensor, slice_start, slice_end, slice_step=None, *, memory_config=None, output_tensor=None,
          pad_value: float | None = None, sub_core_grids=None) -> Tensor:
    """``t[s0:e0:st0, ...]`` with explicit per-dim starts/ends (no negative indices); device only.

    This is the sequence overload; the tensor-valued ``starts``/``ends`` overload raises
    NotEmulatedError. The output memory config defaults to the input's.
    """
    op = "ttnn.slice"
    t = tensor_arg(input_tensor, op, "input_tensor")
    if isinstance(slice_start, Tensor) or isinstance(slice_end, Tensor):
        not_emulated(op, "starts/ends given as tensors")
    if output_tensor is not None:
        not_emulated(op, "output_tensor=...")
    on_device(t, op, "Operands to unpad need to be on device!")
    return _slice_tensor(op, t, slice_start, slice_end, slice_step, memory_config, pad_value)


@per_chip
def getitem(tensor: Tensor, key) -> Tensor:
    """``Tensor.__getitem__``: ``...`` expands, missing dims take ``:``, negative ints are converted
    and bounds-checked, slice starts/stops go to ``ttnn.slice`` (which counts negative ones from the
    end), integer-indexed dims are squeezed, and a 0-d result raises. Device tensors only: real 0.81.1
    has no ``__getitem__`` overload for a host tensor (TypeError)."""
    op = "ttnn.Tensor.__getitem__"
    if tensor.device() is None:
        raise TypeError(f"{op}(): incompatible function arguments: indexing a host tensor "
                        "(move it to a device, or index the torch tensor)")
    tensor._check_alive(op)
    shape = list(tensor.shape)
    keys = _expand_key(op, key if isinstance(key, tuple) else (key,), len(shape))
    ranges, squeeze = [], []
    for i, (k, dim) in enumerate(zip(keys, shape)):
        if isinstance(k, int) and not isinstance(k, bool):
            k = k + dim if k < 0 else k
            check(0 <= k < dim, op, f"index {k} is out of bounds for dimension {i} with size {dim}")
            ranges.append((k, k + 1, 1))
            squeeze.append(i)
        elif isinstance(k, _slice):
            ranges.append((0 if k.start is None else k.start, dim if k.stop is None else k.stop,
                           1 if k.step is None else k.step))
        else:
            not_emulated(op, f"key of type {type(k).__name__}")
    starts, ends, steps = zip(*ranges) if ranges else ((), (), ())
    out = _slice_tensor(op, tensor, starts, ends, steps, None, None)
    if squeeze:
        kept = [d for i, d in enumerate(out.shape) if i not in squeeze]
        check(len(kept) > 0, op, "indexing every dimension with an integer gives a 0-d tensor, which ttnn lacks")
        out = reshape(out, kept)
    return out


def _expand_key(op: str, keys: tuple, rank: int) -> list:
    """Replace one ``...`` by enough ``:`` and pad with ``:`` up to ``rank`` entries."""
    check(sum(k is Ellipsis for k in keys) <= 1, op, "an index can only have a single ellipsis ('...')")
    explicit = [k for k in keys if k is not Ellipsis]
    check(len(explicit) <= rank, op, f"too many indices for tensor of rank {rank}")
    fill = [_slice(None)] * (rank - len(explicit))
    if Ellipsis in keys:
        at = keys.index(Ellipsis)
        return list(keys[:at]) + fill + list(keys[at + 1:])
    return explicit + fill


# ----------------------------------------------------------------------------- reshape


def _infer_shape(op: str, t: Tensor, shape, exact: bool = True) -> tuple[tuple, bool, bool]:
    """(shape with a single ``-1`` resolved, whether one was inferred, whether the volumes match);
    with ``exact`` (the list/tuple overload) the volumes must match."""
    dims = [int(d) for d in shape]
    check(sum(d == -1 for d in dims) <= 1, op, "Only one dimension can be inferred in reshape")
    known = 1
    for d in dims:
        known *= d if d != -1 else 1
    inferred = -1 in dims
    if inferred:
        dims[dims.index(-1)] = t.logical_volume() // known if known else 0
    volume = 1
    for d in dims:
        volume *= d
    check(volume == t.logical_volume() or not exact, op, "Invalid arguments to reshape")
    return tuple(dims), inferred, volume == t.logical_volume()


def _target_padded(op: str, t: Tensor, logical: tuple, explicit) -> tuple:
    """The padded shape a reshape view gets: tile padding of ``logical``, or the 3-argument form's
    padded shape when the logical last two dims are whole tiles and it is a valid padding of
    ``logical`` (same rank, covers it, whole tiles); otherwise the computed padding wins, as in real
    0.81.1, which ignores an unusable padded shape rather than raising."""
    if t.layout == Layout.ROW_MAJOR:
        check(explicit is None or tuple(explicit) == logical, op,
              "ROW_MAJOR tensors are not padded: padded_shape must equal the logical shape")
        return logical
    computed = tile_padded_shape(logical, t.tile)
    if explicit is None or len(logical) < 2:
        return computed
    if logical[-2] % t.tile.height or logical[-1] % t.tile.width:
        return computed
    explicit = tuple(int(d) for d in explicit)
    if len(explicit) != len(logical) or any(p < d for p, d in zip(explicit, logical)):
        return computed
    if explicit[-2] % t.tile.height or explicit[-1] % t.tile.width:
        return computed
    return explicit


def _is_free_view(t: Tensor, logical: tuple, memory_config) -> bool:
    """The real op's view rule: same last dim, same placement kind, and (TILE) the second-to-last
    dim unchanged or whole tiles before and after."""
    old = tuple(t.shape)
    old_w, new_w = (old[-1] if old else 1), (logical[-1] if logical else 1)
    old_h, new_h = (old[-2] if len(old) > 1 else 1), (logical[-2] if len(logical) > 1 else 1)
    if t.device() is not None:
        mem, now = memory_config or t.memory_config(), t.memory_config()
        if mem.is_sharded() != now.is_sharded() or mem.buffer_type != now.buffer_type:
            return False
    th = t.tile.height
    rows_ok = t.layout == Layout.ROW_MAJOR or old_h == new_h or (old_h % th == 0 and new_h % th == 0)
    return old_w == new_w and rows_ok


def _view(op: str, t: Tensor, logical: tuple, padded: tuple) -> Tensor:
    """A reshaped view on ``t``'s buffer (and, for dense data, on its torch storage)."""
    value = t._value
    if isinstance(value, BlockFloat):
        volume = 1
        for d in padded:
            volume *= d
        check(volume == value.mant.numel(), op, f"padded_shape {list(padded)} does not match the buffer")
        blocks = padded[:-1] + (padded[-1] // (value.mant.shape[-1] // value.exp.shape[-1]),)
        value = BlockFloat(value.mant.reshape(padded), value.exp.reshape(blocks), value.bits, logical)
    else:
        value = value.reshape(logical)
    computed = tile_padded_shape(logical, t.tile) if t.layout == Layout.TILE else logical
    return view_of(t, value, logical, padded_shape=None if padded == tuple(computed) else padded)


def _reshape_on_all_chips(input_tensor, shape, padded_shape=None, *, memory_config=None, **rest):
    """A reshape of a distributed tensor (dense storage) on every chip at once: chip 0 decides view or copy."""
    t = input_tensor
    if not isinstance(t, Tensor) or t._device is None or isinstance(t._shards, BlockFloat):
        return NotImplemented
    view = t._chip_view(0, t._device.chip(0))
    result = reshape(view, shape, padded_shape, memory_config=memory_config, **rest)
    if result is view:
        return t
    if result.logical_volume() != t.logical_volume():  # the 3-argument window form: chip by chip
        return NotImplemented
    shards = t._shards.reshape(t._shards.shape[0], *result.shape)
    if result._buffer is not view._buffer:
        shards = shards.clone(memory_format=torch.contiguous_format)
    return like_chip_zero(result, t._device, shards)


def _transpose_on_all_chips(input_tensor, dim1: int, dim2: int, pad_value: float = 0.0, *, memory_config=None):
    t = input_tensor
    if not isinstance(t, Tensor) or t._device is None or isinstance(t._shards, BlockFloat):
        return NotImplemented
    result = transpose(t._chip_view(0, t._device.chip(0)), dim1, dim2, pad_value, memory_config=memory_config)
    rank = len(t.shape)
    d1, d2 = dim1 % rank + 1, dim2 % rank + 1  # the chip dim leads
    return like_chip_zero(result, t._device, _owned(t._shards.transpose(d1, d2)))


@per_chip(all_chips=_reshape_on_all_chips)
def reshape(input_tensor, shape, padded_shape=None, *, memory_config=None, pad_value=None,
            reshape_tile_mode: TileReshapeMapMode = TileReshapeMapMode.CACHE, sub_core_grids=None,
            skip_padding_fill: bool = False) -> Tensor:
    """Row-major-order reshape (one ``-1`` may be inferred). ``reshape(t, logical, padded)`` is the
    3-argument overload (its second parameter is called ``logical_shape`` on the card).

    Returns a view sharing the buffer (deallocating either kills both) when the last dim is
    unchanged and, for TILE, the second-to-last is unchanged or whole tiles before and after;
    otherwise the data is moved into a new tensor with recomputed tile padding. A reshape to the
    same logical and padded shape returns ``input_tensor`` itself. The list/tuple form needs equal
    volumes ("Invalid arguments to reshape"); the ``ttnn.Shape`` forms may change the volume as
    :func:`_window` describes (``reshape(t, [1,4,8,128], [1,4,32,128])`` on a ``[1,4,32,128]`` TILE
    tensor is a view of each tile row's first 8 rows).
    """
    op = "ttnn.reshape"
    t = tensor_arg(input_tensor, op, "input_tensor")
    t._check_alive(op)
    sequence_form = padded_shape is None and not isinstance(shape, Shape)  # the list/tuple overload
    if isinstance(shape, Shape):
        shape = tuple(shape)
    logical, inferred, same_volume = _infer_shape(op, t, shape, exact=sequence_form)
    if not same_volume:  # a ttnn.Shape form: a new logical window on the same buffer, or refused
        return _window(op, t, logical, logical if padded_shape is None else tuple(padded_shape), memory_config)
    explicit = None if (padded_shape is None or inferred) else tuple(padded_shape)
    padded = _target_padded(op, t, logical, explicit)
    if logical == tuple(t.shape) and padded == tuple(t.padded_shape):
        return t
    fits = _volume(padded) <= _volume(t.padded_shape)
    if _is_free_view(t, logical, memory_config):
        check(fits, op, "MeshBuffer must be large enough to hold the tensor.")
        return _view(op, t, logical, padded)
    return _like(t, _owned(t._native(op).reshape(logical)), memory_config, pad_value)


def _volume(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _window(op: str, t: Tensor, logical: tuple, requested: tuple, memory_config) -> Tensor:
    """A reshape whose logical volume differs from the input's (the ``ttnn.Shape`` overloads; the 2-argument one
    passes the logical shape as the padded one). As 0.81.1 decides it: when the view rule holds the result is a
    view, padded as ``_target_padded`` says (ROW_MAJOR: as requested, padding included); otherwise a TILE
    tensor may still be viewed with the requested padded shape if that is whole tiles with the input's padded
    width (e.g. [1,4,32,128] -> logical [1,4,8,128], padded [1,4,32,128]). Anything else is refused; a view
    larger than the buffer too."""
    tiled = t.layout == Layout.TILE
    th, tw = t.tile.height, t.tile.width
    whole = lambda shape: len(shape) >= 2 and shape[-2] % th == 0 and shape[-1] % tw == 0  # noqa: E731
    if _is_free_view(t, logical, memory_config):
        padded = _target_padded(op, t, logical, requested) if tiled else requested
    else:
        check(tiled and whole(requested) and requested[-1] == t.padded_shape[-1], op,
              "Attempting to reshape between two shapes with different volumes")
        padded = requested
    check(_volume(padded) <= _volume(t.padded_shape), op, "MeshBuffer must be large enough to hold the tensor.")
    return _reinterpret(op, t, logical, tuple(padded))


def _reinterpret(op: str, t: Tensor, logical: tuple, padded: tuple) -> Tensor:
    """The 3-argument reshape whose logical volume differs from the input's (real 0.81.1 accepts it
    when the new padded shape fits the buffer): a view whose rows are the buffer's first padded rows.
    Exact while the padded width is unchanged (tile rows then stay whole)."""
    old = tuple(t.padded_shape)
    if padded[-1] != old[-1]:
        not_emulated(op, "a 3-argument reshape that changes both the logical volume and the padded width")
    rows = _volume(padded[:-1])
    value = t._value
    if isinstance(value, BlockFloat):
        blocks = value.exp.shape[-1]
        value = BlockFloat(value.mant.reshape(-1, old[-1])[:rows].reshape(padded),
                           value.exp.reshape(-1, blocks)[:rows].reshape(padded[:-1] + (blocks,)), value.bits, logical)
    else:
        value = crop_to(pad_to(value, old, t._pad_value).reshape(-1, old[-1])[:rows].reshape(padded), logical)
    computed = tile_padded_shape(logical, t.tile) if t.layout == Layout.TILE else logical
    return view_of(t, value, logical, padded_shape=None if padded == tuple(computed) else padded)


# ----------------------------------------------------------------------------- transpose / permute


@per_chip(all_chips=_transpose_on_all_chips)
def transpose(input_tensor, dim1: int, dim2: int, pad_value: float = 0.0, *, memory_config=None) -> Tensor:
    """``torch.transpose`` on the logical shape; tile padding recomputed for the result."""
    op = "ttnn.transpose"
    t = tensor_arg(input_tensor, op, "input_tensor")
    on_device(t, op, "Operand to transpose_wh need to be on device!")
    rank = len(t.shape)
    d1, d2 = normalize_dim(dim1, rank, op), normalize_dim(dim2, rank, op)
    return _like(t, _owned(t._native(op).transpose(d1, d2)), memory_config, pad_value)


@per_chip
def permute(input_tensor, dims, pad_value: float = 0.0, *, memory_config=None) -> Tensor:
    """``torch.permute`` on the logical shape; ``dims`` may use negative indices."""
    op = "ttnn.permute"
    t = tensor_arg(input_tensor, op, "input_tensor")
    on_device(t, op, "Operand to permute need to be on device!")
    rank = len(t.shape)
    dims = [int(d) for d in dims]
    check(len(dims) == rank, op,
          "The number of dimensions in the tensor input does not match the length of the desired ordering")
    for d in dims:
        check(-rank <= d < rank, op, f"Index is out of bounds for the rank, should be between 0 and {rank - 1} "
                                     f"however is {d}")
    order = [normalize_dim(d, rank, op) for d in dims]
    check(sorted(order) == list(range(rank)), op, f"dims {dims} must list each of the tensor's {rank} dims once")
    return _like(t, _owned(t._native(op).permute(order)), memory_config, pad_value)


__getattr__ = not_emulated_getattr("ttnn")
