"""Host work that tt_transformers' demo loop times besides the device ops, for the published rows.

PERF.md's rows come from tt-metal ``models/tt_transformers/demo/simple_text_demo.py``, which times:

* **TTFT**: the wall time of ``Generator.prefill_forward_text`` over all users, then ``torch.argmax`` of their
  logits, divided by the batch. Per user that is the user's prefill pass and ``process_output_prefill`` reading
  the tile of logits holding its last token back to the host. The first decode step is not in it (the demo times
  decode iteration 0 on its own, as ``compile_decode``, and leaves it out of both figures).
* **a decode iteration**: ``decode_forward_text`` (the trace replayed, its output read back) and, when the loop
  samples on the host, ``sample_host``. It samples on the device (argmax inside the trace, token ids read back)
  only with one user per mesh (``argmax_on_device`` is false once the batch per submesh exceeds 1); with 32 users
  every iteration reads the logits back and takes the argmax on the host. That is the demo as read at tt-metal
  commit 001cd0781a607ea992eea90e74d9a217c8398d05; later versions sample on the device for every batch when the
  model supports it, and which version measured PERF.md's batch-32 rows is not known [uncertain].

Both host paths are a read-back of one tile row of logits (32 rows x the vocabulary) and a host argmax. They are
priced from the one measurement of that cost there is, ``HOST_ARGMAX_S`` for a vocabulary of
``HOST_ARGMAX_VOCAB``, scaled with the vocabulary (the bytes read back and scanned) [uncertain: that measurement is
one model on one system]. Token-id read-backs and the small Python work of an iteration are not priced (no
figure).
"""

from __future__ import annotations

from ttbringup.emu.device_time import constants as C


def host_argmax_s(vocab: int) -> float:
    """Seconds to read one tile row of logits (``vocab`` wide) back and take its argmax on the host."""
    return float(C.HOST_ARGMAX_S) * vocab / float(C.HOST_ARGMAX_VOCAB)


def decode_host_s(batch: int, vocab: int) -> float:
    """Host seconds per decode iteration: the logits read-back and host argmax when ``batch`` > 1, else none."""
    return host_argmax_s(vocab) if batch > 1 else 0.0


def ttft_host_s(vocab: int) -> float:
    """Host seconds in one user's TTFT: its last-token logits read back and the argmax on the host."""
    return host_argmax_s(vocab)
