"""Float32 compute on weights held in a narrower dtype: the HF reference of a model too big for float32.

``compute_in_float32(model)`` makes every module that owns non-float32 floating parameters or buffers swap in
float32 copies of them for the duration of its own ``forward`` and put the stored tensors back afterwards. The
stored values are unchanged (bfloat16 / float16 widen to float32 exactly), so the model computes exactly what the
whole-float32 model computes, while host memory holds the stored dtype plus one module's float32 copy.
"""

from __future__ import annotations

import torch


def _narrow_tensors(module: torch.nn.Module) -> list[torch.Tensor]:
    """The module's own (not its children's) floating parameters and buffers that are not float32."""
    own = list(module.parameters(recurse=False)) + list(module.buffers(recurse=False))
    return [t for t in own if t.is_floating_point() and t.dtype != torch.float32]


class _Scratch:
    """Reusable float32 buffers by shape. Modules compute one after another, so the modules of one shape (the
    q/k/v/o projections of every layer, say) share one buffer instead of each widening into fresh memory (large
    fresh allocations are page-faulted in on every forward: that, not the conversion, dominated the time)."""

    def __init__(self):
        self.free: dict[torch.Size, list[torch.Tensor]] = {}

    def take(self, shape: torch.Size) -> torch.Tensor:
        pool = self.free.get(shape)
        return pool.pop() if pool else torch.empty(shape, dtype=torch.float32)

    def give(self, buffer: torch.Tensor) -> None:
        self.free.setdefault(buffer.shape, []).append(buffer)


def compute_in_float32(model: torch.nn.Module) -> int:
    """Install the swap hooks on ``model``; returns how many modules got them (0: it was float32 already)."""
    hooked = 0
    scratch = _Scratch()
    for module in model.modules():
        tensors = _narrow_tensors(module)
        if not tensors:
            continue
        stored: list[torch.Tensor] = []

        def widen(mod, args, tensors=tensors, stored=stored):
            stored[:] = [t.data for t in tensors]
            for t in tensors:
                t.data = scratch.take(t.shape).copy_(t.data)

        def restore(mod, args, output, tensors=tensors, stored=stored):
            for t, data in zip(tensors, stored):
                scratch.give(t.data)
                t.data = data
            stored.clear()

        module.register_forward_pre_hook(widen)
        module.register_forward_hook(restore, always_call=True)
        hooked += 1
    return hooked
