"""What one executed device op leaves in the device-time log: a :class:`Record` of plain data.

``make_record(name, fn, args, kwargs, out, device, traced, phase)`` is called by the emulator's device-op wrapper
(``trace.device_op``) and by a trace replay, once per op per mesh (a mesh op runs on every chip at once; the
shapes are the per-chip ones, as in ttnn). It keeps no tensor: every tensor argument and output becomes a
:class:`TensorSpec` (shapes, dtype, layout, memory placement, bytes), every other argument a small plain value
(enums by name, a compute config by its fidelity, a program config by its class name and fields). Index tensors
that say which cache positions an op touches (``cur_pos_tensor``, ``update_idxs_tensor``) are kept as their int
values, or None when the tensor is data-free.

``kind``: ``"op"`` (a program runs), ``"view"`` (the output shares an input's buffer, or is the input itself, for an
op that does not write in place: a reshape that only relabels, no program on a card) or ``"inplace"`` (a cache
update or fill handing its cache back).
"""

from __future__ import annotations

import enum
import functools
import inspect
from dataclasses import dataclass, field

from ..memory import page_layout
from ..tensor import Tensor
from ..program_configs import MATMUL_PROGRAM_CONFIGS, SDPAProgramConfig
from ..types import CoreCoord, CoreGrid, MemoryConfig, WormholeComputeKernelConfig
from .fidelity import op_fidelity

POSITION_ARGS = ("cur_pos_tensor", "update_idxs_tensor")  # index tensors whose values decide the bytes moved
INPLACE_OPS = ("ttnn.paged_update_cache", "ttnn.update_cache", "ttnn.fill_cache", "ttnn.paged_fill_cache")


@dataclass(frozen=True)
class TensorSpec:
    """A tensor as the cost model sees it (per chip)."""

    name: str  # the op argument it was passed as ("input_tensor_a", "tensors[1]", "output[0]")
    shape: tuple
    padded_shape: tuple
    dtype: str  # DataType name: "BFLOAT16", "BFLOAT8_B", ...
    layout: str  # "TILE" / "ROW_MAJOR"
    buffer: str  # "DRAM" / "L1" / "SYSTEM_MEMORY"
    memory_layout: str  # "INTERLEAVED", "WIDTH_SHARDED", ...
    bytes: int  # bytes of the tensor on one chip (tiles or rows as stored; block floats with their exponents)

    @property
    def in_dram(self) -> bool:
        return self.buffer == "DRAM"

    @property
    def memory(self) -> str:
        """``DRAM_INTERLEAVED``, ``L1_WIDTH_SHARDED``, ... (the profiler's INPUT_i_MEMORY without the device)."""
        return f"{self.buffer}_{self.memory_layout}"

    @property
    def pages(self) -> int:
        """Tiles (TILE layout) or rows (ROW_MAJOR) on one chip."""
        tile_elems = 1024
        volume = 1
        for d in self.padded_shape:
            volume *= d
        if self.layout == "TILE":
            return max(1, volume // tile_elems)
        return max(1, volume // (self.padded_shape[-1] or 1)) if self.padded_shape else 1


@dataclass
class Record:
    """One executed device op (see the module docstring)."""

    op: str  # "ttnn.linear"
    inputs: tuple  # TensorSpec of every tensor argument, in argument order
    outputs: tuple  # TensorSpec of every output tensor
    attrs: dict  # the other arguments, as plain values
    fidelity: str | None  # the math fidelity the op would run at (None: no math)
    mesh: tuple  # (rows, cols) of the device the op ran on
    device_ids: tuple
    traced: bool  # replayed from a metal trace
    phase: str = ""  # the recorder's phase when it ran ("prefill", "decode 2", ...)
    kind: str = "op"
    positions: dict = field(default_factory=dict)  # POSITION_ARGS name -> tuple of ints, or None if data-free
    block: str = ""  # the caller's tag ("layer 3"), see Recorder.in_block

    def input(self, *names: str) -> TensorSpec | None:
        """The first input passed as one of ``names``, or None."""
        for spec in self.inputs:
            if spec.name in names:
                return spec
        return None

    @property
    def chips(self) -> int:
        return self.mesh[0] * self.mesh[1]


def spec_of(t: Tensor, name: str) -> TensorSpec:
    pages, page_bytes = page_layout(t._padded_shape._dims, t._dtype, t._layout, t._tile)
    config = t._memory_config
    buffer = "SYSTEM_MEMORY" if t._device is None else config.buffer_type.name
    return TensorSpec(name=name, shape=tuple(t._shape), padded_shape=tuple(t._padded_shape), dtype=t._dtype.name,
                      layout=t._layout.name, buffer=buffer, memory_layout=config.memory_layout.name,
                      bytes=pages * page_bytes)


@functools.lru_cache(maxsize=None)
def _signature(fn):
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return None


def _bound(fn, args, kwargs) -> dict:
    sig = _signature(fn)
    if sig is not None:
        try:
            return dict(sig.bind(*args, **kwargs).arguments)
        except TypeError:
            pass
    named = {f"arg{i}": a for i, a in enumerate(args)}
    named.update(kwargs)
    return named


def _plain(value):
    """A small plain stand-in for an op argument that is not a tensor."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, WormholeComputeKernelConfig):
        return {"math_fidelity": value.math_fidelity.name, "fp32_dest_acc_en": value.fp32_dest_acc_en}
    if isinstance(value, (CoreGrid, CoreCoord)):
        return (value.x, value.y)
    if isinstance(value, (*MATMUL_PROGRAM_CONFIGS, SDPAProgramConfig)):  # its class and fields
        return {"config": type(value).__name__, **{k: _plain(v) for k, v in vars(value).items()}}
    if isinstance(value, MemoryConfig):
        return f"{value.buffer_type.name}_{value.memory_layout.name}"
    if isinstance(value, (list, tuple)) and len(value) <= 64 and all(isinstance(v, (int, float)) for v in value):
        return tuple(value)
    return type(value).__name__


def _positions(t: Tensor):
    if t.is_data_free() or t._shards is not None:
        return None
    return tuple(int(v) for v in t._native("device time").reshape(-1).tolist())


def _kind(name: str, inputs: list[Tensor], outputs: list[Tensor]) -> str:
    if not outputs:
        return "op"
    if all(any(o is i for i in inputs) for o in outputs):
        return "inplace" if name in INPLACE_OPS else "view"  # e.g. a reshape to the shape it has
    buffers = {id(i._buffer) for i in inputs if i._buffer is not None}
    if all(o._buffer is not None and id(o._buffer) in buffers for o in outputs):
        return "view"
    return "op"


def _output_tensors(out) -> list[Tensor]:
    if isinstance(out, Tensor):
        return [out]
    if isinstance(out, (list, tuple)):
        return [t for item in out for t in _output_tensors(item)]
    return []


def make_record(name: str, fn, args, kwargs, out, device, traced: bool, phase: str = "") -> Record:
    """The :class:`Record` of one op call (see the module docstring)."""
    inputs, in_tensors, attrs, positions = [], [], {}, {}
    for arg, value in _bound(fn, args, kwargs).items():
        if isinstance(value, Tensor):
            inputs.append(spec_of(value, arg))
            in_tensors.append(value)
            if arg in POSITION_ARGS:
                positions[arg] = _positions(value)
        elif isinstance(value, (list, tuple)) and any(isinstance(v, Tensor) for v in value):
            for i, v in enumerate(value):
                if isinstance(v, Tensor):
                    inputs.append(spec_of(v, f"{arg}[{i}]"))
                    in_tensors.append(v)
        elif isinstance(value, dict):  # **kwargs the signature collects
            attrs.update({k: _plain(v) for k, v in value.items() if not isinstance(v, Tensor)})
        else:
            attrs[arg] = _plain(value)
    out_tensors = _output_tensors(out)
    outputs = tuple(spec_of(t, f"output[{i}]") for i, t in enumerate(out_tensors))
    rows, cols = device.rows_cols()
    return Record(op=name, inputs=tuple(inputs), outputs=outputs, attrs=attrs,
                  fidelity=op_fidelity(name, attrs, inputs), mesh=(rows, cols),
                  device_ids=tuple(device.get_device_ids()), traced=traced, phase=phase,
                  kind=_kind(name, in_tensors, out_tensors), positions=positions)
