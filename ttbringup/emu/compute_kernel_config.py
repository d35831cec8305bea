"""What 0.81.1 says about a passed compute kernel config before it computes (its ``compute_kernel_config.cpp``).

Contract:

* ``check_passed(config)``: a passed config with ``math_fidelity`` HiFi4 and ``fp32_dest_acc_en`` True gets 0.81.1's
  one-time warning about the Wormhole hardware bug (#38306: a few outputs wrong by a power of two, data-dependent).
  Printed once per process on stdout, in tt-logger's line format, as the real wheel does for ``matmul``,
  ``linear``, ``softmax`` and ``scale_mask_softmax`` (measured in mock mode; ``rms_norm``, ``layer_norm`` and the
  SDPA ops do not warn, so they do not call this). Like tt-logger, it is silent when ``$TT_LOGGER_LEVEL`` is above
  warning (error, critical, fatal or off; case-insensitive), and the once-per-process flag is then not spent.
  The defect itself is not reproduced, in either numerics mode: it
  is a data-dependent RTL bug (docs/card-numerics.md). ``None`` and other configs: nothing.
"""

from __future__ import annotations

import datetime
import os

from .types import MathFidelity

HIFI4_FP32_WARNING = ("On Wormhole with fp32 accumulation, output accuracy can be worse with HiFi4 than HiFi3 due to a "
                      "hardware bug. Prefer using HiFi3 with fp32 accumulation on Wormhole.")
_state = {"warned": False}
_SILENT_LEVELS = ("error", "critical", "fatal", "off")  # tt-logger levels above warning


def check_passed(config) -> None:
    """Warn once per process about HiFi4 with fp32 accumulation (see the module docstring)."""
    if config is None or _state["warned"]:
        return
    if os.environ.get("TT_LOGGER_LEVEL", "").strip().lower() in _SILENT_LEVELS:
        return
    if config.math_fidelity == MathFidelity.HiFi4 and config.fp32_dest_acc_en:
        _state["warned"] = True
        stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        print(f"{stamp} | warning  | {'Op':>15} | {HIFI4_FP32_WARNING} (compute_kernel_config.cpp:66)", flush=True)
