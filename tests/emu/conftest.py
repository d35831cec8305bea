"""Shared fixtures of the emulator tests: an emulated ``device`` and the ``pcc`` metric."""

import pytest
import torch

import ttbringup.emu as ttnn


@pytest.fixture
def device():
    """A fresh single-chip emulated device, closed after the test."""
    d = ttnn.open_device(device_id=0)
    yield d
    ttnn.close_device(d)


def pearson(expected: torch.Tensor, actual: torch.Tensor) -> float:
    """Pearson correlation of two tensors' values (1.0 when both are identical constants)."""
    a = expected.detach().double().flatten()
    b = actual.detach().double().flatten()
    if torch.equal(a, b):
        return 1.0
    a, b = a - a.mean(), b - b.mean()
    denom = a.norm() * b.norm()
    return float((a @ b) / denom) if denom > 0 else 0.0


@pytest.fixture
def pcc():
    """The Pearson correlation helper, as tt-metal's tests use it: ``pcc(expected, actual) >= 0.999``."""
    return pearson
