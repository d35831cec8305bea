"""Blocks run on the emulator: register it as ``ttnn`` before anything imports ``ttbringup.llm``."""

import pytest

from ttbringup import backend

ttnn = backend.load("emu", announce=False)


@pytest.fixture(scope="module")
def device():
    dev = ttnn.open_device(device_id=0)
    yield dev
    ttnn.close_device(dev)
