"""How ``import ttnn.X`` reaches the emulator while it is registered as ``ttnn``.

Left to itself, Python finds ``ttnn.core`` by searching the registered package's ``__path__``: for the emulator
that runs ``ttbringup/emu/core.py`` a second time under a new name, with its own ``Layout`` and ``DataType``
enums, and the two copies then disagree for the rest of the process. :class:`SubmoduleFinder` sits first on
``sys.meta_path`` (``install()``) and answers every ``ttnn.*`` import while ``sys.modules["ttnn"]`` is the
emulator (otherwise it stands aside, so the real package imports as usual):

* a submodule of the real 0.81.1 package that the emulator serves (:data:`REAL_TO_EMU`) resolves to the
  emulator's one module object: ``import ttnn.core`` binds ``ttbringup.emu.core`` itself;
* a real submodule the emulator lacks (:data:`NOT_EMULATED`, and anything below one) imports as a stand-in
  module whose public names raise :class:`~ttbringup.emu.errors.NotEmulatedError` when used, so a file written
  for the card imports cleanly and fails where it touches the missing part;
* any other name raises ``ModuleNotFoundError``, as the real package does (the emulator's own files, such as
  ``per_chip``, are not ttnn names).

``forget()`` drops the emulator's ``ttnn.*`` entries from ``sys.modules`` (the backend calls it before importing
the real package).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types

from .errors import not_emulated_getattr

EMU = __name__.rsplit(".", 1)[0]  # "ttbringup.emu"

# Real ttnn 0.81.1 submodule -> the emulator module that holds its emulated names.
REAL_TO_EMU = {
    "ttnn.core": "core",
    "ttnn.device": "device",
    "ttnn.types": "types",
    "ttnn.distributed": "distributed",
    "ttnn.transformer": "transformer",
    "ttnn.experimental": "experimental",
    "ttnn.kv_cache": "kv_cache",
    "ttnn.operations": "operations",
    "ttnn.operations.core": "core",
    "ttnn.operations.creation": "creation",
    "ttnn.operations.data_movement": "data_movement",
    "ttnn.operations.embedding": "embedding",
    "ttnn.operations.matmul": "matmul",
    "ttnn.operations.normalization": "normalization",
    "ttnn.operations.transformer": "transformer",
    "ttnn.operations.ccl": "ccl",
    "ttnn.operations.binary": "eltwise",
    "ttnn.operations.unary": "eltwise",
}

# Real ttnn 0.81.1 submodules (importable there) that the emulator does not provide.
NOT_EMULATED = frozenset({
    "ttnn._ttnn", "ttnn._experimental", "ttnn.comparison", "ttnn.config_serialization", "ttnn.decorators",
    "ttnn.dot_access", "ttnn.experimental_loader", "ttnn.graph", "ttnn.graph_report", "ttnn.model_preprocessing",
    "ttnn.operation_tracer", "ttnn.profiler", "ttnn.reflection", "ttnn.stack_trace_source", "ttnn.tools",
    "ttnn.torch_tracer", "ttnn.tracer",
    *(f"ttnn.experimental.{name}" for name in (
        "deepseek", "deepseek_prefill", "fabric_mux", "kda", "layer_completion",
        "moe_compute_utils", "quasar", "reload", "tensor_prefetcher_matmul")),
    *(f"ttnn.operations.{name}" for name in (
        "activations", "binary_backward", "binary_complex", "comparison", "complex_unary_backward", "conv2d",
        "golden_common", "integer_golden", "losses", "moreh", "pool", "reduction", "ternary", "ternary_backward",
        "transformer_golden", "unary_backward", "unary_complex")),
})


def emulator_is_registered() -> bool:
    return getattr(sys.modules.get("ttnn"), "IS_EMULATOR", False)


def _not_emulated_parent(fullname: str) -> bool:
    parts = fullname.split(".")
    return any(".".join(parts[:i]) in NOT_EMULATED for i in range(2, len(parts) + 1))


class _Existing(importlib.abc.Loader):
    """Hands the import system a module that already exists; keeps the module's own ``__spec__``."""

    def __init__(self, module: types.ModuleType):
        self.module = module
        self.own_spec = module.__spec__

    def create_module(self, spec):
        return self.module

    def exec_module(self, module):
        if self.own_spec is not None:
            module.__spec__ = self.own_spec  # module_from_spec overwrote it with the alias's spec


def not_emulated_module(fullname: str) -> types.ModuleType:
    """A stand-in for a real ttnn submodule the emulator lacks: every public attribute is a NotEmulated."""
    module = types.ModuleType(fullname, f"{fullname}: not emulated by ttbringup's ttnn emulator")
    module.__getattr__ = not_emulated_getattr(fullname)
    module.__path__ = []  # its own submodules are stand-ins too
    module.IS_NOT_EMULATED = True
    return module


class SubmoduleFinder(importlib.abc.MetaPathFinder):
    """Resolves ``ttnn.*`` imports to the emulator's modules (see the module docstring)."""

    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith("ttnn.") or not emulator_is_registered():
            return None
        if fullname in REAL_TO_EMU:
            module = importlib.import_module(f"{EMU}.{REAL_TO_EMU[fullname]}")
        elif _not_emulated_parent(fullname):
            module = not_emulated_module(fullname)
        else:
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        origin = "not emulated by ttbringup's ttnn emulator" if vars(module).get("IS_NOT_EMULATED") else None
        return importlib.machinery.ModuleSpec(fullname, _Existing(module), origin=origin,
                                              is_package=hasattr(module, "__path__"))


_FINDER = SubmoduleFinder()


def install() -> None:
    """Put the finder first on ``sys.meta_path`` (once)."""
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def forget() -> None:
    """Drop the ``ttnn.*`` entries of ``sys.modules`` that the emulator answered."""
    for name, module in list(sys.modules.items()):
        if name.startswith("ttnn.") and (getattr(module, "__name__", "").startswith(EMU + ".")
                                         or vars(module).get("IS_NOT_EMULATED", False)):
            del sys.modules[name]
