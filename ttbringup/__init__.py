"""ttbringup: HF causal LMs onto Tenstorrent cards with ttnn, checked against HF, on a card or the emulator.

Importing the package before torch (as every command of the kit does) bounds how long idle OpenMP workers spin
before they sleep (``GOMP_SPINCOUNT=30000`` unless the environment sets it or ``OMP_WAIT_POLICY``). The emulator
issues hundreds of small torch ops per decode step with short host gaps between them; how long a worker spins
decides both the idle speed and what a busy neighbour costs. Measured on 2 cores, real-shape Llama-3.2-1B decode,
2 threads (HF 0.18 s idle, 0.35 s beside one busy process):

    spin policy               idle      beside a busy process
    libgomp default (300000)  0.209 s   27.9 s
    GOMP_SPINCOUNT=30000      0.211 s   1.28 s
    GOMP_SPINCOUNT=3000       0.236 s   0.49 s
    OMP_WAIT_POLICY=PASSIVE   0.372 s   0.37 s

30000 keeps the idle speed; a neighbour present when a command starts is met by ``host_cpu.fit_threads`` (one
thread: 0.345 s, HF's pace), so only a neighbour that appears mid-run meets the spinning workers. This must be set
before torch loads OpenMP, hence here.
"""

import os

if "OMP_WAIT_POLICY" not in os.environ:
    os.environ.setdefault("GOMP_SPINCOUNT", "30000")
