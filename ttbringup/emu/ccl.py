"""Collectives across the chips of a mesh (``ttnn/operations/ccl``): ``all_gather``, ``reduce_scatter``,
``all_reduce``.

Each runs over groups of chips: the whole mesh (``cluster_axis=None``), or the chips along one mesh axis
(``cluster_axis=0``: each column of a ``rows x cols`` mesh; ``1``: each row), in row-major chip order.

* ``all_gather(x, dim)``: every chip of a group gets the group's parts concatenated along ``dim``.
* ``reduce_scatter(x, dim)``: the group's sum, split along ``dim`` into one part per chip (``dim`` must divide).
* ``all_reduce(x)``: every chip of a group gets the group's sum; shape, dtype and layout are kept.

Numerics (exact mode): sums are taken in float32 in chip order and rounded once into the tensor's dtype; a card
adds the parts pairwise along its ring in bfloat16 (or the dtype's) and rounds at every step, so bf16 sums on a
card can differ from these by a few ULP. Gathers move values exactly.

Preconditions as 0.81.1 checks them (mock-mode runs, ``docs/ttnn-mock-findings.md``): a fabric must be set
(``set_fabric_config``) before any collective runs; a group of one chip is refused; ``all_gather`` without
``cluster_axis`` on a 2-D mesh needs a 2-D fabric; ``all_reduce`` / ``reduce_scatter`` use at most the 2
ethernet links between neighbouring Wormhole chips.
"""

from __future__ import annotations

import torch

from . import device as device_module
from .errors import check, fatal, not_emulated_getattr
from .per_chip import chip_values
from .tensor import Tensor, new_distributed_tensor, new_tensor
from .trace import recorded_op
from .types import FabricConfig, Topology
from .validate import normalize_dim, not_emulated, on_device, tensor_arg

ETH_LINKS = 2  # ethernet channels between neighbouring chips on n300 / T3000
_FABRIC_2D = (FabricConfig.FABRIC_2D, FabricConfig.FABRIC_2D_TORUS_X, FabricConfig.FABRIC_2D_TORUS_Y,
              FabricConfig.FABRIC_2D_TORUS_XY)


def _groups(op: str, t: Tensor, cluster_axis, num_links, topology, *, reduces: bool) -> list[list[int]]:
    """The chip groups the collective runs over, after the checks 0.81.1 makes."""
    rows, cols = t.device().rows_cols()
    if cluster_axis is not None:
        check(-2 <= cluster_axis < 2, op, f"ShapeBase[] index out of range. {cluster_axis} not in [-2, 2)")
        cluster_axis %= 2
    if topology is not None and not isinstance(topology, Topology):
        raise TypeError(f"{op}(): incompatible function arguments: topology must be a ttnn.Topology")
    check(device_module.get_fabric_config() != FabricConfig.DISABLED, op,
          "Trying to get un-initialized fabric context (this->fabric_context_ != nullptr): call "
          "ttnn.set_fabric_config(ttnn.FabricConfig.FABRIC_1D) before opening the mesh")
    if cluster_axis is None:
        if not reduces and rows > 1 and cols > 1:
            check(device_module.get_fabric_config() in _FABRIC_2D, op,
                  "1D fabric on a 2D mesh_device requires cluster_axis to be set")
        groups = [list(range(rows * cols))]
    elif cluster_axis == 0:
        groups = [[r * cols + c for r in range(rows)] for c in range(cols)]
    else:
        groups = [[r * cols + c for c in range(cols)] for r in range(rows)]
    size = len(groups[0])
    if reduces:
        check(size > 1, op, "no neighbour along the cluster axis: a collective needs more than one device "
                            "(forward_coordinate.has_value() || backward_coordinate.has_value())")
        if num_links is not None and num_links > ETH_LINKS:
            raise fatal(op, f"Requested link index {ETH_LINKS} is out of bounds. {ETH_LINKS} ethernet channels "
                            "available to forward b/w src (M0, D0) and dst (M0, D1)")
    else:
        check(size > 1, op, f"all_gather collective will only work for num_devices > 1, got {size}")
    return groups


def _validate(op: str, input_tensor, output_tensor) -> Tensor:
    t = tensor_arg(input_tensor, op, "input_tensor")
    on_device(t, op, "Input tensor must be on device")
    if output_tensor is not None:
        not_emulated(op, "output_tensor=...")
    return t


def _output(t: Tensor, per_chip: list[torch.Tensor], memory_config) -> Tensor:
    """A mesh tensor holding ``per_chip[c]`` on chip c (replicated when every chip got the same object)."""
    mesh = t.device()
    config = memory_config or t.memory_config()
    if all(v is per_chip[0] for v in per_chip):
        return new_tensor(per_chip[0], dtype=t.dtype, layout=t.layout, device=mesh, memory_config=config, tile=t.tile)
    return new_distributed_tensor(torch.stack(per_chip), dtype=t.dtype, layout=t.layout, device=mesh,
                                  memory_config=config, tile=t.tile)


def _group_sum(values: list[torch.Tensor], group: list[int]) -> torch.Tensor:
    total = values[group[0]].clone()
    for c in group[1:]:
        total += values[c]
    return total


@recorded_op("ttnn.all_gather")  # a device op like any other: program cache, trace
def all_gather(input_tensor, dim: int, *, cluster_axis: int | None = None, memory_config=None, output_tensor=None,
               subdevice_id=None, sub_core_grids=None, num_links: int | None = None, topology=None,
               chunks_per_sync=None, num_workers_per_link=None, num_buffers_per_channel=None,
               use_l1_small_for_semaphores: bool = False) -> Tensor:
    """Concatenate the parts of each chip group along ``dim``; every chip of the group gets the whole."""
    op = "ttnn.all_gather"
    t = _validate(op, input_tensor, output_tensor)
    rank = len(t.shape)
    check(-rank <= dim < rank, op, f"Invalid gather dim {dim} for {rank}D input tensor")
    d = normalize_dim(dim, rank, op)
    groups = _groups(op, t, cluster_axis, num_links, topology, reduces=False)
    values = chip_values(t, op)
    per_chip = [None] * len(values)
    for group in groups:
        gathered = torch.cat([values[c] for c in group], dim=d)
        for c in group:
            per_chip[c] = gathered
    return _output(t, per_chip, memory_config)


@recorded_op("ttnn.reduce_scatter")  # a device op like any other: program cache, trace
def reduce_scatter(input_tensor, dim: int, *, cluster_axis: int | None = None, subdevice_id=None, memory_config=None,
                   intermediate_memory_config=None, output_tensor=None, num_links: int | None = None, topology=None,
                   chunks_per_sync=None, num_workers_per_link=None, num_buffers_per_channel=None,
                   compute_kernel_config=None, use_l1_small_for_semaphores: bool = False) -> Tensor:
    """Sum each chip group, then chip j of the group keeps part j of the sum along ``dim``."""
    op = "ttnn.reduce_scatter"
    t = _validate(op, input_tensor, output_tensor)
    rank = len(t.shape)
    d = normalize_dim(dim, rank, op)
    groups = _groups(op, t, cluster_axis, num_links, topology, reduces=True)
    ring = len(groups[0])
    check(t.shape[d] % ring == 0, op, f"reduce_scatter dim {dim} of size {t.shape[d]} does not split over the "
                                      f"{ring} devices (input_shape[dim] % ring_size == 0)")
    values = chip_values(t, op)
    per_chip = [None] * len(values)
    for group in groups:
        parts = torch.chunk(_group_sum(values, group), ring, dim=d)
        for j, c in enumerate(group):
            per_chip[c] = parts[j]
    return _output(t, per_chip, memory_config)


@recorded_op("ttnn.all_reduce")  # a device op like any other: program cache, trace
def all_reduce(input_tensor, *, cluster_axis: int | None = None, subdevice_id=None, memory_config=None,
               num_links: int | None = None, topology=None) -> Tensor:
    """Every chip of a group gets the group's elementwise sum (float32 in chip order, rounded once)."""
    op = "ttnn.all_reduce"
    t = _validate(op, input_tensor, None)
    groups = _groups(op, t, cluster_axis, num_links, topology, reduces=True)
    values = chip_values(t, op)
    per_chip = [None] * len(values)
    for group in groups:
        total = _group_sum(values, group)
        for c in group:
            per_chip[c] = total
    return _output(t, per_chip, memory_config)


__getattr__ = not_emulated_getattr("ttnn")

