"""Offline model fixtures: real configs, tiny configs, random tiny models and the shipped trained checkpoints."""

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from ttbringup.fixtures import (BOS_ID, CORPUS_PATH, FIXTURE_MODELS, NEW_MODELS, SEED_MODELS, fixture_key,
                                greedy_margins, load_prompt, random_tiny_model, real_config, tiny_checkpoint_dir,
                                tiny_config)
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
    # The five generated bringups: the tiny head_dim is smaller than the real one where 5 MB demands it.
    "mistralai/Mistral-7B-Instruct-v0.3": dict(model_type="mistral", hidden_act="silu", rope_type=None, tie=False,
                                               gqa=4, head_dim=(64, 128)),
    "tiiuae/Falcon3-7B-Instruct": dict(model_type="llama", hidden_act="silu", rope_type=None, tie=False, gqa=3,
                                       head_dim=(128, 256)),
    "microsoft/Phi-3-mini-128k-instruct": dict(model_type="phi3", hidden_act="silu", rope_type="longrope", tie=False,
                                               gqa=1, head_dim=96),
    "google/gemma-3-4b-it": dict(model_type="gemma3_text", hidden_act="gelu_pytorch_tanh", rope_type="linear",
                                 tie=True, gqa=2, head_dim=(128, 256)),
    "arcee-ai/Arcee-Spark": dict(model_type="qwen2", hidden_act="silu", rope_type=None, tie=False, gqa=7,
                                 head_dim=(64, 128)),
}
N_GEN = 100


def _rope_scaling(cfg):
    return getattr(cfg, "rope_scaling", None)


def _rope_type(cfg):
    scaling = _rope_scaling(cfg) or {}
    return scaling.get("rope_type", scaling.get("type"))


def _head_dim(cfg):
    return getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads


def _check_arch(cfg, facts):
    assert cfg.model_type == facts["model_type"]
    assert (getattr(cfg, "hidden_act", None) or cfg.hidden_activation) == facts["hidden_act"]
    assert _rope_type(cfg) == facts["rope_type"]
    assert cfg.tie_word_embeddings is facts["tie"]
    assert cfg.num_attention_heads % cfg.num_key_value_heads == 0
    assert cfg.num_attention_heads // cfg.num_key_value_heads == facts["gqa"]
    assert _head_dim(cfg) in (facts["head_dim"] if isinstance(facts["head_dim"], tuple) else (facts["head_dim"],))


def test_fixture_key():
    assert fixture_key("meta-llama/Llama-3.2-1B") == "meta-llama__Llama-3.2-1B"
    assert fixture_key("google/gemma-3-4b-it") == "google__gemma-3-4b-it"
    with pytest.raises(KeyError, match="not a model with fixtures"):
        fixture_key("openai/gpt2")
    assert FIXTURE_MODELS == SEED_MODELS + NEW_MODELS and len(set(FIXTURE_MODELS)) == 9


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


@pytest.mark.parametrize("hf_id", FIXTURE_MODELS)
def test_tiny_config_matches_seed(hf_id):
    real, tiny = real_config(hf_id), tiny_config(hf_id)
    _check_arch(real, FACTS[hf_id] | dict(head_dim=_head_dim(real)))  # the facts table describes the model itself
    _check_arch(tiny, FACTS[hf_id])
    assert _rope_scaling(tiny) == _rope_scaling(real) and tiny.rope_theta == real.rope_theta
    assert tiny.rms_norm_eps == real.rms_norm_eps
    assert tiny.num_hidden_layers == 2 and tiny.num_attention_heads <= 32 and tiny.num_key_value_heads >= 2
    assert tiny.max_position_embeddings >= 2048


def test_new_tiny_configs_keep_what_makes_each_architecture_different():
    long_prompt = 130  # tokens, at least (test_prompts_in_corpus)
    phi, phi_real = tiny_config("microsoft/Phi-3-mini-128k-instruct"), real_config("microsoft/Phi-3-mini-128k-instruct")
    assert len(phi.rope_scaling["short_factor"]) == len(phi.rope_scaling["long_factor"]) == _head_dim(phi) // 2 == 48
    assert (phi.original_max_position_embeddings, phi.max_position_embeddings) == (4096, 131072)
    assert phi.rope_scaling == phi_real.rope_scaling
    gemma, gemma_real = tiny_config("google/gemma-3-4b-it"), real_config("google/gemma-3-4b-it")
    assert gemma.layer_types == ["sliding_attention", "full_attention"]
    assert gemma.sliding_window < long_prompt < gemma_real.sliding_window
    assert gemma.query_pre_attn_scalar == 256 != gemma.head_dim  # a head_dim-derived scale would differ
    assert (gemma.rope_local_base_freq, gemma.rope_theta) == (gemma_real.rope_local_base_freq, gemma_real.rope_theta)
    assert gemma.final_logit_softcapping is None and gemma.attn_logit_softcapping is None
    falcon = tiny_config("tiiuae/Falcon3-7B-Instruct")
    assert falcon.num_attention_heads * falcon.head_dim != falcon.hidden_size and falcon.rope_theta == 1000042.0
    assert tiny_config("mistralai/Mistral-7B-Instruct-v0.3").sliding_window is None


@pytest.mark.parametrize("hf_id,modules", [("microsoft/Phi-3-mini-128k-instruct", ("qkv_proj", "gate_up_proj")),
                                           ("google/gemma-3-4b-it", ("q_norm", "k_norm", "pre_feedforward_layernorm",
                                                                     "post_feedforward_layernorm")),
                                           ("arcee-ai/Arcee-Spark", ("q_proj", "k_proj", "v_proj"))])
def test_trained_new_checkpoints_have_their_distinct_weights(hf_id, modules, offline):
    """The blocks that set these architectures apart are in the trained checkpoint, trained (not left at init)."""
    model = AutoModelForCausalLM.from_pretrained(tiny_checkpoint_dir(hf_id), dtype=torch.float32,
                                                 local_files_only=True)
    names = {n for n, _ in model.named_modules()}
    for m in modules:
        assert f"model.layers.0.self_attn.{m}" in names or f"model.layers.0.mlp.{m}" in names \
            or f"model.layers.0.{m}" in names, m
    if hf_id == "arcee-ai/Arcee-Spark":  # Qwen2's q/k/v biases, trained away from random_tiny_model's draw
        fresh = dict(random_tiny_model(hf_id, seed=0).named_parameters())
        for n, p in model.named_parameters():
            if n.endswith(".bias"):
                assert p.abs().mean() > 0.1 and not torch.allclose(p, fresh[n], atol=1e-2), n


@pytest.mark.parametrize("hf_id", FIXTURE_MODELS)
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


@pytest.mark.parametrize("hf_id", FIXTURE_MODELS)
def test_tiny_checkpoint(hf_id, offline):
    path = tiny_checkpoint_dir(hf_id)
    assert sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) < 5_000_000
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, local_files_only=True).eval()
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    cfg = model.config
    _check_arch(cfg, FACTS[hf_id])
    assert cfg.to_dict().get("rope_scaling") == _rope_scaling(real_config(hf_id))
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
