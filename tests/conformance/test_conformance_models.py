"""Every models/**/model.py builds and runs a prefill plus three decode steps on the real ttnn 0.81.1 (mock device).

Single-chip files run on a mock n150 in this process; a file declaring a multi-chip ``MESH_SHAPE`` runs in a child
process on the matching mock cluster (n300 for a 1x2 mesh, T3000 for a 2x4 one). Each file runs with its tiny checkpoint and with a
config keeping the real model's head counts and head_dim (model_runner.py). Mock read-backs are zeros, so only the
logits shapes are checked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import model_runner
from model_runner import VARIANTS, discover, hf_id_of, load_module, mesh_shape, rel, run_model

pytestmark = pytest.mark.conformance

MODEL_FILES = discover()


def _mock_descriptor(shape) -> Path:
    name = model_runner.MOCK_DESCRIPTORS.get(tuple(shape))
    if name is None:
        pytest.fail(f"no mock cluster descriptor for a {shape[0]}x{shape[1]} mesh (have: "
                    f"{sorted(model_runner.MOCK_DESCRIPTORS)}); the lane cannot run this model file")
    return Path(os.environ["TT_METAL_MOCK_CLUSTER_DESC_PATH"]).parent / name


def _run_in_child(path: Path, variant: str, shape) -> dict:
    env = dict(os.environ, TT_METAL_MOCK_CLUSTER_DESC_PATH=str(_mock_descriptor(shape)))
    proc = subprocess.run([sys.executable, model_runner.__file__, str(path), variant], env=env, cwd=os.getcwd(),
                          capture_output=True, text=True, timeout=900)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("MODEL_RESULT ")]
    if proc.returncode != 0 or not lines:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-40:])
        pytest.fail(f"{rel(path)} [{variant}] failed on the mock {shape[0]}x{shape[1]} mesh (exit {proc.returncode}):"
                    f"\n{tail}")
    return json.loads(lines[-1][len("MODEL_RESULT "):])


def test_model_files_found():
    assert MODEL_FILES, "no models/**/model.py found"


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("path", MODEL_FILES, ids=[rel(p) for p in MODEL_FILES])
def test_model_prefill_and_decode(path, variant, real_ttnn, real_device, summary_line):
    from ttbringup import fixtures

    hf_id = hf_id_of(path)
    if not fixtures.real_config_path(hf_id).exists():
        pytest.fail(f"{rel(path)}: no bundled config for {hf_id} in ttbringup.fixtures")
    module = load_module(path)
    shape = mesh_shape(module)
    if shape and shape[0] * shape[1] > 1:
        result = _run_in_child(path, variant, shape)
    else:
        result = run_model(path, variant, real_ttnn, real_device, module)
    result["shapes"] = [tuple(s) for s in result["shapes"]]
    result["expected_shapes"] = [tuple(s) for s in result["expected_shapes"]]
    where = f"{shape[0]}x{shape[1]} mesh" if shape else "n150"
    summary_line(f"model {rel(path)} [{variant}] on mock {where}: {result['source']}; logits "
                 f"{list(result['shapes'][0])} + {len(result['shapes']) - 1} x {list(result['shapes'][1])} "
                 f"({result['seconds']} s)")
    assert result["shapes"] == result["expected_shapes"], result
    assert result["dtypes"] == ["torch.float32"], result
