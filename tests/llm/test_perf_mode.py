"""ttbringup.llm.perf_mode: the fused q/k/v weight holds, chip by chip, exactly the columns the shared attention
block's three q/k/v weights hold (the layout nlp_create_qkv_heads reads after their concat)."""

from types import SimpleNamespace

import pytest
import torch

from ttbringup.llm.parallel import _take, head_index, head_plan
from ttbringup.llm.perf_mode import fused_rows


@pytest.mark.parametrize("chips", [1, 2, 8])
def test_fused_qkv_rows_are_each_chips_q_then_k_then_v_columns(chips):
    n_heads, n_kv, hd, hidden = 8, 2, 64, 16  # 8 chips: each KV head replicated over 4 chips
    config = SimpleNamespace(num_attention_heads=n_heads, num_key_value_heads=n_kv)
    tp = SimpleNamespace(chips=chips, heads=lambda n, kv: head_plan(n, kv, chips))
    wq, wk, wv = (torch.randn(n * hd, hidden) for n in (n_heads, n_kv, n_kv))
    plan = tp.heads(n_heads, n_kv)
    q_rows, kv_rows = head_index(plan.q_heads, hd), head_index(plan.kv_heads, hd)

    fused = _take(torch.cat([wq, wk, wv]), fused_rows(tp, config, hd), 0).chunk(chips)
    separate = zip(*(_take(w, rows, 0).chunk(chips) for w, rows in ((wq, q_rows), (wk, kv_rows), (wv, kv_rows))))
    for chip, (f, parts) in enumerate(zip(fused, separate)):
        assert torch.equal(f, torch.cat(parts)), f"chip {chip}"
