"""Tiny random checkpoints of the architectures the seeds do not cover (the blocks' tests build them, no files).

Each config keeps, from its model's public ``config.json``, what makes the architecture differ from the seeds, and
shrinks the rest (2 layers, hidden 256 (Phi-3: 384, for its head_dim 96), the shared tiny tokenizer's vocabulary,
float32, eager attention):

* ``qwen2`` (arcee-ai/Arcee-Spark, a Qwen2-7B): biases on q/k/v, GQA 7:1, rope_theta 1e6, untied lm_head;
  the sliding window is off (``use_sliding_window=false``).
* ``phi3`` (microsoft/Phi-3-mini-128k-instruct): fused ``qkv_proj`` and ``gate_up_proj``, MHA, LongRoPE
  (``rope_scaling`` type longrope with short and long factors, ``original_max_position_embeddings`` below
  ``max_position_embeddings``), ``sliding_window`` larger than any cache. Scaled down: the switch from short to
  long factors is at 64 positions (4096 in the real model) over 256 (131072), so the attention factor
  ``sqrt(1 + ln 4 / ln 64)`` is not 1; head_dim 96 as in the real model (padded to 128 on the device).
* ``gemma3_text`` (google/gemma-3-4b-it's text model): (1 + w) RMSNorms, sandwich norms, embeddings scaled by
  sqrt(hidden), GELU-tanh MLP, q/k norm, ``query_pre_attn_scalar`` (not head_dim, as in Gemma-3-27B),
  a sliding layer then a global one (window 16, shorter than the tests' prompts), local RoPE base 1e4 vs global
  1e6 with linear scaling factor 8, tied embeddings.
* ``mistral`` (mistralai/Mistral-7B-Instruct-v0.3: GQA 4:1, rope_theta 1e6, untied) with a config-level
  ``sliding_window`` (24, shorter than the prompts) that HF applies on every layer, as Mistral-7B-v0.1's 4096 was;
  v0.3's own config has none (the window-less path is the seeds' one).

``random_tiny_model`` draws weights like the seeds' fixtures (normal(0, TINY_INIT_STD)) and also makes what HF
initialises to a constant random, so a block that drops it fails: norm gains (Gemma's offset ones around 0,
the others around 1) and linear biases.
"""

from __future__ import annotations

import torch
from transformers import AutoConfig, AutoModelForCausalLM, PretrainedConfig, PreTrainedModel

from ttbringup.fixtures import BOS_ID, EOS_ID, PAD_ID, TINY_INIT_STD, TINY_VOCAB_SIZE

NEW_ARCHS = ("qwen2", "phi3", "gemma3_text", "mistral")
PHI3_SWITCH = 64  # the tiny Phi-3's original_max_position_embeddings
GEMMA3_WINDOW = 16
MISTRAL_WINDOW = 24

_CONFIGS = {
    "qwen2": dict(
        hidden_act="silu", rope_theta=1e6, rms_norm_eps=1e-6, tie_word_embeddings=False,
        max_position_embeddings=131072, use_sliding_window=False, sliding_window=131072, max_window_layers=28,
        hidden_size=256, num_attention_heads=14, num_key_value_heads=2, head_dim=64, intermediate_size=512),
    "phi3": dict(
        hidden_act="silu", rope_theta=10000.0, rms_norm_eps=1e-5, tie_word_embeddings=False,
        max_position_embeddings=4 * PHI3_SWITCH, original_max_position_embeddings=PHI3_SWITCH,
        rope_scaling={"type": "longrope", "short_factor": [1.0 + 0.02 * i for i in range(48)],
                      "long_factor": [1.07 ** i for i in range(48)]},
        sliding_window=262144, resid_pdrop=0.0, embd_pdrop=0.0, attention_dropout=0.0,
        hidden_size=384, num_attention_heads=4, num_key_value_heads=4, intermediate_size=512),  # head_dim 96
    "gemma3_text": dict(
        hidden_activation="gelu_pytorch_tanh", rope_theta=1e6, rope_local_base_freq=10000.0,
        rope_scaling={"rope_type": "linear", "factor": 8.0}, rms_norm_eps=1e-6, tie_word_embeddings=True,
        max_position_embeddings=131072, query_pre_attn_scalar=96, sliding_window=GEMMA3_WINDOW,
        layer_types=["sliding_attention", "full_attention"], final_logit_softcapping=None,
        attn_logit_softcapping=None,
        hidden_size=256, num_attention_heads=4, num_key_value_heads=2, head_dim=64, intermediate_size=512),
    "mistral": dict(
        hidden_act="silu", rope_theta=1e6, rms_norm_eps=1e-5, tie_word_embeddings=False,
        max_position_embeddings=32768, sliding_window=MISTRAL_WINDOW,
        hidden_size=256, num_attention_heads=8, num_key_value_heads=2, head_dim=64, intermediate_size=512),
}


def tiny_config(arch: str) -> PretrainedConfig:
    """The 2-layer float32 config of ``arch`` (one of ``NEW_ARCHS``)."""
    d = dict(_CONFIGS[arch], num_hidden_layers=2, vocab_size=TINY_VOCAB_SIZE, bos_token_id=BOS_ID,
             eos_token_id=EOS_ID, pad_token_id=PAD_ID, initializer_range=TINY_INIT_STD, torch_dtype="float32")
    return AutoConfig.for_model(arch, **d)


def random_tiny_model(arch: str, seed: int = 0) -> PreTrainedModel:
    """A random float32 model of ``tiny_config(arch)`` in eval mode; same seed -> same weights (global RNG kept)."""
    gemma = arch.startswith("gemma")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = AutoModelForCausalLM.from_config(tiny_config(arch), dtype=torch.float32, attn_implementation="eager")
        with torch.no_grad():
            for name, p in model.named_parameters():
                if "norm" in name:
                    p.uniform_(-0.5, 0.5) if gemma else p.uniform_(0.5, 1.5)
                elif name.endswith(".bias"):
                    p.uniform_(-1.0, 1.0)
    return model.eval()
