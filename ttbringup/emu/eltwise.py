"""(being written) ttnn ops of this family; until then every name raises NotEmulatedError."""

from .errors import not_emulated_getattr

__getattr__ = not_emulated_getattr("ttnn")
