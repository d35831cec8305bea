"""The causal LM on the device, driven from the host as an HF-compatible ``nn.Module`` + ``GenerationMixin``.

Host contract (batch 1)::

    model(input_ids [1, S], past_key_values=None | <TTCache from this model>)
      -> CausalLMOutputWithPast(logits float32 [1, S, vocab], past_key_values=TTCache, hidden_states=...)

* A fresh sequence (``past_key_values`` is None or not a ``TTCache``, e.g. the empty ``DynamicCache`` that
  transformers >= 4.54 passes on the first ``generate()`` step) starts at position 0; a ``TTCache`` of this
  model continues where it stopped. The device cache is one per model: starting a new sequence makes older
  ``TTCache`` handles stale (using one raises ``ValueError``).
* Prefill from position 0 is one pass (prompt right-padded with token 0 to a multiple of 32, ``fill_cache``,
  logits of the padding rows dropped on the host), or token by token with decode steps when
  ``model.prefill_by_decode = True``. Several new tokens on top of a non-empty cache also go token by token.
* Decode runs a 32-row batch where only row 0 is real (the 31 idle users sit at position -1). Its inputs live in
  persistent device tensors written before each step (``DecodeInputs``), so the step itself moves nothing between
  host and device: with ``model.trace_decode = True`` (the device needs a ``trace_region_size``) the first decode
  step runs eagerly (the programs compile), the second is captured as a metal trace, and every step from then on
  replays it (``ttnn.execute_trace``); ``output_hidden_states=True`` always runs eagerly (it reads every layer).
* ``model.max_cache_len`` tokens fit in the cache; a forward that would pass it raises ``ValueError``.
* ``output_hidden_states=True`` returns HF's tuple: embeddings, the outputs of layers 0..n-2, and the final-
  normed output of the last layer, each ``[1, S, hidden]`` float32.
"""

from __future__ import annotations

import itertools

import torch
import ttnn
from transformers import GenerationConfig, GenerationMixin
from transformers.modeling_outputs import CausalLMOutputWithPast

from .kv_cache import CACHE_BATCH, round_up
from .parallel import TensorParallel

_sequence_ids = itertools.count(1)


class TTCache:
    """Handle on a ``TTCausalLM``'s device KV cache: the sequence it belongs to and how many tokens it holds."""

    def __init__(self, model: "TTCausalLM", sequence_id: int):
        self.model = model
        self.sequence_id = sequence_id
        self.length = 0

    def is_current(self) -> bool:
        """True while the device cache still holds this handle's sequence."""
        return self.model._sequence_id == self.sequence_id

    def get_seq_length(self, layer_idx: int = 0) -> int:
        return self.length

    def __repr__(self):
        return f"TTCache(length={self.length}, current={self.is_current()})"


class TTCausalLM(torch.nn.Module, GenerationMixin):
    """Embedding -> decoder layers -> final norm -> lm_head, with a device KV cache.

    ``embed``: ``[1,1,vocab,hidden]`` table; ``layers``: ``DecoderLayer`` list; ``norm``: ``RMSNorm``;
    ``lm_head``: ``[1,1,hidden,vocab]`` weight (on a mesh: its vocabulary split over the chips, zero-padded);
    ``tp``: the ``TensorParallel`` the blocks were built with (reads results back to the host); ``rope``:
    ``RopeCache``; ``inputs``: the persistent ``DecodeInputs``; ``max_cache_len``: tokens the cache holds; ``host_device``: torch device the inputs are
    staged on (``meta`` for a data-free build).
    """

    main_input_name = "input_ids"
    _is_stateful = False
    _supports_cache_class = True
    _supports_static_cache = False

    def __init__(self, config, device, *, embed, layers, norm, lm_head, rope, inputs, max_cache_len: int, tp=None,
                 generation_config: GenerationConfig | None = None, host_device="cpu"):
        super().__init__()
        self.config = config
        self.generation_config = generation_config or GenerationConfig.from_model_config(config)
        self.tt_device = device
        self.embed = embed
        self.layers = layers
        self.norm = norm
        self.lm_head = lm_head
        self.tp = tp or TensorParallel(device)
        self.rope = rope
        self.inputs = inputs
        self.max_cache_len = int(max_cache_len)
        self.prefill_by_decode = False
        self.trace_decode = False
        self._decode_warm = False  # a decode step has run eagerly: its programs are in the device's cache
        self._trace = None  # (trace id, the logits tensor the trace writes)
        self.host_device = torch.device(host_device)
        self._sequence_id = 0

    # ---- what GenerationMixin needs ----
    @classmethod
    def can_generate(cls) -> bool:
        return True

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")  # logits come back to the host

    @property
    def dtype(self) -> torch.dtype:
        return torch.float32

    def prepare_inputs_for_generation(self, input_ids, past_key_values=None, **kwargs):
        """Feed only the tokens the cache has not seen; anything but our own live cache means a fresh start."""
        if isinstance(past_key_values, TTCache) and past_key_values.is_current():
            input_ids = input_ids[:, past_key_values.length:]
        else:
            past_key_values = None
        return {"input_ids": input_ids, "past_key_values": past_key_values, "use_cache": True}

    # ---- forward ----
    def forward(self, input_ids, past_key_values=None, attention_mask=None, use_cache=True,
                output_hidden_states=False, **kwargs) -> CausalLMOutputWithPast:
        ids = torch.as_tensor(input_ids)
        if ids.dim() == 1:
            ids = ids[None]
        if ids.shape[-1] == 0:
            raise ValueError("input_ids is empty")
        if ids.shape[0] != 1:
            raise ValueError(f"batch size {ids.shape[0]} is not supported: this model runs one sequence (batch 1)")
        if attention_mask is not None and not bool(torch.as_tensor(attention_mask).all()):
            raise ValueError("attention_mask with padding is not supported: pass unpadded input_ids (batch 1)")
        cache = self._cache_for(past_key_values)
        start, n = cache.length, ids.shape[1]
        if start + n > self.max_cache_len:
            raise ValueError(f"sequence of {start + n} tokens ({start} cached + {n} new) exceeds the KV cache of "
                             f"max_cache_len={self.max_cache_len} tokens; build with a larger max_seq_len")
        tokens = ids[0].tolist()
        if start == 0 and n > 1 and not self.prefill_by_decode:
            logits, hidden = self._prefill(tokens, output_hidden_states)
        else:
            steps = [self._decode(tok, start + i, output_hidden_states) for i, tok in enumerate(tokens)]
            logits = torch.cat([s[0] for s in steps], dim=0)
            hidden = [torch.cat(h, dim=0) for h in zip(*[s[1] for s in steps])] if output_hidden_states else []
        cache.length = start + n
        hidden_states = tuple(h[None] for h in hidden) if output_hidden_states else None
        return CausalLMOutputWithPast(logits=logits[None], past_key_values=cache, hidden_states=hidden_states)

    def _cache_for(self, past_key_values) -> TTCache:
        if isinstance(past_key_values, TTCache):
            if past_key_values.model is not self:
                raise ValueError("past_key_values belongs to a different model")
            if not past_key_values.is_current():
                raise ValueError("past_key_values is stale: the device cache has since been reused for a new sequence")
            return past_key_values
        self._sequence_id = next(_sequence_ids)
        return TTCache(self, self._sequence_id)

    def _prefill(self, tokens: list[int], keep_hidden: bool):
        """One pass over positions 0..S-1 (padded to S_pad); returns host logits [S, vocab] and hidden states."""
        n = len(tokens)
        s_pad = round_up(n)
        x = self._embed(tokens + [0] * (s_pad - n))
        cos, sin = self.rope.prefix(s_pad)
        hidden = [self._host(x, n)] if keep_hidden else []
        for layer in self.layers:
            x = layer.prefill(x, cos, sin)
            if keep_hidden:
                hidden.append(self._host(x, n))
        if cos is not self.rope.cos:  # a slice of the table, not the table itself
            ttnn.deallocate(cos)
            ttnn.deallocate(sin)
        return self._head(x, n, hidden, keep_hidden)

    def _decode(self, token: int, pos: int, keep_hidden: bool):
        """One step at position ``pos`` (row 0 of a 32-row batch); returns host logits [1, vocab] and hidden."""
        self.inputs.write([token] + [0] * (CACHE_BATCH - 1), [pos] + [-1] * (CACHE_BATCH - 1))
        if keep_hidden or not self.trace_decode or not self._decode_warm:
            hidden = [] if keep_hidden else None
            logits = self._decode_step(hidden)
            self._decode_warm = True
            host = self._logits_to_host(logits, 1)
            ttnn.deallocate(logits)
            return host, hidden or []
        if self._trace is None:
            trace_id = ttnn.begin_trace_capture(self.tt_device, cq_id=0)
            logits = self._decode_step(None)
            ttnn.end_trace_capture(self.tt_device, trace_id, cq_id=0)
            self._trace = (trace_id, logits)
        trace_id, logits = self._trace
        ttnn.execute_trace(self.tt_device, trace_id, cq_id=0, blocking=True)
        return self._logits_to_host(logits, 1), []

    def _decode_step(self, hidden: list | None):
        """The decode step on the device, from ``self.inputs`` to the logits (no host transfer unless ``hidden``
        collects the layers' outputs)."""
        x = self._embed_ids(self.inputs.ids, CACHE_BATCH)
        rot = self.rope.decode_rows(self.inputs)
        if hidden is not None:
            hidden.append(self._host(x, 1))
        for layer in self.layers:
            x = layer.decode(x, self.inputs.cur_pos, rot)
            if hidden is not None:
                hidden.append(self._host(x, 1))
        rot.deallocate()
        normed = self.norm(x)
        ttnn.deallocate(x)
        if hidden is not None:
            hidden[-1] = self._host(normed, 1)  # HF reports the last layer after the final norm
        logits = ttnn.linear(normed, self.lm_head)
        ttnn.deallocate(normed)
        return logits

    @property
    def decode_traced(self) -> bool:
        """True once the decode steps replay a captured trace."""
        return self._trace is not None

    def release_trace(self) -> None:
        """Free the captured decode trace (the next traced step captures a new one)."""
        if self._trace is not None:
            ttnn.release_trace(self.tt_device, self._trace[0])
            ttnn.deallocate(self._trace[1])
            self._trace = None

    def _embed(self, tokens: list[int]):
        """Token ids (a multiple of 32) -> ``[1, 1, rows, hidden]`` TILE bf16."""
        ids = torch.tensor(tokens, dtype=torch.int32, device=self.host_device).reshape(1, 1, 1, -1)
        ids = ttnn.from_torch(ids, dtype=ttnn.uint32, device=self.tt_device)
        x = self._embed_ids(ids, len(tokens))
        ttnn.deallocate(ids)
        return x

    def _embed_ids(self, ids, rows: int):
        x = ttnn.embedding(ids, self.embed, layout=ttnn.TILE_LAYOUT)
        return ttnn.reshape(x, (1, 1, rows, x.shape[-1]))

    def _head(self, x, n: int, hidden: list, keep_hidden: bool):
        normed = self.norm(x)
        ttnn.deallocate(x)
        if keep_hidden:
            hidden[-1] = self._host(normed, n)  # HF reports the last layer after the final norm
        logits = ttnn.linear(normed, self.lm_head)
        ttnn.deallocate(normed)
        host = self._logits_to_host(logits, n)
        ttnn.deallocate(logits)
        return host, hidden

    def _logits_to_host(self, logits, n: int) -> torch.Tensor:
        return self._host(logits, n, sharded=True)[:, :self.config.vocab_size]  # drop the vocabulary padding

    def _host(self, t, n: int, sharded: bool = False) -> torch.Tensor:
        """First ``n`` rows of a ``[..., rows, width]`` device tensor as float32 ``[n, width]``."""
        values = self.tp.to_host(t, sharded=sharded)
        return values.float().reshape(-1, values.shape[-1])[:n]
