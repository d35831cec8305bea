"""``ttnn.transformer.scaled_dot_product_attention``: prefill attention.

``softmax(q kᵀ · scale + mask) v`` per batch and query head, in float32, rounded once to q's
dtype. Query head h reads kv head ``h // (nqh / nkv)`` (GQA, like ``repeat_interleave``).
``is_causal`` (the default) lets query i see keys ``j <= i`` and excludes ``attn_mask``; a
``sliding_window_size`` w further limits it to ``j > i - w`` (causal) or ``|j - i| <= w // 2``. Shapes are logical: only
the sequence dim may carry tile padding, so head counts and head_dim are tile-exact. In card mode the values are the
card's (``card_sdpa``: the 0.81.1 kernel's chunked online softmax; ``compute_kernel_config`` and the program
config's chunk sizes matter there only).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .. import card_sdpa, numerics_mode, program_configs
from ..errors import check
from ..kv_storage import is_data_free
from ..tensor import Tensor, new_tensor
from ..types import DRAM_MEMORY_CONFIG, BufferType, DataType, Layout, MemoryConfig
from ..operands import not_emulated, on_device
from ..per_chip import per_chip

OP = "ttnn.transformer.scaled_dot_product_attention"
SDPA_DTYPES = (DataType.BFLOAT16, DataType.BFLOAT8_B, DataType.BFLOAT4_B)


@per_chip
def scaled_dot_product_attention(input_tensor_q: Tensor, input_tensor_k: Tensor, input_tensor_v: Tensor, *,
                                 attn_mask: Tensor | None = None, is_causal: bool = True, scale: float | None = None,
                                 sliding_window_size: int | None = None, memory_config: MemoryConfig | None = None,
                                 program_config=None, compute_kernel_config=None, attention_sink: Tensor | None = None,
                                 cu_window_seqlens: Tensor | None = None, windowed_q_token_offset: int = 0,
                                 windowed_q_token_offset_tensor: Tensor | None = None,
                                 output_concat_heads: bool = False, attn_mask_block_map: Tensor | None = None) -> Tensor:
    """Attention of q ``[B, nqh, Sq, hd]`` over k, v ``[B, nkv, Sk, hd]`` -> ``[B, nqh, Sq, hd]``
    (``[B, 1, Sq, nqh * hd]`` with ``output_concat_heads``)."""
    if any(t is not None for t in (attention_sink, cu_window_seqlens, windowed_q_token_offset_tensor,
                                   attn_mask_block_map)) or windowed_q_token_offset:
        not_emulated(OP, "attention_sink / windowed attention / attn_mask_block_map")
    q, k, v = input_tensor_q, input_tensor_k, input_tensor_v
    if program_config is not None and not isinstance(program_config, program_configs.SDPAProgramConfig):
        raise TypeError(f"{OP}(): incompatible function arguments: program_config must be a ttnn.SDPAProgramConfig, "
                        f"got {type(program_config).__name__}")
    for t in (q, k, v):
        on_device(t, OP, "Operands to SDPA need to be on device")
        check(t.layout == Layout.TILE, OP, "Inputs to SDPA must be tilized")
        check(t.dtype in SDPA_DTYPES, OP,
              f"Data type of input tensor must be BFLOAT16, BFLOAT8_B, or BFLOAT4_B and is {t.dtype.name}")
        check(not t.is_sharded(), OP, "Operands to SDPA need to be DRAM/L1 interleaved")
        check(len(t.shape) == 4, OP, f"SDPA inputs must be 4D [B, heads, S, hd] but got {list(t.shape)}")
    window = sliding_window_size or 0
    check(not (is_causal and attn_mask is not None), OP,
          f"is_causal and attn_mask cannot both be present. Got is_causal: {str(is_causal).lower()}, "
          f"attn_mask: {str(attn_mask is not None).lower()}")
    check(not (window > 0 and attn_mask is not None), OP,
          "sliding_window_size and attn_mask cannot both be present; bake the sliding-window mask into attn_mask. "
          f"Got sliding_window_size: {window}, attn_mask: true")
    if attn_mask is not None:
        _check_mask(attn_mask, q, k)
    _check_shapes(q, k, v, is_causal, program_config)
    for t in (q, k, v):
        logical, padded = tuple(t.shape), tuple(t.padded_shape)
        check(logical[0] == padded[0], OP, "Padding is not supported on the batch dimension")
        check(logical[1] == padded[1], OP, "Padding is not supported on the num_heads dimension")
        check(logical[3] == padded[3], OP, "Padding is not supported on the head_dim dimension")

    batch, heads, seq_q, head_dim = tuple(q.shape)
    scale = 1.0 / math.sqrt(head_dim) if scale is None else scale
    if is_data_free(q, k, v, attn_mask):
        out = torch.empty((batch, heads, seq_q, head_dim), device="meta")
    elif numerics_mode.is_card():
        out = card_sdpa.prefill_op(q, k, v, attn_mask, is_causal, scale, window, compute_kernel_config, program_config)
    else:
        out = _attend(q, k, v, attn_mask, is_causal, scale, window)
    if output_concat_heads:
        out = out.transpose(1, 2).reshape(batch, 1, seq_q, heads * head_dim)
    return new_tensor(out, dtype=q.dtype, layout=Layout.TILE, device=q.device(),
                      memory_config=memory_config or DRAM_MEMORY_CONFIG, tile=q.tile)


def _check_mask(mask: Tensor, q: Tensor, k: Tensor) -> None:
    check(mask.device() is not None, OP, "When mask is provided to SDPA, the tensor must be on device")
    check(mask.device() is q.device(), OP,
          "When mask is provided to SDPA, it must be on the same device as the input tensors")
    mask._check_alive(OP)
    check(mask.layout == Layout.TILE, OP, "When mask is provided to SDPA, it must be tilized")
    check(mask.dtype in SDPA_DTYPES, OP, "When mask is provided to SDPA, it must be in BF16, BFP8, or BFP4 dataformat")
    check(mask.memory_config().buffer_type == BufferType.DRAM, OP, "When mask is provided to SDPA, it must be in DRAM")
    shape = tuple(mask.shape)
    check(len(shape) == 4, OP, f"Mask must be 4D but got {list(shape)}")
    check(shape[0] in (1, q.shape[0]), OP, "Mask batch dim must either be 1 (to be broadcasted across all batches) "
                                           "or must match Q batch dimension")
    check(shape[1] in (1, q.shape[1]), OP, "Mask num_heads must either be 1 (to be broadcasted across all heads) or "
                                           "must match Q heads dimension")
    check(shape[2] == q.shape[2], OP, "Mask sequence length must match Q sequence length")
    check(shape[3] == k.shape[2], OP, "Mask sequence length must match K sequence length")


def _check_shapes(q: Tensor, k: Tensor, v: Tensor, is_causal: bool, program_config) -> None:
    batch, nqh, seq_q, head_dim = tuple(q.shape)
    k_shape, v_shape = tuple(k.shape), tuple(v.shape)
    nkv, seq_k = k_shape[1], k_shape[2]
    if is_causal:
        check(seq_q == seq_k, OP,
              f"Causal SDPA requires Q and K to have the same sequence length. Got Q: {seq_q}, K: {seq_k}")
    check(k_shape[0] == batch and v_shape[0] == batch, OP,
          f"K and V batch must match. Got K: {k_shape[0]}, V: {v_shape[0]}")
    check(v_shape[1] == nkv, OP, f"K and V num_heads must match. Got K: {nkv}, V: {v_shape[1]}")
    check(v_shape[2] == seq_k, OP, f"K and V sequence length must match. Got K: {seq_k}, V: {v_shape[2]}")
    check(k_shape[3] == head_dim and v_shape[3] == head_dim, OP,
          f"K and V hidden dim must match. Got K: {k_shape[3]}, V: {v_shape[3]}")
    check(nqh >= nkv and nqh % nkv == 0, OP,
          f"Q num_heads must be >= K num_heads and divisible by K num_heads. Got Q: {nqh}, K: {nkv}")
    program_configs.check_sdpa_chunks(OP, program_config)
    program_configs.check_sdpa_grid(OP, program_config, q.device())


def window_mask(seq_q: int, seq_k: int, is_causal: bool, window: int, first_query: int = 0) -> torch.Tensor:
    """Boolean ``[seq_q, seq_k]``, True where query ``first_query + i`` may attend key j under a
    sliding window (and causality)."""
    i = torch.arange(first_query, first_query + seq_q).unsqueeze(1)
    j = torch.arange(seq_k).unsqueeze(0)
    if is_causal:
        return (j <= i) & (j > i - window)
    return (j >= i - window // 2) & (j <= i + window // 2)


def _attend(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, is_causal: bool, scale: float,
            window: int) -> torch.Tensor:
    qv, kv, vv = q._values(OP), k._values(OP), v._values(OP)
    seq_q, seq_k = qv.shape[2], kv.shape[2]
    bias = None
    if mask is not None:
        bias = mask._values(OP)
    elif window:
        bias = window_mask(seq_q, seq_k, is_causal, window)
        is_causal = False
    return F.scaled_dot_product_attention(qv, kv, vv, attn_mask=bias, is_causal=is_causal, scale=scale,
                                          enable_gqa=kv.shape[1] != qv.shape[1])
