"""Backend selection: the chosen module is registered as ``ttnn`` and announced."""

import sys

import pytest

from ttbringup import backend


@pytest.fixture(autouse=True)
def restore_ttnn_module():
    saved = sys.modules.get("ttnn")
    yield
    if saved is None:
        sys.modules.pop("ttnn", None)
    else:
        sys.modules["ttnn"] = saved


def test_emu_is_registered_as_ttnn(capsys):
    module = backend.load("emu")
    import ttnn

    assert ttnn is module and backend.is_emulator(ttnn)
    assert "backend: ttnn emulator" in capsys.readouterr().err


def test_auto_falls_back_to_the_emulator_without_a_card(capsys, monkeypatch):
    monkeypatch.delenv(backend.ENV_VAR, raising=False)
    module = backend.load()
    assert backend.is_emulator(module)  # no machine here has a card
    assert capsys.readouterr().err.count("\n") == 1


def test_env_var_sets_the_default(monkeypatch):
    monkeypatch.setenv(backend.ENV_VAR, "emu")
    assert backend.is_emulator(backend.load(announce=False))


def test_real_ttnn_required_but_absent_is_an_error(monkeypatch):
    monkeypatch.setattr(backend, "_import_real_ttnn", lambda: (_ for _ in ()).throw(backend.BackendError("no ttnn")))
    with pytest.raises(backend.BackendError, match="no ttnn"):
        backend.load("ttnn")


def test_unknown_backend_name():
    with pytest.raises(backend.BackendError, match="unknown backend"):
        backend.load("cuda")
