"""Worker-core coordinates of ttnn 0.81.1: ``CoreCoord``, ``CoreRange``, ``CoreRangeSet`` and
``num_cores_to_corerangeset``.

Contracts (as the real classes behave, checked in the conformance lane):

* ``CoreRange(start, end)`` is the inclusive rectangle ``start..end``; ``num_cores()``, ``grid_size()`` (a
  CoreCoord of its width and height), ``contains(coord | range)``.
* ``CoreRangeSet(ranges)`` takes a sequence or a set of CoreRanges that must not overlap; a set is kept in sorted
  order, a sequence in the order given. ``ranges()``, ``size()`` (how many ranges), ``empty()``,
  ``num_cores()``, ``bounding_box()``, ``contains(coord | range | set)``, ``merge(other set)`` (the union, rebuilt as
  maximal row runs joined downwards while their columns match), ``subtract(other)`` (the cores of this set not in
  the other set, rebuilt the same way; 0.81.1 splits it differently, the cores are the same).
* ``num_cores_to_corerangeset(target_num_cores, grid_size, row_wise=False)``: the first ``target_num_cores`` cores
  of a ``grid_size`` grid, column by column (``row_wise``: row by row), as full columns (rows) plus one partial one.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import not_emulated_members


@dataclass(frozen=True, order=True)
class CoreCoord:
    x: int
    y: int

    __getattr__ = not_emulated_members("ttnn.CoreCoord", "from_json to_json")


@dataclass(frozen=True, order=True)
class CoreRange:
    start: CoreCoord
    end: CoreCoord

    def __post_init__(self):
        if self.end.x < self.start.x or self.end.y < self.start.y:
            raise RuntimeError(f"Invalid core range for start_coord: {_coord_text(self.start)}, end_coord: "
                               f"{_coord_text(self.end)}")

    def num_cores(self) -> int:
        return (self.end.x - self.start.x + 1) * (self.end.y - self.start.y + 1)

    def grid_size(self) -> CoreCoord:
        return CoreCoord(self.end.x - self.start.x + 1, self.end.y - self.start.y + 1)

    def contains(self, other) -> bool:
        if isinstance(other, CoreRange):
            return self.contains(other.start) and self.contains(other.end)
        return self.start.x <= other.x <= self.end.x and self.start.y <= other.y <= self.end.y

    def intersects(self, other: "CoreRange") -> bool:
        return (self.start.x <= other.end.x and other.start.x <= self.end.x
                and self.start.y <= other.end.y and other.start.y <= self.end.y)

    def cores(self):
        """Emulator only: the cores of the range, row by row."""
        return [CoreCoord(x, y) for y in range(self.start.y, self.end.y + 1) for x in range(self.start.x, self.end.x + 1)]

    __getattr__ = not_emulated_members("ttnn.CoreRange", "from_json to_json")


def _coord_text(c: CoreCoord) -> str:
    return f"(x={c.x},y={c.y})"


@dataclass(frozen=True)
class CoreRangeSet:
    ranges_: tuple

    def __init__(self, ranges):
        if isinstance(ranges, (set, frozenset)):
            ranges = sorted(ranges)
        elif not isinstance(ranges, (list, tuple)):
            raise TypeError("__init__(): incompatible function arguments: CoreRangeSet takes a sequence or a set of "
                            f"CoreRange, got {type(ranges).__name__}")
        ranges = tuple(ranges)
        for i, a in enumerate(ranges):
            for b in ranges[i + 1:]:
                if a.intersects(b):
                    raise RuntimeError(f"Cannot create CoreRangeSet with specified core ranges because core ranges "
                                       f"{_range_text(a)} and {_range_text(b)} overlap!")
        object.__setattr__(self, "ranges_", ranges)

    def ranges(self):
        return list(self.ranges_)

    def size(self) -> int:
        return len(self.ranges_)

    def empty(self) -> bool:
        return not self.ranges_

    def num_cores(self) -> int:
        return sum(r.num_cores() for r in self.ranges_)

    def bounding_box(self) -> CoreRange:
        if not self.ranges_:
            raise RuntimeError("Cannot get bounding_box of an empty CoreRangeSet!")
        return CoreRange(CoreCoord(min(r.start.x for r in self.ranges_), min(r.start.y for r in self.ranges_)),
                         CoreCoord(max(r.end.x for r in self.ranges_), max(r.end.y for r in self.ranges_)))

    def contains(self, other) -> bool:
        if isinstance(other, CoreRangeSet):
            return all(self.contains(r) for r in other.ranges_)
        if isinstance(other, CoreRange):
            return all(any(r.contains(c) for r in self.ranges_) for c in other.cores())
        return any(r.contains(other) for r in self.ranges_)

    def merge(self, other) -> "CoreRangeSet":
        return _rectangles(self._core_set() | _as_set(other)._core_set())

    def subtract(self, other) -> "CoreRangeSet":
        return _rectangles(self._core_set() - _as_set(other)._core_set())

    def _core_set(self) -> set:
        return {(c.x, c.y) for r in self.ranges_ for c in r.cores()}

    __getattr__ = not_emulated_members("ttnn.CoreRangeSet", "from_json to_json")


def _range_text(r: CoreRange) -> str:
    return f"[{_coord_text(r.start)} - {_coord_text(r.end)}]"


def _as_set(other) -> CoreRangeSet:
    if not isinstance(other, CoreRangeSet):
        raise TypeError(f"incompatible function arguments: expected a CoreRangeSet, got {type(other).__name__}")
    return other


def _rectangles(cores: set) -> CoreRangeSet:
    """``cores`` ((x, y) pairs) as rectangles: each row's maximal runs, a run joined to the rectangle right above it
    when both span the same columns."""
    open_rects = {}  # (x0, x1) -> [y0, y1] of a rectangle that reached the previous row
    done = []
    for y in sorted({cy for _, cy in cores}):
        xs = sorted(cx for cx, cy in cores if cy == y)
        runs, start = [], xs[0]
        for a, b in zip(xs, xs[1:] + [None]):
            if b != a + 1:
                runs.append((start, a))
                start = b
        still_open = {}
        for span in runs:
            rect = open_rects.pop(span, None)
            still_open[span] = [rect[0], y] if rect is not None and rect[1] == y - 1 else [y, y]
            if rect is not None and rect[1] != y - 1:
                done.append((span, rect))
        done.extend(open_rects.items())
        open_rects = still_open
    done.extend(open_rects.items())
    return CoreRangeSet({CoreRange(CoreCoord(x0, y0), CoreCoord(x1, y1)) for (x0, x1), (y0, y1) in done})


def num_cores_to_corerangeset(target_num_cores: int, grid_size: CoreCoord, row_wise: bool = False) -> CoreRangeSet:
    """The first ``target_num_cores`` cores of ``grid_size`` (see the module docstring)."""
    nx, ny = grid_size.x, grid_size.y
    if target_num_cores > nx * ny:
        raise RuntimeError(f"Target number of cores {target_num_cores} is greater than total number of available "
                           f"cores {nx * ny}")
    line = nx if row_wise else ny  # cores per full row (column)
    full, rest = divmod(target_num_cores, line)
    ranges = []
    if row_wise:
        if full:
            ranges.append(CoreRange(CoreCoord(0, 0), CoreCoord(nx - 1, full - 1)))
        if rest:
            ranges.append(CoreRange(CoreCoord(0, full), CoreCoord(rest - 1, full)))
    else:
        if full:
            ranges.append(CoreRange(CoreCoord(0, 0), CoreCoord(full - 1, ny - 1)))
        if rest:
            ranges.append(CoreRange(CoreCoord(full, 0), CoreCoord(full, rest - 1)))
    return CoreRangeSet(ranges)
