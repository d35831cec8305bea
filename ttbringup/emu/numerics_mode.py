"""The emulator's numerics switch: ``exact`` (float32 arithmetic, one rounding into the output dtype) or ``card``
(ops that have a card model compute the way a Wormhole B0 Tensix core does, see docs/card-numerics.md).

This module is the one place the mode lives; ops ask ``is_card()`` and nothing else decides it.

Contracts:

* The initial mode is ``$TTBRINGUP_NUMERICS`` (``exact`` or ``card``, case-insensitive; unset or empty means
  ``exact``), read once, the first time the mode is asked for. Any other value raises ``ValueError`` then.
* ``set_mode(name)`` sets the mode for the rest of the process (``ValueError`` on an unknown name).
* ``use(name, reference=False)`` is a context manager: inside it the mode is ``name``, afterwards whatever it
  was before (also when the block raises). ``reference=True`` (card mode only) makes card ops use their
  bit-exact reference path (the slow ``ttbringup.emu.card`` primitives) instead of their fast formulation;
  tests use it to measure the fast path against the reference.
* ``mode()`` returns the current name; ``is_card()`` is ``mode() == "card"``; ``card_reference()`` says whether
  the reference path is on (always False outside card mode).
"""

from __future__ import annotations

import contextlib
import os

ENV_VAR = "TTBRINGUP_NUMERICS"
MODES = ("exact", "card")

_state: dict = {"mode": None, "reference": False}


def _checked(name: str) -> str:
    value = (name or "").strip().lower()
    if value not in MODES:
        raise ValueError(f"unknown numerics mode {name!r}; expected one of {', '.join(MODES)}")
    return value


def mode() -> str:
    """The current numerics mode (``exact`` or ``card``)."""
    if _state["mode"] is None:
        _state["mode"] = _checked(os.environ.get(ENV_VAR) or "exact")
    return _state["mode"]


def is_card() -> bool:
    """True when ops compute like the card."""
    return mode() == "card"


def card_reference() -> bool:
    """True when card ops use their bit-exact (slow) reference path."""
    return is_card() and _state["reference"]


def set_mode(name: str) -> None:
    """Set the numerics mode for the rest of the process (the reference flag is cleared)."""
    _state["mode"] = _checked(name)
    _state["reference"] = False


@contextlib.contextmanager
def use(name: str, reference: bool = False):
    """``with use("card"):`` runs the block in that mode and restores the previous one afterwards."""
    new = _checked(name)
    if reference and new != "card":
        raise ValueError("reference=True only applies to card mode")
    before = (mode(), _state["reference"])
    _state["mode"], _state["reference"] = new, bool(reference)
    try:
        yield
    finally:
        _state["mode"], _state["reference"] = before
