"""tt_transformers' performance configuration on the shared blocks, for the device-time calibration.

``shared/docs/perf-facts.md`` §1 and tt-metal's ``models/tt_transformers/PERF.md`` define perf mode: gate/up
(FF1/FF3) weights bfloat4_b at LoFi, every other weight bfloat8_b at HiFi2 (q/k/v/o, down, LM head), KV cache
bfloat8_b, prefill SDPA at HiFi4, activations bfloat16. ``build_perf_mode_lm`` builds a Llama-family model that way
and runs it the way ``models/tt_transformers/tt`` does where the blocks allow: ``build_decoder_lm`` with bfloat8_b
weights, then per layer :class:`PerfModeAttention` (one fused q/k/v matmul, bfloat8_b cache, HiFi4 prefill SDPA)
and :class:`PerfModeMLP`, both reducing over a mesh as :class:`ScatterGatherTP` (reduce_scatter, then all_gather),
and the decode step ending in :func:`decode_tail` (logits all-gathered over the mesh, untilized).

Still the blocks' own (the calibration doc lists them): the data movement around the heads and rotary, the
residual add on the whole width, prefill SDPA on bfloat16 q/k/v, the LM head over every prefill row, and no
on-device argmax (not emulated).
"""

from __future__ import annotations

import torch
import ttnn

from .attention import Attention
from .build import build_decoder_lm
from .mlp import SwiGLUMLP
from .kv_cache import LayerKVCache
from .errors import UnsupportedModelError
from .head_pad import PAD
from .parallel import TensorParallel, head_index
from .weights import DRAM, host_device

LOFI = ttnn.WormholeComputeKernelConfig(math_fidelity=ttnn.MathFidelity.LoFi)
HIFI2 = ttnn.WormholeComputeKernelConfig(math_fidelity=ttnn.MathFidelity.HiFi2)
HIFI4 = ttnn.WormholeComputeKernelConfig(math_fidelity=ttnn.MathFidelity.HiFi4)


class ScatterGatherTP(TensorParallel):
    """tt_transformers' reduction on an n300 / T3000 (a 1 x N mesh): the row-parallel output is reduce-scattered
    (``tt_all_reduce``, models/tt_transformers/tt/ccl.py) and all-gathered again before the next norm
    (``DistributedNorm``, tt/distributed_norm.py): two collectives, one link each, where ``TensorParallel`` runs one
    all_reduce. The kit's blocks then add the residual on the whole width (theirs adds the scattered parts)."""

    def all_reduce(self, partial):
        if self.chips == 1:
            return partial
        part = ttnn.reduce_scatter(partial, dim=3, cluster_axis=1, num_links=1, memory_config=DRAM)
        ttnn.deallocate(partial)
        total = ttnn.all_gather(part, dim=3, cluster_axis=1, num_links=1, memory_config=DRAM)
        ttnn.deallocate(part)
        return total


class PerfModeAttention(Attention):
    """The shared attention block as tt_transformers runs it (models/tt_transformers/tt/attention.py): q, k and v
    from one fused matmul (``wqkv``: each chip's q, k, v columns side by side, so ``nlp_create_qkv_heads`` takes
    its output as it took the concat of three), bfloat8_b q/k/v/o at HiFi2 over a bfloat8_b KV cache (prefill K
    and V typecast to bfloat8_b before ``fill_cache``, as ``forward_prefill`` does), prefill SDPA at HiFi4
    (PERF.md's perf-mode fidelities: sdpa_prefill hifi4)."""

    sdpa_compute_kernel_config = HIFI4

    def __init__(self, hf_attn, config, device, cache: LayerKVCache, tp, sliding_window):
        super().__init__(hf_attn, config, device, cache, weight_dtype=ttnn.bfloat8_b, tp=tp,
                         sliding_window=sliding_window, compute_kernel_config=HIFI2)
        if any(b is not None for b in self.b_qkv):
            raise UnsupportedModelError("perf mode fuses q/k/v without biases")
        for w in self.w_qkv:
            ttnn.deallocate(w)
        fused = torch.cat([hf_attn.q_proj.weight, hf_attn.k_proj.weight, hf_attn.v_proj.weight])
        self.w_qkv = [self.tp.column(fused, ttnn.bfloat8_b, fused_rows(self.tp, config, hf_attn.head_dim))]

    def _qkv(self, x):
        return ttnn.linear(x, self.w_qkv[0], compute_kernel_config=self.compute_kernel_config)

    def _fill(self, cache, kv, user: int):
        kv8 = ttnn.typecast(kv, ttnn.bfloat8_b)
        super()._fill(cache, kv8, user)
        ttnn.deallocate(kv8)


def fused_rows(tp, config, head_dim: int) -> torch.Tensor:
    """Rows of ``cat(q_proj, k_proj, v_proj)`` in fused-weight order: chip after chip, each chip's q rows, then its
    k rows, then its v rows (``PAD`` rows stay zero)."""
    plan = tp.heads(config.num_attention_heads, config.num_key_value_heads)
    q_width, kv_width = config.num_attention_heads * head_dim, config.num_key_value_heads * head_dim
    q, kv = head_index(plan.q_heads, head_dim), head_index(plan.kv_heads, head_dim)

    def shifted(rows, by):
        return torch.where(rows == PAD, rows, rows + by)

    per_chip = zip(q.chunk(tp.chips), shifted(kv, q_width).chunk(tp.chips),
                   shifted(kv, q_width + kv_width).chunk(tp.chips))
    return torch.cat([torch.cat(parts) for parts in per_chip])


class PerfModeMLP(SwiGLUMLP):
    """SwiGLU with bfloat4_b gate/up at LoFi and bfloat8_b down at HiFi2 (perf-facts §1)."""

    def __init__(self, hf_mlp, tp):
        self.tp = tp
        self.w_gate = tp.column(hf_mlp.gate_proj.weight, ttnn.bfloat4_b)
        self.w_up = tp.column(hf_mlp.up_proj.weight, ttnn.bfloat4_b)
        self.w_down = tp.row(hf_mlp.down_proj.weight, ttnn.bfloat8_b)

    def __call__(self, x):
        gate = ttnn.linear(x, self.w_gate, compute_kernel_config=LOFI)
        act = ttnn.silu(gate)
        ttnn.deallocate(gate)
        up = ttnn.linear(x, self.w_up, compute_kernel_config=LOFI)
        h = ttnn.mul(act, up)
        ttnn.deallocate(act)
        ttnn.deallocate(up)
        out = ttnn.linear(h, self.w_down, compute_kernel_config=HIFI2)
        ttnn.deallocate(h)
        return self.tp.all_reduce(out)


def bfp8_cache(cache: LayerKVCache, device, staging) -> LayerKVCache:
    """A bfloat8_b cache of ``cache``'s shape (perf-facts §1: perf mode's KV cache is bfloat8_b); ``cache`` is
    freed."""
    _, n_kv_heads, length, head_dim = cache.k.shape
    new = LayerKVCache(n_kv_heads, length, head_dim, device, staging, dtype=ttnn.bfloat8_b)
    ttnn.deallocate(cache.k)
    ttnn.deallocate(cache.v)
    return new


def decode_tail(tp):
    """tt_transformers' decode step after the LM head (``Transformer.ttnn_decode_forward``, models/tt_transformers/
    tt/model.py): on a mesh the vocabulary-split logits are all-gathered over the chips (one link), then untilized,
    in the traced step, before any sampling."""

    def tail(logits):
        gathered = ttnn.all_gather(logits, dim=3, cluster_axis=1, num_links=1) if tp.chips > 1 else logits
        rows = ttnn.to_layout(gathered, ttnn.ROW_MAJOR_LAYOUT)  # ttnn.untilize (not emulated): the same data move
        ttnn.deallocate(rows)
        if gathered is not logits:
            ttnn.deallocate(gathered)

    return tail


def build_perf_mode_lm(hf_model, device, max_seq_len: int, *, cache_cap: int):
    """A ``TTCausalLM`` of ``hf_model`` (SwiGLU Llama family) in perf mode (module docstring)."""
    model = build_decoder_lm(hf_model, device, max_seq_len, cache_cap=cache_cap, weight_dtype=ttnn.bfloat8_b,
                             embedding_dtype=ttnn.bfloat16, embedding_layout=ttnn.ROW_MAJOR_LAYOUT)
    reduce = ScatterGatherTP(device)
    for layer, hf_layer in zip(model.layers, hf_model.model.layers):
        old = layer.attention
        cache = bfp8_cache(old.cache, device, host_device(hf_model))
        layer.attention = PerfModeAttention(hf_layer.self_attn, hf_model.config, device, cache, reduce,
                                            old.sliding_window)
        for w in (*old.w_qkv, old.wo):
            ttnn.deallocate(w)
        old = layer.mlp
        layer.mlp = PerfModeMLP(hf_layer.mlp, reduce)
        for w in (old.w_gate, old.w_up, old.w_down):
            ttnn.deallocate(w)
    model.decode_tail = decode_tail(model.tp)
    return model
