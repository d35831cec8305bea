"""``ttbringup fit`` / ``new`` run on the emulator: register it as ``ttnn`` before ``ttbringup.bringup`` imports."""

import torch

from ttbringup import backend

ttnn = backend.load("emu", announce=False)
# One torch thread: on shared, busy cores a second thread makes every small emulated matmul ~100x slower.
torch.set_num_threads(1)
