"""A tiny random checkpoint of any config's architecture, for ``ttbringup new``'s PCC check and a first eval.

``tiny_config(config)`` keeps what selects code paths (model_type, activation, RoPE type and scaling dict, context,
tying, norm eps, biases, the GQA ratio, head_dim) and shrinks the rest as the seeds' fixtures do: 2 layers,
hidden 256, 2 KV heads (the ratio times 2 query heads), intermediate 512 (LongRoPE, whose factor lists HF checks against hidden / heads,
gets hidden = heads x head_dim and more heads if that is below 256), the shared tiny tokenizer's vocabulary.
Interleaved layer kinds keep one layer of each (Gemma-3: a sliding layer and a global one), and a sliding window
shorter than the context shrinks to ``TINY_WINDOW`` so the check's prompt crosses it.
``build_tiny_checkpoint`` draws it (seed 0, init std ``TINY_INIT_STD``, RMSNorm weights uniform(0.5, 1.5) and
linear biases uniform(-1, 1), which HF would start at 1 and 0, so a missing norm or bias shows), saves it in bf16
with the shared tiny tokenizer, and returns it reloaded in float32: the check runs on exactly the saved values.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import torch
from transformers import AutoConfig, AutoModelForCausalLM

from ttbringup.fixtures import BOS_ID, EOS_ID, SEED_MODELS, TINY_INIT_STD, TINY_VOCAB_SIZE, TINY_WINDOW
from ttbringup.fixtures import tiny_checkpoint_dir as seed_dir
from ttbringup.llm.rope import head_dim, rope_type

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")


def tiny_checkpoint_dir(name: str) -> Path:
    """``$XDG_CACHE_HOME/ttbringup/tiny_random/<org>__<model>`` (default ``~/.cache``): outside the repository."""
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "ttbringup" / "tiny_random" / name.replace("/", "__")


def tiny_config(config):
    d = config.to_dict()
    ratio = config.num_attention_heads // config.num_key_value_heads
    kv, hidden, hd = 2, 256, head_dim(config)
    if rope_type(config) == "longrope":  # Phi3Config checks its factor lists against hidden / heads / 2
        while kv * ratio * hd < 256:
            kv *= 2
        hidden = kv * ratio * hd
    d.update(num_hidden_layers=2, hidden_size=hidden, num_key_value_heads=kv, num_attention_heads=kv * ratio,
             head_dim=hd, intermediate_size=512, vocab_size=TINY_VOCAB_SIZE, bos_token_id=BOS_ID,
             eos_token_id=EOS_ID, pad_token_id=None, initializer_range=TINY_INIT_STD, torch_dtype="float32")
    for key in ("dtype", "_name_or_path", "architectures", "transformers_version"):
        d.pop(key, None)
    if "max_window_layers" in d:
        d["max_window_layers"] = 2
    if d.get("layer_types"):
        kinds = list(dict.fromkeys(d["layer_types"]))
        d["layer_types"] = kinds[:2] if len(kinds) > 1 else d["layer_types"][:2]
    window = d.get("sliding_window")
    if isinstance(window, int) and window < config.max_position_embeddings:
        d["sliding_window"] = TINY_WINDOW
    return AutoConfig.for_model(d.pop("model_type"), **d)


def build_tiny_checkpoint(config, out: Path, seed: int = 0):
    """Draw, save (bf16 safetensors + config + tokenizer) and reload in float32 the tiny model; see module doc."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = AutoModelForCausalLM.from_config(tiny_config(config), dtype=torch.float32)
        with torch.no_grad():
            for name, p in model.named_parameters():
                if "norm" in name:
                    p.uniform_(0.5, 1.5)
                elif name.endswith(".bias"):
                    p.uniform_(-1.0, 1.0)
    if out.exists():
        shutil.rmtree(out)
    model.to(torch.bfloat16).save_pretrained(out)
    for f in TOKENIZER_FILES:  # the seeds' tiny checkpoints share one tokenizer
        shutil.copy(seed_dir(SEED_MODELS[0]) / f, out / f)
    return AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32).eval()
