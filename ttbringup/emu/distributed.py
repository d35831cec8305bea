"""Mesh mappers and composers (``ttnn/distributed``), and the per-device accessors.

A mapper says how ``from_torch`` / ``as_tensor`` lay a torch tensor over a mesh; a composer how ``to_torch``
puts a mesh tensor back together. Chips are in row-major mesh order (chip ``r * cols + c`` is
``MeshCoordinate(r, c)``).

* ``ReplicateTensorToMesh(mesh)`` / ``replicate_tensor_to_mesh_mapper``: every chip holds the whole tensor.
* ``ShardTensorToMesh(mesh, dim)`` / ``shard_tensor_to_mesh_mapper``: ``dim`` split into one equal part per
  chip, over the whole mesh in row-major order.
* ``ShardTensor2dMesh(mesh, mesh_shape, dims)`` / ``create_mesh_mapper(mesh, MeshMapperConfig(...))``: per mesh
  axis, shard a dim over that axis (``dims[i]`` / ``PlacementShard(d)``) or replicate (``None`` /
  ``PlacementReplicate()``).
* ``ConcatMeshToTensor(mesh, dim)`` / ``concat_mesh_to_tensor_composer``: all chips concatenated along ``dim``;
  ``ConcatMesh2dToTensor(mesh, mesh_shape, dims)`` / ``create_mesh_composer(mesh, MeshComposerConfig(...))``:
  each row's chips along ``dims[1]``, then the rows along ``dims[0]``.

Parts must be equal: a dim that does not split evenly is refused, as 0.81.1 refuses it (its
``shard_shape.value() == xtensor_shard_shape`` check; a dim smaller than the chip count crashes the real process).
"""

from __future__ import annotations

import torch

from .errors import TTError, check, fatal, not_emulated_getattr
from .per_chip import join_chip_tensors
from .tensor import Tensor, chip_storage, num_stacked
from .types import MeshShape


class PlacementReplicate:
    """``ttnn.PlacementReplicate()``: the mesh axis holds copies."""

    def __repr__(self):
        return "PlacementReplicate()"


class PlacementShard:
    """``ttnn.PlacementShard(dim)``: the mesh axis splits tensor dim ``dim``."""

    def __init__(self, dim: int, /):
        self.dim = int(dim)

    def __repr__(self):
        return f"PlacementShard({self.dim})"


class MeshMapperConfig:
    """``ttnn.MeshMapperConfig(placements)`` or ``MeshMapperConfig(row_dim=None, col_dim=None)``."""

    def __init__(self, placements=None, col_dim=None, mesh_shape_override=None, mesh_offset_override=None, *,
                 row_dim=None):
        if placements is not None and not isinstance(placements, (list, tuple)):  # positional row_dim form
            placements, row_dim = None, placements
        if placements is None:
            placements = [PlacementReplicate() if d is None else PlacementShard(d) for d in (row_dim, col_dim)]
        if mesh_shape_override is not None or mesh_offset_override is not None:
            from .errors import NotEmulated

            NotEmulated("ttnn.MeshMapperConfig(mesh_shape_override / mesh_offset_override)")()
        self.placements = list(placements)


class MeshComposerConfig:
    """``ttnn.MeshComposerConfig(dims)`` or ``MeshComposerConfig(row_dim, col_dim)``: the dim each mesh axis
    concatenates along."""

    def __init__(self, dims, col_dim=None, mesh_shape_override=None, mesh_offset_override=None):
        if mesh_shape_override is not None or mesh_offset_override is not None:
            from .errors import NotEmulated

            NotEmulated("ttnn.MeshComposerConfig(mesh_shape_override / mesh_offset_override)")()
        self.dims = [int(d) for d in dims] if isinstance(dims, (list, tuple)) else [int(dims), int(col_dim)]


class TensorToMesh:
    """A mapper: one placement per mesh axis (``CppTensorToMesh`` in the real package)."""

    def __init__(self, mesh_device, placements: list, flat: bool = False):
        self.mesh_device = mesh_device
        self.placements = placements
        self.flat = flat  # ShardTensorToMesh: one dim over all chips in row-major order, whatever the mesh's rank

    def is_replicate(self) -> bool:
        return all(isinstance(p, PlacementReplicate) for p in self.placements)

    def split(self, x: torch.Tensor, op: str) -> list[torch.Tensor]:
        """``x`` -> one tensor per chip, row-major over the mesh."""
        dims = self.mesh_device.rows_cols()
        if self.flat:
            return _chunks(x, self.placements[0], dims[0] * dims[1], op)
        check(len(self.placements) == 2, op, f"a mapper for a 2-D mesh needs 2 placements, got {len(self.placements)}")
        parts = []
        for row in _chunks(x, self.placements[0], dims[0], op):
            parts.extend(_chunks(row, self.placements[1], dims[1], op))
        return parts


CppTensorToMesh = TensorToMesh


class MeshToTensor:
    """A composer: the dim each mesh axis concatenates along (``CppMeshToTensor`` in the real package)."""

    def __init__(self, mesh_device, dims: list[int], flat: bool = False):
        self.mesh_device = mesh_device
        self.dims = dims
        self.flat = flat

    def compose(self, parts: list[torch.Tensor]) -> torch.Tensor:
        if self.flat:
            return torch.cat(parts, dim=self.dims[0])
        rows, cols = self.mesh_device.rows_cols()
        check(len(self.dims) == 2, "ttnn.to_torch", f"a composer for a 2-D mesh needs 2 dims, got {len(self.dims)}")
        return torch.cat([torch.cat(parts[r * cols:(r + 1) * cols], dim=self.dims[1]) for r in range(rows)],
                         dim=self.dims[0])


CppMeshToTensor = MeshToTensor


class ReplicateTensorToMeshWrapper(TensorToMesh):
    """What the deprecated ``ReplicateTensorToMesh`` returns in 0.81.1; ``from_torch`` takes it like any mapper."""


def _chunks(x: torch.Tensor, placement, parts: int, op: str) -> list[torch.Tensor]:
    if isinstance(placement, PlacementReplicate) or parts == 1:
        return [x] * parts
    dim = placement.dim
    check(-x.dim() <= dim < x.dim(), op, f"shard dim {dim} is out of range for a tensor of rank {x.dim()}")
    size = x.shape[dim]
    if size % parts:
        raise fatal(op, f"dim {dim} of size {size} does not split into {parts} equal shards, one per device "
                        "(shard_shape.value() == xtensor_shard_shape)")
    return list(torch.chunk(x, parts, dim=dim))


# ----------------------------------------------------------------------------- the 0.81.1 names


def ReplicateTensorToMesh(mesh_device) -> ReplicateTensorToMeshWrapper:
    return ReplicateTensorToMeshWrapper(mesh_device, [PlacementReplicate(), PlacementReplicate()])


def replicate_tensor_to_mesh_mapper(mesh_device) -> TensorToMesh:
    return TensorToMesh(mesh_device, [PlacementReplicate(), PlacementReplicate()])


def ShardTensorToMesh(mesh_device, dim: int) -> TensorToMesh:
    return TensorToMesh(mesh_device, [PlacementShard(dim)], flat=True)


def shard_tensor_to_mesh_mapper(mesh_device, dim: int) -> TensorToMesh:
    return TensorToMesh(mesh_device, [PlacementShard(dim)], flat=True)


def ShardTensor2dMesh(mesh_device, mesh_shape, dims) -> TensorToMesh:
    check(tuple(mesh_shape) == mesh_device.rows_cols(), "ttnn.ShardTensor2dMesh",
          f"mesh_shape {tuple(mesh_shape)} does not match the mesh device's shape {mesh_device.rows_cols()}")
    return create_mesh_mapper(mesh_device, MeshMapperConfig(row_dim=dims[0], col_dim=dims[1]))


def create_mesh_mapper(mesh_device, config: MeshMapperConfig) -> TensorToMesh:
    return TensorToMesh(mesh_device, list(config.placements))


def ConcatMeshToTensor(mesh_device, dim: int) -> MeshToTensor:
    return MeshToTensor(mesh_device, [dim], flat=True)


def concat_mesh_to_tensor_composer(mesh_device, dim: int) -> MeshToTensor:
    return MeshToTensor(mesh_device, [dim], flat=True)


def ConcatMesh2dToTensor(mesh_device, mesh_shape, dims) -> MeshToTensor:
    check(tuple(mesh_shape) == mesh_device.rows_cols(), "ttnn.ConcatMesh2dToTensor",
          f"mesh_shape {tuple(mesh_shape)} does not match the mesh device's shape {mesh_device.rows_cols()}")
    return MeshToTensor(mesh_device, [dims[0], dims[1]])


def create_mesh_composer(mesh_device, config: MeshComposerConfig) -> MeshToTensor:
    dims = config.dims
    return MeshToTensor(mesh_device, dims, flat=len(dims) == 1)


# ----------------------------------------------------------------------------- per-device accessors


def get_device_tensors(tensor: Tensor) -> list[Tensor]:
    """One tensor per chip (row-major): chip c's data; on device, each one's ``device()`` is the mesh."""
    tensor._check_alive("ttnn.get_device_tensors")
    out = []
    for c in range(tensor.num_chips()):
        view = tensor._chip_view(c, tensor._device)
        view._chip = c if tensor._device is not None else None
        out.append(view)
    return out


def combine_device_tensors(*, tensors: list[Tensor]) -> Tensor:
    """The inverse of ``get_device_tensors``: the shards of one mesh buffer, back as one mesh tensor."""
    op = "ttnn.combine_device_tensors"
    check(len(tensors) > 0, op, "expected at least one tensor")
    first = tensors[0]
    check(all(t._buffer is first._buffer and t._chip is not None for t in tensors), op,
          "All tensors shards must be allocated on the same mesh buffer")
    check(sorted(t._chip for t in tensors) == list(range(first._device.get_num_devices())), op,
          "expected one shard per device of the mesh")
    return join_chip_tensors(sorted(tensors, key=lambda t: t._chip), first._device, op)


def distribute(x: torch.Tensor, mapper, op: str) -> list[torch.Tensor] | None:
    """The per-chip parts of ``x`` under ``mapper``, or None when every chip gets all of it."""
    if mapper is None:
        return None
    if not isinstance(mapper, TensorToMesh):
        raise TypeError(f"{op}: mesh_mapper must be a ttnn mesh mapper, got {type(mapper).__name__}")
    if mapper.is_replicate():
        return None
    parts = mapper.split(x, op)
    return parts if len(parts) > 1 else None


def mesh_description(t: Tensor) -> str:
    """``MeshShape([1, 2])`` for error messages (a host tensor: its number of shards)."""
    if t._device is not None:
        return f"MeshShape({list(t._device.shape)})"
    return f"a host tensor of {t.num_chips()} device shards"


def compose(t: Tensor, composer, to_host) -> torch.Tensor:
    """``to_torch`` of a tensor on several chips: ``to_host(storage)`` per chip, joined by ``composer``."""
    if composer is None:
        raise TTError(f"ttnn.to_torch: Can't convert a tensor distributed on {mesh_description(t)} mesh to a torch "
                      "tensor without a mesh_composer (buffers.size() == 1); pass mesh_composer="
                      "ttnn.ConcatMeshToTensor(mesh, dim) or read one chip with ttnn.get_device_tensors")
    if not isinstance(composer, MeshToTensor):
        raise TypeError(f"ttnn.to_torch: mesh_composer must be a ttnn mesh composer, got {type(composer).__name__}")
    chips = t.num_chips()
    if t._shards is not None:
        parts = [to_host(chip_storage(t._shards, c)) for c in range(num_stacked(t._shards))]
    else:
        parts = [to_host(t._value)] * chips
    return composer.compose(parts)


__all__ = [
    "ConcatMesh2dToTensor", "ConcatMeshToTensor", "CppMeshToTensor", "CppTensorToMesh", "MeshComposerConfig",
    "MeshMapperConfig", "MeshShape", "MeshToTensor", "PlacementReplicate", "PlacementShard", "ReplicateTensorToMesh",
    "ReplicateTensorToMeshWrapper", "ShardTensor2dMesh", "ShardTensorToMesh", "TensorToMesh", "combine_device_tensors",
    "compose", "concat_mesh_to_tensor_composer", "create_mesh_composer", "create_mesh_mapper", "distribute",
    "get_device_tensors", "replicate_tensor_to_mesh_mapper", "shard_tensor_to_mesh_mapper",
]

__getattr__ = not_emulated_getattr("ttnn.distributed", also_in="ttbringup.emu")
