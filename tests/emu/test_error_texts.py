"""Error texts of checks whose message is built only when they fail (the hot ops): the whole text, as before."""

import re

import pytest
import torch

import ttbringup.emu as ttnn
from ttbringup.emu.errors import TTError


def dev_tensor(device, shape, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, memory_config=None):
    values = torch.zeros(shape, dtype=torch.int32 if dtype == ttnn.int32 else torch.float32)
    return ttnn.from_torch(values, dtype=dtype, layout=layout, device=device, memory_config=memory_config)


def raises_exactly(text: str, fn, *args, **kwargs):
    with pytest.raises(TTError, match="^" + re.escape(text) + "$"):
        fn(*args, **kwargs)


def test_binary_dtype_mismatch(device):
    a, b = dev_tensor(device, (1, 1, 32, 32)), dev_tensor(device, (1, 1, 32, 32), ttnn.int32)
    raises_exactly("ttnn.add: input dtypes must both be floating point or equal, got DataType.BFLOAT16 and "
                   "DataType.INT32", ttnn.add, a, b)


def test_norm_weight_dtype_and_residual(device):
    x = dev_tensor(device, (1, 1, 32, 64))
    weight = dev_tensor(device, (1, 1, 32, 64), ttnn.int32)
    raises_exactly("ttnn.rms_norm: weight dtype DataType.INT32 must be BFLOAT16 or FLOAT32", ttnn.rms_norm, x,
                   weight=weight)
    row_major = dev_tensor(device, (1, 1, 32, 64), layout=ttnn.ROW_MAJOR_LAYOUT)
    raises_exactly("ttnn.rms_norm: Residual tensor must have TILE layout, got: Layout.ROW_MAJOR", ttnn.rms_norm, x,
                   residual_input_tensor=row_major)
    raises_exactly("ttnn.rms_norm: residual_input_tensor padded shape [1, 1, 64, 64] must equal input padded shape "
                   "[1, 1, 32, 64]", ttnn.rms_norm, x, residual_input_tensor=dev_tensor(device, (1, 1, 64, 64)))


def test_linear_shape_checks(device):
    a = dev_tensor(device, (1, 1, 32, 64))
    raises_exactly("ttnn.linear: The width of the first tensor must be equal to the height of the second tensor. "
                   "Mismatch: width=64 height=96", ttnn.linear, a, dev_tensor(device, (96, 32)))
    raises_exactly("ttnn.matmul: Input tensors must have the same rank, got a_shape rank: 4 vs b_shape rank: 3",
                   ttnn.matmul, a, dev_tensor(device, (2, 64, 32)))


def test_sdpa_decode_operand_checks(device):
    q = dev_tensor(device, (1, 32, 8, 64))
    k = dev_tensor(device, (32, 1, 64, 64))
    raises_exactly("ttnn.transformer.scaled_dot_product_attention_decode: SDPA decode inputs must be 4D but got "
                   "[32, 64, 64]", ttnn.transformer.scaled_dot_product_attention_decode, q,
                   dev_tensor(device, (32, 64, 64)), k, cur_pos=[0] * 32)
    raises_exactly("ttnn.transformer.scaled_dot_product_attention_decode: Unsupported data type INT32.",
                   ttnn.transformer.scaled_dot_product_attention_decode, q, k,
                   dev_tensor(device, (32, 1, 64, 64), ttnn.int32), cur_pos=[0] * 32)
    in_l1 = dev_tensor(device, (32, 1, 64, 64), memory_config=ttnn.L1_MEMORY_CONFIG)
    raises_exactly("ttnn.transformer.scaled_dot_product_attention_decode: Input tensor 2 buffer type must be DRAM but "
                   "got L1", ttnn.transformer.scaled_dot_product_attention_decode, q, k, in_l1, cur_pos=[0] * 32)
    raises_exactly("ttnn.transformer.scaled_dot_product_attention_decode: Q tensor buffer type must be DRAM when not "
                   "sharded but got L1", ttnn.transformer.scaled_dot_product_attention_decode,
                   dev_tensor(device, (1, 32, 8, 64), memory_config=ttnn.L1_MEMORY_CONFIG), k, k, cur_pos=[0] * 32)


def test_rotary_table_checks(device):
    x = dev_tensor(device, (1, 1, 32, 64))
    cos = dev_tensor(device, (1, 1, 64, 64))
    raises_exactly("ttnn.experimental.rotary_embedding: Cosine and Sine cache dimensions must match. Cos cache "
                   "dimensions: [1, 1, 64, 64], Sin cache dimensions: [1, 1, 32, 64].",
                   ttnn.experimental.rotary_embedding, x, cos, dev_tensor(device, (1, 1, 32, 64)))
    wide = dev_tensor(device, (1, 1, 64, 128))
    raises_exactly("ttnn.experimental.rotary_embedding: Cosine cache dimensions must match input dimensions. "
                   "Expected (1, 1, 64), but got [1, 1, 64, 128].", ttnn.experimental.rotary_embedding, x, wide, wide)


def test_paged_update_cache_dtype(device):
    cache = dev_tensor(device, (32, 1, 64, 64), ttnn.int32)
    x = dev_tensor(device, (1, 32, 32, 64))
    raises_exactly("ttnn.experimental.paged_update_cache: Data type of cache tensor must be FLOAT32, BFLOAT16, "
                   "BFLOAT8_B, or BFLOAT4_B and is INT32", ttnn.experimental.paged_update_cache, cache, x,
                   update_idxs=[0] * 32)


def test_qkv_heads_decode_shape_checks(device):
    def split(shape):
        ttnn.experimental.nlp_create_qkv_heads_decode(dev_tensor(device, shape), num_heads=1, num_kv_heads=1)

    raises_exactly("ttnn.experimental.nlp_create_qkv_heads_decode: Unsupported input shape = Shape([1, 32, 96])",
                   split, (1, 32, 96))
    raises_exactly("ttnn.experimental.nlp_create_qkv_heads_decode: Unsupported input shape = Shape([1, 2, 32, 96]), "
                   "input_shape[1]=2 must be 1", split, (1, 2, 32, 96))
    raises_exactly("ttnn.experimental.nlp_create_qkv_heads_decode: Unsupported input shape = Shape([2, 1, 32, 96]), "
                   "input_shape[0]=2 must be 1", split, (2, 1, 32, 96))
