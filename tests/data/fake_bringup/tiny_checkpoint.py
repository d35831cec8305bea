"""Make a tiny random HF Llama checkpoint with a small trained BPE tokenizer, for CLI tests.

``make_tiny_llama(out_dir, seed=0)`` writes config, weights, generation config and tokenizer
to ``out_dir``; ``install_in_hf_cache(ckpt_dir, hub_dir, hf_id)`` lays a copy out as the HF hub
cache does (refs/main -> snapshots/<rev>) so ``from_pretrained(hf_id, local_files_only=True)``
finds it with ``HF_HUB_CACHE=hub_dir``. No network.
"""

from __future__ import annotations

import shutil
from pathlib import Path

TEXT = (
    "The eval compares every next token of the bringup with the reference model. "
    "A bridge carries its own weight first, then the deck, then the traffic. "
    "Small models learn quickly; large models remember more. Numbers are rounded to bfloat16 "
    "and tiles hold thirty two by thirty two values. The quick brown fox jumps over the lazy dog. "
)


def _tokenizer(vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<s>", "</s>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator([TEXT] * 4, trainer=trainer)
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 0)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>")


def make_tiny_llama(out_dir, seed: int = 0, vocab_size: int = 320, layers: int = 3) -> Path:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    out = Path(out_dir)
    tokenizer = _tokenizer(vocab_size)
    config = LlamaConfig(vocab_size=vocab_size, hidden_size=64, intermediate_size=128, num_hidden_layers=layers,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
                         bos_token_id=0, eos_token_id=1, tie_word_embeddings=False)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config).float().eval()
    with torch.no_grad():  # larger logits than the default init, so argmax ties are unlikely
        model.lm_head.weight.mul_(20.0)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def install_in_hf_cache(ckpt_dir, hub_dir, hf_id: str, revision: str = "0" * 40) -> Path:
    snapshot = Path(hub_dir) / ("models--" + hf_id.replace("/", "--")) / "snapshots" / revision
    shutil.copytree(ckpt_dir, snapshot, dirs_exist_ok=True)
    refs = snapshot.parent.parent / "refs"
    refs.mkdir(parents=True, exist_ok=True)
    (refs / "main").write_text(revision)
    return snapshot
