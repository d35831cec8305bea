"""Fake bringup whose decoder layer ``BROKEN_LAYER`` (env ``FAKE_BROKEN_LAYER``, default 1) is wrong.

The layer's output is replaced by itself plus noise of twice its own scale, so its hidden state
(and everything after it) decorrelates from the reference: the layer compare must name it.
"""

import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _base import base  # noqa: E402

BROKEN_LAYER = int(os.environ.get("FAKE_BROKEN_LAYER", "1"))


def _corrupt(module, args, output):
    hidden = output[0] if isinstance(output, tuple) else output
    generator = torch.Generator().manual_seed(1234 + hidden.shape[1])
    noisy = hidden + 2.0 * hidden.std() * torch.randn(hidden.shape, generator=generator)
    return (noisy, *output[1:]) if isinstance(output, tuple) else noisy


def build_model(hf_model, tt_device, max_seq_len):
    model = base().build_model(hf_model, tt_device, max_seq_len)
    model.inner.model.layers[BROKEN_LAYER].register_forward_hook(_corrupt)
    return model
