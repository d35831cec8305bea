"""Teacher forcing: score a bringup's next-token predictions along the reference continuation.

``teacher_force(hf_model, tt_model, prompt_ids, ref_ids)`` prefills the prompt on ``tt_model``,
then feeds the reference tokens one at a time (passing the model's own cache back each step).
Position ``i`` (0-based, ``len(ref_ids)`` positions) is the prediction after the prompt and
``ref_ids[:i]``; it is a top-1 hit when our argmax equals ``ref_ids[i]`` and a top-5 hit when
``ref_ids[i]`` is among our five largest logits. The logits PCC compares all scored positions'
logits with the HF model's teacher-forced logits (one HF pass over prompt + ref_ids[:-1]).

``tt_model`` is anything with the bringup ``forward`` contract; the HF model itself works too
(the sanity baseline). Prefill by decode: ``prefill_by_decode=None`` keeps the model's setting;
True/False sets the model's ``prefill_by_decode`` attribute, and a model without that attribute
(an HF model) is then fed the prompt token by token here.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import torch
from .metrics import in_top_k, pcc
from .progress import bar

TOP_K = 5


@dataclass
class TeacherForcingResult:
    """What one teacher-forced run measured; positions index the reference continuation."""

    prompt_len: int
    ref_ids: list[int]
    predicted_ids: list[int]  # our argmax at each position
    top1_hits: list[bool]
    top5_hits: list[bool]
    logits_pcc: float
    prefill_seconds: float
    decode_seconds: float
    per_position_pcc: list[float] = field(default_factory=list)
    prefill_by_decode: bool = False  # how the prompt was actually prefilled

    @property
    def total(self) -> int:
        """Scored positions."""
        return len(self.ref_ids)

    @property
    def top1(self) -> float:
        return sum(self.top1_hits) / self.total if self.total else float("nan")

    @property
    def top5(self) -> float:
        return sum(self.top5_hits) / self.total if self.total else float("nan")

    @property
    def first_mismatch(self) -> int | None:
        """The first position whose top-1 disagrees with the reference, or None."""
        return next((i for i, hit in enumerate(self.top1_hits) if not hit), None)

    def to_dict(self) -> dict:
        data = asdict(self)
        data.update(total=self.total, top1=self.top1, top5=self.top5, first_mismatch=self.first_mismatch)
        return data


def _last_logits(output) -> torch.Tensor:
    return output.logits[0, -1].detach().float()


def _prefill(tt_model, prompt: torch.Tensor, prefill_by_decode: bool | None, progress: bool):
    """Run the prompt through ``tt_model``; return (logits of the last position, cache)."""
    has_flag = hasattr(tt_model, "prefill_by_decode")
    if prefill_by_decode is not None and has_flag:
        tt_model.prefill_by_decode = bool(prefill_by_decode)
    if prefill_by_decode and not has_flag:
        cache, out = None, None
        for i in bar(range(prompt.shape[1]), enabled=progress, desc="prefill by decode", unit="tok"):
            out = tt_model(input_ids=prompt[:, i : i + 1], past_key_values=cache, use_cache=True)
            cache = out.past_key_values
        return _last_logits(out), cache
    out = tt_model(input_ids=prompt, past_key_values=None, use_cache=True)
    return _last_logits(out), out.past_key_values


@torch.inference_mode()
def hf_teacher_forced_logits(hf_model, prompt_ids: list[int], ref_ids: list[int]) -> torch.Tensor:
    """The HF model's logits ``[len(ref_ids), V]`` at every scored position, in one pass."""
    ids = torch.tensor([list(prompt_ids) + list(ref_ids[:-1])], dtype=torch.long)
    logits = hf_model(input_ids=ids, use_cache=False).logits[0].float()
    return logits[len(prompt_ids) - 1 :]


@torch.inference_mode()
def teacher_force(hf_model, tt_model, prompt_ids, ref_ids, *, reference_logits: torch.Tensor | None = None,
                  prefill_by_decode: bool | None = None, progress: bool = True,
                  desc: str = "teacher forcing") -> TeacherForcingResult:
    """Score ``tt_model`` along ``ref_ids`` after ``prompt_ids`` (see the module docstring).

    The PCC compares with ``reference_logits`` (``hf_teacher_forced_logits``, computed beforehand) when given, else
    with ``hf_model``'s; with neither it is NaN. Progress bars go to stderr.
    """
    prompt_ids, ref_ids = [int(t) for t in prompt_ids], [int(t) for t in ref_ids]
    if not prompt_ids or not ref_ids:
        raise ValueError("teacher_force needs a non-empty prompt and reference")
    prompt = torch.tensor([prompt_ids], dtype=torch.long)

    start = time.perf_counter()
    logits, cache = _prefill(tt_model, prompt, prefill_by_decode, progress)
    prefill_seconds = time.perf_counter() - start
    by_decode = bool(getattr(tt_model, "prefill_by_decode", prefill_by_decode))

    ours = [logits]
    start = time.perf_counter()
    for token in bar(ref_ids[:-1], enabled=progress, desc=desc, unit="tok"):
        out = tt_model(input_ids=torch.tensor([[token]], dtype=torch.long), past_key_values=cache, use_cache=True)
        cache = out.past_key_values
        ours.append(_last_logits(out))
    decode_seconds = time.perf_counter() - start
    ours = torch.stack(ours)

    predicted = ours.argmax(dim=-1).tolist()
    top1 = [p == r for p, r in zip(predicted, ref_ids)]
    top5 = [in_top_k(ours[i], r, TOP_K) for i, r in enumerate(ref_ids)]
    reference = reference_logits
    if reference is None and hf_model is not None:
        reference = hf_teacher_forced_logits(hf_model, prompt_ids, ref_ids)
    if reference is not None:
        if reference.shape != ours.shape:
            raise ValueError(f"logits shape {tuple(ours.shape)} differs from the reference's {tuple(reference.shape)}")
        overall = pcc(reference, ours)
        per_position = [pcc(reference[i], ours[i]) for i in range(len(ref_ids))]
    else:
        overall, per_position = float("nan"), []
    return TeacherForcingResult(prompt_len=len(prompt_ids), ref_ids=ref_ids, predicted_ids=predicted,
                                top1_hits=top1, top5_hits=top5, logits_pcc=overall,
                                prefill_seconds=prefill_seconds, decode_seconds=decode_seconds,
                                per_position_pcc=per_position, prefill_by_decode=by_decode)
