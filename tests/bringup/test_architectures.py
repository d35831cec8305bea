"""The block table: every entry names an activation the blocks implement and only keywords ``build_decoder_lm``
takes, and each seed config selects its family's entry with the seed's K/V sharding."""

import inspect

import pytest

from helpers import load, seed_dir
from ttbringup.bringup.architectures import ARCHITECTURES, MISSING_BLOCKS, architecture_of, build_flags
from ttbringup.fixtures import SEED_MODELS, real_config
from ttbringup.llm import UnsupportedModelError, build_decoder_lm
from ttbringup.llm.build import MLP_FOR_ACTIVATION


@pytest.mark.parametrize("model_type", sorted(ARCHITECTURES))
def test_entry_uses_only_what_the_blocks_have(model_type):
    arch = ARCHITECTURES[model_type]
    assert arch.model_type == model_type and arch.hidden_act in MLP_FOR_ACTIVATION
    assert set(arch.build_flags) <= set(inspect.signature(build_decoder_lm).parameters)
    assert model_type not in MISSING_BLOCKS


@pytest.mark.parametrize("hf_id", SEED_MODELS)
def test_each_seed_selects_its_family(hf_id):
    config = real_config(hf_id)
    assert architecture_of(config) is ARCHITECTURES[config.model_type]
    seed = load(seed_dir(hf_id, "n150") / "model.py")
    assert build_flags(ARCHITECTURES[config.model_type], config).get("shard_kv", False) == getattr(seed, "SHARD_KV",
                                                                                                 False)


def test_unsupported_rope_is_refused_even_though_files_accept_their_own_type():
    config = real_config("meta-llama/Llama-3.2-1B")
    config.rope_scaling = {"rope_type": "dynamic", "factor": 2.0}
    with pytest.raises(UnsupportedModelError, match="rope_type 'dynamic'"):
        architecture_of(config)
