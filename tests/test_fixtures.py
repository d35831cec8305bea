"""Offline model fixtures: real configs, tiny configs, random tiny models and the shipped trained checkpoints."""

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from ttbringup.fixtures import (BOS_ID, CORPUS_PATH, SEED_MODELS, fixture_key, greedy_margins, load_prompt,
                                random_tiny_model, real_config, tiny_checkpoint_dir, tiny_config)
from ttbringup.fixtures.make_tiny import bfp8_agreement

# Architecture facts of each seed that its tiny model must share.
FACTS = {
    "meta-llama/Llama-3.2-1B": dict(model_type="llama", hidden_act="silu", rope_type="llama3", tie=True, gqa=4,
                                    head_dim=64),
    "Qwen/Qwen3-0.6B": dict(model_type="qwen3", hidden_act="silu", rope_type=None, tie=True, gqa=2, head_dim=128),
    "humain-ai/ALLaM-7B-Instruct-preview": dict(model_type="llama", hidden_act="silu", rope_type=None, tie=False,
                                                gqa=1, head_dim=128),
    "arcee-ai/AFM-4.5B": dict(model_type="arcee", hidden_act="relu2", rope_type="yarn", tie=False, gqa=5,
                              head_dim=(64, 128)),
}
N_GEN = 100


def _rope_type(cfg):
    return (cfg.rope_scaling or {}).get("rope_type")


def _check_arch(cfg, facts):
    assert cfg.model_type == facts["model_type"]
    assert cfg.hidden_act == facts["hidden_act"]
    assert _rope_type(cfg) == facts["rope_type"]
    assert cfg.tie_word_embeddings is facts["tie"]
    assert cfg.num_attention_heads % cfg.num_key_value_heads == 0
    assert cfg.num_attention_heads // cfg.num_key_value_heads == facts["gqa"]
    assert cfg.head_dim in (facts["head_dim"] if isinstance(facts["head_dim"], tuple) else (facts["head_dim"],))


def test_fixture_key():
    assert fixture_key("meta-llama/Llama-3.2-1B") == "meta-llama__Llama-3.2-1B"
    with pytest.raises(KeyError, match="not a seed model"):
        fixture_key("openai/gpt2")


def test_real_config_bundled_values():
    llama = real_config("meta-llama/Llama-3.2-1B")
    assert (llama.hidden_size, llama.num_hidden_layers, llama.vocab_size) == (2048, 16, 128256)
    afm = real_config("arcee-ai/AFM-4.5B")
    assert (afm.model_type, afm.hidden_size, afm.intermediate_size, afm.num_hidden_layers) == ("arcee", 2560, 18432, 36)
    assert afm.rope_scaling["factor"] == 20.0 and afm.rope_scaling["original_max_position_embeddings"] == 4096
    qwen = real_config("Qwen/Qwen3-0.6B")
    assert (qwen.head_dim, qwen.num_attention_heads, qwen.num_key_value_heads) == (128, 16, 8)
    allam = real_config("humain-ai/ALLaM-7B-Instruct-preview")
    assert (allam.num_key_value_heads, allam.rope_theta, allam.tie_word_embeddings) == (32, 1e6, False)


@pytest.mark.parametrize("hf_id", SEED_MODELS)
def test_tiny_config_matches_seed(hf_id):
    real, tiny = real_config(hf_id), tiny_config(hf_id)
    _check_arch(real, FACTS[hf_id] | dict(head_dim=real.head_dim))  # the facts table describes the seed itself
    _check_arch(tiny, FACTS[hf_id])
    assert tiny.rope_scaling == real.rope_scaling and tiny.rope_theta == real.rope_theta
    assert tiny.rms_norm_eps == real.rms_norm_eps
    assert tiny.num_hidden_layers == 2 and tiny.num_attention_heads <= 32 and tiny.num_key_value_heads >= 2
    assert tiny.max_position_embeddings >= 2048


@pytest.mark.parametrize("hf_id", SEED_MODELS)
def test_random_tiny_model_deterministic_and_not_flat(hf_id):
    a, b, c = random_tiny_model(hf_id, seed=0), random_tiny_model(hf_id, seed=0), random_tiny_model(hf_id, seed=1)
    assert not a.training and next(a.parameters()).dtype == torch.float32
    ids = torch.arange(3, 67)[None]
    with torch.no_grad():
        la, lb, lc = a(ids).logits, b(ids).logits, c(ids).logits
    assert torch.equal(la, lb)
    assert not torch.allclose(la, lc)
    assert la.std(dim=-1).min() > 0.5, "random logits are nearly flat across the vocab"


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.mark.parametrize("hf_id", SEED_MODELS)
def test_tiny_checkpoint(hf_id, offline):
    path = tiny_checkpoint_dir(hf_id)
    assert sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) < 5_000_000
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, local_files_only=True).eval()
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    cfg = model.config
    _check_arch(cfg, FACTS[hf_id])
    assert cfg.to_dict()["rope_scaling"] == real_config(hf_id).rope_scaling
    assert cfg.vocab_size == len(tokenizer) and next(model.parameters()).dtype == torch.float32

    prompt = load_prompt("bringup_eval_long")
    ids = torch.tensor(tokenizer(prompt)["input_ids"])
    assert ids[0] == BOS_ID == tokenizer.bos_token_id and 130 <= len(ids) <= 150
    new_ids, gen_m, prompt_m = greedy_margins(model, ids, N_GEN)
    assert len(new_ids) == N_GEN
    # The memorised continuation: greedy decoding reproduces the corpus text after the prompt.
    corpus = CORPUS_PATH.read_text()
    assert tokenizer.decode(new_ids) == corpus[corpus.index(prompt) + len(prompt):][: len(tokenizer.decode(new_ids))]
    for margins in (gen_m, prompt_m):
        assert margins.min() > 0, "top-1 tie"
        assert (margins >= 1.0).float().mean() >= 0.99
        assert margins.median() > 3.0
    # What the margins are for: a bfloat8_b-weight emulation keeps the greedy choices.
    top1, top5 = bfp8_agreement(model, torch.cat([ids, new_ids]), len(ids))
    assert top1 >= 0.95 and top5 >= 0.99


def test_prompts_in_corpus(offline):
    corpus = CORPUS_PATH.read_text()
    tokenizer = AutoTokenizer.from_pretrained(tiny_checkpoint_dir(SEED_MODELS[0]), local_files_only=True)
    for name, lo, hi in (("bringup_eval_long", 130, 150), ("bringup_eval_short", 15, 30)):
        text = load_prompt(name)
        assert corpus.count(text) == 1
        assert lo <= len(tokenizer(text)["input_ids"]) <= hi
    rest = corpus[corpus.index(load_prompt("bringup_eval_long")) + len(load_prompt("bringup_eval_long")):]
    assert len(tokenizer(rest, add_special_tokens=False)["input_ids"]) >= 150
