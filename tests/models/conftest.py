"""Seed bringups run on the emulator: register it as ``ttnn`` before any model.py is imported."""

import pytest

from ttbringup import backend

ttnn = backend.load("emu", announce=False)


@pytest.fixture
def device():
    dev = ttnn.open_device(device_id=0)
    yield dev
    ttnn.close_device(dev)
