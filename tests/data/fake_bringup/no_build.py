"""A model file that forgot ``build_model`` (the eval must refuse it in one line)."""

MESSAGE = "nothing to build"
