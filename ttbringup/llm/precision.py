"""Per-op-class precision of the shared blocks: the hook that lets a tool rebuild a bringup with other weight
dtypes and compute kernel configs without touching its model file.

Op classes (the linears each covers):

* ``attention``: the q, k, v and o projections of every layer;
* ``mlp``: the gate, up and down projections of every layer;
* ``sdpa``: the prefill and decode attention (``scaled_dot_product_attention`` / ``..._decode``) of every layer:
  a compute kernel config only (it has no weights; a weight dtype for it raises ``ValueError``).

A model file picks one ``weight_dtype`` for both (``build_decoder_lm``) and passes no compute kernel config, so
every linear runs at ttnn's default for its dtypes. ``overridden({"mlp": OpPrecision(ttnn.bfloat4_b, cfg)})`` is
a context manager: a ``build_decoder_lm`` inside it builds the named classes with the given weight dtype
(``None``: the model file's) and passes ``compute_kernel_config`` to their ``ttnn.linear`` calls (``None``: the
op's default). The blocks keep what they were built with, so the override matters at build time only; outside
the context (and for classes not named) the blocks are built exactly as before.

``for_class(name, weight_dtype)`` -> ``(weight_dtype, compute_kernel_config)`` is what the builder asks.
Unknown class names raise ``ValueError``. ``class_weights(model)`` lists each class's device weight tensors of a
built model (what a tool counts the bytes of).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

OP_CLASSES = ("attention", "mlp", "sdpa")


@dataclass(frozen=True)
class OpPrecision:
    """Weight dtype and compute kernel config of one op class (None: keep the model file's / the op default)."""

    weight_dtype: object = None
    compute_kernel_config: object = None


_active: dict[str, OpPrecision] = {}


@contextlib.contextmanager
def overridden(by_class: dict[str, OpPrecision]):
    """Builds inside the block use ``by_class``; the previous overrides come back afterwards."""
    unknown = sorted(set(by_class) - set(OP_CLASSES))
    if unknown:
        raise ValueError(f"unknown op class {', '.join(unknown)}; the classes are {', '.join(OP_CLASSES)}")
    if "sdpa" in by_class and by_class["sdpa"].weight_dtype is not None:
        raise ValueError("op class sdpa has no weights: give it a compute kernel config only")
    before = dict(_active)
    _active.clear()
    _active.update(by_class)
    try:
        yield
    finally:
        _active.clear()
        _active.update(before)


def for_class(name: str, weight_dtype):
    """``(weight dtype, compute kernel config)`` of op class ``name`` given the model file's ``weight_dtype``."""
    if name not in OP_CLASSES:
        raise ValueError(f"unknown op class {name!r}; the classes are {', '.join(OP_CLASSES)}")
    chosen = _active.get(name, OpPrecision())
    dtype = weight_dtype if chosen.weight_dtype is None else chosen.weight_dtype
    return dtype, chosen.compute_kernel_config


def class_weights(model) -> dict[str, list]:
    """The device weight tensors of each op class of a ``TTCausalLM`` from ``build_decoder_lm`` (for byte counts)."""
    out: dict[str, list] = {name: [] for name in OP_CLASSES}  # sdpa: none
    for layer in model.layers:
        a = layer.attention
        out["attention"] += [*a.w_qkv, a.wo]
        out["mlp"] += [w for w in (getattr(layer.mlp, n, None) for n in ("w_gate", "w_up", "w_down")) if w is not None]
    return out
