"""Row-wise work done once per distinct row: a decode batch pads its users to a whole tile of 32 rows, and the idle
users' rows are identical and last, so an op whose output rows each depend only on the same row of its operands
computes the distinct rows and repeats the last result.

Contracts:

* ``trailing_repeats(x)``: how many rows at the end of ``x`` ([..., rows, W]) equal its last row in every
  leading slice, the last row included; 0 when fewer than three do (not worth the split). NaN rows never match.
* ``fan_out_last(values, rows)``: ``values`` ([..., distinct, N]) with its last row repeated to ``rows`` rows.
* ``on_distinct_rows(fn, *operands)`` -> ``fn(*operands)``, for a row-wise ``fn``: output ``[..., R, N]``,
  where R is the operands' broadcast row count and output row r depends only on row r of each operand (an
  operand with one row, fewer than two dims, or a non-tensor is broadcast, so it is passed whole). The trailing
  rows that repeat in every R-row operand are left out of the call and the last output row is repeated in their
  place: the same values, computed once.
"""

from __future__ import annotations

import torch


def trailing_repeats(x: torch.Tensor) -> int:
    """Rows at the end of ``x`` equal to its last row (see the module docstring)."""
    rows = x.shape[-2]
    if rows < 3:
        return 0
    same = (x - x[..., -1:, :]).abs_().amax(dim=-1) == 0  # 3x faster than ==/all
    flags = same.reshape(-1, rows).all(dim=0).tolist()
    run = 0
    while run < rows and flags[rows - 1 - run]:
        run += 1
    return run if run >= 3 else 0


def fan_out_last(values: torch.Tensor, rows: int) -> torch.Tensor:
    """``values`` with its last row repeated until it has ``rows`` rows."""
    extra = rows - values.shape[-2]
    tail = values[..., -1:, :].expand(*values.shape[:-2], extra, values.shape[-1])
    return torch.cat([values, tail], dim=-2)


def _has_rows(v, rows: int) -> bool:
    return isinstance(v, torch.Tensor) and v.dim() >= 2 and v.shape[-2] == rows


def on_distinct_rows(fn, *operands):
    """``fn(*operands)`` computed on the distinct rows only (see the module docstring)."""
    shapes = [v.shape for v in operands if isinstance(v, torch.Tensor) and v.dim() >= 2]
    rows = max((s[-2] for s in shapes), default=0)
    with_rows = [v for v in operands if _has_rows(v, rows)]
    if rows < 3 or not with_rows:
        return fn(*operands)
    repeats = min(trailing_repeats(v) for v in with_rows)
    if not repeats:
        return fn(*operands)
    keep = rows - repeats + 1
    return fan_out_last(fn(*(v[..., :keep, :] if _has_rows(v, rows) else v for v in operands)), rows)
