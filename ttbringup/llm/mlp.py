"""Feed-forward blocks. Input and output ``[1, 1, S, hidden]``; weights ``[1, 1, in, out]`` in ``weight_dtype``.

* ``SwiGLUMLP`` (Llama, Qwen3, ALLaM, Qwen2, Phi-3): ``down(silu(gate(x)) * up(x))``. Phi-3 stores gate and up as
  one fused ``gate_up_proj`` (gate rows first, as HF's ``chunk(2)``); it is split at upload, so the device ops
  are the same.
* ``GeluTanhMLP`` (Gemma-3, ``hidden_activation="gelu_pytorch_tanh"``): ``down(gelu_tanh(gate(x)) * up(x))`` with
  ``ttnn.gelu(variant=GeluVariant.Tanh)``, the approximation HF uses. (The reference gemma-3 bringup calls the
  default erf ``ttnn.gelu``, shared/docs/ttnn-op-facts.md 2.25; tanh is what the HF module computes.)
* ``Relu2MLP`` (Arcee AFM, ``hidden_act="relu2"``): ``down(relu(up(x)) ** 2)``, no gate; the square is
  ``relu(h) * relu(h)``.

On a mesh (``tp``) gate/up are column-parallel and down row-parallel, its partial sums all-reduced.
``compute_kernel_config`` goes to every ``ttnn.linear`` of the block (None: the op's default).
"""

from __future__ import annotations

import ttnn

from .parallel import TensorParallel


def gate_up_weights(hf_mlp) -> tuple:
    """HF ``(gate, up)`` weights ``[intermediate, hidden]``, from ``gate_proj``/``up_proj`` or a fused
    ``gate_up_proj`` ``[2 * intermediate, hidden]``."""
    if hasattr(hf_mlp, "gate_up_proj"):
        return tuple(hf_mlp.gate_up_proj.weight.chunk(2, dim=0))
    return hf_mlp.gate_proj.weight, hf_mlp.up_proj.weight


class SwiGLUMLP:
    def __init__(self, hf_mlp, device, weight_dtype=ttnn.bfloat16, tp: TensorParallel | None = None,
                 compute_kernel_config=None):
        self.tp = tp or TensorParallel(device)
        self.cfg = compute_kernel_config
        gate, up = gate_up_weights(hf_mlp)
        self.w_gate = self.tp.column(gate, weight_dtype)
        self.w_up = self.tp.column(up, weight_dtype)
        self.w_down = self.tp.row(hf_mlp.down_proj.weight, weight_dtype)

    def __call__(self, x):
        gate = ttnn.linear(x, self.w_gate, compute_kernel_config=self.cfg)
        act = self._activate(gate)
        ttnn.deallocate(gate)
        up = ttnn.linear(x, self.w_up, compute_kernel_config=self.cfg)
        h = ttnn.mul(act, up)
        ttnn.deallocate(act)
        ttnn.deallocate(up)
        out = ttnn.linear(h, self.w_down, compute_kernel_config=self.cfg)
        ttnn.deallocate(h)
        return self.tp.all_reduce(out)

    @staticmethod
    def _activate(gate):
        return ttnn.silu(gate)


class GeluTanhMLP(SwiGLUMLP):
    @staticmethod
    def _activate(gate):
        return ttnn.gelu(gate, variant=ttnn.GeluVariant.Tanh)


class Relu2MLP:
    def __init__(self, hf_mlp, device, weight_dtype=ttnn.bfloat16, tp: TensorParallel | None = None,
                 compute_kernel_config=None):
        self.tp = tp or TensorParallel(device)
        self.cfg = compute_kernel_config
        self.w_up = self.tp.column(hf_mlp.up_proj.weight, weight_dtype)
        self.w_down = self.tp.row(hf_mlp.down_proj.weight, weight_dtype)

    def __call__(self, x):
        up = ttnn.linear(x, self.w_up, compute_kernel_config=self.cfg)
        act = ttnn.relu(up)
        ttnn.deallocate(up)
        h = ttnn.mul(act, act)
        ttnn.deallocate(act)
        out = ttnn.linear(h, self.w_down, compute_kernel_config=self.cfg)
        ttnn.deallocate(h)
        return self.tp.all_reduce(out)
