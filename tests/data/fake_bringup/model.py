"""A stand-in bringup in pure torch, for testing the eval tools without ttnn or the emulator.

``build_model(hf_model, tt_device, max_seq_len)`` returns :class:`FakeBringup`, which runs a
private deep copy of the HF model (so hooks on it never touch the reference) behind the bringup
interface the eval tools rely on:

- ``forward(input_ids, past_key_values=None, use_cache=True, output_hidden_states=False)`` returns
  ``CausalLMOutputWithPast`` with float32 logits ``[1, S, V]``, its own cache object
  (:class:`FakeCache`) and HF-style ``hidden_states`` when asked;
- ``max_cache_len`` (tokens the cache holds) and ``prefill_by_decode`` (prefill token by token);
- ``generate()`` through ``GenerationMixin``.

``tt_device`` is accepted and ignored. Results equal the HF model's up to float32 rounding.
"""

from __future__ import annotations

import copy

import torch
from transformers import GenerationConfig, GenerationMixin
from transformers.cache_utils import DynamicCache
from transformers.modeling_outputs import CausalLMOutputWithPast


class FakeCache:
    """The bringup's own cache: an HF DynamicCache plus the number of tokens it holds."""

    def __init__(self, config):
        self.hf_cache = DynamicCache(config=config)
        self.length = 0


class FakeBringup(torch.nn.Module, GenerationMixin):
    main_input_name = "input_ids"
    _is_stateful = False
    _supports_cache_class = False

    def __init__(self, hf_model, max_seq_len: int):
        super().__init__()
        self.inner = copy.deepcopy(hf_model).eval()
        self.config = self.inner.config
        self.generation_config = GenerationConfig.from_model_config(self.config)
        self.max_cache_len = int(max_seq_len)
        self.prefill_by_decode = False

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    def can_generate(self) -> bool:  # noqa: D102 (GenerationMixin protocol)
        return True

    def forward(self, input_ids, past_key_values=None, use_cache=True, output_hidden_states=False, **_):
        cache = past_key_values if isinstance(past_key_values, FakeCache) else FakeCache(self.config)
        seq = input_ids.shape[1]
        if cache.length + seq > self.max_cache_len:
            raise ValueError(f"cache holds {self.max_cache_len} tokens; {cache.length} + {seq} do not fit")
        if self.prefill_by_decode and seq > 1:
            steps = [self._step(input_ids[:, i : i + 1], cache, output_hidden_states) for i in range(seq)]
            logits = torch.cat([s.logits for s in steps], dim=1)
            hidden = None
            if output_hidden_states:
                hidden = tuple(torch.cat(layer, dim=1) for layer in zip(*(s.hidden_states for s in steps)))
            return CausalLMOutputWithPast(logits=logits, past_key_values=cache, hidden_states=hidden)
        return self._step(input_ids, cache, output_hidden_states)

    @torch.no_grad()
    def _step(self, input_ids, cache: FakeCache, output_hidden_states: bool) -> CausalLMOutputWithPast:
        seq = input_ids.shape[1]
        positions = torch.arange(cache.length, cache.length + seq).unsqueeze(0)
        out = self.inner(input_ids=input_ids, past_key_values=cache.hf_cache, use_cache=True,
                         position_ids=positions, cache_position=positions[0],
                         output_hidden_states=output_hidden_states)
        cache.length += seq
        return CausalLMOutputWithPast(logits=out.logits.float(), past_key_values=cache,
                                      hidden_states=out.hidden_states if output_hidden_states else None)

    def prepare_inputs_for_generation(self, input_ids, past_key_values=None, **kwargs):
        """Feed only the tokens our cache has not seen; generate() may pass a foreign empty cache."""
        if isinstance(past_key_values, FakeCache) and past_key_values.length > 0:
            return {"input_ids": input_ids[:, past_key_values.length :], "past_key_values": past_key_values}
        return {"input_ids": input_ids, "past_key_values": None}


def build_model(hf_model, tt_device, max_seq_len):
    return FakeBringup(hf_model, max_seq_len)
