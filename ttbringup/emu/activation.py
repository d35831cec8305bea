"""``ttnn.UnaryOpType`` and ``ttnn.UnaryWithParam`` (``ttnn._ttnn.activation`` in 0.81.1): how a fused activation
is named in ``linear(activation=...)`` and a matmul program config's ``fused_activation``.

``UnaryOpType`` has the real enum's members and values. ``UnaryWithParam(op_type, *params)`` pairs one with up
to two float parameters; ``op_type`` and ``params`` read them back. ``activation_function``
gives the float32 function of an activation the emulated matmul applies (RELU, SILU, GELU, and their string
names); any other activation is not emulated. ``card_activation_kernel`` gives the ``card_unary`` kernel card mode
runs a fused activation as.
"""

from __future__ import annotations

import enum

from .errors import NotEmulated

# member name -> value, as the 0.81.1 wheel numbers them
_MEMBERS = {
    "EXP": 0, "RECIP": 1, "GELU": 2, "GELU_TANH": 3, "RELU": 4, "SQRT": 5, "SIGMOID": 6, "LOG": 7, "LOG1P": 8,
    "TANH": 9, "LOG2": 10, "LOG10": 11, "SIN": 12, "COS": 13, "COSH": 14, "SINH": 15, "ABS": 16, "ABS_INT32": 17,
    "SIGN": 18, "SQUARE": 19, "EQZ": 20, "NEZ": 21, "GTZ": 22, "LTZ": 23, "GEZ": 24, "LEZ": 25, "RELU_MAX": 26,
    "RELU_MIN": 27, "POWER": 28, "POWER_ITERATIVE": 29, "LEAKY_RELU": 30, "ELU": 31, "EXP2": 32, "HEAVISIDE": 33,
    "EXPM1": 34, "SIGNBIT": 35, "ASIN": 36, "ACOS": 37, "ACOSH": 38, "RSQRT": 39, "RELU6": 40, "ATAN": 41,
    "ASINH": 42, "ATANH": 43, "ERF": 44, "ERFC": 45, "ISINF": 46, "ISPOSINF": 47, "ISNEGINF": 48, "ISNAN": 49,
    "LOGICAL_NOT_UNARY": 50, "ISFINITE": 51, "ERFINV": 52, "I0": 53, "I1": 54, "TAN": 55, "RSUB": 56, "RDIV": 57,
    "SILU": 58, "SOFTPLUS": 59, "IDENTITY": 60, "NEG": 61, "ADD_UNARY_SFPU": 62, "SUB_UNARY_SFPU": 63,
    "MUL_UNARY_SFPU": 64, "DIV_UNARY_SFPU": 65, "UNARY_NE": 66, "UNARY_EQ": 67, "UNARY_GT": 68, "UNARY_LT": 69,
    "UNARY_GE": 70, "UNARY_LE": 71, "TILED_PROD": 72, "TYPECAST": 73, "BITCAST": 74, "BITWISE_XOR": 75,
    "BITWISE_NOT": 76, "BITWISE_AND": 77, "BITWISE_OR": 78, "RIGHT_SHIFT": 79, "FLOOR": 80, "CEIL": 81, "TRUNC": 82,
    "FRAC": 83, "ROUND": 84, "LEFT_SHIFT": 85, "REMAINDER": 86, "FMOD": 87, "DROPOUT": 88, "FILL": 89,
    "PRELU_SFPU": 90, "ZERO_POINT": 91, "ALT_COMPLEX_ROTATE90": 92, "MISH": 93, "HARDMISH": 94, "MAXIMUM": 95,
    "MINIMUM": 96, "TANHSHRINK": 97, "THRESHOLD": 98, "SOFTSHRINK": 99, "HARDSHRINK": 100, "HARDTANH": 101,
    "HARDSIGMOID": 102, "HARDSWISH": 103, "WHERE_TSS": 104, "MAC_TSS": 105, "SOFTSIGN": 106, "CELU": 107,
    "CLAMP_TSS": 108, "SELU": 109, "RPOW": 110, "CBRT": 111, "LOGSIGMOID": 112, "LOGIT": 113, "XIELU": 114,
    "LGAMMA": 115, "DIGAMMA": 116, "POLYGAMMA": 117, "SOFTCAP": 118,
}

UnaryOpType = enum.Enum("UnaryOpType", _MEMBERS, module=__name__, qualname="UnaryOpType")
UnaryOpType.__doc__ = "``ttnn.UnaryOpType``: the unary SFPU ops a kernel can fuse."


class UnaryWithParam:
    """``ttnn.UnaryWithParam(op_type, *params)`` (up to two floats), or ``UnaryWithParam((op_type, value))``."""

    def __init__(self, op_type, *params):
        if isinstance(op_type, tuple) and not params and len(op_type) == 2:
            op_type, params = op_type[0], (op_type[1],)
        if not isinstance(op_type, UnaryOpType) or len(params) > 2:
            raise TypeError("__init__(): incompatible function arguments: UnaryWithParam(op_type: UnaryOpType, "
                            f"*params: float), got {op_type!r}, {params!r}")
        self.op_type = op_type
        self.params = [float(p) for p in params]

    def __eq__(self, other):
        return isinstance(other, UnaryWithParam) and (self.op_type, self.params) == (other.op_type, other.params)

    def __repr__(self):
        return f"UnaryWithParam(op_type=UnaryOpType::{self.op_type.name})"


def as_unary_with_param(activation):
    """A config's ``fused_activation`` as 0.81.1 stores it: a bare UnaryOpType becomes a UnaryWithParam."""
    return UnaryWithParam(activation) if isinstance(activation, UnaryOpType) else activation


def activation_function(activation, op: str):
    """The float32 function of a matmul activation (a name, a UnaryOpType or a UnaryWithParam), or None."""
    if activation is None:
        return None
    from .eltwise import ACTIVATIONS  # not at import: eltwise -> per_chip -> trace -> device_time imports this module

    if isinstance(activation, UnaryWithParam):
        if activation.params and activation.op_type != UnaryOpType.GELU:
            NotEmulated(f"{op}(activation={activation!r})")()
        activation = activation.op_type
    name = activation.name.lower() if isinstance(activation, UnaryOpType) else activation
    if not isinstance(name, str) or name not in ACTIVATIONS:
        NotEmulated(f"{op}(activation={activation!r})")()
    return ACTIVATIONS[name]


def card_activation_kernel(activation, fp32_dest: bool):
    """The ``card_unary`` kernel ``(x, ar, fp32_dest) -> Dst values`` a matmul's fused activation (already accepted by
    ``activation_function``) runs as in card mode: the SFPU on the Dst values before the packer (0.81.1's
    ``apply_activation_from_pack``: ``relu`` and ``silu`` the unary kernels; ``gelu``'s accurate form, which the
    emulator takes a gelu to be, is modelled with a BF16 Dst only). None where card mode computes it in float32:
    gelu with an FP32 Dst, and a ``UnaryWithParam(GELU, p)`` with ``p`` non-zero (the kernel's fast LUT form)."""
    from . import card_unary  # not at import, as above

    if activation is None:
        return None
    op_type = activation.op_type if isinstance(activation, UnaryWithParam) else activation
    name = op_type.name.lower() if isinstance(op_type, UnaryOpType) else op_type
    if name == "relu":
        return lambda x, ar, fp32: card_unary.relu(x)
    if name == "silu":
        return card_unary.silu
    fast = isinstance(activation, UnaryWithParam) and any(activation.params)
    return None if fp32_dest or fast else (lambda x, ar, fp32: card_unary.gelu(x, ar))
