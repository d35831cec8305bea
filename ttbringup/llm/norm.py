"""RMSNorm: ``x * rsqrt(mean(x**2, -1) + eps) * weight`` as one ``ttnn.rms_norm``.

Used for the layer norms (``[1, 1, S, hidden]``) and, per head, for the q/k norms (``[1, heads, S, head_dim]``).
``ttnn.rms_norm``'s default epsilon is 1e-12, so the HF epsilon is always passed.

Gemma's RMSNorm scales by ``1 + w`` (its stored weight is centred on 0); ``from_hf`` uploads ``1 + w`` as the gain,
so the device op is the same.
"""

from __future__ import annotations

import ttnn

from .errors import UnsupportedModelError
from .weights import norm_weight

# HF RMSNorm classes whose gain is ``1 + weight`` (they keep their epsilon in ``eps``, not ``variance_epsilon``).
UNIT_OFFSET_NORMS = ("GemmaRMSNorm", "Gemma2RMSNorm", "Gemma3RMSNorm")


class RMSNorm:
    """A device RMSNorm. ``weight``: the gain ``[dim]`` (torch); ``eps``: the HF epsilon."""

    def __init__(self, weight, eps: float, device):
        self.weight = norm_weight(weight, device)
        self.eps = float(eps)

    @classmethod
    def from_hf(cls, module, device) -> "RMSNorm":
        """From an HF ``*RMSNorm`` module: Llama-style (``weight``, ``variance_epsilon``; Llama, Qwen2/3, Arcee,
        Phi-3) or Gemma-style (``UNIT_OFFSET_NORMS``: gain ``1 + weight``, ``eps``)."""
        name = type(module).__name__
        if name in UNIT_OFFSET_NORMS:
            return cls(1.0 + module.weight.detach(), module.eps, device)
        if not hasattr(module, "variance_epsilon"):
            raise UnsupportedModelError(f"norm {name} is not supported (no variance_epsilon, not a Gemma RMSNorm)")
        return cls(module.weight, module.variance_epsilon, device)

    def __call__(self, x):
        return ttnn.rms_norm(x, epsilon=self.eps, weight=self.weight)
