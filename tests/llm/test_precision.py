"""The per-op-class precision hook (``ttbringup.llm.precision``): what a build inside ``overridden`` gets, and that
the compute config reaches the blocks' linears (card mode honours it, exact mode ignores it)."""

import pytest
import torch

import ttnn
from ttbringup.emu import numerics_mode
from ttbringup.fixtures import random_tiny_model
from ttbringup.llm import SwiGLUMLP, build_decoder_lm
from ttbringup.llm.precision import OpPrecision, class_weights, for_class, overridden
from ttbringup.evaluation.metrics import pcc

SEED_ID = "meta-llama/Llama-3.2-1B"


def config(fidelity, fp32=False):
    return ttnn.WormholeComputeKernelConfig(math_fidelity=fidelity, math_approx_mode=False, fp32_dest_acc_en=fp32,
                                            packer_l1_acc=True)


@pytest.fixture(scope="module")
def hf():
    return random_tiny_model(SEED_ID, seed=0)


def test_a_build_inside_the_override_takes_its_dtype_and_config(hf, device):
    lofi = config(ttnn.MathFidelity.LoFi)
    with overridden({"mlp": OpPrecision(ttnn.bfloat4_b, lofi)}):
        model = build_decoder_lm(hf, device, 64, cache_cap=64, weight_dtype=ttnn.bfloat16)
    weights = class_weights(model)
    assert {t.dtype for t in weights["mlp"]} == {ttnn.bfloat4_b}
    assert {t.dtype for t in weights["attention"]} == {ttnn.bfloat16}  # not named: the model file's
    assert len(weights["mlp"]) == 3 * hf.config.num_hidden_layers
    assert len(weights["attention"]) == 4 * hf.config.num_hidden_layers
    assert all(layer.mlp.cfg is lofi and layer.attention.compute_kernel_config is None for layer in model.layers)

    plain = build_decoder_lm(hf, device, 64, cache_cap=64, weight_dtype=ttnn.bfloat16)  # outside: as before
    assert {t.dtype for t in class_weights(plain)["mlp"]} == {ttnn.bfloat16}
    assert all(layer.mlp.cfg is None for layer in plain.layers)


def test_override_is_restored_and_checks_class_names():
    with overridden({"attention": OpPrecision(ttnn.bfloat8_b)}):
        assert for_class("attention", ttnn.bfloat16) == (ttnn.bfloat8_b, None)
        with overridden({}):
            assert for_class("attention", ttnn.bfloat16) == (ttnn.bfloat16, None)
        assert for_class("attention", ttnn.bfloat16)[0] == ttnn.bfloat8_b
    assert for_class("attention", ttnn.bfloat16) == (ttnn.bfloat16, None)
    with pytest.raises(ValueError, match="unknown op class lm_head"):
        with overridden({"lm_head": OpPrecision()}):
            pass
    with pytest.raises(ValueError, match="unknown op class"):
        for_class("norm", ttnn.bfloat16)


def test_the_config_reaches_the_linears(hf, device):
    """Against HF float32: in card mode LoFi (one 5 x 7-bit phase) loses accuracy HiFi4 does not; in exact mode the
    config changes nothing (exact mode computes in float32 whatever the fidelity)."""
    hf_mlp = hf.model.layers[0].mlp
    x = torch.randn(1, 64, hf.config.hidden_size, generator=torch.Generator().manual_seed(1))
    ref = hf_mlp(x)[0].detach()
    dev_x = ttnn.from_torch(x.reshape(1, 1, 64, -1), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
    out = {}
    for mode in ("exact", "card"):
        for name, fidelity in (("lofi", ttnn.MathFidelity.LoFi), ("hifi4", ttnn.MathFidelity.HiFi4)):
            block = SwiGLUMLP(hf_mlp, device, ttnn.bfloat16, compute_kernel_config=config(fidelity, fp32=True))
            with numerics_mode.use(mode):
                out[mode, name] = ttnn.to_torch(block(dev_x)).float().reshape(64, -1)
    assert torch.equal(out["exact", "lofi"], out["exact", "hifi4"])
    assert pcc(out["card", "lofi"], ref) < pcc(out["card", "hifi4"], ref)
    assert pcc(out["card", "hifi4"], ref) > 0.999


def test_the_sdpa_config_reaches_prefill_and_decode_attention(hf, device, monkeypatch):
    """The ``sdpa`` class has no weights: a build inside the override passes its config to both SDPA ops (spied
    on), a weight dtype for it is refused, and a build outside passes none."""
    import ttbringup.emu.transformer as emu_transformer

    seen = []
    for name in ("scaled_dot_product_attention", "scaled_dot_product_attention_decode"):
        real = getattr(emu_transformer, name)
        monkeypatch.setattr(ttnn.transformer, name,
                            lambda *a, _real=real, _name=name, **kw: seen.append((_name, kw.get("compute_kernel_config")))
                            or _real(*a, **kw))
    hifi4 = config(ttnn.MathFidelity.HiFi4, fp32=True)
    with overridden({"sdpa": OpPrecision(None, hifi4)}):
        model = build_decoder_lm(hf, device, 64, cache_cap=64, weight_dtype=ttnn.bfloat16)
    ids = torch.randint(0, hf.config.vocab_size, (1, 8), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        out = model(ids, use_cache=True)
        model(ids[:, :1], past_key_values=out.past_key_values, use_cache=True)
    assert {name for name, _ in seen} == {"scaled_dot_product_attention", "scaled_dot_product_attention_decode"}
    assert all(cfg is hifi4 for _, cfg in seen)
    assert class_weights(model)["sdpa"] == []
    seen.clear()
    plain = build_decoder_lm(hf, device, 64, cache_cap=64, weight_dtype=ttnn.bfloat16)
    with torch.no_grad():
        plain(ids, use_cache=True)
    assert seen and all(cfg is None for _, cfg in seen)
    with pytest.raises(ValueError, match="op class sdpa has no weights"):
        with overridden({"sdpa": OpPrecision(ttnn.bfloat8_b, hifi4)}):
            pass
