"""Progress bars on stderr for the eval loops (off with ``enabled=False`` or ``TQDM_DISABLE=1``)."""

from __future__ import annotations

import os
import sys

from tqdm import tqdm


def bar(iterable=None, *, enabled: bool = True, **kwargs) -> tqdm:
    """A tqdm bar writing to stderr."""
    if not enabled or os.environ.get("TQDM_DISABLE", "") not in ("", "0"):
        kwargs["disable"] = True
    return tqdm(iterable, file=sys.stderr, **kwargs)
