"""Weight upload: torch tensors from an HF module to device tensors in the layouts the blocks expect.

Contracts (every helper takes the HF tensor as stored in the checkpoint):

* linear weights ``[out, in]`` become ``[1, 1, in, out]`` TILE in DRAM (pre-transposed for ``ttnn.linear``);
* norm weights ``[dim]`` become ``[1, 1, 1, dim]`` TILE bfloat16 (``ttnn.rms_norm`` wants the padded width);
* linear biases ``[out]`` become ``[1, 1, 1, out]`` TILE bfloat16 (the row ``ttnn.linear`` broadcasts over all rows);
* the embedding table ``[vocab, hidden]`` becomes ``[1, 1, vocab, hidden]``: ROW_MAJOR bfloat16, or TILE in any
  float dtype (``ttnn.embedding`` converts a TILE table to row-major itself).

Weights keep their torch device: a model built on torch's ``meta`` device yields data-free device tensors (a
memory plan without values); ``host_device(module)`` tells which one a model lives on.
"""

from __future__ import annotations

import sys

import torch
import ttnn
from tqdm import tqdm

DRAM = ttnn.DRAM_MEMORY_CONFIG


def host_device(module: torch.nn.Module) -> torch.device:
    """The torch device of a module's weights (``meta`` for a data-free build)."""
    return next(module.parameters()).device


def upload(t: torch.Tensor, device, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT):
    """Any host tensor to DRAM on ``device`` as given (no reshaping)."""
    return ttnn.as_tensor(t.detach(), dtype=dtype, layout=layout, device=device, memory_config=DRAM)


def linear_weight(weight: torch.Tensor, device, dtype=ttnn.bfloat16):
    """HF ``nn.Linear.weight`` ``[out, in]`` -> ``[1, 1, in, out]`` TILE ``dtype`` (bfloat16 or bfloat8_b)."""
    w = weight.detach().transpose(0, 1).contiguous()
    return upload(w.reshape(1, 1, *w.shape), device, dtype)


def norm_weight(weight: torch.Tensor, device):
    """RMSNorm gain ``[dim]`` -> ``[1, 1, 1, dim]`` TILE bfloat16."""
    return upload(weight.detach().reshape(1, 1, 1, -1), device, ttnn.bfloat16)


def bias_weight(bias: torch.Tensor, device):
    """HF ``nn.Linear.bias`` ``[out]`` -> ``[1, 1, 1, out]`` TILE bfloat16."""
    return upload(bias.detach().reshape(1, 1, 1, -1), device, ttnn.bfloat16)


def embedding_weight(weight: torch.Tensor, device, dtype=ttnn.bfloat16, layout=ttnn.ROW_MAJOR_LAYOUT):
    """Embedding table ``[vocab, hidden]`` -> ``[1, 1, vocab, hidden]`` (ROW_MAJOR needs bfloat16)."""
    if layout == ttnn.ROW_MAJOR_LAYOUT and dtype != ttnn.bfloat16:
        raise ValueError("a ROW_MAJOR embedding table must be bfloat16; use TILE for block-float tables")
    return upload(weight.detach().reshape(1, 1, *weight.shape), device, dtype, layout)


def layer_progress(layers, desc: str = "uploading layers"):
    """Iterate ``layers`` with a tqdm bar on stderr when stderr is a terminal (weight upload of a 7B model takes a
    while); logs and pipes get no bar."""
    return tqdm(layers, desc=desc, file=sys.stderr, unit="layer", leave=False, disable=None)
