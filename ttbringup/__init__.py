"""ttbringup: HF causal LMs onto Tenstorrent cards with ttnn, checked against HF, on a card or the emulator.

Importing the package before torch (as every command of the kit does) makes idle OpenMP workers sleep instead of
spin (``OMP_WAIT_POLICY=PASSIVE`` unless the environment says otherwise): the emulator issues hundreds of small
torch ops per decode step, and spinning workers next to a busy process stalled each of them (measured on 2 cores
beside one busy process, real-shape Llama-3.2-1B, 2 threads: 27.9 s per emulated decode step with spinning
workers, 1.09 s with passive ones; HF 0.6 s). It must be set before torch loads OpenMP, hence here.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
