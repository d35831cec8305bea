"""Shared decoder blocks in plain ttnn calls (no emulator imports: the same code runs on a card).

=================  ====================================================================
module             what it is
=================  ====================================================================
``errors``         ``UnsupportedModelError``
``weights``        HF tensors -> device tensors (linear ``[1,1,in,out]``, norms, embedding)
``norm``           ``RMSNorm``
``rope``           cos/sin tables from transformers' ``ROPE_INIT_FUNCTIONS`` (``RopeCache``)
``kv_cache``       per-layer ``[32, n_kv, len, hd]`` K/V caches
``attention``      ``Attention``: prefill (fill_cache + causal SDPA) and decode (paged update + SDPA decode)
``mlp``            ``SwiGLUMLP``, ``Relu2MLP``
``decoder``        ``DecoderLayer``: pre-norm attention + MLP with residuals
``causal_lm``      ``TTCausalLM`` (nn.Module + GenerationMixin) and its ``TTCache``
``build``          ``check_config``, ``build_decoder_lm`` for Llama-family HF models
``precision``      per-op-class (attention, MLP) weight dtype / compute config overrides at build time
=================  ====================================================================
"""

from .attention import Attention, kv_shard_grid
from .build import build_decoder_lm, check_config
from .causal_lm import TTCache, TTCausalLM
from .decoder import DecoderLayer
from .errors import UnsupportedModelError
from .kv_cache import CACHE_BATCH, LayerKVCache
from .mlp import Relu2MLP, SwiGLUMLP
from .norm import RMSNorm
from .rope import RopeCache, rope_tables, rope_type

__all__ = [
    "Attention", "CACHE_BATCH", "DecoderLayer", "LayerKVCache", "RMSNorm", "Relu2MLP", "RopeCache", "SwiGLUMLP",
    "TTCache", "TTCausalLM", "UnsupportedModelError", "build_decoder_lm", "check_config", "kv_shard_grid",
    "rope_tables", "rope_type",
]
