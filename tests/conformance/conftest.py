"""Conformance lane fixtures: the real ttnn 0.81.1 (mock device) and the emulator, side by side.

Everything here is lazy: the default suite collects this folder (then deselects it by marker) in an environment
without the real wheel, so nothing may import it at collection time. Run the lane with
``bash scripts/run_conformance.sh`` (see docs/conformance.md).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from conformance_harness import Report  # noqa: E402

REPORT = Report()
_RESULTS: list[str] = []  # extra summary lines (allocator, models)


def add_summary_line(line: str) -> None:
    _RESULTS.append(line)


@pytest.fixture(scope="session")
def conformance_report() -> Report:
    return REPORT


@pytest.fixture(scope="session")
def summary_line():
    """Call with a line to print it in the lane's terminal summary."""
    return add_summary_line


@pytest.fixture(scope="session")
def real_ttnn():
    """The real ttnn module (registered as ``ttnn`` so model files get it), in mock mode."""
    if not os.environ.get("TT_METAL_MOCK_CLUSTER_DESC_PATH"):
        pytest.fail("TT_METAL_MOCK_CLUSTER_DESC_PATH is not set: run the lane with `bash scripts/run_conformance.sh` "
                    "(or `source .conformance/env.sh` first)")
    os.environ.setdefault("TT_LOGGER_LEVEL", "off")
    os.environ.setdefault("LOGURU_LEVEL", "INFO")
    # Opening a device writes tt-metal's generated/ folder into the working directory: never into the repo.
    if Path.cwd().resolve().is_relative_to(REPO):
        os.chdir(tempfile.mkdtemp(prefix="ttbringup-conformance-"))
    from ttbringup import backend

    ttnn = backend.load("ttnn", announce=False)
    if backend.is_emulator(ttnn):
        pytest.fail("the real ttnn package is not importable in this environment")
    return ttnn


@pytest.fixture(scope="session")
def emu():
    import torch

    from ttbringup import emu as module

    torch.set_num_threads(1)  # busy shared cores make multi-threaded emulated matmuls far slower
    return module


@pytest.fixture(scope="module")
def real_device(real_ttnn):
    device = real_ttnn.open_device(device_id=0)
    yield device
    real_ttnn.close_device(device)


@pytest.fixture(scope="module")
def emu_device(emu):
    device = emu.open_device(device_id=0)
    yield device
    emu.close_device(device)


def pytest_terminal_summary(terminalreporter):
    if not REPORT.records and not _RESULTS:
        return
    terminalreporter.section("conformance lane")
    for line in _RESULTS:
        terminalreporter.write_line(line)
    if REPORT.records:
        for line in REPORT.lines():
            terminalreporter.write_line(line)
