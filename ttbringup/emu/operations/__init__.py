"""``ttnn.operations``: in the real package, one Python module per op family (golden functions, program
configs); here each name is the emulator module that holds that family's emulated ops.

==============================  =========================
ttnn.operations.<name>          emulator module
==============================  =========================
core                            ``core``
creation                        ``creation``
data_movement                   ``data_movement``
embedding                       ``embedding``
matmul                          ``matmul``
normalization                   ``normalization``
transformer                     ``transformer``
ccl                             ``ccl``
binary, unary                   ``eltwise``
==============================  =========================

``import ttnn.operations.<name>`` resolves to the same objects (see ``ttbringup.emu.submodules``); the other
families of the real package are stand-ins whose names raise ``NotEmulatedError``.
"""

from .. import ccl, core, creation, data_movement, embedding, matmul, normalization, transformer
from .. import eltwise as binary
from .. import eltwise as unary
from ..errors import not_emulated_getattr

__all__ = ["binary", "ccl", "core", "creation", "data_movement", "embedding", "matmul", "normalization",
           "transformer", "unary"]

__getattr__ = not_emulated_getattr("ttnn.operations")
