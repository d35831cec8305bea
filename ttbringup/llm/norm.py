"""RMSNorm: ``x * rsqrt(mean(x**2, -1) + eps) * weight`` as one ``ttnn.rms_norm``.

Used for the layer norms (``[1, 1, S, hidden]``) and, per head, for Qwen3's q/k norms (``[1, heads, S, head_dim]``).
``ttnn.rms_norm``'s default epsilon is 1e-12, so the HF epsilon is always passed.
"""

from __future__ import annotations

import ttnn

from .weights import norm_weight


class RMSNorm:
    """A device RMSNorm. ``weight``: the HF gain ``[dim]`` (torch); ``eps``: the HF epsilon."""

    def __init__(self, weight, eps: float, device):
        self.weight = norm_weight(weight, device)
        self.eps = float(eps)

    @classmethod
    def from_hf(cls, module, device) -> "RMSNorm":
        """From an HF ``*RMSNorm`` module (Llama, Qwen3, Arcee: ``weight`` and ``variance_epsilon``)."""
        return cls(module.weight, module.variance_epsilon, device)

    def __call__(self, x):
        return ttnn.rms_norm(x, epsilon=self.eps, weight=self.weight)
