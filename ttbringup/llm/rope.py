"""Rotary position embedding tables for ``ttnn.experimental.rotary_embedding`` (HF rotate-half convention).

``rope_tables(config, seq_len)`` computes, on the host and with transformers' own ``ROPE_INIT_FUNCTIONS``,
``cos = cos(cat(f, f)) * s`` and ``sin = sin(cat(f, f)) * s`` for positions ``0..seq_len-1``, where
``f = position * inv_freq`` and ``s`` is the init function's attention scaling (1 for default/llama3; YaRN's
``0.1 * ln(factor) + 1`` style factor, so it lands on q and k exactly as in HF). ``RopeCache`` holds them on the
device as ``[1, 1, seq_len, head_dim]`` TILE bfloat16.

Supported ``rope_type``: default, llama3, yarn (the static ones; dynamic/longrope recompute per length).
"""

from __future__ import annotations

import torch
import ttnn
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

from .errors import UnsupportedModelError
from .weights import upload

SUPPORTED_ROPE_TYPES = ("default", "llama3", "yarn")


def rope_type(config) -> str:
    """The config's RoPE type, HF's way (``rope_scaling["rope_type"]``, legacy ``"type"``, else ``"default"``)."""
    scaling = getattr(config, "rope_scaling", None)
    if isinstance(scaling, dict):
        return scaling.get("rope_type", scaling.get("type", "default"))
    return "default"


def head_dim(config) -> int:
    return getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads


def check_rope(config, allowed=SUPPORTED_ROPE_TYPES) -> None:
    """Raise ``UnsupportedModelError`` unless the config's RoPE is one of ``allowed`` and covers the whole head."""
    kind = rope_type(config)
    if kind not in allowed:
        raise UnsupportedModelError(f"rope_type {kind!r} is not supported here (supported: {', '.join(allowed)})")
    if getattr(config, "partial_rotary_factor", 1.0) != 1.0:
        raise UnsupportedModelError("partial_rotary_factor != 1 is not supported (rotary_embedding rotates the whole head)")


def rope_tables(config, seq_len: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Float32 ``(cos, sin)``, each ``[seq_len, head_dim]``, exactly as HF's rotary embedding computes them."""
    inv_freq, scaling = ROPE_INIT_FUNCTIONS[rope_type(config)](config, "cpu")
    positions = torch.arange(seq_len, dtype=torch.float32)
    freqs = torch.outer(positions, inv_freq.float())
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos() * scaling, emb.sin() * scaling


class RopeCache:
    """cos/sin tables for positions ``0..seq_len-1`` on ``device``, ``[1, 1, seq_len, head_dim]`` TILE bf16.

    ``host_device``: the torch device to stage them on (``meta`` keeps a data-free build data-free).
    """

    def __init__(self, config, seq_len: int, device, host_device="cpu"):
        cos, sin = rope_tables(config, seq_len)
        self.seq_len = seq_len
        self.cos = upload(cos.reshape(1, 1, seq_len, -1).to(host_device), device, ttnn.bfloat16)
        self.sin = upload(sin.reshape(1, 1, seq_len, -1).to(host_device), device, ttnn.bfloat16)

    def prefix(self, length: int):
        """``(cos, sin)`` of the first ``length`` positions (``length`` a multiple of 32), for a prefill."""
        if length == self.seq_len:
            return self.cos, self.sin
        return self.cos[:, :, :length, :], self.sin[:, :, :length, :]
