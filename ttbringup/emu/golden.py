"""Golden functions: the torch reference of each emulated op, as 0.81.1 attaches them to its ops.

``attach()`` sets ``op.golden_function`` on every emulated op: a function of torch tensors taking the op's
arguments (tensors as torch tensors, the rest as passed to the op) and returning torch tensors. Ops whose real
golden is None get None: ``empty``, ``deallocate``, ``dump_tensor``, the ``experimental.nlp_*`` head ops and the
paged cache ops; helpers that are not ops there (``get_memory_config``, ``create_sharded_memory_config``,
``get_device_tensors``) have no attribute. ``get_golden_function(op)`` returns it, or
raises ``RuntimeError("<op> does not have a golden function")`` like the real one. The positional parameters of
each golden are those of the real one (checked in the conformance lane); every golden takes and ignores the
other keywords of its op.

A golden is the op's mathematical definition in float32 (rounded into ``dtype`` where the op takes one), not a
model of the card: compare an op against it with a tolerance, as tt-metal's tests do.
"""

from __future__ import annotations

import builtins
import importlib
import math

import torch
import torch.nn.functional as F

TORCH_DTYPES = {"BFLOAT16": torch.bfloat16, "FLOAT32": torch.float32, "BFLOAT8_B": torch.float32,
                "BFLOAT4_B": torch.float32, "INT32": torch.int32, "UINT32": torch.int64, "UINT16": torch.int32,
                "UINT8": torch.uint8, "INT8": torch.int8}


def get_golden_function(operation):
    """The torch reference attached to ``operation`` (see the module docstring)."""
    golden = getattr(operation, "golden_function", None)
    if golden is None:
        raise RuntimeError(f"{operation} does not have a golden function")
    return golden


def _in_dtype(x: torch.Tensor, dtype):
    """``x`` rounded into ttnn ``dtype`` (None: unchanged); block floats through their block quantisation."""
    if dtype is None:
        return x
    from .tensor import BlockFloat, encode
    from .types import BLOCK_FLOAT_DTYPES, Layout

    if dtype in BLOCK_FLOAT_DTYPES:
        stored = encode(x.float(), dtype, Layout.TILE)
        return stored.decode() if isinstance(stored, BlockFloat) else stored
    return encode(x, dtype, Layout.ROW_MAJOR).to(TORCH_DTYPES[dtype.name])


# ----------------------------------------------------------------------------- host, layout, dtype


def from_torch(input_tensor, dtype=None, **_):
    return None if input_tensor is None else _in_dtype(input_tensor, dtype)


def as_tensor(tensor, dtype=None, *, preprocess=None, **_):
    if preprocess is not None:
        tensor = preprocess(tensor)
    return _in_dtype(tensor, dtype)


def identity(tensor, *args, **kwargs):
    return tensor


def to_torch(tensor, dtype=None, *, torch_rank=None, **_):
    out = tensor if dtype is None else tensor.to(dtype)
    while torch_rank is not None and out.dim() > torch_rank:
        out = out.squeeze(0)
    return out


def copy_host_to_device_tensor(*args, **kwargs):
    """The copy returns None; so does its golden."""
    return None


def load_tensor(file_name, *, device=None, **_):
    from .core import to_torch as host_to_torch
    from .tensor_file import load_tensor as load

    return host_to_torch(load(file_name))


def to_dtype(tensor, dtype, *args, **kwargs):
    return _in_dtype(tensor, dtype)


def typecast(input_tensor, *dtype_args, dtype=None, **_):
    return _in_dtype(input_tensor, dtype if dtype is not None else dtype_args[0])


# ----------------------------------------------------------------------------- creation


def _filled(shape, value, dtype):
    from .types import DataType

    return _in_dtype(torch.full(tuple(shape), float(value)), dtype or DataType.BFLOAT16)


def zeros(shape, dtype=None, *_, **__):
    return _filled(shape, 0.0, dtype)


def ones(shape, dtype=None, *_, **__):
    return _filled(shape, 1.0, dtype)


def full(shape, fill_value, dtype=None, *_, **__):
    return _filled(shape, fill_value, dtype)


def allocate_tensor_on_device(*args, **kwargs):
    """Uninitialised storage of the requested shape and dtype (``(shape, dtype, layout, mesh_device, ...)`` or
    ``(tensor_spec, mesh_device)``)."""
    first = args[0] if args else kwargs.get("tensor_spec", kwargs.get("shape"))
    if hasattr(first, "memory_config"):  # a TensorSpec
        shape, dtype = first.shape, first.dtype
    else:
        shape = first
        dtype = args[1] if len(args) > 1 else kwargs.get("dtype")
    return torch.empty(tuple(shape), dtype=TORCH_DTYPES[dtype.name] if dtype is not None else torch.bfloat16)


# ----------------------------------------------------------------------------- matmul


def _activation(activation):
    from .activation import activation_function

    return activation_function(activation, "golden")


def _product(a, b, transpose_a, transpose_b, bias, activation, program_config, dtype):
    if transpose_a:
        a = a.transpose(-1, -2)
    if transpose_b:
        b = b.transpose(-1, -2)
    out = a.float() @ b.float()
    if bias is not None:
        out = out + bias.float().reshape(-1, bias.shape[-1])[0]
    fused = getattr(program_config, "fused_activation", None)
    act = _activation(fused if fused is not None else activation)
    if act is not None:
        out = act(out)
    while out.dim() > a.dim() and out.shape[0] == 1:
        out = out.squeeze(0)
    return _in_dtype(out, dtype)


def matmul(input_tensor_a, input_tensor_b, transpose_a=False, transpose_b=False, *, bias=None, activation=None,
           program_config=None, dtype=None, **_):
    return _product(input_tensor_a, input_tensor_b, transpose_a, transpose_b, bias, activation, program_config, dtype)


def linear(input_tensor_a, input_tensor_b, transpose_a=False, transpose_b=False, *, bias=None, program_config=None,
           activation=None, dtype=None, **_):
    return _product(input_tensor_a, input_tensor_b, transpose_a, transpose_b, bias, activation, program_config, dtype)


# ----------------------------------------------------------------------------- normalization, softmax


def rms_norm(input_tensor, weight=None, *, epsilon=1e-12, bias=None, residual_input_tensor=None, **_):
    x = input_tensor.float()
    if residual_input_tensor is not None:
        x = x + residual_input_tensor.float()
    x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + epsilon)
    if weight is not None:
        x = x * weight.float().reshape(-1)[: x.shape[-1]]
    if bias is not None:
        x = x + bias.float().reshape(-1)[: x.shape[-1]]
    return x


def layer_norm(input_tensor, *, epsilon=1e-12, residual_input_tensor=None, weight=None, bias=None, **_):
    x = input_tensor.float()
    if residual_input_tensor is not None:
        x = x + residual_input_tensor.float()
    w = None if weight is None else weight.float().reshape(-1)[: x.shape[-1]]
    b = None if bias is None else bias.float().reshape(-1)[: x.shape[-1]]
    return F.layer_norm(x, (x.shape[-1],), w, b, eps=epsilon)


def softmax(input_tensor, dim=None, **_):
    return torch.softmax(input_tensor.float(), -1 if dim is None else dim)


def scale_mask_softmax(input_tensor, scale=None, mask=None, *_, **__):
    x = input_tensor.float()
    if scale is not None:
        x = x * scale
    if mask is not None:
        x = x + mask.float()
    return torch.softmax(x, dim=-1)


# ----------------------------------------------------------------------------- eltwise


def add(input_tensor_a, input_tensor_b, *args, **kwargs):
    return torch.add(input_tensor_a, input_tensor_b)


def subtract(input_tensor_a, input_tensor_b, *args, **kwargs):
    return torch.sub(input_tensor_a, input_tensor_b)


def multiply(input_tensor_a, input_tensor_b, *args, **kwargs):
    return torch.mul(input_tensor_a, input_tensor_b)


def silu(input_tensor, *args, **kwargs):
    return F.silu(input_tensor.float())


def relu(input_tensor, *args, **kwargs):
    return torch.relu(input_tensor)


def gelu(input_tensor, *args, **kwargs):
    return F.gelu(input_tensor.float())  # erf, the default variant


# ----------------------------------------------------------------------------- embedding, data movement


def embedding(input_tensor, weight, *, dtype=None, **_):
    return _in_dtype(F.embedding(input_tensor.to(torch.int64), weight), dtype)


def concat(tensors, dim=0, groups=1, **_):
    return torch.cat(list(tensors), dim)


def slice(input_tensor, slice_start=None, slice_end=None, slice_step=None, *args, **kwargs):
    steps = slice_step if slice_step is not None else [1] * len(slice_start)
    return input_tensor[tuple(builtins.slice(int(s), int(e), int(st)) for s, e, st in zip(slice_start, slice_end, steps))]



def reshape(input_tensor, shape):
    return input_tensor.reshape(tuple(shape))


def transpose(input_tensor, dim1, dim2, *args, **kwargs):
    return torch.transpose(input_tensor, dim1, dim2)


def permute(input_tensor, dims, **_):
    return torch.permute(input_tensor, tuple(dims))


def slice_write(input_tensor, output_tensor, start, end, step, *args, **kwargs):
    out = output_tensor.clone()
    out[tuple(builtins.slice(b, e, s) for b, e, s in zip(start, end, step))] = input_tensor.to(out.dtype)
    return out


def fill_implicit_tile_padding(input_tensor, fill_value, *args, **kwargs):
    return input_tensor


# ----------------------------------------------------------------------------- KV caches


def fill_cache(cache_tensor, input_tensor, batch_idx, *args, update_idx=0, **kwargs):
    rows = input_tensor.shape[-2]
    cache_tensor[batch_idx: batch_idx + 1, :, update_idx: update_idx + rows, :] = input_tensor
    return cache_tensor


def update_cache(cache, input, update_idx, *args, batch_offset=0, **kwargs):
    for user in range(cache.shape[0]):
        cache[user, :, update_idx, :] = input[0, :, batch_offset + user, :]
    return cache






# ----------------------------------------------------------------------------- transformer helpers


def _rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def rotary_embedding(x, cos_cached, sin_cached, token_idx=None, **_):
    """HF rotate-half: rows ``token_idx`` (decode) or ``0 .. S-1`` (prefill) of the caches."""
    rows = builtins.slice(token_idx, token_idx + 1) if token_idx is not None else builtins.slice(0, x.shape[-2])
    cos, sin = cos_cached[:, :, rows, :].float(), sin_cached[:, :, rows, :].float()
    return x.float() * cos + _rotate_half(x.float()) * sin










def scaled_dot_product_attention(input_tensor_q, input_tensor_k, input_tensor_v, *, attn_mask=None, is_causal=True,
                                 scale=None, **_):
    q, k, v = input_tensor_q.float(), input_tensor_k.float(), input_tensor_v.float()
    groups = q.shape[1] // k.shape[1]
    k, v = k.repeat_interleave(groups, dim=1), v.repeat_interleave(groups, dim=1)
    scale = q.shape[-1] ** -0.5 if scale is None else scale
    scores = (q @ k.transpose(-2, -1)) * scale
    if attn_mask is not None:
        scores = scores + attn_mask.float()
    elif is_causal:
        keep = torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool).tril()
        scores = scores.masked_fill(~keep, -math.inf)
    return torch.softmax(scores, dim=-1) @ v


def scaled_dot_product_attention_decode(input_tensor_q, input_tensor_k, input_tensor_v, *, is_causal=True,
                                        attn_mask=None, cur_pos=(), cur_pos_tensor=None, scale=None, **_):
    """q ``[1, B, nh, hd]`` over caches ``[B, nkv, S, hd]``: user b sees positions ``0 .. cur_pos[b]`` (causal),
    or the mask (``[B, 1, nh, S]``); position -1 gives zeros."""
    q = input_tensor_q.float().permute(1, 2, 0, 3)  # [B, nh, 1, hd]
    k, v = input_tensor_k.float(), input_tensor_v.float()
    users, seq = q.shape[0], k.shape[-2]
    positions = cur_pos_tensor.reshape(-1).tolist() if cur_pos_tensor is not None else list(cur_pos)
    positions = positions or [seq - 1] * users
    scale = q.shape[-1] ** -0.5 if scale is None else scale
    groups = q.shape[1] // k.shape[1]
    out = torch.zeros_like(q)
    for b in range(users):
        pos = int(positions[b % len(positions)]) if is_causal else seq - 1
        if pos < 0:
            continue
        kb = k[b: b + 1, :, : pos + 1].repeat_interleave(groups, dim=1)
        vb = v[b: b + 1, :, : pos + 1].repeat_interleave(groups, dim=1)
        scores = (q[b: b + 1] @ kb.transpose(-2, -1)) * scale
        if attn_mask is not None and not is_causal:
            scores = scores + attn_mask[b: b + 1].float().permute(0, 2, 1, 3)[..., : pos + 1]
        out[b: b + 1] = torch.softmax(scores, dim=-1) @ vb
    return out.permute(2, 0, 1, 3)  # [1, B, nh, hd]


# ----------------------------------------------------------------------------- collectives (per-chip inputs)


def all_gather(input_tensor, dim, *args, **kwargs):
    """``input_tensor``: every chip's part, in chip order (a list of torch tensors)."""
    return torch.cat(list(input_tensor), dim)


def all_reduce(input_tensor, *args, **kwargs):
    return torch.stack([t.float() for t in input_tensor]).sum(0)


def reduce_scatter(input_tensor, dim, *args, **kwargs):
    total = torch.stack([t.float() for t in input_tensor]).sum(0)
    return list(total.chunk(len(input_tensor), dim))


# ----------------------------------------------------------------------------- attach


def _table():
    """Emulated op -> its golden (None where the real golden is None)."""
    def mod(name):  # by module path: the package namespace binds some module names to their ops (ttnn.matmul)
        return importlib.import_module(f"{__package__}.{name}")

    ccl, core, creation, data_movement, eltwise, emb, kv_cache, mm, norm, writes, tensor_file = map(mod, (
        "ccl", "core", "creation", "data_movement", "eltwise", "embedding", "kv_cache", "matmul", "normalization",
        "region_writes", "tensor_file"))
    nlp_heads, paged_cache, rope, sdpa, sdpa_decode = map(mod, (
        "experimental.nlp_heads", "experimental.paged_cache", "experimental.rotary_embedding", "transformer.sdpa",
        "transformer.sdpa_decode"))

    g = globals()
    table = {
        core.from_torch: from_torch, core.to_torch: to_torch, core.as_tensor: as_tensor, core.to_device: identity,
        core.from_device: identity, core.to_layout: identity, core.to_dtype: to_dtype, core.typecast: typecast,
        core.to_memory_config: identity, core.deallocate: None, core.copy_host_to_device_tensor: copy_host_to_device_tensor,
        tensor_file.dump_tensor: None, tensor_file.load_tensor: load_tensor,
        creation.zeros: zeros, creation.ones: ones, creation.full: full, creation.empty: None,
        mm.matmul: matmul, mm.linear: linear, norm.rms_norm: rms_norm, norm.layer_norm: layer_norm,
        norm.softmax: softmax, eltwise.add: add, eltwise.subtract: subtract, eltwise.multiply: multiply,
        eltwise.silu: silu, eltwise.relu: relu, eltwise.gelu: gelu, emb.embedding: embedding,
        kv_cache.fill_cache: fill_cache, kv_cache.update_cache: update_cache,
        rope.rotary_embedding: rotary_embedding,
        # 0.81.1 attaches no golden to these (its get_golden_function refuses them): None, as there
        paged_cache.paged_update_cache: None, paged_cache.paged_fill_cache: None,
        sdpa.scaled_dot_product_attention: scaled_dot_product_attention,
        sdpa_decode.scaled_dot_product_attention_decode: scaled_dot_product_attention_decode,
        ccl.all_gather: all_gather, ccl.all_reduce: all_reduce, ccl.reduce_scatter: reduce_scatter,
    }
    for name in ("concat", "slice", "reshape", "transpose", "permute"):
        table[getattr(data_movement, name)] = g[name]
    table[writes.slice_write] = slice_write
    table[writes.fill_implicit_tile_padding] = fill_implicit_tile_padding
    for name in ("nlp_create_qkv_heads", "nlp_create_qkv_heads_decode", "nlp_concat_heads", "nlp_concat_heads_decode"):
        table[getattr(nlp_heads, name)] = None
    table[norm.scale_mask_softmax] = scale_mask_softmax
    table[creation.allocate_tensor_on_device] = allocate_tensor_on_device
    return table


def attach() -> None:
    """Set ``golden_function`` on every emulated op (see the module docstring)."""
    for op, golden in _table().items():
        op.golden_function = golden
