"""The math fidelity an op would run at on a card: the caller's compute config, else ttnn 0.81.1's default.

Defaults (``shared/docs/card-numerics-facts.md`` §4, read from the 0.81.1 binary):

* ``matmul`` / ``linear``: HiFi2; LoFi when a ``program_config`` or ``core_grid`` is given or both inputs are
  BFLOAT8_B / BFLOAT4_B; HiFi3 when both inputs are FLOAT32 (Wormhole).
* ``rms_norm``, ``layer_norm``: HiFi4. ``softmax``: HiFi3 (Wormhole).
* ``scaled_dot_product_attention`` (prefill) and ``..._decode``: HiFi2.
* eltwise binary and unary: HiFi4 (only the FPU multiply is slowed by it).
* ``rotary_embedding``: HiFi4 [uncertain: not in the facts' table; the device-wide default compute config].
* A compute config built without ``math_fidelity`` (the emulator's ``MathFidelity.Invalid``) means LoFi, the C++
  struct's default.

Ops that do no math (data movement, cache updates, embedding, collectives) have no fidelity (None).
"""

from __future__ import annotations

_BLOCK_FLOATS = ("BFLOAT8_B", "BFLOAT4_B")
_FIXED = {
    "ttnn.rms_norm": "HiFi4",
    "ttnn.layer_norm": "HiFi4",
    "ttnn.softmax": "HiFi3",
    "ttnn.scaled_dot_product_attention": "HiFi2",
    "ttnn.scaled_dot_product_attention_decode": "HiFi2",
    "ttnn.add": "HiFi4",
    "ttnn.subtract": "HiFi4",
    "ttnn.multiply": "HiFi4",
    "ttnn.silu": "HiFi4",
    "ttnn.relu": "HiFi4",
    "ttnn.gelu": "HiFi4",
    "ttnn.rotary_embedding": "HiFi4",
}
MATMULS = ("ttnn.linear", "ttnn.matmul")


def op_fidelity(op: str, attrs: dict, inputs) -> str | None:
    """The fidelity name ("LoFi", "HiFi2", "HiFi3", "HiFi4") ``op`` runs at, or None for ops without math."""
    config = attrs.get("compute_kernel_config")
    if op not in MATMULS and op not in _FIXED:
        return None
    if isinstance(config, dict):
        chosen = config.get("math_fidelity")
        return "LoFi" if chosen in (None, "Invalid") else chosen
    if op in MATMULS:
        dtypes = [s.dtype for s in inputs if s.name in ("input_tensor_a", "input_tensor_b")]
        if attrs.get("program_config") is not None or attrs.get("core_grid") is not None:
            return "LoFi"
        if len(dtypes) == 2 and all(d in _BLOCK_FLOATS for d in dtypes):
            return "LoFi"
        if len(dtypes) == 2 and all(d == "FLOAT32" for d in dtypes):
            return "HiFi3"
        return "HiFi2"
    return _FIXED[op]
