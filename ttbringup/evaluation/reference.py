"""The HF reference continuation: greedy ``generate()`` on the CPU reference model."""

from __future__ import annotations

import torch
from transformers import StoppingCriteria, StoppingCriteriaList

from .progress import bar as progress_bar


class _Progress(StoppingCriteria):
    """Ticks a progress bar once per generated token; never stops generation."""

    def __init__(self, bar):
        self.bar = bar

    def __call__(self, input_ids, scores, **kwargs):
        self.bar.update(1)
        return torch.zeros(input_ids.shape[0], dtype=torch.bool)


@torch.inference_mode()
def greedy_reference(hf_model, prompt_ids: list[int], max_new_tokens: int, min_new_tokens: int | None = None,
                     *, progress: bool = True) -> list[int]:
    """The greedy continuation of ``prompt_ids``: at least ``min_new_tokens`` (default: all
    ``max_new_tokens``, so an EOS never shortens it) and at most ``max_new_tokens`` tokens."""
    min_new = max_new_tokens if min_new_tokens is None else min(min_new_tokens, max_new_tokens)
    ids = torch.tensor([prompt_ids], dtype=torch.long)
    eos = hf_model.generation_config.eos_token_id
    pad = hf_model.generation_config.pad_token_id
    if pad is None:
        pad = eos[0] if isinstance(eos, list) else eos
    with progress_bar(total=max_new_tokens, enabled=progress, desc="HF reference", unit="tok") as bar:
        out = hf_model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_new_tokens,
                                min_new_tokens=min_new, do_sample=False, num_beams=1, temperature=None,
                                top_p=None, top_k=None, pad_token_id=pad,
                                stopping_criteria=StoppingCriteriaList([_Progress(bar)]))
    return out[0, len(prompt_ids):].tolist()
