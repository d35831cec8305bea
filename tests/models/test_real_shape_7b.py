"""The ALLaM-7B n150 eval at its real shape (random weights) completes on a 24 GB host, as eval.py runs it.

Slow (about 6 minutes, up to ~16 GB peak RSS): run with ``pytest -m slow tests/models/test_real_shape_7b.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MODEL_PY = REPO / "models" / "humain-ai" / "ALLaM-7B-Instruct-preview" / "n150" / "functional" / "model.py"


@pytest.mark.slow
def test_allam_7b_real_shape_eval_fits_20_gb(tmp_path):
    ids = tmp_path / "ids.txt"
    ids.write_text(" ".join(str(3 + (i * 7919) % 63990) for i in range(141)))
    out = tmp_path / "out.json"
    cmd = [sys.executable, str(REPO / "eval.py"), str(MODEL_PY), "--random-weights", "--max_new_tokens", "20",
           "--prompt_ids_file", str(ids), "--json", str(out)]
    script = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
              "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024); sys.exit(r.returncode)")
    proc = subprocess.run([sys.executable, "-c", script, *cmd], capture_output=True, text=True, cwd=REPO,
                          env=dict(os.environ, HF_HUB_OFFLINE="1", TTBRINGUP_BACKEND="emu"), timeout=1800)
    assert proc.returncode == 0, proc.stderr[-2000:]
    peak = int(proc.stdout.strip().splitlines()[-1])
    assert peak <= 20e9, f"peak RSS {peak / 1e9:.1f} GB"
    result = json.loads(out.read_text())
    assert result["prompt_len"] == 141 and result["total"] == 20
    assert result["reference_precision"] == "float32 compute on bfloat16 weights as stored"
    assert result["logits_pcc"] > 0.95  # bfloat8_b weights against the float32 reference
