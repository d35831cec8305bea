"""Feed-forward blocks. Input and output ``[1, 1, S, hidden]``; weights ``[1, 1, in, out]`` in ``weight_dtype``.

* ``SwiGLUMLP`` (Llama, Qwen3, ALLaM): ``down(silu(gate(x)) * up(x))``.
* ``Relu2MLP`` (Arcee AFM, ``hidden_act="relu2"``): ``down(relu(up(x)) ** 2)``, no gate; the square is
  ``relu(h) * relu(h)``.

On a mesh (``tp``) gate/up are column-parallel and down row-parallel, its partial sums all-reduced.
``compute_kernel_config`` goes to every ``ttnn.linear`` of the block (None: the op's default).
"""

from __future__ import annotations

import ttnn

from .parallel import TensorParallel


class SwiGLUMLP:
    def __init__(self, hf_mlp, device, weight_dtype=ttnn.bfloat16, tp: TensorParallel | None = None,
                 compute_kernel_config=None):
        self.tp = tp or TensorParallel(device)
        self.cfg = compute_kernel_config
        self.w_gate = self.tp.column(hf_mlp.gate_proj.weight, weight_dtype)
        self.w_up = self.tp.column(hf_mlp.up_proj.weight, weight_dtype)
        self.w_down = self.tp.row(hf_mlp.down_proj.weight, weight_dtype)

    def __call__(self, x):
        gate = ttnn.linear(x, self.w_gate, compute_kernel_config=self.cfg)
        act = ttnn.silu(gate)
        ttnn.deallocate(gate)
        up = ttnn.linear(x, self.w_up, compute_kernel_config=self.cfg)
        h = ttnn.mul(act, up)
        ttnn.deallocate(act)
        ttnn.deallocate(up)
        out = ttnn.linear(h, self.w_down, compute_kernel_config=self.cfg)
        ttnn.deallocate(h)
        return self.tp.all_reduce(out)


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
