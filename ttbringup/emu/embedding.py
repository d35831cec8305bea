"""``ttnn.embedding``: gather rows of a table by token ids (facts §2.1).

Indices are UINT32 or BFLOAT16 device tensors; ROW_MAJOR indices are read as
``[batch, sentence]`` with ``batch`` = dim 0 (1 for rank 1) and ``sentence`` = the last dim, and
the output is ``[batch, sentence, H]`` (``[sentence, H]`` for rank-1 indices): the models'
``[1,1,1,S]`` tokens give ``[1, S, H]``. The table may be ROW_MAJOR bf16 or TILE bf16/bfloat8_b/
bfloat4_b (the real wrapper converts a TILE table to a ROW_MAJOR bf16 one first), so the output is
bfloat16 unless ``dtype`` asks otherwise for a TILE output. Only the gathered rows are ever
decoded, never the whole table.
"""

from __future__ import annotations

import enum

import torch

from . import numerics
from .errors import check, not_emulated_getattr
from .tensor import BlockFloat, Tensor, new_tensor
from .types import BLOCK_FLOAT_DTYPES, DataType, Layout
from .validate import not_emulated, on_device, same_device, tensor_arg
from .per_chip import per_chip


class EmbeddingsType(enum.Enum):
    """``ttnn.EmbeddingsType``: GENERIC gathers; PADDED zeroes ``padding_idx``; BINARY has 2 rows."""

    GENERIC = 0
    PADDED = 1
    BINARY = 2


_INDEX_DTYPES = (DataType.UINT32, DataType.BFLOAT16)
_TABLE_DTYPES = (DataType.BFLOAT16,) + BLOCK_FLOAT_DTYPES


def _table_rows(op: str, weight: Tensor) -> tuple[int, int]:
    """(vocabulary rows, hidden width) of a table whose dims before the last two are 1."""
    shape = list(weight.shape)
    check(len(shape) >= 2 and all(d == 1 for d in shape[:-2]), op,
          f"Weight tensor must be 4-D [1, 1, V, H] (leading dims 1), got {shape}")
    return shape[-2], shape[-1]


def _gather(weight: Tensor, idx: torch.Tensor, hidden: int) -> torch.Tensor:
    """Rows ``idx`` (int64, any shape) of the table, as bf16 or float32 values of shape idx + [H]."""
    storage = weight._value
    flat = idx.reshape(-1)
    if isinstance(storage, BlockFloat):
        cols = storage.mant.shape[-1]
        mant = storage.mant.reshape(-1, cols)[flat]
        exp = storage.exp.reshape(-1, cols // numerics.BLOCK)[flat]
        rows = numerics.bfp_dequantize(mant, exp, storage.bits)[:, :hidden]
    else:
        rows = storage.reshape(-1, hidden)[flat]
    return rows.reshape(*idx.shape, hidden)


@per_chip
def embedding(input_tensor, weight, *, padding_idx: int | None = None, layout: Layout | None = None,
              embeddings_type: EmbeddingsType = EmbeddingsType.GENERIC, dtype: DataType | None = None,
              memory_config=None, output_tensor=None) -> Tensor:
    """``out[b, s, :] = weight[idx[b, s], :]``; rows equal to ``padding_idx`` come out as zeros.

    Output layout is ``layout`` or else the table's original layout; memory config defaults to
    the indices'. Ids past the table raise (the card does not check; it would read garbage).
    """
    op = "ttnn.embedding"
    ids = tensor_arg(input_tensor, op, "input_tensor")
    table = tensor_arg(weight, op, "weight")
    if output_tensor is not None:
        not_emulated(op, "output_tensor=...")
    for t in (ids, table):
        on_device(t, op, "Operands to embedding need to be on device!")
        check(not t.is_sharded(), op, "Embedding does not currently support sharded inputs/weights")
    same_device(ids, table, op)
    check(ids.dtype in _INDEX_DTYPES, op, f"Input must be UINT32 or BFLOAT16, got {ids.dtype}")
    check(table.dtype in _TABLE_DTYPES, op, f"Weights tensor must have BFLOAT16 dtype, got {table.dtype}")
    vocab, hidden = _table_rows(op, table)
    check(embeddings_type != EmbeddingsType.BINARY or vocab == 2, op,
          "Weight tensor must have 2 embeddings for BINARY Embeddings Type")  # the 2-row kernel; a gather all the same

    out_layout = layout or table.layout
    out_dtype = dtype or DataType.BFLOAT16
    check(out_dtype == DataType.BFLOAT16 or out_layout == Layout.TILE, op,
          "Can only typecast output embeddings when producing TILE_LAYOUT output")

    shape = list(ids.shape)
    batch = shape[0] if len(shape) > 1 else 1
    sentence = shape[-1] if shape else 1
    check(ids.logical_volume() == batch * sentence, op,
          f"Indices of shape {shape} cannot be read as [batch={batch}, sentence={sentence}]")
    out_shape = (sentence, hidden) if len(shape) == 1 else (batch, sentence, hidden)

    if ids.is_data_free() or table.is_data_free():
        ids._check_alive(op)
        table._check_alive(op)
        values = torch.empty(out_shape, dtype=torch.float32, device="meta")
    else:
        idx = ids._native(op).reshape(batch, sentence).to(torch.int64)
        table._check_alive(op)
        check(bool(((idx >= 0) & (idx < vocab)).all()), op, f"token id out of range for a table of {vocab} rows")
        values = _gather(table, idx, hidden)
        if padding_idx is not None:
            values = values.masked_fill((idx == padding_idx).unsqueeze(-1), 0)
        values = values.reshape(out_shape)
    return new_tensor(values, dtype=out_dtype, layout=out_layout, device=ids.device(),
                      memory_config=memory_config or ids.memory_config(), tile=table.tile)


__getattr__ = not_emulated_getattr("ttnn")
