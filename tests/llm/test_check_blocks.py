"""``check_blocks`` / ``check_config``: what the shared blocks cannot run is refused in one line naming the piece,
for HF's own configs of such architectures; every architecture they do run passes."""

import pytest
from transformers import AutoConfig

from tiny_archs import NEW_ARCHS, tiny_config
from ttbringup.fixtures import SEED_MODELS, real_config
from ttbringup.llm import UnsupportedModelError, check_blocks, check_config

SMALL = dict(hidden_size=256, intermediate_size=512, num_hidden_layers=2, num_attention_heads=4,
             num_key_value_heads=2)


def config(model_type, **changes):
    return AutoConfig.for_model(model_type, **{**SMALL, **changes})


def with_layer_types(model_type, layer_types):
    c = config(model_type)
    c.layer_types = layer_types  # set after init: HF's own validation knows only its types
    return c


REFUSED = [
    ("mixtral", lambda: config("mixtral"), r"mixture-of-experts \(num_local_experts=8\)"),
    ("qwen3_moe", lambda: config("qwen3_moe"), r"mixture-of-experts \(num_experts="),
    ("deepseek_v3", lambda: config("deepseek_v3"), r"mixture-of-experts \(n_routed_experts="),
    ("gemma2", lambda: config("gemma2", head_dim=64), "attn_logit_softcapping=50.0"),
    ("gemma3 multimodal", lambda: AutoConfig.for_model("gemma3"), "multimodal config"),
    ("odd head_dim", lambda: config("llama", head_dim=75), "head_dim 75 is not supported"),
    ("stablelm", lambda: config("stablelm"), "partial_rotary_factor"),
    ("dynamic rope", lambda: config("llama", rope_scaling={"rope_type": "dynamic", "factor": 2.0}),
     "rope_type 'dynamic'"),
    ("gelu_new", lambda: config("llama", hidden_act="gelu_new"), "hidden_act 'gelu_new'"),
    ("o_proj bias", lambda: config("llama", attention_bias=True), "biases o_proj"),
    ("mlp bias", lambda: config("llama", mlp_bias=True), "mlp_bias"),
    ("bidirectional", lambda: config("gemma3_text", head_dim=64, use_bidirectional_attention=True),
     "use_bidirectional_attention"),
    ("chunked layers", lambda: with_layer_types("qwen2", ["chunked_attention", "full_attention"]),
     "layer type 'chunked_attention'"),
]


@pytest.mark.parametrize("make,match", [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_unsupported_architectures_are_refused_in_one_line_naming_the_piece(make, match):
    with pytest.raises(UnsupportedModelError, match=match) as err:
        check_blocks(make())
    assert "\n" not in str(err.value)


def test_check_config_refuses_the_missing_piece_before_the_model_type():
    """A model file for one architecture handed a MoE config says what is missing, not just 'wrong model_type'."""
    with pytest.raises(UnsupportedModelError, match="mixture-of-experts"):
        check_config(config("mixtral"), model_types=("mistral",), hidden_act="silu", rope_types=("default",))


@pytest.mark.parametrize("make", [lambda h=h: real_config(h) for h in SEED_MODELS]
                         + [lambda a=a: tiny_config(a) for a in NEW_ARCHS],
                         ids=list(SEED_MODELS) + list(NEW_ARCHS))
def test_supported_architectures_pass(make):
    check_blocks(make())


def test_phi3_mini_head_dim_96_passes():
    """Phi-3-mini's heads: 32 x 96 (padded to 128 on the device, head_pad)."""
    check_blocks(config("phi3", hidden_size=3072, num_attention_heads=32, num_key_value_heads=32))
