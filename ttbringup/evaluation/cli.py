"""Shared command-line plumbing: expected failures end as one ``error: ...`` line and exit 2.

Usage in a tool's ``main``::

    with cli_errors():
        ...  # raise CliError("...") for bad input; library errors listed below are caught too

Caught and reported on one line (no traceback): :class:`CliError`, the backend's
``BackendError``, device out-of-memory (the emulator's ``OutOfMemoryError``, or a real ttnn
``RuntimeError`` saying "out of memory"), ``UnsupportedModelError`` from a model file, and an
error raised through the code of a model file the user named (at import, in ``build_model`` or
later) that is the file's (see ``_blames_user_code``), shown as ``<file> line <n>: <Type>: <message>``
with the innermost line in that file. Anything else is a bug and keeps its traceback. This module
imports no torch.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import sys
from pathlib import Path

EXIT_BAD_INPUT = 2


class CliError(Exception):
    """Bad input or an unusable environment; the message is shown to the user as is."""


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _is_named(err: BaseException, name: str) -> bool:
    return any(cls.__name__ == name for cls in type(err).__mro__)


# Model files the user named: resolved path (as in their code objects) -> the path as the user gave it.
_user_code_files: dict[str, str] = {}


def note_user_code(resolved: str | Path, shown: str | Path) -> None:
    """Errors raised through the code of ``resolved`` are reported against ``shown`` (see describe_expected)."""
    _user_code_files[str(resolved)] = str(shown)


def user_code_line(err: BaseException) -> tuple[str, int] | None:
    """(file as the user named it, line) of the innermost traceback frame of ``err`` in a noted model file."""
    found = None
    tb = err.__traceback__
    while tb is not None:
        shown = _user_code_files.get(tb.tb_frame.f_code.co_filename)
        if shown is not None:
            found = (shown, tb.tb_lineno)
        tb = tb.tb_next
    return found


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
    where = user_code_line(err)
    if where is not None and _blames_user_code(err):
        return f"{where[0]} line {where[1]}: {type(err).__name__}: {_one_line(err)}"
    return None


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _blames_user_code(err: BaseException) -> bool:
    """A failure through a model file is the file's when it was raised outside this package (in the file itself,
    torch, transformers...) or is a ttnn error (``TTError``, ``NotEmulatedError``: the file called an op in a way
    ttnn or the emulator refuses). Any other error raised inside ttbringup is a bug of ours: it keeps its traceback."""
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    raised_here = tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename).startswith(_PACKAGE_DIR + os.sep)
    return not raised_here or _is_named(err, "TTError") or _is_named(err, "NotEmulatedError")


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


def read_user_text(path: str | Path, what: str) -> str:
    """The text of a file named on the command line (a UTF-8 byte-order mark dropped).

    CliError, naming ``what`` and ``path``, when it is missing, a directory, unreadable, binary
    (holds a NUL byte) or not UTF-8.
    """
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise CliError(f"{what} not found: {path}") from None
    except IsADirectoryError:
        raise CliError(f"{what} is a directory: {path}") from None
    except PermissionError:
        raise CliError(f"{what} is not readable (permission denied): {path}") from None
    except OSError as err:
        raise CliError(f"cannot read {what} {path}: {err.strerror or err}") from None
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    nul = data.find(b"\0")
    if nul >= 0:
        raise CliError(f"{what} is binary, not text (NUL byte at offset {nul}): {path}")
    try:
        return data[start:].decode("utf-8")
    except UnicodeDecodeError as err:
        offset = start + err.start
        raise CliError(f"{what} is not UTF-8 text (byte 0x{data[offset]:02x} at offset {offset}): {path}") from None


def check_writable(path: str | Path, what: str) -> None:
    """CliError unless ``path`` can be written as a file (missing parent directories may be created)."""
    p = Path(os.path.abspath(path))
    try:
        if p.is_dir():
            raise CliError(f"{what} is a directory: {path}")
        if p.exists():
            target = p
        else:
            target = p.parent
            while not target.exists():
                target = target.parent
            if not target.is_dir():
                raise CliError(f"cannot write {what} {path}: {target} is not a directory")
    except OSError as err:
        raise CliError(f"cannot write {what} {path}: {err.strerror or err}") from None
    if not os.access(target, os.W_OK | (os.X_OK if target.is_dir() else 0)):
        raise CliError(f"cannot write {what} {path}: permission denied")


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
