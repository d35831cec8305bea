"""Fake bringup whose cache holds only 16 tokens, whatever ``max_seq_len`` asks."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _base import base  # noqa: E402

CACHE_TOKENS = 16


def build_model(hf_model, tt_device, max_seq_len):
    model = base().build_model(hf_model, tt_device, max_seq_len)
    model.max_cache_len = CACHE_TOKENS
    return model
