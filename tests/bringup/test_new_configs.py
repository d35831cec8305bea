"""The bundled real configs of issue 15's five new models: each is read by its HF id (no network), selects the
family the model card names, and builds a model with the parameter count its publisher states (sources in
ttbringup/fixtures/configs/README.md)."""

import json

import pytest
import torch
from transformers import AutoModelForCausalLM, Gemma3Config, Gemma3ForConditionalGeneration

from ttbringup.bringup.architectures import ARCHITECTURES, architecture_of
from ttbringup.bringup.configs import read_config
from ttbringup.evaluation.loading import real_config_path

# hf id -> (family, published parameter count, the digits it is published to)
NEW_MODELS = {
    "mistralai/Mistral-7B-Instruct-v0.3": ("mistral", 7.25e9, 0.01e9),
    "tiiuae/Falcon3-7B-Instruct": ("llama", 7.5e9, 0.1e9),
    "microsoft/Phi-3-mini-128k-instruct": ("phi3", 3_821_079_552, 0),
    "arcee-ai/Arcee-Spark": ("qwen2", 7_615_616_512, 0),  # Qwen2.5-7B's safetensors count: the shape, not the id
    "google/gemma-3-4b-it": ("gemma3_text", None, None),  # text model only; see the test below
}


def _params(model) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("hf_id", NEW_MODELS)
def test_bundled_config_is_read_by_id_and_selects_its_family(hf_id):
    source = read_config(hf_id)
    assert source.name == hf_id and source.source.startswith("bundled config")
    assert architecture_of(source.config) is ARCHITECTURES[NEW_MODELS[hf_id][0]]


@pytest.mark.parametrize("hf_id", [h for h, v in NEW_MODELS.items() if v[1] is not None])
def test_parameter_count_is_the_published_one(hf_id):
    _, published, digits = NEW_MODELS[hf_id]
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(read_config(hf_id).config)
    assert abs(_params(model) - published) <= digits / 2


def test_gemma3_text_config_with_its_vision_tower_is_the_published_4_3b():
    """The vision tower's values are the checkpoint's vision_config (README.md); 4.3B is the model card's."""
    text = json.loads(real_config_path("google/gemma-3-4b-it").read_text())
    vision = {"model_type": "siglip_vision_model", "hidden_size": 1152, "image_size": 896,
              "intermediate_size": 4304, "num_attention_heads": 16, "num_hidden_layers": 27, "patch_size": 14,
              "vision_use_head": False}
    with torch.device("meta"):
        model = Gemma3ForConditionalGeneration(Gemma3Config(text_config=text, vision_config=vision,
                                                            mm_tokens_per_image=256))
    assert abs(_params(model) - 4.30e9) <= 0.005e9
    assert text["layer_types"].count("sliding_attention") == 29
