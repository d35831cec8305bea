"""Rotary position embedding tables for ``ttnn.experimental.rotary_embedding`` (HF rotate-half convention).

``rope_tables(config, seq_len)`` computes, on the host and with transformers' own ``ROPE_INIT_FUNCTIONS``,
``cos = cos(cat(f, f)) * s`` and ``sin = sin(cat(f, f)) * s`` for positions ``0..seq_len-1``, where
``f = position * inv_freq`` and ``s`` is the init function's attention scaling (1 for default/linear/llama3; YaRN's
``0.1 * ln(factor) + 1`` style factor, LongRoPE's ``sqrt(1 + ln(factor) / ln(original))``, so it lands on q and k
exactly as in HF). ``RopeCache`` holds them on the device as ``[1, 1, seq_len, head_dim]`` TILE bfloat16 (prefill
rotates by prefixes of them) and ROW_MAJOR (a decode step looks up each user's rows by a device index, so it needs
no host-side position).

Supported ``rope_type``: default, linear, llama3, yarn (static: one table serves every length) and longrope.

LongRoPE (Phi-3 ``rope_scaling`` type longrope, formerly "su") has two sets of frequencies: HF's rotary embedding
uses the short factors while the forward's sequence (its largest position + 1) is at most
``original_max_position_embeddings`` and the long factors past it. On the device that switch is made per row of the
tables, with no host-side position, by what each forward would see in HF:

* a prefill of ``n`` tokens rotates every position with the short factors if ``n <= original``, else with the long
  ones (``prefix(length, tokens=n)`` picks the table);
* a decode step at position ``p`` is a forward of sequence length ``p + 1``: its q and k use the short factors for
  ``p < original`` and the long ones from ``p = original`` on, so the decode table is short rows then long rows.

Keys already in the cache keep the rotation they were written with, as in HF's cached forward. (HF's Phi-3
``generate()`` instead drops its cache once when a sequence crosses the switch and recomputes it with long factors;
this cache is not recomputed.) A cache of at most ``original`` positions never switches and holds the short table
only.
"""

from __future__ import annotations

import torch
import ttnn
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

from .errors import UnsupportedModelError
from .head_pad import pad_table
from .weights import upload

SUPPORTED_ROPE_TYPES = ("default", "linear", "llama3", "yarn", "longrope")


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


def longrope_switch(config) -> int | None:
    """The sequence length past which LongRoPE's long factors apply (as HF's rotary embedding reads it:
    ``original_max_position_embeddings``, else ``max_position_embeddings``); None for every other RoPE type."""
    if rope_type(config) != "longrope":
        return None
    if hasattr(config, "original_max_position_embeddings"):
        return config.original_max_position_embeddings
    return config.max_position_embeddings


def rope_tables(config, seq_len: int, context: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Float32 ``(cos, sin)``, each ``[seq_len, head_dim]``, exactly as HF's rotary embedding computes them in a
    forward whose sequence is ``context`` long (None: its initial frequencies; only LongRoPE's depend on it)."""
    inv_freq, scaling = ROPE_INIT_FUNCTIONS[rope_type(config)](config, "cpu", seq_len=context)
    positions = torch.arange(seq_len, dtype=torch.float32)
    freqs = torch.outer(positions, inv_freq.float())
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos() * scaling, emb.sin() * scaling


def device_tables(config, seq_len: int, context: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``rope_tables`` in the device head layout (``head_pad``: padded halves get cos 1, sin 0)."""
    cos, sin = rope_tables(config, seq_len, context)
    return pad_table(cos, 1.0), pad_table(sin, 0.0)


class RopeCache:
    """cos/sin tables for positions ``0..seq_len-1`` on ``device``, ``[1, 1, seq_len, head_dim]`` TILE bf16 (head_dim
    padded as ``head_pad`` lays out the heads).

    ``host_device``: the torch device to stage them on (``meta`` keeps a data-free build data-free). For LongRoPE
    with ``seq_len`` past the switch it also holds the long-factor prefill table and a decode table that switches
    at ``switch`` (module doc).
    """

    def __init__(self, config, seq_len: int, device, host_device="cpu"):
        self.seq_len = seq_len
        self.switch = longrope_switch(config)
        short = device_tables(config, seq_len)
        staged = lambda t: t.reshape(1, 1, seq_len, -1).to(host_device)  # noqa: E731
        self.cos, self.sin = (upload(staged(t), device, ttnn.bfloat16) for t in short)
        rows = short
        self.long_cos = self.long_sin = None
        if self.switch is not None and seq_len > self.switch:
            long = device_tables(config, seq_len, context=self.switch + 1)
            self.long_cos, self.long_sin = (upload(staged(t), device, ttnn.bfloat16) for t in long)
            rows = tuple(torch.cat([s[:self.switch], l[self.switch:]]) for s, l in zip(short, long))
        self.cos_rows, self.sin_rows = (upload(staged(t), device, ttnn.bfloat16, ttnn.ROW_MAJOR_LAYOUT) for t in rows)

    def prefix(self, length: int, tokens: int | None = None):
        """``(cos, sin)`` of the first ``length`` positions (``length`` a multiple of 32), for a prefill of
        ``tokens`` real tokens (default ``length``; LongRoPE picks its factors by it). Free them with ``release``."""
        cos, sin = self.cos, self.sin
        if self.long_cos is not None and (tokens or length) > self.switch:
            cos, sin = self.long_cos, self.long_sin
        if length == self.seq_len:
            return cos, sin
        return cos[:, :, :length, :], sin[:, :, :length, :]

    def release(self, cos, sin) -> None:
        """Free a ``prefix`` pair unless it is a whole table of this cache."""
        if cos is not self.cos and cos is not self.long_cos:
            ttnn.deallocate(cos)
            ttnn.deallocate(sin)

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
