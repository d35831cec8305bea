"""Loading what an eval needs: a bringup ``model.py`` by path, and the HF reference offline.

Everything here reads local files only (``local_files_only=True``); call
``cli.go_offline()`` before transformers is first imported so the hub is never contacted.
Failures a user can fix raise :class:`~ttbringup.evaluation.cli.CliError` with the fix.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from .cli import CliError, note_user_code, read_user_text, repo_root

SYSTEMS = ("n150", "n300", "t3000")
CONFIGS_DIR = Path(repo_root()) / "ttbringup" / "fixtures" / "configs"


def check_model_file(path: str) -> Path:
    """The model file as a Path; CliError when it is missing, a directory, unreadable, not UTF-8 text,
    or not valid Python (``<path> line <n>: SyntaxError: <message>``). Compiles it, does not run it."""
    source = read_user_text(path, "model file")
    try:
        with warnings.catch_warnings():  # SyntaxWarnings show once, when the file is imported
            warnings.simplefilter("ignore")
            compile(source, str(path), "exec", dont_inherit=True)
    except SyntaxError as err:
        raise CliError(f"{path} line {err.lineno}: {type(err).__name__}: {err.msg}") from None
    return Path(path)


def default_model_id(model_py: str) -> str | None:
    """``org/name`` from a path ``.../models/<org>/<name>/...``, or None when it has no such part."""
    parts = Path(os.path.abspath(model_py)).parts
    for i in range(len(parts) - 3, -1, -1):
        if parts[i] == "models":
            return f"{parts[i + 1]}/{parts[i + 2]}"
    return None


def seed_model_file(hf_id: str, system: str, models_dir: str | None = None) -> Path:
    """``models/<hf_id>/<system>/functional/model.py``; CliError for an unknown system or a missing file."""
    if system not in SYSTEMS:
        raise CliError(f"unknown system {system!r}; choose one of {', '.join(SYSTEMS)}")
    root = Path(models_dir) if models_dir else Path(repo_root()) / "models"
    return check_model_file(str(root / hf_id / system / "functional" / "model.py"))


def load_model_module(path: str) -> ModuleType:
    """Import a bringup file by path (ttnn must already be registered) and check ``build_model``.

    What its code raises (now or later, e.g. in ``build_model``) propagates; ``cli.describe_expected``
    reports it as ``<path> line <n>: <Type>: <message>`` with the innermost line in this file.
    """
    p = check_model_file(path).resolve()
    name = "ttbringup_bringup_" + hashlib.sha1(str(p).encode()).hexdigest()[:12]
    if name in sys.modules:
        module = sys.modules[name]
    else:
        spec = importlib.util.spec_from_file_location(name, p)
        module = importlib.util.module_from_spec(spec)
        note_user_code(p, path)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    if not callable(getattr(module, "build_model", None)):
        raise CliError(f"{path} defines no build_model(hf_model, tt_device, max_seq_len)")
    return module


def mesh_shape_of(module: ModuleType) -> tuple[int, int] | None:
    """The model file's ``MESH_SHAPE`` as (rows, cols), or None for a single-chip file."""
    shape = getattr(module, "MESH_SHAPE", None)
    if shape is None:
        return None
    rows, cols = (int(x) for x in shape)
    return rows, cols


@dataclass
class Reference:
    """The HF reference model and how it was obtained."""

    model: object  # a transformers PreTrainedModel, float32 compute, eval mode, on CPU
    source: str  # "local dir <path>", "HF cache <id>" or "random weights (<config>)"
    precision: str = "float32"  # "float32", or "float32 compute on <dtype> weights as stored"


def _looks_like_path(model: str) -> bool:
    """A directory, or a string no HF id can be (``./x``, ``/x``, ``~/x``, ``a/b/c``)."""
    return os.path.isdir(model) or model.startswith((".", "/", "~")) or model.count("/") > 1


def _not_offline(model: str) -> CliError:
    from ttbringup.fixtures import FIXTURE_MODELS, tiny_checkpoint_dir

    tiny = ""
    if model in FIXTURE_MODELS:
        tiny = f" (a bundled tiny checkpoint of its architecture: {os.path.relpath(tiny_checkpoint_dir(model))})"
    return CliError(
        f"{model} is not available offline; put its checkpoint in the HF cache "
        f"(HF_HOME / --cache_dir), pass a local checkpoint dir{tiny}, or use --random-weights"
    )


def real_config_path(hf_id: str) -> Path:
    """The bundled real ``config.json`` of a model id (ttbringup/fixtures/configs); the same path as
    ``ttbringup.fixtures.real_config_path``, kept here because this module must not import transformers (which
    ``ttbringup.fixtures`` does) before ``cli.go_offline()``."""
    return CONFIGS_DIR / (hf_id.replace("/", "__") + ".json")


def reference_config(model: str, *, random_weights: bool = False, cache_dir: str | None = None):
    """(config, description) of the reference: a local dir's or cached id's config, else the bundled real config
    (``--random-weights`` of a seed id). Call ``check_available`` first."""
    from transformers import AutoConfig

    if _own_config(model, random_weights):
        config = AutoConfig.from_pretrained(model, local_files_only=True, cache_dir=cache_dir)
    else:
        data = json.loads(real_config_path(model).read_text())
        config = AutoConfig.for_model(data.pop("model_type"), **data)
    return config, _config_source(model, random_weights)


def _own_config(model: str, random_weights: bool) -> bool:
    """The config comes with the model (local dir or HF cache), not from the bundled real configs."""
    return os.path.isdir(model) or not random_weights


def _config_source(model: str, random_weights: bool) -> str:
    return f"config of {model}" if _own_config(model, random_weights) else f"bundled config {real_config_path(model).name}"


def stored_dtype(config):
    """The torch dtype the checkpoint stores its weights in (``config.dtype``; float32 when it says none)."""
    import torch

    dtype = getattr(config, "dtype", None) or getattr(config, "torch_dtype", None)
    if isinstance(dtype, str):
        dtype = getattr(torch, dtype, None)
    return dtype if isinstance(dtype, torch.dtype) and dtype.is_floating_point else torch.float32


def meta_model(config):
    """The HF model of ``config`` on torch's ``meta`` device (no data: sizes and data-free builds)."""
    import torch
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        return AutoModelForCausalLM.from_config(config, dtype=stored_dtype(config))


def check_available(model: str, random_weights: bool = False, cache_dir: str | None = None) -> None:
    """Fail fast (before torch loads) when ``model`` cannot be loaded offline; see ``load_reference``."""
    if _looks_like_path(model):
        if not os.path.isdir(model):
            raise CliError(f"--model {model}: no such directory")
        if not os.path.isfile(os.path.join(model, "config.json")):
            raise CliError(f"--model {model}: no config.json in that directory")
        return
    if random_weights:
        if not real_config_path(model).is_file():
            known = sorted(p.stem.replace("__", "/") for p in CONFIGS_DIR.glob("*.json"))
            raise CliError(f"no bundled config for {model} (have: {', '.join(known)}); pass --model <local dir>")
        return
    from huggingface_hub import try_to_load_from_cache

    if not isinstance(try_to_load_from_cache(model, "config.json", cache_dir=cache_dir), str):
        raise _not_offline(model)


def load_tokenizer(model: str, cache_dir: str | None = None):
    """The tokenizer of a local dir or cached HF id, or None when none is available offline."""
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(model, local_files_only=True, cache_dir=cache_dir)
    except (OSError, ValueError, TypeError, KeyError):
        return None


def load_reference(model: str, *, random_weights: bool = False, seed: int = 0, cache_dir: str | None = None,
                   float32_whole: bool = True, config=None) -> Reference:
    """The HF reference on CPU, computing in float32, from a local dir, the HF cache or random weights.

    Weights have the values of the checkpoint's stored dtype (``stored_dtype``); random weights are drawn in that
    dtype with ``torch.manual_seed(seed)`` from the local dir's config or the bundled real config of the HF id.
    ``float32_whole``: hold the weights widened to float32 (fast); else hold them as stored and widen one module
    at a time while it computes (``float32_compute``: the same numbers, a fraction of the memory).
    ``config``: the ``reference_config`` the caller already read (read here when None).
    """
    import torch
    from transformers import AutoModelForCausalLM

    from .float32_compute import compute_in_float32

    check_available(model, random_weights, cache_dir)
    if config is None:
        config, _ = reference_config(model, random_weights=random_weights, cache_dir=cache_dir)
    stored = stored_dtype(config)
    if random_weights:
        torch.manual_seed(seed)
        hf = AutoModelForCausalLM.from_config(config, dtype=stored)
        source = f"random weights ({_config_source(model, True)}, seed {seed})"
    else:
        try:
            hf = AutoModelForCausalLM.from_pretrained(model, local_files_only=True, cache_dir=cache_dir,
                                                      dtype=torch.float32 if float32_whole else stored)
        except OSError as err:
            if os.path.isdir(model):
                raise CliError(f"cannot load a checkpoint from {model}: {' '.join(str(err).split())}") from err
            raise _not_offline(model) from err
        source = f"local dir {model}" if os.path.isdir(model) else f"HF cache {model}"
    if float32_whole:
        hf = hf.float()
        precision = "float32"
    else:
        compute_in_float32(hf)
        precision = f"float32 compute on {str(stored).replace('torch.', '')} weights as stored"
    return Reference(model=hf.eval(), source=source, precision=precision)
