"""tt_transformers' performance configuration on the shared blocks, for the device-time calibration.

``shared/docs/perf-facts.md`` §1 defines perf mode: gate/up (FF1/FF3) weights bfloat4_b at LoFi, every other weight
bfloat8_b at HiFi2 (q/k/v/o, down, LM head), activations bfloat16. ``build_perf_mode_lm`` builds a Llama-family
model that way: ``build_decoder_lm`` with bfloat8_b weights (bf16 x bfp8 matmuls default to HiFi2 in ttnn 0.81.1),
then each layer's MLP re-uploaded as :class:`PerfModeMLP`.

Not reproduced (the blocks cannot express them; the calibration table says so): the KV cache stays bfloat16
(perf mode: bfloat8_b), SDPA prefill runs at the blocks' default fidelity (perf mode: HiFi4), and the op graph is
the blocks' own (separate q/k/v matmuls, their data movement), not tt_transformers' fused one.
"""

from __future__ import annotations

import ttnn

from .attention import Attention
from .build import build_decoder_lm
from .mlp import SwiGLUMLP
from .kv_cache import LayerKVCache
from .parallel import TensorParallel
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
    """The shared attention block with bfloat8_b q/k/v/o at HiFi2 over a bfloat8_b KV cache: prefill K and V are
    typecast to bfloat8_b before ``fill_cache``, as tt_transformers' ``Attention.forward_prefill`` does
    (models/tt_transformers/tt/attention.py). Prefill SDPA runs at HiFi4 (PERF.md's perf-mode fidelity table:
    sdpa_prefill hifi4)."""

    sdpa_compute_kernel_config = HIFI4

    def __init__(self, hf_attn, config, device, cache: LayerKVCache, tp, sliding_window):
        super().__init__(hf_attn, config, device, cache, weight_dtype=ttnn.bfloat8_b, tp=tp,
                         sliding_window=sliding_window, compute_kernel_config=HIFI2)

    def _fill(self, cache, kv, user: int):
        kv8 = ttnn.typecast(kv, ttnn.bfloat8_b)
        super()._fill(cache, kv8, user)
        ttnn.deallocate(kv8)


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
