"""Accuracy metrics of a bringup against the HF reference."""

from __future__ import annotations

import torch


def pcc(expected: torch.Tensor, actual: torch.Tensor) -> float:
    """Pearson correlation of two same-sized tensors, computed in float64 over all elements.

    Two constant tensors correlate 1.0 when equal and 0.0 otherwise; a NaN anywhere gives NaN.
    """
    a = expected.detach().reshape(-1).to(torch.float64)
    b = actual.detach().reshape(-1).to(torch.float64)
    if a.numel() != b.numel():
        raise ValueError(f"pcc: {a.numel()} vs {b.numel()} elements")
    if torch.isnan(a).any() or torch.isnan(b).any():
        return float("nan")
    a = a - a.mean()
    b = b - b.mean()
    denom = a.norm() * b.norm()
    if denom == 0:
        return 1.0 if torch.equal(expected.to(torch.float64), actual.to(torch.float64)) else 0.0
    return float((a @ b) / denom)


def in_top_k(logits: torch.Tensor, token: int, k: int) -> bool:
    """True when ``token`` is among the ``k`` largest entries of the 1-D ``logits``."""
    k = min(k, logits.numel())
    return bool((torch.topk(logits, k).indices == token).any())
