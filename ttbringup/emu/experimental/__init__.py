"""``ttnn.experimental``: the transformer helpers LLM bringups call.

=====================================  ======================
name                                   module
=====================================  ======================
rotary_embedding                       ``rotary_embedding``
nlp_create_qkv_heads(_decode),         ``nlp_heads``
nlp_concat_heads(_decode)
paged_update_cache, paged_fill_cache   ``paged_cache``
slice_write                            ``..region_writes``
=====================================  ======================

Any other name resolves to a stand-in that raises ``NotEmulatedError`` when used.
"""

from ..errors import not_emulated_getattr
from .nlp_heads import nlp_concat_heads, nlp_concat_heads_decode, nlp_create_qkv_heads, nlp_create_qkv_heads_decode
from .paged_cache import paged_fill_cache, paged_update_cache
from ..region_writes import slice_write
from .rotary_embedding import rotary_embedding

__all__ = [
    "nlp_concat_heads",
    "nlp_concat_heads_decode",
    "nlp_create_qkv_heads",
    "nlp_create_qkv_heads_decode",
    "paged_fill_cache",
    "paged_update_cache",
    "rotary_embedding",
    "slice_write",
]

__getattr__ = not_emulated_getattr("ttnn.experimental")
