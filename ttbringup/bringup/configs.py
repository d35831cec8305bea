"""Read the HF config a bringup starts from: a ``config.json`` file, a local directory, or an HF id.

An HF id is looked up in the local HF cache only (never the network); a seed model id not in the cache falls back to
its bundled real config (``ttbringup/fixtures/configs``), and the source says so. Bad input raises ``CliError`` with
one line: missing file, not JSON, no ``model_type``, a model type transformers does not know.

``ModelConfig.name`` is the ``org/model`` the bringup is filed under (``models/<org>/<model>/...``): the HF id, else
the config's ``_name_or_path`` when it is an id, else a bundled-style file name ``org__model.json``; None when none
of them says (``ttbringup new`` then asks for ``--name``).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ttbringup.evaluation.cli import CliError, go_offline, read_user_text

_HF_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass
class ModelConfig:
    config: object  # a transformers PretrainedConfig
    name: str | None  # org/model, see the module docstring
    source: str  # where it was read, for reports


def _is_hf_id(text) -> bool:
    return isinstance(text, str) and bool(_HF_ID.match(text)) and not os.path.exists(text)


def _from_dict(data: dict, where: str):
    from transformers import AutoConfig

    if not isinstance(data, dict) or "model_type" not in data:
        raise CliError(f"{where}: no model_type in the config (not an HF config.json?)")
    data = dict(data)
    kind = data.pop("model_type")
    try:
        return AutoConfig.for_model(kind, **data)
    except (ValueError, KeyError) as err:
        raise CliError(f"{where}: transformers cannot read this config: {' '.join(str(err).split()[:24])}") from None


def _read_json(path: Path) -> dict:
    try:
        return json.loads(read_user_text(path, "config"))
    except json.JSONDecodeError as err:
        raise CliError(f"config {path} is not valid JSON (line {err.lineno}: {err.msg})") from None


def _name_from(data: dict, path: Path) -> str | None:
    if _is_hf_id(data.get("_name_or_path")):
        return data["_name_or_path"]
    stem = path.stem if path.suffix == ".json" else path.name
    if stem.count("__") == 1:
        return stem.replace("__", "/")
    return None


def read_config(spec: str, cache_dir: str | None = None) -> ModelConfig:
    """The config named by ``spec`` (file, directory holding ``config.json``, or HF id); see the module docstring."""
    go_offline()
    path = Path(spec).expanduser()
    if path.is_dir():
        path = path / "config.json"
        if not path.is_file():
            raise CliError(f"{spec}: no config.json in that directory")
    if path.is_file():
        data = _read_json(path)
        return ModelConfig(_from_dict(data, str(path)), _name_from(data, path.parent if path.name == "config.json"
                                                                   else path), f"file {path}")
    if not _is_hf_id(spec):
        raise CliError(f"{spec}: no such file or directory, and not an HF id (org/model)")
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(spec, "config.json", cache_dir=cache_dir)
    if isinstance(cached, str):
        return ModelConfig(_from_dict(_read_json(Path(cached)), cached), spec, f"HF cache {spec}")
    from ttbringup.evaluation.loading import real_config_path

    bundled = real_config_path(spec)
    if bundled.is_file():
        return ModelConfig(_from_dict(_read_json(bundled), str(bundled)), spec, f"bundled config {bundled.name}")
    raise CliError(f"{spec} is not in the HF cache (HF_HOME / --cache-dir) and has no bundled config; pass its "
                   f"config.json or a local directory (the hub is never contacted)")
