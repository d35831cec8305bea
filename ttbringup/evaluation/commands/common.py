"""Arguments several commands share, and turning them into an :class:`EvalRequest`'s pieces."""

from __future__ import annotations

import argparse

from ..cli import CliError
from ..loading import default_model_id


def add_backend_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=("auto", "ttnn", "emu"), default=None,
                        help="ttnn implementation (default: $TTBRINGUP_BACKEND, else auto: a real card if "
                             "one is visible, otherwise the emulator)")
    parser.add_argument("--random-weights", "--random_weights", dest="random_weights", action="store_true",
                        help="no checkpoint: the model's config (bundled real config for an HF id, the "
                             "directory's for a local --model) with random weights drawn with --seed")
    parser.add_argument("--seed", type=int, default=0, help="torch seed for random weights (default 0)")


def add_model_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model_py", metavar="MODEL_PY", help="the bringup: models/<org>/<name>/<system>/functional/model.py")
    parser.add_argument("--model", default=None,
                        help="HF id (from the local HF cache) or a local checkpoint dir "
                             "(default: <org>/<name> from the MODEL_PY path)")
    parser.add_argument("--cache_dir", "--cache-dir", dest="cache_dir", default=None, help="HF cache directory")
    parser.add_argument("--device_id", type=int, default=0, help="chip to open for single-chip files (default 0)")
    parser.add_argument("--max_seq_len", type=int, default=2048, help="tokens the bringup must hold (default 2048)")
    add_backend_args(parser)


def resolve_model(model_py: str, model: str | None) -> str:
    """``--model``, else ``<org>/<name>`` from the model file's path; CliError when neither."""
    if model:
        return model
    derived = default_model_id(model_py)
    if derived is None:
        raise CliError(f"cannot derive the HF model from {model_py} (not under models/<org>/<name>/); pass --model")
    return derived


def summary(doc: str) -> str:
    """A command's help description: the first paragraph of its module docstring, without rst markup."""
    return " ".join(doc.strip().split("\n\n")[0].replace("``", "").split())
