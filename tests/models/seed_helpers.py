"""Helpers for the seed-model tests: load model.py files and scripts by path."""

import importlib.util
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def load_by_path(path: Path):
    """Import a file by path (model.py folders have dots and dashes; scripts/ is no package)."""
    spec = importlib.util.spec_from_file_location("loaded_" + re.sub(r"\W", "_", str(path.relative_to(REPO))), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def model_py(hf_id: str, system: str = "n150"):
    """A fresh import of the seed's model.py for ``system`` (tests may change its module constants)."""
    return load_by_path(REPO / "models" / hf_id / system / "functional" / "model.py")
