"""Timed greedy generation through ``model.generate()``: time to first token and decode speed.

Timing comes from a streamer: ``generate()`` hands it the prompt before the first forward and then
each new token as it is produced, so TTFT = first new token - start, and decode tokens/s/user =
(new tokens - 1) / (last token - first token). With a batch every user decodes the same prompt (as a serving
demo fills a batch from fewer prompts); tokens/s = tokens/s/user x users.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from transformers.generation.streamers import BaseStreamer


class _Clock(BaseStreamer):
    def __init__(self):
        self.times: list[float] = []

    def put(self, value):
        self.times.append(time.perf_counter())

    def end(self):
        pass


@dataclass
class Generation:
    new_ids: list[int]  # user 0's tokens
    ttft_seconds: float
    decode_tokens_per_second: float | None  # per user; None when fewer than two tokens were generated
    batch: int = 1
    users_agree: bool = True  # every user generated user 0's tokens (they all decode the same prompt)

    @property
    def tokens_per_second(self) -> float | None:
        return None if self.decode_tokens_per_second is None else self.decode_tokens_per_second * self.batch

    def to_dict(self) -> dict:
        return {"new_ids": self.new_ids, "ttft_seconds": self.ttft_seconds,
                "decode_tokens_per_second_per_user": self.decode_tokens_per_second, "batch": self.batch,
                "decode_tokens_per_second": self.tokens_per_second, "users_agree": self.users_agree}


@torch.inference_mode()
def timed_generate(model, prompt_ids: list[int], max_new_tokens: int, pad_token_id: int | None = None,
                   batch: int = 1) -> Generation:
    """Greedy ``model.generate()`` of up to ``max_new_tokens`` after ``prompt_ids`` for ``batch`` users, timed."""
    ids = torch.tensor([list(prompt_ids)] * batch, dtype=torch.long)
    clock = _Clock()
    start = time.perf_counter()
    out = model.generate(ids, max_new_tokens=max_new_tokens, do_sample=False,
                         num_beams=1, temperature=None, top_p=None, top_k=None, pad_token_id=pad_token_id,
                         streamer=clock)
    new = out[:, len(prompt_ids):]
    new_ids = new[0].tolist()
    token_times = clock.times[1:]  # times[0] is the prompt
    ttft = (token_times[0] if token_times else time.perf_counter()) - start
    rate = None
    if len(token_times) >= 2 and token_times[-1] > token_times[0]:
        rate = (len(token_times) - 1) / (token_times[-1] - token_times[0])
    return Generation(new_ids=new_ids, ttft_seconds=ttft, decode_tokens_per_second=rate, batch=batch,
                      users_agree=bool((new == new[:1]).all()))
