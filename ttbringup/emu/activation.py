"""``ttnn.UnaryOpType`` and ``ttnn.UnaryWithParam`` (``ttnn._ttnn.activation`` in 0.81.1): how a fused activation
is named in ``linear(activation=...)`` and a matmul program config's ``fused_activation``.

``UnaryOpType`` has the real enum's members and values. ``UnaryWithParam(op_type, param=None)`` (a float, or a
list of floats) pairs one with its parameters; ``op_type`` and ``params`` read them back. ``activation_function``
gives the float32 function of an activation the emulated matmul applies (RELU, SILU, GELU, and their string
names); any other activation is not emulated.
"""

from __future__ import annotations

import enum

from .eltwise import ACTIVATIONS
from .errors import NotEmulated

# member name -> value, as the 0.81.1 wheel numbers them
_MEMBERS = {
    "EXP": 0, "RECIP": 1, "GELU": 2, "RELU": 3, "SQRT": 4, "SIGMOID": 5, "LOG": 6, "TANH": 7, "SILU": 10,
}

UnaryOpType = enum.Enum("UnaryOpType", _MEMBERS, module=__name__, qualname="UnaryOpType")
UnaryOpType.__doc__ = "``ttnn.UnaryOpType``: the unary SFPU ops a kernel can fuse."


class UnaryWithParam:
    """``ttnn.UnaryWithParam(op_type, param=None)``: an activation and its parameters."""

    def __init__(self, op_type: UnaryOpType, param=None):
        if not isinstance(op_type, UnaryOpType):
            raise TypeError(f"UnaryWithParam(): op_type must be a ttnn.UnaryOpType, got {type(op_type).__name__}")
        self.op_type = op_type
        self.params = [] if param is None else [float(p) for p in param] if isinstance(param, (list, tuple)) \
            else [float(param)]

    def __eq__(self, other):
        return isinstance(other, UnaryWithParam) and (self.op_type, self.params) == (other.op_type, other.params)

    def __repr__(self):
        return f"UnaryWithParam(op_type={self.op_type}, params={self.params})"


def activation_function(activation, op: str):
    """The float32 function of a matmul activation (a name, a UnaryOpType or a UnaryWithParam), or None."""
    if activation is None:
        return None
    if isinstance(activation, UnaryWithParam):
        if activation.params and activation.op_type != UnaryOpType.GELU:
            NotEmulated(f"{op}(activation={activation!r})")()
        activation = activation.op_type
    name = activation.name.lower() if isinstance(activation, UnaryOpType) else activation
    if not isinstance(name, str) or name not in ACTIVATIONS:
        NotEmulated(f"{op}(activation={activation!r})")()
    return ACTIVATIONS[name]
