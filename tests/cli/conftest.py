"""Fixtures for the CLI tests: a tiny random HF Llama (with tokenizer) on disk and in a private HF
cache, a models/ tree holding the fake bringup, and ``run`` to call a repo script as a subprocess
(offline, one torch thread, progress bars on)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FAKE = REPO / "tests" / "data" / "fake_bringup"
TINY_ID = "test-org/tiny-llama"
sys.path.insert(0, str(FAKE))


@dataclass
class Tiny:
    ckpt: Path  # local checkpoint dir
    hub: Path  # HF hub cache holding TINY_ID
    models: Path  # models/ tree: models/test-org/tiny-llama/n150/functional/model.py (the fake bringup)
    tmp: Path


@pytest.fixture(scope="session")
def tiny(tmp_path_factory) -> Tiny:
    from tiny_checkpoint import install_in_hf_cache, make_tiny_llama

    root = tmp_path_factory.mktemp("tiny")
    ckpt = make_tiny_llama(root / "tiny-llama")
    install_in_hf_cache(ckpt, root / "hub", TINY_ID)
    functional = root / "models" / TINY_ID / "n150" / "functional"
    functional.mkdir(parents=True)
    shutil.copy(FAKE / "model.py", functional / "model.py")
    return Tiny(ckpt=ckpt, hub=root / "hub", models=root / "models", tmp=root)


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    def json_line(self, prefix: str) -> dict:
        lines = [line for line in self.stdout.splitlines() if line.startswith(prefix)]
        assert len(lines) == 1, self.stdout
        return json.loads(lines[0][len(prefix):])


class Runner:
    """Runs repo scripts as subprocesses (offline, emulator, one torch thread, progress bars on).

    ``run(script, *args, **env)`` runs one and waits. ``start(key, script, *args, **env)`` launches one
    in the background and ``result(key)`` waits for it: a test module starts its slow runs together
    in a fixture so that their start-up (importing torch and transformers) overlaps.
    """

    def __init__(self, tiny: Tiny):
        self.tiny = tiny
        self.running: dict[str, subprocess.Popen] = {}
        self.done: dict[str, Result] = {}

    def _popen(self, script: str, args, env) -> subprocess.Popen:
        full_env = dict(os.environ, HF_HUB_OFFLINE="1", HF_HUB_CACHE=str(self.tiny.hub), OMP_NUM_THREADS="1",
                        TTBRINGUP_BACKEND="emu", PYTHONDONTWRITEBYTECODE="1")
        full_env.pop("TQDM_DISABLE", None)
        full_env.update({k: str(v) for k, v in env.items()})
        return subprocess.Popen([sys.executable, str(REPO / script), *map(str, args)], cwd=self.tiny.tmp,
                                env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def start(self, key: str, script: str, *args, **env) -> None:
        self.running[key] = self._popen(script, args, env)

    def result(self, key: str, timeout: float = 300) -> Result:
        if key not in self.done:
            proc = self.running.pop(key)
            try:
                out, err = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
                pytest.fail(f"{key} timed out after {timeout} s:\n{err}")
            self.done[key] = Result(proc.returncode, out, err)
        return self.done[key]

    def __call__(self, script: str, *args, timeout: float = 300, **env) -> Result:
        key = f"_sync_{len(self.done)}_{len(self.running)}"
        self.start(key, script, *args, **env)
        return self.result(key, timeout)

    def close(self) -> None:
        for proc in self.running.values():
            proc.kill()
            proc.communicate()


@pytest.fixture(scope="session")
def run(tiny):
    """A :class:`Runner`; ``run(script, *args, **env)`` runs a repo script and returns its :class:`Result`."""
    runner = Runner(tiny)
    yield runner
    runner.close()
