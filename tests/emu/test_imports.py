"""Import fidelity: with the emulator registered as ``ttnn``, ``import ttnn.X`` finds the emulator's one module."""

import importlib
import sys
import types

import pytest
import torch

import ttbringup.emu as emu
from ttbringup import backend
from ttbringup.emu import submodules
from ttbringup.emu.errors import NotEmulatedError


@pytest.fixture
def ttnn():
    """The emulator registered as ``ttnn`` with no ``ttnn.*`` submodule imported yet; restored afterwards."""
    saved = {k: v for k, v in sys.modules.items() if k == "ttnn" or k.startswith("ttnn.")}
    for k in saved:
        del sys.modules[k]
    module = backend.load("emu", announce=False)
    yield module
    submodules.forget()
    sys.modules.pop("ttnn", None)
    sys.modules.update(saved)


@pytest.mark.parametrize("real_name, emu_module", sorted(submodules.REAL_TO_EMU.items()))
def test_real_submodules_resolve_to_the_emulators_module(ttnn, real_name, emu_module):
    imported = importlib.import_module(real_name)
    assert imported is importlib.import_module(f"ttbringup.emu.{emu_module}")
    assert imported.__spec__.name == f"ttbringup.emu.{emu_module}"  # not re-labelled by the alias


def test_layout_conversion_still_works_after_importing_submodules(ttnn):
    import ttnn.core  # noqa: F401  (loaded a second copy with its own enums before)
    import ttnn.types  # noqa: F401
    from ttnn.device import Arch

    assert Arch is emu.Arch and ttnn.types.Layout is emu.Layout and ttnn.core.from_torch is emu.from_torch
    device = ttnn.open_device(device_id=0)
    try:
        x = (torch.arange(64 * 32) % 256).float().reshape(64, 32)  # exact in bfloat16
        t = ttnn.from_torch(x, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
        host = ttnn.from_device(t).to(ttnn.ROW_MAJOR_LAYOUT)
        assert host.layout == ttnn.ROW_MAJOR_LAYOUT
        assert torch.equal(ttnn.to_torch(host).float(), x)
    finally:
        ttnn.close_device(device)
    emu_dir = emu.__path__[0]
    copies = [k for k, m in list(sys.modules.items()) if (getattr(m, "__file__", None) or "").startswith(emu_dir)
              and not m.__name__.startswith("ttbringup.emu")]
    assert copies == []  # no emulator file was executed a second time under a ttnn.* name


def test_submodule_names_reexport_the_top_level_objects(ttnn):
    import ttnn.distributed
    import ttnn.types

    assert ttnn.types.Tensor is emu.Tensor and ttnn.types.TILE_LAYOUT is emu.TILE_LAYOUT
    assert ttnn.distributed.ShardTensorToMesh is emu.ShardTensorToMesh
    assert ttnn.operations.data_movement.reshape is emu.reshape


def test_real_submodule_the_emulator_lacks_imports_and_refuses_on_use(ttnn):
    import ttnn.model_preprocessing
    from ttnn.graph import begin_graph_capture

    with pytest.raises(NotEmulatedError, match="ttnn.graph.begin_graph_capture is not emulated"):
        begin_graph_capture()
    with pytest.raises(NotEmulatedError, match="ttnn.model_preprocessing.preprocess_model_parameters"):
        ttnn.model_preprocessing.preprocess_model_parameters(initialize_model=None)
    assert "not emulated" in repr(ttnn.model_preprocessing)


def test_unknown_submodules_and_emulator_internals_are_not_ttnn_names(ttnn):
    with pytest.raises(ModuleNotFoundError):
        import ttnn.per_chip  # noqa: F401  (an emulator file, not a ttnn module)
    with pytest.raises(ModuleNotFoundError):
        import ttnn.no_such_module  # noqa: F401
    with pytest.raises(ModuleNotFoundError):
        import ttnn.experimental.nlp_heads  # noqa: F401


def test_switching_to_the_real_package_forgets_the_emulator_aliases(ttnn, monkeypatch):
    import ttnn.core  # noqa: F401

    monkeypatch.setattr(importlib, "import_module", lambda name: (_ for _ in ()).throw(ImportError("no real ttnn")))
    with pytest.raises(backend.BackendError):
        backend.load("ttnn", announce=False)
    assert "ttnn.core" not in sys.modules and sys.modules["ttnn"] is emu  # the emulator stays registered


def test_finder_stands_aside_when_the_emulator_is_not_ttnn(monkeypatch):
    finder = submodules.SubmoduleFinder()
    monkeypatch.delitem(sys.modules, "ttnn", raising=False)
    assert finder.find_spec("ttnn.core") is None  # the real package (if any) imports as usual
    monkeypatch.setitem(sys.modules, "ttnn", types.ModuleType("ttnn"))  # a real package registered
    assert finder.find_spec("ttnn.core") is None and finder.find_spec("ttnn.per_chip") is None
    monkeypatch.setitem(sys.modules, "ttnn", emu)
    assert finder.find_spec("ttnn.core").loader.module is emu.core
