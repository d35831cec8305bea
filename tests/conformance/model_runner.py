"""Build every ``models/**/model.py`` on the real ttnn (mock device) and run a prefill plus three decode steps.

Two checkpoints per model file:

* ``tiny``: the shipped trained tiny checkpoint (``ttbringup.fixtures.tiny_checkpoint_dir``, every model in
  ``FIXTURE_MODELS``); for a model without one, the tiny random checkpoint ``ttbringup new`` checks on, from the
  bundled config;
* ``real_heads``: random weights for a config that keeps the real model's head counts and head_dim (so the
  attention ops see the real decode/prefill shapes, GQA ratio and shardings) with hidden 256, MLP 512, the tiny
  vocab and 2 layers, so it stays light.

A mock device returns zeros for every read-back, so only "it runs" and the logits shapes are checked.

Also a script, for model files that declare a multi-chip ``MESH_SHAPE`` (the mock cluster is fixed per process, so
the test runs these in a child process with the matching cluster descriptor)::

    python tests/conformance/model_runner.py <model.py> <tiny|real_heads>    # prints one JSON line
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"
VARIANTS = ("tiny", "real_heads")
PROMPT_LEN, DECODE_STEPS, MAX_SEQ_LEN = 20, 3, 128  # 20 tokens: the prefill pads to 32 (a padding case)
MOCK_DESCRIPTORS = {(1, 1): "wormhole_N150.yaml", (1, 2): "wormhole_N300.yaml", (2, 1): "wormhole_N300.yaml",
                    (2, 4): "wormhole_T3000.yaml", (4, 2): "wormhole_T3000.yaml", (1, 8): "wormhole_T3000.yaml",
                    (8, 1): "wormhole_T3000.yaml"}


def discover() -> list[Path]:
    """Every model file under models/, sorted."""
    return sorted(MODELS.glob("**/model.py"))


def rel(path: Path) -> str:
    return str(path.relative_to(REPO))


def hf_id_of(path: Path) -> str:
    """models/<org>/<name>/<system>/<variant>/model.py -> "<org>/<name>"."""
    parts = path.relative_to(MODELS).parts
    return f"{parts[0]}/{parts[1]}"


def load_module(path: Path):
    """Import a model file by path; ``ttnn`` must already be registered (``backend.load("ttnn")``)."""
    name = "conformance_model_" + re.sub(r"\W", "_", rel(path))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def mesh_shape(module) -> tuple[int, int] | None:
    shape = getattr(module, "MESH_SHAPE", None)
    return None if shape is None else tuple(int(x) for x in shape)


def real_heads_config(hf_id: str):
    """The real config with its head counts and head_dim kept; hidden 256 (LongRoPE: heads x head_dim), MLP 512,
    tiny vocab, 2 layers."""
    from transformers import AutoConfig

    from ttbringup import fixtures

    d = fixtures.real_config_dict(hf_id)
    head_dim = d.get("head_dim") or d["hidden_size"] // d["num_attention_heads"]
    scaling = d.get("rope_scaling") or {}
    # LongRoPE's factor lists are checked against hidden / heads / 2: such a model keeps hidden = heads x head_dim
    hidden = d["num_attention_heads"] * head_dim if scaling.get("rope_type", scaling.get("type")) == "longrope" else 256
    d.update(hidden_size=hidden, intermediate_size=512, num_hidden_layers=2, head_dim=head_dim,
             vocab_size=fixtures.TINY_VOCAB_SIZE, bos_token_id=fixtures.BOS_ID, eos_token_id=fixtures.EOS_ID,
             pad_token_id=None,
             torch_dtype="float32")
    d.setdefault("num_key_value_heads", d["num_attention_heads"])
    if "max_window_layers" in d:
        d["max_window_layers"] = 2
    if isinstance(d.get("layer_types"), list):
        d["layer_types"] = d["layer_types"][:2]
    return AutoConfig.for_model(d.pop("model_type"), **d)


def hf_model(hf_id: str, variant: str):
    """(float32 HF model in eval mode, where it came from)."""
    from transformers import AutoModelForCausalLM

    from ttbringup import fixtures

    if variant == "tiny" and hf_id not in fixtures.FIXTURE_MODELS:  # no shipped checkpoint: ttbringup new's tiny one
        import tempfile

        from ttbringup.bringup.tiny import build_tiny_checkpoint

        out = Path(tempfile.mkdtemp(prefix="conformance_tiny_")) / hf_id.replace("/", "__")
        return build_tiny_checkpoint(fixtures.real_config(hf_id), out), f"tiny random checkpoint {out.name}"
    if variant == "tiny":
        path = fixtures.tiny_checkpoint_dir(hf_id)
        if not (path / "config.json").exists():
            raise FileNotFoundError(f"the tiny checkpoint of {hf_id} is missing ({path}); build it with "
                                    "`python -m ttbringup.fixtures.make_tiny`")
        return AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval(), f"tiny checkpoint {path.name}"
    config = real_heads_config(hf_id)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32).eval()
    heads = f"{config.num_attention_heads}/{config.num_key_value_heads} heads, head_dim {config.head_dim}"
    return model, f"real head counts ({heads}), random weights"


@torch.no_grad()
def run_model(path: Path, variant: str, ttnn, device, module=None) -> dict:
    """Build the model file on ``device`` and run prefill + DECODE_STEPS decode steps; return what happened."""
    t0 = time.time()
    hf_id = hf_id_of(path)
    module = module or load_module(path)
    model, source = hf_model(hf_id, variant)
    vocab = model.config.vocab_size
    tt = module.build_model(model, device, MAX_SEQ_LEN)
    ids = torch.randint(3, vocab, (1, PROMPT_LEN + DECODE_STEPS), generator=torch.Generator().manual_seed(0))
    out = tt(ids[:, :PROMPT_LEN])
    shapes = [tuple(out.logits.shape)]
    dtypes = {str(out.logits.dtype)}
    cache = out.past_key_values
    for i in range(PROMPT_LEN, PROMPT_LEN + DECODE_STEPS):
        out = tt(ids[:, i:i + 1], past_key_values=cache)
        cache = out.past_key_values
        shapes.append(tuple(out.logits.shape))
        dtypes.add(str(out.logits.dtype))
    want = [(1, PROMPT_LEN, vocab)] + [(1, 1, vocab)] * DECODE_STEPS
    return {"model": rel(path), "variant": variant, "source": source, "vocab": vocab, "shapes": shapes,
            "expected_shapes": want, "dtypes": sorted(dtypes), "seconds": round(time.time() - t0, 1)}


def main(argv: list[str]) -> int:
    """Child-process entry for a multi-chip MESH_SHAPE: open the mesh, run, print one JSON line."""
    import os

    os.environ.setdefault("TT_LOGGER_LEVEL", "off")
    os.environ.setdefault("LOGURU_LEVEL", "INFO")
    path, variant = Path(argv[0]).resolve(), argv[1]
    from ttbringup import backend

    ttnn = backend.load("ttnn", announce=False)
    module = load_module(path)
    shape = mesh_shape(module)
    if shape and shape[0] * shape[1] > 1:
        ttnn.set_fabric_config(ttnn.FabricConfig.FABRIC_1D)
        device = ttnn.open_mesh_device(ttnn.MeshShape(*shape))
        close = ttnn.close_mesh_device
    else:
        device = ttnn.open_device(device_id=0)
        close = ttnn.close_device
    try:
        result = run_model(path, variant, ttnn, device, module)
        result["chips"] = device.get_num_devices()
    finally:
        close(device)
    print("MODEL_RESULT " + json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
