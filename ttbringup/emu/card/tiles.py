"""Tile geometry of a 32x32 Tensix tile: four 16x16 faces (top-left, top-right, bottom-left,
bottom-right), each stored row-major.  A BFP block is one 16-element face row, i.e. 16
consecutive columns of one tile row.

* ``to_faces(x)``: (..., 32, 32) logical tile -> (..., 4, 16, 16) faces.
* ``from_faces(f)``: the inverse.
"""

from __future__ import annotations

import torch


def to_faces(x: torch.Tensor) -> torch.Tensor:
    """(..., 32, 32) -> (..., 4, 16, 16): face index = 2 * (row >= 16) + (col >= 16)."""
    lead = x.shape[:-2]
    return x.reshape(*lead, 2, 16, 2, 16).transpose(-3, -2).reshape(*lead, 4, 16, 16)


def from_faces(f: torch.Tensor) -> torch.Tensor:
    """(..., 4, 16, 16) faces -> (..., 32, 32) logical tile."""
    lead = f.shape[:-3]
    return f.reshape(*lead, 2, 2, 16, 16).transpose(-3, -2).reshape(*lead, 32, 32)
