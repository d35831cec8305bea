"""The emulator's submodule table (``ttbringup/emu/submodules.py``) against the real ttnn 0.81.1 package.

In a child process with the real package imported, every name the emulator answers (``REAL_TO_EMU``: resolved to
an emulator module; ``NOT_EMULATED``: a stand-in) must import there too, and a name it refuses
(``ModuleNotFoundError``, such as the emulator's own ``per_chip``) must not. ``from ttnn.device import Arch`` style
imports of the names the emulator serves through a submodule must work on both.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ttbringup.emu import submodules

pytestmark = pytest.mark.conformance

# Real 0.81.1 quirk: ``import ttnn.operations.core`` raises 'Operation with name
# "ttnn.copy_host_to_device_tensor_partial" is already registered' (the module was loaded once by ttnn itself
# without a sys.modules entry); ``ttnn.operations.core`` as an attribute works. The emulator imports it.
REAL_IMPORT_BUG = {"ttnn.operations.core"}
REFUSED = ["ttnn.per_chip", "ttnn.numerics", "ttnn.tensor", "ttnn.experimental.nlp_heads", "ttnn.no_such_module"]
FROM_IMPORTS = [("ttnn.device", "Arch"), ("ttnn.types", "Layout"), ("ttnn.types", "Tensor"), ("ttnn.core", "get_memory_config"),
                ("ttnn.distributed", "ShardTensorToMesh"), ("ttnn.transformer", "scaled_dot_product_attention"),
                ("ttnn.operations.embedding", "EmbeddingsType")]

_CHILD = r"""
import importlib, json, sys
import ttnn
out = {}
for name in json.loads(sys.argv[1]):
    try:
        importlib.import_module(name)
        out[name] = "ok"
    except ModuleNotFoundError:
        out[name] = "missing"
    except Exception as err:
        out[name] = type(err).__name__
for mod, attr in json.loads(sys.argv[2]):
    try:
        exec(f"from {mod} import {attr}")
        out[f"{mod}:{attr}"] = "ok"
    except Exception as err:
        out[f"{mod}:{attr}"] = type(err).__name__
print("RESULT=" + json.dumps(out))
"""


@pytest.fixture(scope="module")
def real_imports():
    if not os.environ.get("TT_METAL_MOCK_CLUSTER_DESC_PATH"):
        pytest.fail("run the lane with `bash scripts/run_conformance.sh` (or `source .conformance/env.sh` first)")
    names = sorted(set(submodules.REAL_TO_EMU) | submodules.NOT_EMULATED) + REFUSED
    env = dict(os.environ, TT_LOGGER_LEVEL="off", LOGURU_LEVEL="ERROR")
    proc = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(names), json.dumps(FROM_IMPORTS)],
                          capture_output=True, text=True, timeout=600, env=env)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT=")), None)
    assert line, f"the real child failed:\n{proc.stderr[-2000:]}"
    return json.loads(line[len("RESULT="):])


def test_every_answered_name_is_a_real_submodule(real_imports):
    answered = sorted(set(submodules.REAL_TO_EMU) | submodules.NOT_EMULATED)
    bad = {n: real_imports[n] for n in answered if real_imports[n] != "ok" and n not in REAL_IMPORT_BUG}
    assert not bad, f"the emulator answers imports the real 0.81.1 refuses: {bad}"
    assert all(real_imports[n] == "RuntimeError" for n in REAL_IMPORT_BUG)  # drop the note once it imports


def test_refused_names_are_not_real_submodules(real_imports):
    assert {n: real_imports[n] for n in REFUSED} == {n: "missing" for n in REFUSED}


def test_from_imports_work_on_both(real_imports):
    script = ("from ttbringup import backend; backend.load('emu', announce=False)\n"
              + "\n".join(f"from {m} import {a}" for m, a in FROM_IMPORTS))
    subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, timeout=300)
    assert {k: v for k, v in real_imports.items() if ":" in k} == {f"{m}:{a}": "ok" for m, a in FROM_IMPORTS}
