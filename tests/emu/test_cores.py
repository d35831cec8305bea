"""Core grids: ``CoreRange`` / ``CoreRangeSet`` methods and ``num_cores_to_corerangeset``, checked against a
brute-force enumeration of the cores (the exact ranges the real wheel returns: the conformance lane)."""

import itertools

import pytest
import torch

import ttbringup.emu as ttnn

CC, CR, CRS = ttnn.CoreCoord, ttnn.CoreRange, ttnn.CoreRangeSet


def cores_of(crs) -> set:
    return {(x, y) for r in crs.ranges() for y in range(r.start.y, r.end.y + 1) for x in range(r.start.x, r.end.x + 1)}


def disjoint(crs) -> bool:
    return sum(r.num_cores() for r in crs.ranges()) == len(cores_of(crs))


@pytest.mark.parametrize("n, row_wise", list(itertools.product([1, 5, 8, 12, 63, 64], [False, True])))
def test_num_cores_to_corerangeset_takes_the_first_cores_in_order(n, row_wise):
    grid = CC(8, 8)
    crs = ttnn.num_cores_to_corerangeset(n, grid, row_wise)
    order = [(x, y) for y in range(8) for x in range(8)] if row_wise else [(x, y) for x in range(8) for y in range(8)]
    assert cores_of(crs) == set(order[:n]) and disjoint(crs) and crs.num_cores() == n


def test_num_cores_to_corerangeset_shards_a_decode_batch_like_tt_transformers(device):
    """32 users, one per core, row by row over the device grid: the height-sharded decode input pattern."""
    grid = device.compute_with_storage_grid_size()
    crs = ttnn.num_cores_to_corerangeset(32, grid, row_wise=True)
    spec = ttnn.ShardSpec(crs, (32, 128), ttnn.ShardOrientation.ROW_MAJOR)
    mc = ttnn.MemoryConfig(ttnn.TensorMemoryLayout.HEIGHT_SHARDED, ttnn.BufferType.L1, spec)
    t = ttnn.from_torch(torch.zeros(1, 1, 32 * 32, 128), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device,
                        memory_config=mc)
    assert t.memory_config().shard_spec.num_cores() == 32 and crs.bounding_box() == CR(CC(0, 0), CC(7, 3))


def test_num_cores_to_corerangeset_refuses_more_cores_than_the_grid():
    with pytest.raises(RuntimeError, match="greater than total number of available cores 64"):
        ttnn.num_cores_to_corerangeset(65, CC(8, 8))


def test_core_range_members():
    r = CR(CC(1, 2), CC(3, 5))
    assert r.num_cores() == 12 and r.grid_size() == CC(3, 4)
    assert r.contains(CC(3, 5)) and not r.contains(CC(0, 2))
    assert r.contains(CR(CC(2, 3), CC(3, 4))) and not r.contains(CR(CC(1, 2), CC(4, 5)))
    with pytest.raises(RuntimeError, match="Invalid core range"):
        CR(CC(2, 2), CC(1, 1))


SETS = [
    [CR(CC(0, 0), CC(3, 0)), CR(CC(0, 1), CC(1, 2)), CR(CC(5, 5), CC(6, 6))],
    [CR(CC(0, 0), CC(7, 0))],
    [CR(CC(2, 2), CC(5, 5))],
]


@pytest.mark.parametrize("a, b", list(itertools.product(range(len(SETS)), repeat=2)))
def test_merge_and_subtract_are_the_union_and_difference_of_cores(a, b):
    x, y = CRS(SETS[a]), CRS(SETS[b])
    merged, rest = x.merge(y), x.subtract(y)
    assert cores_of(merged) == cores_of(x) | cores_of(y) and disjoint(merged)
    assert cores_of(rest) == cores_of(x) - cores_of(y) and disjoint(rest)


def test_merge_joins_rows_into_one_rectangle():
    rows = CRS({CR(CC(0, 0), CC(7, 0))}).merge(CRS({CR(CC(0, 1), CC(7, 1))}))
    assert rows.ranges() == [CR(CC(0, 0), CC(7, 1))] and rows.size() == 1


def test_core_range_set_members():
    s = CRS(set(SETS[0]))
    assert s.size() == 3 and s.num_cores() == 4 + 4 + 4 and not s.empty() and CRS(set()).empty()
    assert s.bounding_box() == CR(CC(0, 0), CC(6, 6))
    assert s.contains(CC(1, 2)) and not s.contains(CC(2, 2))
    assert s.contains(CR(CC(0, 0), CC(1, 1))) and not s.contains(CR(CC(0, 0), CC(2, 1)))
    assert s.contains(CRS({CR(CC(0, 0), CC(1, 0)), CR(CC(6, 6), CC(6, 6))}))
    assert CRS({CR(CC(0, 0), CC(1, 1))}) == CRS([CR(CC(0, 0), CC(1, 1))])
    with pytest.raises(TypeError):
        CRS(CR(CC(0, 0), CC(1, 1)))  # a single range is not a sequence (as in 0.81.1)
    with pytest.raises(TypeError):
        s.merge(CR(CC(0, 0), CC(1, 1)))
    with pytest.raises(RuntimeError, match="overlap"):
        CRS({CR(CC(0, 0), CC(2, 2)), CR(CC(1, 1), CC(3, 3))})
