"""Seed bringups run on the emulator: register it as ``ttnn`` before any model.py is imported."""

import pytest
import torch

from ttbringup import backend

ttnn = backend.load("emu", announce=False)
# One torch thread: on shared, busy cores a second thread makes every small emulated matmul ~100x slower.
torch.set_num_threads(1)


@pytest.fixture
def device():
    dev = ttnn.open_device(device_id=0)
    yield dev
    ttnn.close_device(dev)
