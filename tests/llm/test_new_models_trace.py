"""Traced decode of the new architectures (two RoPE tables for Gemma-3, LongRoPE's switching decode table for
Phi-3, sliding windows) gives the eager logits bit for bit: step 1 eager, step 2 captured then replayed, steps 3+
replayed on new inputs. Own module: each run opens its own device with a trace region."""

import pytest
import torch

import ttnn
from test_new_models import CHECKS, build, tiny, token_ids
from tiny_archs import PHI3_SWITCH


@pytest.mark.parametrize("arch", list(CHECKS))
@torch.no_grad()
def test_traced_decode_gives_the_eager_logits_bit_for_bit(arch):
    ids = token_ids(tiny(arch), PHI3_SWITCH + 8, seed=2)  # decode steps 40.. cross Phi-3's switch at 64
    runs = {}
    for traced in (False, True):
        dev = ttnn.open_device(device_id=0, trace_region_size=8 << 20)
        try:
            tt = build(arch, dev)
            tt.trace_decode = traced
            out = tt(ids[:, :40])
            logits = [out.logits[0]]
            for i in range(40, ids.shape[1]):
                out = tt(ids[:, i:i + 1], past_key_values=out.past_key_values)
                logits.append(out.logits[0])
            runs[traced] = torch.cat(logits)
            assert tt.decode_traced == traced
        finally:
            ttnn.close_device(dev)
    assert torch.equal(runs[True], runs[False])
