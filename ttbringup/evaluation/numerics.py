"""The ``--numerics`` flag of every entry point, implemented once.

``--numerics exact|card|both`` picks how the emulator computes (``ttbringup/emu/numerics_mode.py``, the one
switch): ``exact`` (float32, one rounding per op), ``card`` (the ops card mode models compute the way a Wormhole
Tensix does), ``both`` (tools that score a bringup run it in each mode on one build and show the two side by
side; the other tools accept only ``exact`` and ``card``).

Contracts:

* ``add_numerics_arg(parser, both=True)`` adds the flag (no argparse ``choices``: a bad value must end as the one
  ``error: ...`` line of ``cli.cli_errors``, which argparse's own error does not).
* ``requested(value, both=True)`` -> the modes to run, in order: ``("exact",)``, ``("card",)`` or
  ``("exact", "card")``. ``value`` is the flag (None: not given); the flag overrides ``$TTBRINGUP_NUMERICS``, which
  counts only when the flag is absent (unset or empty: ``exact``). A bad flag or environment value raises
  ``CliError`` naming it. Imports no torch (so it runs among a tool's cheap checks).
* ``apply(mode)`` sets the emulator's mode for the rest of the process (``numerics_mode.set_mode``); a tool
  that runs one mode calls it once before building anything, so ``$TTBRINGUP_NUMERICS`` is never read again.
* ``label(modes)``: ``"exact"``, ``"card"`` or ``"both"``, what a report's ``numerics`` field says.
"""

from __future__ import annotations

import argparse
import os

from .cli import CliError

ENV_VAR = "TTBRINGUP_NUMERICS"  # the variable ttbringup.emu.numerics_mode reads
MODES = ("exact", "card")  # ttbringup.emu.numerics_mode.MODES (tests/cli/test_numerics_flag.py checks they agree)
BOTH = "both"


def add_numerics_arg(parser: argparse.ArgumentParser, both: bool = True) -> None:
    choices = MODES + ((BOTH,) if both else ())
    extra = "; both: each mode on one build, side by side" if both else ""
    parser.add_argument("--numerics", default=None, metavar="|".join(choices),
                        help=f"emulator numerics: exact (float32) or card (computes like a Wormhole Tensix){extra} "
                             f"(default: ${ENV_VAR}, else exact)")


def requested(value: str | None, both: bool = True) -> tuple[str, ...]:
    """The modes ``--numerics value`` (or, when None, ``$TTBRINGUP_NUMERICS``) asks for; see the module doc."""
    allowed = MODES + ((BOTH,) if both else ())
    if value is not None:
        name, where = value.strip().lower(), f"--numerics {value!r}"
    else:
        name, where = (os.environ.get(ENV_VAR) or "exact").strip().lower(), f"${ENV_VAR}={os.environ.get(ENV_VAR)!r}"
        allowed = MODES  # the environment sets the emulator's one mode; "both" is a flag of the scoring tools
    if name not in allowed:
        raise CliError(f"{where} is not a numerics mode; choose one of {', '.join(allowed)}")
    return MODES if name == BOTH else (name,)


def apply(mode: str) -> None:
    """Make ``mode`` the emulator's numerics mode from now on."""
    from ttbringup.emu import numerics_mode

    numerics_mode.set_mode(mode)


def label(modes: tuple[str, ...]) -> str:
    return BOTH if len(modes) > 1 else modes[0]
