"""Shared command-line plumbing: expected failures end as one ``error: ...`` line and exit 2.

Usage in a tool's ``main``::

    with cli_errors():
        ...  # raise CliError("...") for bad input; library errors listed below are caught too

Caught and reported on one line (no traceback): :class:`CliError`, the backend's
``BackendError``, device out-of-memory (the emulator's ``OutOfMemoryError``, or a real ttnn
``RuntimeError`` saying "out of memory") and ``UnsupportedModelError`` from a model file.
Anything else is a bug and keeps its traceback. This module imports no torch.
"""

from __future__ import annotations

import contextlib
import os
import sys

EXIT_BAD_INPUT = 2


class CliError(Exception):
    """Bad input or an unusable environment; the message is shown to the user as is."""


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _is_named(err: BaseException, name: str) -> bool:
    return any(cls.__name__ == name for cls in type(err).__mro__)


def describe_expected(err: BaseException) -> str | None:
    """The one-line message for an expected failure, or None when ``err`` is a bug."""
    if isinstance(err, CliError):
        return _one_line(err)
    if _is_named(err, "BackendError"):
        return f"backend: {_one_line(err)}"
    if _is_named(err, "UnsupportedModelError"):
        return f"unsupported model: {_one_line(err)}"
    if _is_named(err, "OutOfMemoryError") or (isinstance(err, RuntimeError) and "out of memory" in str(err).lower()):
        return f"device out of memory: {_one_line(err)}"
    return None


@contextlib.contextmanager
def cli_errors():
    """Turn expected failures inside the block into ``error: <message>`` on stderr and exit 2."""
    try:
        yield
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        raise SystemExit(130)
    except Exception as err:  # noqa: BLE001 - filtered just below
        message = describe_expected(err)
        if message is None:
            raise
        sys.stdout.flush()
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT) from None


def go_offline() -> None:
    """Make every HF library call local-only; call before transformers is imported."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def repo_root() -> str:
    """The repository root (two levels above this package)."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def check_positive(name: str, value: int | None) -> None:
    if value is not None and value < 1:
        raise CliError(f"{name} must be at least 1 (got {value})")
