"""Any Llama-family SwiGLU model (Llama 3.x, Mistral) in tt_transformers' perf mode on t3000, for the device-time
calibration (`scripts/calibrate_device_time.py`): bfloat4_b gate/up at LoFi, bfloat8_b elsewhere at HiFi2
(`ttbringup.llm.perf_mode`). Built data-free; its numerics are not checked against HF.
"""

import ttnn  # noqa: F401 - a bringup file imports ttnn (the harness registers the backend)

from ttbringup.llm import check_config
from ttbringup.llm.perf_mode import build_perf_mode_lm

MESH_SHAPE = (1, 8)  # as tt_transformers opens a T3000 (simple_text_demo.py: "T3K": (1, 8))
MAX_CACHE_LEN = 256  # tokens: the calibration prefills 128 and decodes a few (an 8B model then fits one chip)


def build_model(hf_model, tt_device, max_seq_len):
    check_config(hf_model.config, model_types=("llama", "mistral"), hidden_act="silu",
                 rope_types=("llama3", "default"))
    return build_perf_mode_lm(hf_model, tt_device, max_seq_len, cache_cap=MAX_CACHE_LEN)
