"""The causal LM on the device, driven from the host as an HF-compatible ``nn.Module`` + ``GenerationMixin``.

Host contract (up to ``model.users`` sequences: 32 per model replica, one per row of a decode batch; with
``DataParallel`` a mesh holds one replica per chip, user ``u`` on chip ``u // 32``)::

    model(input_ids [B, S], past_key_values=None | <TTCache from this model>, attention_mask=None | [B, cached + S],
          logits_to_keep=0)
      -> CausalLMOutputWithPast(logits float32 [B, S or logits_to_keep, vocab], past_key_values=TTCache,
                                hidden_states=...)

* User ``u`` (row ``u`` of ``input_ids``) owns row ``u`` of the device KV cache and has its own position. Its
  tokens are the columns its ``attention_mask`` marks 1, at positions 0, 1, 2, ... of its own sequence (what
  ``generate()`` computes from a left-padded batch), so each user gets the tokens it would get alone. A column a
  user's mask marks 0 is no token of that user: that user is idle for that step (its cache row untouched) and its
  logits there are 0. Users may so join late and finish early independently.
* A fresh sequence (``past_key_values`` is None or not a ``TTCache``, e.g. the empty ``DynamicCache`` that
  transformers >= 4.54 passes on the first ``generate()`` step) starts every user at position 0; a ``TTCache`` of
  this model continues where it stopped. The device cache is one per model: starting a new sequence makes older
  ``TTCache`` handles stale (using one raises ``ValueError``).
* Prefill from position 0 is one pass per user (its tokens right-padded with token 0 to a multiple of 32,
  ``fill_cache(batch_idx=u % 32)``; data-parallel replicas prefill their users of the same row together), logits of the padding rows dropped on the host), or token by token with decode
  steps when ``model.prefill_by_decode = True``. New tokens on top of a non-empty cache go column by column.
* Decode runs the 32-row batch, each active user at its own position, the other rows idle at position -1. Its
  inputs live in persistent device tensors written before each step (``DecodeInputs``), so the step itself moves
  nothing between host and device: with ``model.trace_decode = True`` (the device needs a ``trace_region_size``)
  the first decode step runs eagerly (the programs compile), the second is captured as a metal trace, and every
  step from then on replays it (``ttnn.execute_trace``); ``output_hidden_states=True`` always runs eagerly.
  With ``model.input_cq = 1`` (the device opened with ``num_command_queues=2``) the inputs are written on the
  second command queue, ordered with events as tt-metal's two-queue pattern does: cq 1 waits for what cq 0 has
  enqueued, writes, records an event that cq 0 waits for before the step.
* ``model.max_cache_len`` tokens fit in the cache; a forward that would pass it raises ``ValueError``.
* ``output_hidden_states=True`` returns HF's tuple: embeddings, the outputs of layers 0..n-2, and the final-
  normed output of the last layer, each ``[B, S, hidden]`` float32.
* ``logits_to_keep=k`` (``generate()`` passes 1) returns the logits of the last ``k`` columns only.
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
    """Handle on a ``TTCausalLM``'s device KV cache: the sequence batch it belongs to, the columns of input it has
    seen (``length``, what ``generate()`` counts) and the tokens each user's cache row holds (``user_lengths``)."""

    def __init__(self, model: "TTCausalLM", sequence_id: int, batch: int = 1):
        self.model = model
        self.sequence_id = sequence_id
        self.batch = batch
        self.length = 0
        self.user_lengths = [0] * batch

    def is_current(self) -> bool:
        """True while the device cache still holds this handle's sequence."""
        return self.model._sequence_id == self.sequence_id

    def get_seq_length(self, layer_idx: int = 0) -> int:
        return self.length

    def __repr__(self):
        return f"TTCache(length={self.length}, user_lengths={self.user_lengths}, current={self.is_current()})"


class _Outputs:
    """The host-side outputs of one forward: logits ``[batch, keep, vocab]`` (the last ``keep`` of ``n`` columns)
    and, when collected, hidden states ``[batch, n, hidden]`` per layer; a column without a user's token stays 0."""

    def __init__(self, batch: int, n: int, keep: int, vocab: int):
        self.first_kept = n - keep
        self.batch, self.n = batch, n
        self.logits = torch.zeros(batch, keep, vocab)
        self._hidden: list[torch.Tensor] = []

    def put(self, users, columns, logits: torch.Tensor, hidden: list[torch.Tensor]) -> None:
        """Row ``i`` of ``logits`` (and of each ``hidden`` entry) is user ``users[i]`` at column ``columns[i]``."""
        users, columns = torch.as_tensor(users), torch.as_tensor(columns)
        kept = columns >= self.first_kept
        self.logits[users[kept], columns[kept] - self.first_kept] = logits[kept]
        if hidden and not self._hidden:
            self._hidden = [torch.zeros(self.batch, self.n, h.shape[-1]) for h in hidden]
        for into, h in zip(self._hidden, hidden):
            into[users, columns] = h

    def hidden_states(self) -> tuple:
        return tuple(self._hidden)


class TTCausalLM(torch.nn.Module, GenerationMixin):
    """Embedding -> decoder layers -> final norm -> lm_head, with a device KV cache.

    ``embed``: ``[1,1,vocab,hidden]`` table; ``layers``: ``DecoderLayer`` list; ``norm``: ``RMSNorm``;
    ``lm_head``: ``[1,1,hidden,vocab]`` weight (on a mesh: its vocabulary split over the chips, zero-padded);
    ``tp``: the ``TensorParallel`` the blocks were built with (reads results back to the host); ``rope``:
    ``RopeCache``; ``local_rope``: the ``RopeCache`` of the sliding-window layers when they have their own RoPE
    (Gemma-3's local base; None: every layer uses ``rope``); ``inputs``: the persistent ``DecodeInputs``;
    ``max_cache_len``: tokens the cache holds; ``host_device``: torch device the inputs are staged on (``meta`` for a
    data-free build). ``decode_tail``: None, or a callable the decode step hands its device logits to after the
    lm_head (device ops on them run, and are traced, with the step; the logits are returned unchanged).
    """

    decode_tail = None
    main_input_name = "input_ids"
    _is_stateful = False
    _supports_cache_class = True
    _supports_static_cache = False

    def __init__(self, config, device, *, embed, layers, norm, lm_head, rope, inputs, max_cache_len: int, tp=None,
                 generation_config: GenerationConfig | None = None, host_device="cpu", local_rope=None):
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
        self.local_rope = local_rope
        self._ropes = [rope] if local_rope is None else [rope, local_rope]
        self._rope_index = [int(local_rope is not None and layer.sliding) for layer in layers]  # into _ropes
        self.inputs = inputs
        self.max_cache_len = int(max_cache_len)
        self.users = self.tp.users  # decode rows: 32 per model replica
        self.prefill_by_decode = False
        self.trace_decode = False
        self.input_cq = 0  # command queue the decode inputs are written on (1: the second queue, see module doc)
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
        return {"input_ids": input_ids, "past_key_values": past_key_values, "use_cache": True,
                "attention_mask": kwargs.get("attention_mask"), "logits_to_keep": kwargs.get("logits_to_keep", 0)}

    # ---- forward ----
    def forward(self, input_ids, past_key_values=None, attention_mask=None, use_cache=True,
                output_hidden_states=False, logits_to_keep: int = 0, **kwargs) -> CausalLMOutputWithPast:
        ids = torch.as_tensor(input_ids)
        if ids.dim() == 1:
            ids = ids[None]
        batch, n = ids.shape
        if n == 0:
            raise ValueError("input_ids is empty")
        if batch > self.users:
            raise ValueError(f"batch size {batch} is not supported: this model decodes at most {self.users} users")
        cache = self._cache_for(past_key_values, batch)
        start = cache.length
        live = self._new_token_mask(attention_mask, batch, start, n)
        for user, (had, new) in enumerate(zip(cache.user_lengths, live.sum(dim=1).tolist())):
            if had + new > self.max_cache_len:
                raise ValueError(f"sequence of {had + new} tokens ({had} cached + {new} new"
                                 + (f", user {user}" if batch > 1 else "") + f") exceeds the KV cache of "
                                 f"max_cache_len={self.max_cache_len} tokens; build with a larger max_seq_len")
        keep = n if not logits_to_keep else min(int(logits_to_keep), n)
        out = _Outputs(batch, n, keep, self.config.vocab_size)
        if start == 0 and n > 1 and not self.prefill_by_decode:
            rows: dict[int, dict] = {}  # cache row -> {user: its columns}; a row's users (one per replica) go together
            for user in range(batch):
                columns = live[user].nonzero().flatten()
                if len(columns):
                    rows.setdefault(user % CACHE_BATCH, {})[user] = columns
            for row, members in rows.items():
                results = self._prefill({u: ids[u, c].tolist() for u, c in members.items()}, output_hidden_states)
                for user, (logits, hidden) in results.items():
                    columns = members[user]
                    out.put([user] * len(columns), columns, logits, hidden)
                    cache.user_lengths[user] = len(columns)
        else:
            for column in range(n):
                users = live[:, column].nonzero().flatten().tolist()
                if not users:
                    continue
                tokens = {u: int(ids[u, column]) for u in users}
                logits, hidden = self._decode(tokens, cache.user_lengths, output_hidden_states)
                out.put(users, [column] * len(users), logits, hidden)
                for u in users:
                    cache.user_lengths[u] += 1
        cache.length = start + n
        return CausalLMOutputWithPast(logits=out.logits, past_key_values=cache,
                                      hidden_states=out.hidden_states() if output_hidden_states else None)

    @staticmethod
    def _new_token_mask(attention_mask, batch: int, start: int, n: int) -> torch.Tensor:
        """Which of the ``n`` new columns hold a token of each user (bool ``[batch, n]``); all of them without a
        mask. A mask covers the cached columns and the new ones, as ``generate()`` passes it."""
        if attention_mask is None:
            return torch.ones(batch, n, dtype=torch.bool)
        mask = torch.as_tensor(attention_mask)
        if mask.dim() != 2 or mask.shape[0] != batch or mask.shape[1] != start + n:
            raise ValueError(f"attention_mask of shape {tuple(mask.shape)} does not match {batch} sequences of "
                             f"{start} cached + {n} new tokens (expected [{batch}, {start + n}])")
        return mask[:, start:].bool()

    def _cache_for(self, past_key_values, batch: int) -> TTCache:
        if isinstance(past_key_values, TTCache):
            if past_key_values.model is not self:
                raise ValueError("past_key_values belongs to a different model")
            if not past_key_values.is_current():
                raise ValueError("past_key_values is stale: the device cache has since been reused for a new sequence")
            if past_key_values.batch != batch:
                raise ValueError(f"past_key_values holds {past_key_values.batch} sequences, input_ids has {batch}")
            return past_key_values
        self._sequence_id = next(_sequence_ids)
        return TTCache(self, self._sequence_id, batch)

    def _prefill(self, prompts: dict[int, list[int]], keep_hidden: bool) -> dict:
        """One pass over positions 0..S-1 (padded to S_pad) for users of one cache row, at most one per replica
        (each replica's chips prefill their own user; a replica without one runs a zero prompt whose cache row is
        then unused or rewritten before it is read). Returns ``{user: (host logits [S, vocab], hidden states)}``."""
        longest = max(map(len, prompts.values()))
        s_pad = round_up(longest)
        ids = torch.zeros(self.tp.replicas, s_pad, dtype=torch.int32)
        where = {}  # user -> its rows in the replicas' rows, replica after replica
        for user, tokens in prompts.items():
            replica = user // CACHE_BATCH
            ids[replica, :len(tokens)] = torch.tensor(tokens, dtype=torch.int32)
            where[user] = list(range(replica * s_pad, replica * s_pad + len(tokens)))
        x = self._embed(ids, s_pad)
        tables = [rope.prefix(s_pad, longest) for rope in self._ropes]  # the longest prompt picks LongRoPE's factors
        hidden = [self._host(x, where)] if keep_hidden else []
        row = next(iter(prompts)) % CACHE_BATCH
        for layer, i in zip(self.layers, self._rope_index):
            x = layer.prefill(x, *tables[i], row)
            if keep_hidden:
                hidden.append(self._host(x, where))
        for rope, (cos, sin) in zip(self._ropes, tables):
            rope.release(cos, sin)
        normed = self.norm(x)
        ttnn.deallocate(x)
        if keep_hidden:
            hidden[-1] = self._host(normed, where)  # HF reports the last layer after the final norm
        logits = ttnn.linear(normed, self.lm_head)
        ttnn.deallocate(normed)
        host = self._logits_to_host(logits, where)
        ttnn.deallocate(logits)
        return {u: (host[u], [h[u] for h in hidden]) for u in prompts}

    def _decode(self, tokens: dict[int, int], positions: list[int], keep_hidden: bool):
        """One step of the 32-row batch: user ``u`` feeds ``tokens[u]`` at position ``positions[u]``, every other
        row is idle (position -1: its cache row is not touched). Returns host logits and hidden states, one row per
        user of ``tokens`` in its order."""
        users = list(tokens)
        ids, pos = [0] * self.users, [-1] * self.users
        for u in users:
            ids[u], pos[u] = tokens[u], positions[u]
        self._write_inputs(ids, pos)
        if keep_hidden or not self.trace_decode or not self._decode_warm:
            hidden = [] if keep_hidden else None
            logits = self._decode_step(hidden)
            self._decode_warm = True
            host = self._logits_to_host(logits, users)
            ttnn.deallocate(logits)
            return host, [h[users] for h in hidden or []]
        if self._trace is None:
            trace_id = ttnn.begin_trace_capture(self.tt_device, cq_id=0)
            logits = self._decode_step(None)
            ttnn.end_trace_capture(self.tt_device, trace_id, cq_id=0)
            self._trace = (trace_id, logits)
        trace_id, logits = self._trace
        ttnn.execute_trace(self.tt_device, trace_id, cq_id=0, blocking=True)
        return self._logits_to_host(logits, users), []

    def _write_inputs(self, ids: list[int], pos: list[int]) -> None:
        if self.input_cq == 0:
            self.inputs.write(ids, pos)
            return
        ttnn.wait_for_event(self.input_cq, ttnn.record_event(self.tt_device, 0))  # cq 0 is done reading them
        self.inputs.write(ids, pos, cq_id=self.input_cq)
        ttnn.wait_for_event(0, ttnn.record_event(self.tt_device, self.input_cq))  # the step reads them once written

    def _decode_step(self, hidden: list | None):
        """The decode step on the device, from ``self.inputs`` to the logits (no host transfer unless ``hidden``
        collects the layers' outputs)."""
        x = self._embed_ids(self.inputs.ids, CACHE_BATCH)
        rots = [rope.decode_rows(self.inputs) for rope in self._ropes]
        if hidden is not None:
            hidden.append(self._host(x, self.users))
        for layer, i in zip(self.layers, self._rope_index):
            x = layer.decode(x, self.inputs.cur_pos, rots[i])
            if hidden is not None:
                hidden.append(self._host(x, self.users))
        for rot in rots:
            rot.deallocate()
        normed = self.norm(x)
        ttnn.deallocate(x)
        if hidden is not None:
            hidden[-1] = self._host(normed, self.users)  # HF reports the last layer after the final norm
        logits = ttnn.linear(normed, self.lm_head)
        ttnn.deallocate(normed)
        if self.decode_tail is not None:
            self.decode_tail(logits)
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

    def _embed(self, ids: torch.Tensor, rows: int):
        """Token ids ``[replicas, rows]`` (rows a multiple of 32) -> ``[1, 1, rows, hidden]`` TILE bf16 per chip."""
        ids = self.tp.user_values(ids.to(self.host_device).reshape(1, 1, 1, -1), ttnn.uint32, 3, self.tt_device)
        x = self._embed_ids(ids, rows)
        ttnn.deallocate(ids)
        return x

    def _embed_ids(self, ids, rows: int):
        x = ttnn.embedding(ids, self.embed, layout=ttnn.TILE_LAYOUT)
        return ttnn.reshape(x, (1, 1, rows, x.shape[-1]))

    def _logits_to_host(self, logits, rows) -> torch.Tensor:
        vocab = self.config.vocab_size  # drop the vocabulary padding
        host = self._host(logits, rows, sharded=True)
        return {k: v[:, :vocab] for k, v in host.items()} if isinstance(host, dict) else host[:, :vocab]

    def _host(self, t, rows, sharded: bool = False):
        """Rows of a ``[..., rows, width]`` device tensor (replica after replica) as float32: the first ``rows``
        ``[rows, width]`` when an int, the rows listed ``[len(rows), width]`` when a list, and for a dict
        ``{key: rows}`` a dict ``{key: [len(rows), width]}``."""
        values = self.tp.to_host(t, sharded=sharded)
        values = values.reshape(-1, values.shape[-1])
        if isinstance(rows, int):
            return values[:rows].float()
        if isinstance(rows, dict):
            return {key: values[r].float() for key, r in rows.items()}
        return values[rows].float()
