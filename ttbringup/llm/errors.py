"""Errors of the shared decoder blocks."""


class UnsupportedModelError(ValueError):
    """The HF config asks for something this bringup does not implement (model type, activation, RoPE type...).

    Raised by builders before any weight moves, with a one-line message naming the offending setting.
    """
