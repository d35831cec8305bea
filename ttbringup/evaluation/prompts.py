"""Prompts as token ids: from text, from a token-id file, or of an exact length.

A tokenizer here is a transformers tokenizer or :class:`ByteTokenizer`, the stand-in used when
a random-weights model has no tokenizer offline (token id = UTF-8 byte + 3, kept below vocab).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from .cli import CliError, read_user_text, repo_root

DEFAULT_PROMPT = "The quick brown fox jumps over the lazy dog. Once upon a time,"
LONG_PROMPT_FILE = Path(repo_root()) / "prompts" / "bringup_eval_long.txt"


class ByteTokenizer:
    """UTF-8 bytes as token ids (offset 3, reduced modulo ``vocab_size``); for random weights only."""

    OFFSET = 3

    def __init__(self, vocab_size: int):
        self.vocab_size = vocab_size

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        return [(b + self.OFFSET) % self.vocab_size for b in text.encode("utf-8")]

    def decode(self, ids, **_) -> str:
        return bytes((int(i) - self.OFFSET) % 256 for i in ids).decode("utf-8", errors="replace")


def tokenizer_or_bytes(tokenizer, vocab_size: int, allow_bytes: bool):
    """``tokenizer``, else a :class:`ByteTokenizer` when allowed (announced on stderr), else CliError."""
    if tokenizer is not None:
        return tokenizer
    if not allow_bytes:
        raise CliError("no tokenizer is available offline for this model; pass --prompt_ids_file")
    print("[ttbringup] no tokenizer offline: using UTF-8 bytes as token ids", file=sys.stderr)
    return ByteTokenizer(vocab_size)


def parse_token_ids(text: str, source: str = "token ids") -> list[int]:
    """Token ids from a JSON list, or from integers separated by whitespace and/or commas."""
    text = text.strip()
    if text.startswith("["):
        try:
            values = json.loads(text)
        except json.JSONDecodeError as err:
            raise CliError(f"{source}: not a JSON list of integers ({err.msg})") from err
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            raise CliError(f"{source}: the JSON list must hold integers only")
        ids = values
    else:
        words = [w for w in re.split(r"[\s,]+", text) if w]
        bad = [w for w in words if not re.fullmatch(r"\d+", w)]
        if bad:
            raise CliError(f"{source}: {bad[0]!r} is not a token id")
        ids = [int(w) for w in words]
    if not ids:
        raise CliError(f"{source}: no token ids")
    return ids


def read_text(path: str | Path, what: str = "prompt file") -> str:
    """The file's text with trailing whitespace stripped (the fixtures' prompt convention).

    CliError when the file is missing, a directory, unreadable, binary or not UTF-8.
    """
    return read_user_text(path, what).rstrip()


def check_ids_in_vocab(ids: list[int], vocab_size: int, source: str) -> None:
    bad = [i for i in ids if not 0 <= i < vocab_size]
    if bad:
        raise CliError(f"{source}: token id {bad[0]} is outside the vocabulary (size {vocab_size})")


def exact_length_ids(tokenizer, text: str, length: int) -> list[int]:
    """Exactly ``length`` ids: the encoded text (with special tokens), then its body repeated, cut."""
    ids = list(tokenizer.encode(text))
    body = list(tokenizer.encode(text, add_special_tokens=False)) or ids
    if not body:
        raise CliError("the prompt text encodes to no tokens")
    while len(ids) < length:
        ids.extend(body)
    return ids[:length]
