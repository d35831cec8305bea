"""Running an op on a mesh: once per chip, on that chip's part, as ttnn runs every op on every chip.

``@per_chip`` wraps each emulated device op. When no input is distributed (each is replicated over its mesh, on
one chip, or on the host) every chip would compute the same thing, so the op runs once, on the mesh tensors, and
its output is replicated: allocated on every chip, stored once. Otherwise the op runs once per chip on views
that hold that chip's storage and sit on that chip (``MeshDevice.chip``), so validation, output allocation and
out-of-memory are per chip, exactly as for a single-chip device; the per-chip outputs are then joined into one
distributed mesh tensor (one buffer per chip, storages stacked). An op that returns one of its inputs (the
in-place cache ops) returns the mesh tensor itself.

``writes_first=True`` marks ops that write into their first argument in place: a replicated first argument is
given a copy per chip before the chips write different data into it. ``all_chips`` is an op's own way to compute
every chip at once (same checks, same values, one torch call instead of one per chip); it returns
``NotImplemented`` for the cases it does not cover, which then run chip by chip.
"""

from __future__ import annotations

import functools

from .errors import TTError, fatal
from .memory import Buffer, buffer_request
from .tensor import BlockFloat, Tensor, chip_storage, new_distributed_tensor, num_stacked, stack_storages, with_shards
from .trace import device_op


def per_chip(op=None, *, writes_first: bool = False, all_chips=None):
    """Decorator: run ``op`` per chip when any tensor argument is distributed over a mesh (see module doc)."""
    if op is None:
        return functools.partial(per_chip, writes_first=writes_first, all_chips=all_chips)
    name = f"ttnn.{op.__name__}"

    @functools.wraps(op)
    def run(*args, **kwargs):
        first = _first_distributed(args, kwargs, name)
        if first is None:
            return op(*args, **kwargs)
        if all_chips is not None:
            out = all_chips(*args, **kwargs)
            if out is not NotImplemented:
                return out
        return _chip_by_chip(op, name, first, args, kwargs, writes_first)

    return device_op(name, run)


def _first_distributed(args, kwargs, name: str):
    """The first distributed tensor among the arguments (one level into lists), or None."""
    found = None
    for v in (*args, *kwargs.values()):
        if isinstance(v, Tensor):
            if v._chip is not None:
                _refuse_chip_tensor(name)
            if found is None and v._shards is not None:
                found = v
        elif isinstance(v, (list, tuple)):
            for item in v:
                if isinstance(item, Tensor):
                    if item._chip is not None:
                        _refuse_chip_tensor(name)
                    if found is None and item._shards is not None:
                        found = item
    return found


def _refuse_chip_tensor(name: str):
    raise fatal(name, "a per-device tensor from ttnn.get_device_tensors cannot be an op input (the real 0.81.1 "
                      "crashes); run the op on the mesh tensor, or combine_device_tensors first")


def _chip_by_chip(op, name: str, first: Tensor, args, kwargs, writes_first: bool):
    mesh = first.device()
    chips = num_stacked(first._shards)
    if writes_first:
        target = args[0] if args else next(iter(kwargs.values()))
        if isinstance(target, Tensor) and target._shards is None and target.device() is mesh and chips > 1:
            target._check_alive(name)
            with_shards(target, stack_storages([copy_storage(target._value) for _ in range(chips)]))
    outputs, views = [], {}
    for c in range(chips):
        chip = mesh.chip(c) if mesh is not None else None

        def on_chip(v):
            if isinstance(v, Tensor) and (v._device is mesh if mesh is not None else v._shards is not None):
                if v._shards is not None and num_stacked(v._shards) != chips:
                    raise fatal(name, "Operands need to be on the same device!")
                view = v._chip_view(c, chip)
                views[id(view)] = v
                return view
            if isinstance(v, (list, tuple)):
                return type(v)(on_chip(x) for x in v)
            return v

        outputs.append(op(*[on_chip(a) for a in args], **{k: on_chip(v) for k, v in kwargs.items()}))
    return _join(outputs, mesh, views, name)


def copy_storage(storage):
    """An own copy of a storage (torch tensor or block floats)."""
    if isinstance(storage, BlockFloat):
        return BlockFloat(storage.mant.clone(), storage.exp.clone(), storage.bits, storage.logical_shape)
    return storage.clone()


def _join(outputs: list, mesh, views: dict, name: str):
    """Per-chip results -> one result: tensors joined into mesh tensors, inputs handed back, the rest as chip 0's."""
    first = outputs[0]
    if isinstance(first, Tensor):
        if id(first) in views:
            return views[id(first)]
        return join_chip_tensors(outputs, mesh, name)
    if isinstance(first, (list, tuple)):
        return type(first)(_join([o[i] for o in outputs], mesh, views, name) for i in range(len(first)))
    return first


def join_chip_tensors(parts: list[Tensor], mesh, name: str) -> Tensor:
    """One tensor per chip (chip order, one spec) -> the mesh tensor: replicated when every chip holds the same
    storage object, else distributed; on the mesh buffer they share, or one joined from their chip buffers."""
    first = parts[0]
    for p in parts[1:]:
        if (p._shape != first._shape or p._padded_shape != first._padded_shape or p._dtype != first._dtype
                or p._layout != first._layout or p._memory_config != first._memory_config):
            raise TTError(f"{name}: the chips' outputs differ in shape, dtype, layout or memory config "
                          f"({first!r} vs {p!r}); a mesh tensor has one spec on every chip")
    t = _spec_of(first, mesh)
    buffer = first._buffer
    if buffer is not None and buffer.device is not mesh and mesh is not None:
        buffer = Buffer.joined([p._buffer for p in parts], mesh)
    t._buffer = buffer
    storages = [p._value for p in parts]
    if all(s is storages[0] for s in storages):
        t._value, t._shards = storages[0], None
    else:
        t._value, t._shards = None, stack_storages(storages)
    return t


def _spec_of(chip_tensor: Tensor, mesh) -> Tensor:
    """A new tensor on ``mesh`` with ``chip_tensor``'s shape, dtype, layout and memory config (no storage, no buffer)."""
    t = Tensor.__new__(Tensor)
    t._shape, t._padded, t._padded_shape = chip_tensor._shape, chip_tensor._padded, chip_tensor._padded_shape
    t._dtype, t._layout, t._tile = chip_tensor._dtype, chip_tensor._layout, chip_tensor._tile
    t._memory_config, t._device, t._freed, t._chip = chip_tensor._memory_config, mesh, False, None
    t._value = t._shards = t._buffer = None
    t._pad_value = chip_tensor._pad_value
    return t


def computed_like_chip_zero(result: Tensor, mesh, values):
    """An all-chips op's output from every chip's logical ``values`` (stacked), in the dtype, layout and memory
    config of ``result``, the op's output on chip 0's views. Chip 0's allocation is given back first, so chip 0's
    peak is the card's."""
    dtype, layout, config, tile = result.dtype, result.layout, result.memory_config(), result.tile
    result.deallocate()
    return new_distributed_tensor(values, dtype=dtype, layout=layout, device=mesh, memory_config=config, tile=tile)


def like_chip_zero(result: Tensor, mesh, shards) -> Tensor:
    """An all-chips op's output: ``result`` is what the op returned on chip 0's views (checks made, spec known),
    ``shards`` every chip's storage in that format, stacked. A result that is a view of its input (it shares the
    mesh buffer) stays a view; otherwise chip 0's allocation is given back and one is made on every chip."""
    t = _spec_of(result, mesh)
    t._value, t._shards = None, shards
    if result._buffer.device is mesh:
        t._buffer = result._buffer
    else:
        result._buffer.free()
        t._buffer = Buffer(mesh, t._memory_config.buffer_type,
                           **buffer_request(t._padded_shape, t._dtype, t._layout, t._tile, t._memory_config))
    return t


def chip_values(t: Tensor, op: str) -> list:
    """Float32 logical values of every chip of a mesh (or host multi-chip) tensor, in chip order."""
    if t._shards is None:
        return [t._values(op)] * t.num_chips()
    return [t._chip_view(c, None if t._device is None else t._device.chip(c))._values(op)
            for c in range(num_stacked(t._shards))]


__all__ = ["chip_storage", "chip_values", "computed_like_chip_zero", "join_chip_tensors", "like_chip_zero",
           "per_chip"]
