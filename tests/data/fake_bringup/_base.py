"""Import the fake bringup (model.py beside this file) from a variant loaded by file path."""

import importlib.util
import sys
from pathlib import Path

_PATH = Path(__file__).with_name("model.py")
_NAME = "fake_bringup_base_model"


def base():
    """The fake bringup module (imported once)."""
    if _NAME not in sys.modules:
        spec = importlib.util.spec_from_file_location(_NAME, _PATH)
        module = importlib.util.module_from_spec(spec)
        sys.modules[_NAME] = module
        spec.loader.exec_module(module)
    return sys.modules[_NAME]
