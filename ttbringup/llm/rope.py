"""Rotary position embedding tables for ``ttnn.experimental.rotary_embedding`` (HF rotate-half convention).

``rope_tables(config, seq_len)`` computes, on the host and with transformers' own ``ROPE_INIT_FUNCTIONS``,
``cos = cos(cat(f, f)) * s`` and ``sin = sin(cat(f, f)) * s`` for positions ``0..seq_len-1``, where
``f = position * inv_freq`` and ``s`` is the init function's attention scaling (1 for default/llama3; YaRN's
``0.1 * ln(factor) + 1`` style factor, so it lands on q and k exactly as in HF). ``RopeCache`` holds them on the
device as ``[1, 1, seq_len, head_dim]`` TILE bfloat16 (prefill rotates by prefixes of them) and ROW_MAJOR
(a decode step looks up each user's rows by a device index, so it needs no host-side position).

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
        cos, sin = (t.reshape(1, 1, seq_len, -1).to(host_device) for t in (cos, sin))
        self.cos = upload(cos, device, ttnn.bfloat16)
        self.sin = upload(sin, device, ttnn.bfloat16)
        self.cos_rows = upload(cos, device, ttnn.bfloat16, ttnn.ROW_MAJOR_LAYOUT)
        self.sin_rows = upload(sin, device, ttnn.bfloat16, ttnn.ROW_MAJOR_LAYOUT)

    def prefix(self, length: int):
        """``(cos, sin)`` of the first ``length`` positions (``length`` a multiple of 32), for a prefill."""
        if length == self.seq_len:
            return self.cos, self.sin
        return self.cos[:, :, :length, :], self.sin[:, :, :length, :]

    def decode_rows(self, inputs) -> "DecodeRotation":
        """The rows a decode step rotates q and k by, looked up on the device from ``inputs.q_rows`` /
        ``inputs.k_rows`` (a :class:`~ttbringup.llm.decode_inputs.DecodeInputs`): ``[1, 1, 32 * heads, hd]``."""
        return DecodeRotation(self._lookup(inputs.q_rows), self._lookup(inputs.k_rows))

    def _lookup(self, rows):
        return tuple(ttnn.reshape(ttnn.embedding(rows, table, layout=ttnn.TILE_LAYOUT), (1, 1, rows.shape[-1], -1))
                     for table in (self.cos_rows, self.sin_rows))


class DecodeRotation:
    """One decode step's rotary rows: ``q`` and ``k``, each a ``(cos, sin)`` pair of device tensors."""

    def __init__(self, q: tuple, k: tuple):
        self.q, self.k = q, k

    def deallocate(self) -> None:
        for t in (*self.q, *self.k):
            ttnn.deallocate(t)
