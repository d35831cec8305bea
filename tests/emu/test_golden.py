"""Golden functions: ``ttnn.get_golden_function(op)`` / ``op.golden_function`` for every emulated op, used the way
tt-metal's op tests use them (run the golden on the torch inputs, compare the device result with a PCC)."""

import inspect

import pytest
import torch

import ttbringup.emu as ttnn

G = torch.Generator().manual_seed(1616)


def rnd(*shape):
    return torch.randn(*shape, generator=G)


def dev(device, x, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT):
    return ttnn.from_torch(x, dtype=dtype, layout=layout, device=device)


def resolve(name):
    obj = ttnn
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


NOT_OPS = {  # exported callables that are not tensor ops (no golden in 0.81.1 either)
    "open_device", "close_device", "open_mesh_device", "close_mesh_device", "set_fabric_config", "get_fabric_config",
    "GetNumAvailableDevices", "replicate_tensor_to_mesh_mapper", "ReplicateTensorToMesh", "ShardTensorToMesh",
    "shard_tensor_to_mesh_mapper", "ShardTensor2dMesh", "create_mesh_mapper", "ConcatMeshToTensor",
    "concat_mesh_to_tensor_composer", "ConcatMesh2dToTensor", "create_mesh_composer", "combine_device_tensors",
    "begin_trace_capture", "end_trace_capture", "execute_trace", "release_trace", "record_event", "wait_for_event",
    "event_synchronize", "synchronize_device", "get_golden_function", "num_cores_to_corerangeset",
    "is_tensor_storage_on_device", "get_memory_config", "create_sharded_memory_config", "get_device_tensors",
    "copy_host_to_device_tensor",
}


def test_every_emulated_op_carries_a_golden_function_attribute():
    missing = []
    for prefix, module in (("", ttnn), ("experimental.", ttnn.experimental), ("transformer.", ttnn.transformer)):
        for name, obj in vars(module).items():
            if inspect.isfunction(obj) and not name.startswith("_") and name != "not_emulated_getattr":
                if prefix + name not in NOT_OPS and not hasattr(obj, "golden_function"):
                    missing.append(prefix + name)
    assert not missing


def test_get_golden_function_is_the_attribute_and_refuses_ops_without_one():
    assert ttnn.get_golden_function(ttnn.matmul) is ttnn.matmul.golden_function
    for op in (ttnn.empty, ttnn.deallocate, ttnn.dump_tensor):
        assert op.golden_function is None
        with pytest.raises(RuntimeError, match="does not have a golden function"):
            ttnn.get_golden_function(op)


CASES = {
    "matmul": lambda d: ((rnd(1, 1, 64, 96), rnd(1, 1, 96, 128)), {}),
    "linear": lambda d: ((rnd(1, 1, 64, 96), rnd(1, 1, 96, 128)), {"bias": rnd(1, 1, 1, 128), "activation": "silu"}),
    "rms_norm": lambda d: ((rnd(1, 1, 32, 128),), {"weight": rnd(1, 1, 1, 128), "epsilon": 1e-6}),
    "layer_norm": lambda d: ((rnd(1, 1, 32, 128),), {"weight": rnd(1, 1, 1, 128), "bias": rnd(1, 1, 1, 128),
                                                     "epsilon": 1e-5}),
    "softmax": lambda d: ((rnd(1, 2, 32, 64),), {"dim": -1}),
    "add": lambda d: ((rnd(1, 1, 32, 64), rnd(1, 1, 32, 64)), {}),
    "subtract": lambda d: ((rnd(1, 1, 32, 64), rnd(1, 1, 1, 64)), {}),
    "multiply": lambda d: ((rnd(1, 1, 32, 64), rnd(1, 1, 32, 64)), {}),
    "silu": lambda d: ((rnd(1, 1, 32, 64),), {}),
    "relu": lambda d: ((rnd(1, 1, 32, 64),), {}),
    "gelu": lambda d: ((rnd(1, 1, 32, 64),), {}),
    "transpose": lambda d: ((rnd(1, 4, 32, 64), 1, 2), {}),
    "permute": lambda d: ((rnd(1, 4, 32, 64), (0, 2, 1, 3)), {}),
    "reshape": lambda d: ((rnd(1, 4, 32, 64), (1, 1, 128, 64)), {}),
    "slice": lambda d: ((rnd(1, 4, 64, 64), [0, 1, 32, 0], [1, 3, 64, 64]), {}),
    "experimental.rotary_embedding": lambda d: ((rnd(1, 2, 32, 64), rnd(1, 1, 32, 64), rnd(1, 1, 32, 64)), {}),
    "transformer.scaled_dot_product_attention": lambda d: ((rnd(1, 8, 64, 64), rnd(1, 2, 64, 64), rnd(1, 2, 64, 64)),
                                                           {"is_causal": True}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_op_agrees_with_its_golden(device, pcc, name):
    op = resolve(name)
    args, kwargs = CASES[name](device)
    tt_args = [dev(device, a) if isinstance(a, torch.Tensor) else a for a in args]
    tt_kwargs = {k: dev(device, v) if isinstance(v, torch.Tensor) else v for k, v in kwargs.items()}
    out = ttnn.to_torch(op(*tt_args, **tt_kwargs)).float()
    bf16 = [a.to(torch.bfloat16).float() if isinstance(a, torch.Tensor) else a for a in args]
    bf16_kw = {k: v.to(torch.bfloat16).float() if isinstance(v, torch.Tensor) else v for k, v in kwargs.items()}
    golden = ttnn.get_golden_function(op)(*bf16, **bf16_kw).float()
    assert golden.shape == out.shape or golden.squeeze().shape == out.squeeze().shape
    assert pcc(golden.reshape(out.shape), out) >= 0.999


def test_goldens_take_the_op_arguments_by_name():
    """Code calls goldens with the op's own keywords (``golden(x, weight=w, epsilon=eps)``); every golden accepts
    the op's other keywords and ignores them."""
    for op in (ttnn.rms_norm, ttnn.linear, ttnn.softmax, ttnn.add, ttnn.transformer.scaled_dot_product_attention):
        params = inspect.signature(op.golden_function).parameters.values()
        assert any(p.kind == p.VAR_KEYWORD for p in params), op
