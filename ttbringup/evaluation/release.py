"""Free the HF model's host memory as the bringup uploads it, when reference and bringup cannot both fit.

``releasing_layers(hf_model)`` wraps the decoder's layer list so that iterating it (as ``build_model`` does when
it uploads layer by layer) frees each HF layer's weights once the loop has moved past it; when the block ends,
every weight of the HF model is freed. A freed layer cannot be read back by mistake: its slot in the layer list
raises :class:`ReleasedWeightsError` on any attribute access, and its tensors are empty, so any use fails loudly
(never a silent data-free upload).

Only the eval uses this, after the reference tokens and logits are computed: nothing reads the HF model again.
"""

from __future__ import annotations

import contextlib

import torch


class ReleasedWeightsError(RuntimeError):
    """A model file read an HF layer after the eval freed it (it iterates the layers more than once)."""


class _ReleasedLayer(torch.nn.Module):
    def __init__(self, index: int):
        super().__init__()
        self.index = index

    def __getattr__(self, name):
        if name in ("index", "_parameters", "_buffers", "_modules") or name.startswith("__"):
            return super().__getattr__(name)
        raise ReleasedWeightsError(
            f"layer {self.index} of the HF model was freed after its upload (the eval frees each layer once "
            "uploaded to fit host memory); build_model must read each layer's weights in one pass over the layers")


def free_module(module: torch.nn.Module) -> None:
    """Replace every parameter and buffer of ``module`` by an empty tensor of its dtype (storage freed)."""
    for t in list(module.parameters()) + list(module.buffers()):
        t.data = torch.empty(0, dtype=t.dtype)


class _ReleasingLayers(torch.nn.ModuleList):
    """A ModuleList whose iteration frees each layer when the next one is asked for."""

    def __iter__(self):
        for i in range(len(self)):
            layer = self[i]
            yield layer
            if not isinstance(layer, _ReleasedLayer):
                free_module(layer)
                self[i] = _ReleasedLayer(i)


def _decoder(hf_model):
    body = getattr(hf_model, "model", None)
    return body if isinstance(getattr(body, "layers", None), torch.nn.ModuleList) else None


@contextlib.contextmanager
def releasing_layers(hf_model):
    """Within the block, iterating ``hf_model.model.layers`` frees each layer after its turn; at the end the whole
    HF model's weights are freed. A model without ``model.layers`` is only freed at the end."""
    body = _decoder(hf_model)
    if body is not None:
        layers = _ReleasingLayers()
        layers.extend(body.layers)  # ModuleList.extend takes the same module objects: nothing is copied
        body.layers = layers
    try:
        yield hf_model
    finally:
        free_module(hf_model)
