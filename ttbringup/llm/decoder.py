"""Pre-norm decoder layer: ``h = x + attn(norm1(x)); out = h + mlp(norm2(h))`` (Llama/Qwen/Arcee/Phi-3 layout).

With Gemma's sandwich norms each branch's output is normed too before its residual add::

    h = x + attn_out_norm(attn(norm1(x)));  out = h + mlp_out_norm(mlp(norm2(h)))

(HF Gemma-3 names: ``input_layernorm``, ``post_attention_layernorm`` = ``attn_out_norm``,
``pre_feedforward_layernorm`` = ``norm2``, ``post_feedforward_layernorm`` = ``mlp_out_norm``.)

``prefill(x, cos, sin, user)`` and ``decode(x, cur_pos, rot)`` take and return ``[1, 1, rows, hidden]``;
the input ``x`` is consumed (deallocated) so only one residual stream lives at a time. ``sliding``: the layer's
attention has a sliding window (the model may rotate such layers by their own RoPE tables).
"""

from __future__ import annotations

import ttnn

from .attention import Attention
from .norm import RMSNorm


class DecoderLayer:
    def __init__(self, attention: Attention, mlp, input_norm: RMSNorm, post_attention_norm: RMSNorm, *,
                 attn_out_norm: RMSNorm | None = None, mlp_out_norm: RMSNorm | None = None):
        self.attention = attention
        self.mlp = mlp
        self.input_norm = input_norm
        self.post_attention_norm = post_attention_norm
        self.attn_out_norm = attn_out_norm
        self.mlp_out_norm = mlp_out_norm

    @property
    def sliding(self) -> bool:
        return self.attention.sliding_window is not None

    def prefill(self, x, cos, sin, user: int = 0):
        return self._forward(x, lambda h: self.attention.prefill(h, cos, sin, user))

    def decode(self, x, cur_pos, rot):
        return self._forward(x, lambda h: self.attention.decode(h, cur_pos, rot))

    def _forward(self, x, attend):
        h = self._branch(x, self.input_norm, attend, self.attn_out_norm)
        return self._branch(h, self.post_attention_norm, self.mlp, self.mlp_out_norm)

    @staticmethod
    def _branch(x, norm, block, out_norm):
        """``x + out_norm(block(norm(x)))``; consumes ``x``."""
        normed = norm(x)
        y = block(normed)
        ttnn.deallocate(normed)
        if out_norm is not None:
            normed_y = out_norm(y)
            ttnn.deallocate(y)
            y = normed_y
        out = ttnn.add(x, y)
        ttnn.deallocate(y)
        ttnn.deallocate(x)
        return out
