"""Shared by the fit/new tests: seed files, their stated memory plans, and the calls a model.py makes."""

import importlib.util
import re
from pathlib import Path
from types import SimpleNamespace

from ttbringup.bringup.commands import main

REPO = Path(__file__).resolve().parents[2]
SEED_SYSTEMS = ("n150", "n300", "t3000")


def seed_dir(hf_id: str, system: str) -> Path:
    return REPO / "models" / hf_id / system / "functional"


def load(path: Path):
    spec = importlib.util.spec_from_file_location("loaded_" + re.sub(r"\W", "_", str(path)), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stated_plan(hf_id: str, system: str) -> dict:
    """The byte figures of the seed's MODEL_BRINGUP.md memory-plan section (weights, KV cache, peak, headroom)."""
    doc = (seed_dir(hf_id, system) / "MODEL_BRINGUP.md").read_text()
    section = doc[doc.index("<!-- memory-plan:begin"):doc.index("<!-- memory-plan:end")]
    rows = re.findall(r"^\| (weights|KV cache|peak DRAM|headroom)[^|]*\| ([\d,]+) B \|", section, re.M)
    assert len(rows) == 4, section
    return {key: int(value.replace(",", "")) for key, value in rows}


def calls_of(model_py: Path, config) -> dict:
    """What ``build_model`` of ``model_py`` passes to ``check_config`` and ``build_decoder_lm`` (both recorded, not
    run), and its ``MESH_SHAPE``."""
    module = load(model_py)
    seen = {}
    module.check_config = lambda cfg, **kw: seen.setdefault("check_config", kw)
    module.build_decoder_lm = lambda hf, dev, max_seq_len, **kw: seen.setdefault("build", kw)
    module.build_model(SimpleNamespace(config=config), "device", 10 ** 6)
    seen["MESH_SHAPE"] = getattr(module, "MESH_SHAPE", None)
    return seen


def run_cli(capsys, *argv):
    """``ttbringup <argv>`` in this process: (exit code, stdout, stderr)."""
    try:
        code = main(list(map(str, argv)))
    except SystemExit as stop:
        code = stop.code
    out = capsys.readouterr()
    return code, out.out, out.err


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]

