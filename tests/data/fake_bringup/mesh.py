"""Fake bringup for a 1x2 mesh (n300-like): checks it was handed a two-chip mesh device."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _base import base  # noqa: E402

MESH_SHAPE = (1, 2)


def build_model(hf_model, tt_device, max_seq_len):
    chips = tt_device.get_num_devices()
    if chips != 2:
        raise AssertionError(f"expected a 1x2 mesh device, got {chips} chip(s)")
    return base().build_model(hf_model, tt_device, max_seq_len)
