"""Causal self-attention with a device KV cache: GQA or MHA, optional q/k/v biases (Qwen2), optional per-head q/k
RMSNorm (Qwen3, Gemma-3), optional sliding window (Gemma-3's local layers).

Prefill of one user (``x`` ``[1, 1, S_pad, hidden]``, positions ``0..S_pad-1``, the user's cache row rewritten
from position 0)::

    q/k/v linear (+ bias) -> concat(dim=-1) -> nlp_create_qkv_heads(transpose_k_heads=False)
    -> [q/k norm] -> rotary_embedding(cos[:S_pad], sin[:S_pad]) -> fill_cache(batch_idx=user)
    -> causal scaled_dot_product_attention(sliding_window_size) -> nlp_concat_heads -> o_proj

The weights come from the HF module as stored: separate ``q_proj/k_proj/v_proj`` or one fused ``qkv_proj``
(Phi-3), which is split into its q, k and v rows at upload, so the device runs the same three linears either way
(and a mesh can still hand each chip whole heads). A head_dim rotary_embedding cannot take (Phi-3's 96) is laid
out padded (``head_pad``): ``Attention.head_dim`` is the device width; the softmax scale stays the HF module's.

A sliding window ``w`` lets position ``i`` see keys ``i-w+1 .. i`` (HF's ``kv_idx > q_idx - w``) in prefill and
decode, through the SDPA ops' ``sliding_window_size``; the cache still holds every position (a ring buffer of ``w``
rows would save memory; not implemented).

Decode (``x`` ``[1, 1, 32, hidden]``, 32 users; ``cur_pos`` int32 ``[32]``; the step's rotary rows, looked up on the
device per user: no host-side position, so the step can be traced)::

    q/k/v linear (+ bias) -> concat -> nlp_create_qkv_heads_decode -> (to DRAM) [q/k norm]
    -> reshape [1,32,nh,hd] -> [1,1,32*nh,hd] -> rotary_embedding(each row's cos/sin rows) -> reshape back
    -> paged_update_cache(update_idxs_tensor=cur_pos)
    -> scaled_dot_product_attention_decode(cur_pos_tensor, sliding_window_size)
    -> transpose(1, 2) -> nlp_concat_heads -> slice to nh*hd (if the op kept padded heads) -> o_proj

On a mesh (``TensorParallel``) every chip runs this on its own heads and o_proj's partial sums are all-reduced.

The head merge around rotary matters: the op rotates whole padded tiles, so ``[1,32,nh,hd]`` with nh < 32 would
come back with 32 logical heads; ``32*nh`` rows are tile-exact. Optionally (``shard_kv_grid``) K and V are
height-sharded one head per core before ``fill_cache``, which older tt-metal builds need for many KV heads
(their interleaved fill capped ``n_kv_heads * S_pad / 32`` at the core count; 0.81.1 has no such cap).
"""

from __future__ import annotations

import ttnn

from .errors import UnsupportedModelError
from .head_pad import device_head_dim
from .kv_cache import LayerKVCache
from .norm import RMSNorm
from .parallel import TensorParallel, head_index

DRAM = ttnn.DRAM_MEMORY_CONFIG


def qkv_projections(hf_attn, q_width: int, kv_width: int) -> list[tuple]:
    """``[(weight, bias), ...]`` of q, k and v (HF ``[out, in]`` / ``[out]`` or None) from separate projections or
    a fused ``qkv_proj`` (Phi-3: rows q, then k, then v; ``q_width`` / ``kv_width`` rows each)."""
    if hasattr(hf_attn, "qkv_proj"):
        fused = hf_attn.qkv_proj
        widths = [q_width, kv_width, kv_width]
        biases = fused.bias.split(widths) if fused.bias is not None else (None,) * 3
        return list(zip(fused.weight.split(widths), biases))
    return [(p.weight, p.bias) for p in (hf_attn.q_proj, hf_attn.k_proj, hf_attn.v_proj)]


def kv_shard_grid(device, n_kv_heads: int):
    """A ``CoreGrid`` with exactly one core per KV head on ``device``, or None when the heads do not tile it."""
    grid = device.core_grid
    x = min(n_kv_heads, grid.x)
    y = n_kv_heads // x
    return ttnn.CoreGrid(x=x, y=y) if x * y == n_kv_heads and y <= grid.y else None


class Attention:
    """One layer's attention. Built from an HF ``*Attention`` module (q/k/v/o_proj with or without
    q/k/v biases, optional q_norm/k_norm).

    ``weight_dtype``: dtype of the four projections. ``shard_kv_grid``: a ``CoreGrid`` of n_kv_heads cores to
    height-shard K/V on before ``fill_cache`` (None: fill from interleaved DRAM). ``tp``: how the heads spread
    over the chips of ``device`` (q/k/v column-parallel by whole heads, o_proj row-parallel + all_reduce);
    ``n_heads`` / ``n_kv_heads`` are then the heads of one chip, and ``cache`` holds that chip's KV heads.
    ``sliding_window``: keys a position sees, itself included (None: all before it).
    ``compute_kernel_config``: passed to the four projections' ``ttnn.linear`` (None: the op's default).
    ``sdpa_config``: passed to the prefill and decode SDPA (None: the op's default; for the prefill SDPA, the class
    attribute ``sdpa_compute_kernel_config``, which a subclass may set).
    """

    sdpa_compute_kernel_config = None

    def __init__(self, hf_attn, config, device, cache: LayerKVCache, *, weight_dtype=ttnn.bfloat16,
                 qk_norm: bool = False, shard_kv_grid=None, tp: TensorParallel | None = None,
                 sliding_window: int | None = None, compute_kernel_config=None, sdpa_config=None):
        self.tp = tp or TensorParallel(device)
        plan = self.tp.heads(config.num_attention_heads, config.num_key_value_heads)
        self.n_heads = plan.q_per_chip
        self.n_kv_heads = plan.kv_per_chip
        self.head_dim = device_head_dim(hf_attn.head_dim)  # padded for rotary_embedding (head_pad), else the same
        self.scale = hf_attn.scaling
        self.device = device
        self.cache = cache
        self.shard_kv_grid = shard_kv_grid
        self.compute_kernel_config = compute_kernel_config
        self.sdpa_config = sdpa_config
        self.sliding_window = sliding_window
        q_rows, kv_rows = head_index(plan.q_heads, hf_attn.head_dim), head_index(plan.kv_heads, hf_attn.head_dim)
        if qk_norm and self.head_dim != hf_attn.head_dim:
            raise UnsupportedModelError(f"q/k norm of a padded head_dim {hf_attn.head_dim} is not supported")
        if hf_attn.o_proj.bias is not None:
            raise UnsupportedModelError("an o_proj bias is not supported (q/k/v biases are)")
        projections = qkv_projections(hf_attn, config.num_attention_heads * hf_attn.head_dim,
                                      config.num_key_value_heads * hf_attn.head_dim)
        self.w_qkv, self.b_qkv = [], []
        for (weight, bias), rows in zip(projections, (q_rows, kv_rows, kv_rows)):
            self.w_qkv.append(self.tp.column(weight, weight_dtype, rows))
            self.b_qkv.append(None if bias is None else self.tp.column_bias(bias, rows))
        self.wo = self.tp.row(hf_attn.o_proj.weight, weight_dtype, q_rows)
        self.q_norm = RMSNorm.from_hf(hf_attn.q_norm, device) if qk_norm else None
        self.k_norm = RMSNorm.from_hf(hf_attn.k_norm, device) if qk_norm else None

    def _qkv(self, x):
        q, k, v = (ttnn.linear(x, w, bias=b, compute_kernel_config=self.compute_kernel_config)
                   for w, b in zip(self.w_qkv, self.b_qkv))
        qkv = ttnn.concat([q, k, v], dim=-1)
        for t in (q, k, v):
            ttnn.deallocate(t)
        return qkv

    def prefill(self, x, cos, sin, user: int = 0):
        """``x`` ``[1,1,S_pad,hidden]``; ``cos/sin`` ``[1,1,S_pad,hd]``. Fills cache row ``user`` from position 0."""
        qkv = self._qkv(x)
        q, k, v = ttnn.experimental.nlp_create_qkv_heads(
            qkv, num_heads=self.n_heads, num_kv_heads=self.n_kv_heads, transpose_k_heads=False, memory_config=DRAM)
        ttnn.deallocate(qkv)
        if self.q_norm is not None:
            q, k = self._replace(q, self.q_norm(q)), self._replace(k, self.k_norm(k))
        q = self._replace(q, ttnn.experimental.rotary_embedding(q, cos, sin))
        k = self._replace(k, ttnn.experimental.rotary_embedding(k, cos, sin))
        self._fill(self.cache.k, k, user)
        self._fill(self.cache.v, v, user)
        attn = ttnn.transformer.scaled_dot_product_attention(
            q, k, v, is_causal=True, scale=self.scale, sliding_window_size=self.sliding_window,
            compute_kernel_config=self.sdpa_config or self.sdpa_compute_kernel_config)
        for t in (q, k, v):
            ttnn.deallocate(t)
        return self._output(attn)

    def _fill(self, cache, kv, user: int):
        if self.shard_kv_grid is None:
            ttnn.fill_cache(cache, kv, batch_idx=user)
            return
        sharded = ttnn.to_memory_config(kv, ttnn.create_sharded_memory_config(
            kv.shape, self.shard_kv_grid, ttnn.ShardStrategy.HEIGHT, ttnn.ShardOrientation.ROW_MAJOR))
        ttnn.fill_cache(cache, sharded, batch_idx=user)
        ttnn.deallocate(sharded)

    def decode(self, x, cur_pos, rot):
        """``x`` ``[1,1,32,hidden]`` (32 users); ``cur_pos``: int32 ``[32]`` device tensor; ``rot``: the step's
        :class:`~ttbringup.llm.rope.DecodeRotation`."""
        qkv = self._qkv(x)
        q, k, v = ttnn.experimental.nlp_create_qkv_heads_decode(
            qkv, num_heads=self.n_heads, num_kv_heads=self.n_kv_heads, memory_config=DRAM)
        ttnn.deallocate(qkv)
        kv_memory_config = ttnn.get_memory_config(k)  # paged_update_cache wants the per-user sharding back
        q, q_base = self._rotate_decode(q, self.q_norm, *rot.q)
        k, k_base = self._rotate_decode(k, self.k_norm, *rot.k)
        k_sharded = ttnn.to_memory_config(k, kv_memory_config)
        ttnn.experimental.paged_update_cache(self.cache.k, k_sharded, update_idxs_tensor=cur_pos)
        ttnn.experimental.paged_update_cache(self.cache.v, v, update_idxs_tensor=cur_pos)
        attn = ttnn.transformer.scaled_dot_product_attention_decode(
            q, self.cache.k, self.cache.v, cur_pos_tensor=cur_pos, scale=self.scale,
            sliding_window_size=self.sliding_window, memory_config=DRAM, compute_kernel_config=self.sdpa_config)
        for t in (k_sharded, k, k_base, v, q, q_base):  # reshapes may be views: free each once its user is done
            ttnn.deallocate(t)
        heads_first = ttnn.transpose(attn, 1, 2)  # [1, 32, nh, hd] -> [1, nh, 32, hd]
        ttnn.deallocate(attn)
        return self._output(heads_first)

    def _rotate_decode(self, t, norm, cos, sin):
        """Heads ``[1, 32, h, hd]`` (sharded) -> normed, each row rotated by its ``cos``/``sin`` row
        (``[1, 1, 32 * h, hd]``), DRAM interleaved, same shape.

        Returns ``(heads, base)``: ``heads`` may be a view of ``base``; the caller frees both when done.
        """
        users, heads = t.shape[1], t.shape[2]
        t = self._replace(t, ttnn.to_memory_config(t, DRAM))
        if norm is not None:
            t = self._replace(t, norm(t))
        merged = ttnn.reshape(t, (1, 1, users * heads, self.head_dim))
        rotated = ttnn.experimental.rotary_embedding(merged, cos, sin)
        ttnn.deallocate(merged)  # a reshape may be a view of t: free both
        ttnn.deallocate(t)
        return ttnn.reshape(rotated, (1, users, heads, self.head_dim)), rotated

    def _output(self, heads):
        """``[1, nh, S, hd]`` -> concat heads -> (trim padded heads) -> o_proj ``[1, 1, S, hidden]``."""
        merged = ttnn.experimental.nlp_concat_heads(heads, memory_config=DRAM)
        ttnn.deallocate(heads)
        width = self.n_heads * self.head_dim
        if merged.shape[-1] > width:
            rows = merged.shape[-2]
            merged = self._replace(merged, ttnn.slice(merged, (0, 0, 0, 0), (1, 1, rows, width)))
        out = ttnn.linear(merged, self.wo, compute_kernel_config=self.compute_kernel_config)
        ttnn.deallocate(merged)
        return self.tp.all_reduce(out)

    @staticmethod
    def _replace(old, new):
        """Free ``old`` unless an op handed it back unchanged; return ``new``."""
        if new is not old:
            ttnn.deallocate(old)
        return new
