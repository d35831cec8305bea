"""Fake bringup whose decoder layer ``BROKEN_LAYER`` (env ``FAKE_BROKEN_LAYER``, default 1) is wrong.

The layer's MLP down projection is replaced by large random weights (as a bad weight conversion
would), so that layer's hidden state and everything after it decorrelate from the reference:
the layer compare must name it.
"""

import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _base import base  # noqa: E402

BROKEN_LAYER = int(os.environ.get("FAKE_BROKEN_LAYER", "1"))


def build_model(hf_model, tt_device, max_seq_len):
    model = base().build_model(hf_model, tt_device, max_seq_len)
    weight = model.inner.model.layers[BROKEN_LAYER].mlp.down_proj.weight
    generator = torch.Generator().manual_seed(1234)
    with torch.no_grad():
        weight.copy_(torch.randn(weight.shape, generator=generator))
    return model
