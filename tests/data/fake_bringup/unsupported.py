"""A model file that refuses the checkpoint's architecture with ``UnsupportedModelError``."""

from ttbringup.llm.errors import UnsupportedModelError


def build_model(hf_model, tt_device, max_seq_len):
    raise UnsupportedModelError(f"model_type {hf_model.config.model_type!r} is not supported by this bringup\n"
                                "(expected 'gpt_neox')")
