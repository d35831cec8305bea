"""A torch emulator of the ttnn 0.81.1 API subset that LLM bringups use.

Import it as ``ttnn`` through :func:`ttbringup.backend.load`; model code never imports this
package by name. Where each ttnn name lives here:

=============================================  ===========================
ttnn name                                      module
=============================================  ===========================
Tensor, Shape, dtypes, layouts, MemoryConfig   ``tensor``, ``types``
open_device, open_mesh_device, MeshDevice,     ``device``
set_fabric_config, get_fabric_config
ShardTensorToMesh, ReplicateTensorToMesh,      ``distributed``
ConcatMeshToTensor, create_mesh_mapper, ...,
get_device_tensors, combine_device_tensors
all_gather, reduce_scatter, all_reduce         ``ccl``
from_torch, to_torch, as_tensor, to_layout,    ``core``
to_dtype, typecast, to_memory_config,
deallocate, create_sharded_memory_config
zeros, ones, full, empty                       ``creation``
linear, matmul                                 ``matmul``
rms_norm, layer_norm, softmax                  ``normalization``
add, sub, mul, silu, relu, gelu                ``eltwise``
embedding, EmbeddingsType                      ``embedding``
concat, slice, reshape, transpose, permute,    ``data_movement``
TileReshapeMapMode
fill_cache, update_cache                       ``kv_cache``
begin_trace_capture, end_trace_capture,        ``trace``
execute_trace, release_trace, MeshTraceId
record_event, wait_for_event, QueueId,         ``events``
event_synchronize, synchronize_device, MeshEvent
Matmul...ProgramConfig, SDPAProgramConfig      ``program_configs``
CoreRange(Set) methods,                        ``cores``
num_cores_to_corerangeset
UnaryOpType, UnaryWithParam                    ``activation``
dump_tensor, load_tensor, as_tensor cache      ``tensor_file``
experimental.slice_write,                      ``region_writes``
fill_implicit_tile_padding
get_golden_function, op.golden_function        ``golden``
ttnn.experimental.*                            ``experimental/``
ttnn.transformer.*                             ``transformer/``
ttnn.operations.*                              ``operations/`` (the modules above)
=============================================  ===========================

While the emulator is registered as ``ttnn``, ``import ttnn.core``, ``from ttnn.device import Arch`` and the
other real submodule imports resolve to these same module objects (``submodules``).

Every device op runs per chip on a mesh (``per_chip``). Any other public ttnn name resolves to a stand-in that raises ``NotEmulatedError`` when used.
Emulator-only helpers (memory reports, data-free checks) live in ``ttbringup.emu.memory`` and
are not part of the ttnn namespace users code against.
"""

from . import experimental, golden, operations, submodules, transformer
from .activation import UnaryOpType, UnaryWithParam
from .ccl import all_gather, all_reduce, reduce_scatter
from .core import (
    as_tensor,
    copy_host_to_device_tensor,
    create_sharded_memory_config,
    deallocate,
    from_device,
    from_torch,
    get_memory_config,
    is_tensor_storage_on_device,
    to_device,
    to_dtype,
    to_layout,
    to_memory_config,
    to_torch,
    typecast,
)
from .cores import num_cores_to_corerangeset
from .creation import allocate_tensor_on_device, empty, full, ones, zeros
from .tensor_spec import TensorSpec
from .data_movement import TileReshapeMapMode, concat, permute, reshape, slice, transpose
from .device import (
    Arch,
    Device,
    DispatchCoreAxis,
    DispatchCoreConfig,
    DispatchCoreType,
    GetNumAvailableDevices,
    MeshDevice,
    close_device,
    close_mesh_device,
    get_fabric_config,
    open_device,
    open_mesh_device,
    set_fabric_config,
)
from .distributed import (
    ConcatMesh2dToTensor,
    ConcatMeshToTensor,
    CppMeshToTensor,
    CppTensorToMesh,
    MeshComposerConfig,
    MeshMapperConfig,
    MeshToTensor,
    PlacementReplicate,
    PlacementShard,
    ReplicateTensorToMesh,
    ReplicateTensorToMeshWrapper,
    ShardTensor2dMesh,
    ShardTensorToMesh,
    TensorToMesh,
    combine_device_tensors,
    concat_mesh_to_tensor_composer,
    create_mesh_composer,
    create_mesh_mapper,
    get_device_tensors,
    replicate_tensor_to_mesh_mapper,
    shard_tensor_to_mesh_mapper,
)
from .eltwise import add, gelu, mul, multiply, relu, silu, sub, subtract
from .embedding import EmbeddingsType, embedding
from .errors import not_emulated_getattr
from .events import MeshEvent, QueueId, event_synchronize, record_event, synchronize_device, wait_for_event
from .golden import get_golden_function
from .kv_cache import fill_cache, update_cache
from .matmul import linear, matmul
from .normalization import layer_norm, rms_norm, scale_mask_softmax, softmax
from .program_configs import (
    MatmulMultiCoreReuseMultiCast1DProgramConfig,
    MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig,
    MatmulMultiCoreReuseMultiCastProgramConfig,
    SDPAProgramConfig,
)
from .region_writes import fill_implicit_tile_padding
from .tensor import Tensor
from .tensor_file import dump_tensor, load_tensor
from .trace import MeshTraceId, begin_trace_capture, end_trace_capture, execute_trace, release_trace
from .types import (
    DRAM_MEMORY_CONFIG,
    L1_MEMORY_CONFIG,
    TILE_SIZE,
    BlackholeComputeKernelConfig,
    BufferType,
    CoreCoord,
    CoreGrid,
    CoreRange,
    CoreRangeSet,
    DataType,
    DumpTensorMode,
    FabricConfig,
    GeluVariant,
    Layout,
    MathFidelity,
    MemoryConfig,
    MeshCoordinate,
    MeshShape,
    NdShardSpec,
    ShardDistributionStrategy,
    Shape,
    ShardOrientation,
    ShardSpec,
    ShardStrategy,
    StorageType,
    TensorMemoryLayout,
    Tile,
    Topology,
    WormholeComputeKernelConfig,
)

__version__ = "0.81.1+emu"
IS_EMULATOR = True  # lets harnesses tell the emulator from the real package

bfloat16 = DataType.BFLOAT16
float32 = DataType.FLOAT32
bfloat8_b = DataType.BFLOAT8_B
bfloat4_b = DataType.BFLOAT4_B
uint8 = DataType.UINT8
uint16 = DataType.UINT16
uint32 = DataType.UINT32
int8 = DataType.INT8
int32 = DataType.INT32
fp8_e4m3 = DataType.FP8_E4M3
ROW_MAJOR_LAYOUT = Layout.ROW_MAJOR
TILE_LAYOUT = Layout.TILE


class _Config:
    """``ttnn.CONFIG``: settings bringups toggle; the emulator never falls back, so they are inert."""

    throw_exception_on_fallback = True
    enable_fast_runtime_mode = True
    enable_logging = False


CONFIG = _Config()

__getattr__ = not_emulated_getattr("ttnn")

golden.attach()  # op.golden_function, as the real package attaches them
submodules.install()  # `import ttnn.core` etc. reach these modules while the emulator is `ttnn`
