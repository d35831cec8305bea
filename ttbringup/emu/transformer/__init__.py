"""``ttnn.transformer``: fused attention.

=====================================  ================
name                                   module
=====================================  ================
scaled_dot_product_attention           ``sdpa``
scaled_dot_product_attention_decode    ``sdpa_decode``
SDPAProgramConfig                      ``..program_configs``
=====================================  ================

Any other name resolves to a stand-in that raises ``NotEmulatedError`` when used.
"""

from ..errors import not_emulated_getattr
from ..program_configs import SDPAProgramConfig
from .sdpa import scaled_dot_product_attention
from .sdpa_decode import scaled_dot_product_attention_decode

__all__ = ["SDPAProgramConfig", "scaled_dot_product_attention", "scaled_dot_product_attention_decode"]

__getattr__ = not_emulated_getattr("ttnn.transformer")
