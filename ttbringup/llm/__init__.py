"""Shared decoder blocks in plain ttnn calls (no emulator imports: the same code runs on a card).

=================  ====================================================================
module             what it is
=================  ====================================================================
``errors``         ``UnsupportedModelError``
``weights``        HF tensors -> device tensors (linear ``[1,1,in,out]``, biases, norms, embedding)
``norm``           ``RMSNorm`` (Llama-style ``w`` or Gemma-style ``1 + w`` gain)
``rope``           cos/sin tables from transformers' ``ROPE_INIT_FUNCTIONS`` (``RopeCache``; LongRoPE's switch)
``head_pad``       a head_dim rotary_embedding cannot take (Phi-3's 96), padded at upload
``kv_cache``       per-layer ``[32, n_kv, len, hd]`` K/V caches
``attention``      ``Attention``: prefill (fill_cache + causal SDPA) and decode (paged update + SDPA decode);
                   q/k/v biases, fused qkv, q/k norm, sliding window
``mlp``            ``SwiGLUMLP`` (also fused gate_up), ``GeluTanhMLP``, ``Relu2MLP``
``decoder``        ``DecoderLayer``: pre-norm attention + MLP with residuals (optional sandwich norms)
``causal_lm``      ``TTCausalLM`` (nn.Module + GenerationMixin) and its ``TTCache``
``build``          ``check_blocks``, ``check_config``, ``build_decoder_lm`` for decoder-only HF models
``precision``      per-op-class (attention, MLP) weight dtype / compute config overrides at build time
=================  ====================================================================
"""

from .attention import Attention, kv_shard_grid
from .build import build_decoder_lm, check_blocks, check_config
from .causal_lm import TTCache, TTCausalLM
from .decoder import DecoderLayer
from .errors import UnsupportedModelError
from .kv_cache import CACHE_BATCH, LayerKVCache
from .mlp import GeluTanhMLP, Relu2MLP, SwiGLUMLP
from .norm import RMSNorm
from .rope import RopeCache, rope_tables, rope_type

__all__ = [
    "Attention", "CACHE_BATCH", "DecoderLayer", "GeluTanhMLP", "LayerKVCache", "RMSNorm", "Relu2MLP", "RopeCache",
    "SwiGLUMLP", "TTCache", "TTCausalLM", "UnsupportedModelError", "build_decoder_lm", "check_blocks", "check_config",
    "kv_shard_grid", "rope_tables", "rope_type",
]
