"""Fake bringup that asks the device for more DRAM than a chip has (16 GiB of bfloat16, data-free)."""

import torch
import ttnn


def build_model(hf_model, tt_device, max_seq_len):
    huge = torch.empty(1, 1, 131072, 65536, dtype=torch.bfloat16, device="meta")
    ttnn.from_torch(huge, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=tt_device)
    raise AssertionError("the allocation above should not fit")
