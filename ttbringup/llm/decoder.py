"""Pre-norm decoder layer: ``h = x + attn(norm1(x)); out = h + mlp(norm2(h))`` (Llama/Qwen3/Arcee layout).

``prefill(x, cos, sin, user)`` and ``decode(x, cur_pos, rot)`` take and return ``[1, 1, rows, hidden]``;
the input ``x`` is consumed (deallocated) so only one residual stream lives at a time.
"""

from __future__ import annotations

import ttnn

from .attention import Attention
from .norm import RMSNorm


class DecoderLayer:
    def __init__(self, attention: Attention, mlp, input_norm: RMSNorm, post_attention_norm: RMSNorm):
        self.attention = attention
        self.mlp = mlp
        self.input_norm = input_norm
        self.post_attention_norm = post_attention_norm

    def prefill(self, x, cos, sin, user: int = 0):
        return self._forward(x, lambda h: self.attention.prefill(h, cos, sin, user))

    def decode(self, x, cur_pos, rot):
        return self._forward(x, lambda h: self.attention.decode(h, cur_pos, rot))

    def _forward(self, x, attend):
        normed = self.input_norm(x)
        attn = attend(normed)
        ttnn.deallocate(normed)
        h = ttnn.add(x, attn)
        ttnn.deallocate(attn)
        ttnn.deallocate(x)
        normed = self.post_attention_norm(h)
        mlp = self.mlp(normed)
        ttnn.deallocate(normed)
        out = ttnn.add(h, mlp)
        ttnn.deallocate(mlp)
        ttnn.deallocate(h)
        return out
