"""A tensor-parallel Llama bringup written the way hardware-first engineers write them: ttnn calls only, no shared
blocks, for an n300 (1x2 mesh).

Weights go to the chips with ``ShardTensorToMesh`` (q/k/v fused per chip, gate/up and lm_head by columns, o_proj
and down_proj by rows) or ``ReplicateTensorToMesh`` (norms, embedding table, RoPE tables); every row-parallel
output is summed with ``ttnn.all_reduce``; logits come back with ``ConcatMeshToTensor``. There is no KV cache:
each forward recomputes the whole causal sequence (prompt + tokens so far), which keeps the file short and is
exactly what HF computes. Used by the tests to show such a file runs unmodified through ``eval.py``.
"""

import torch
import ttnn
from transformers import GenerationConfig, GenerationMixin
from transformers.modeling_outputs import CausalLMOutputWithPast

MESH_SHAPE = (1, 2)
DRAM = ttnn.DRAM_MEMORY_CONFIG


class History:
    """The tokens seen so far: this bringup's cache object."""

    def __init__(self):
        self.tokens = []

    def get_seq_length(self, layer_idx=0):
        return len(self.tokens)


class HardwareFirstLlama(torch.nn.Module, GenerationMixin):
    main_input_name = "input_ids"
    _supports_cache_class = True

    def __init__(self, hf, mesh, max_seq_len):
        super().__init__()
        cfg = hf.config
        self.config, self.mesh, self.max_cache_len = cfg, mesh, int(max_seq_len)
        self.generation_config = GenerationConfig.from_model_config(cfg)
        self.prefill_by_decode = False
        chips = mesh.get_num_devices()
        self.hd = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
        self.nh, self.nkv = cfg.num_attention_heads // chips, cfg.num_key_value_heads // chips

        def put(w, dim=None):
            mapper = ttnn.ReplicateTensorToMesh(mesh) if dim is None else ttnn.ShardTensorToMesh(mesh, dim=dim)
            return ttnn.as_tensor(w.detach().reshape(1, 1, *w.shape[-2:]) if w.dim() >= 2 else w.detach().reshape(1, 1, 1, -1),
                                  dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=mesh, memory_config=DRAM,
                                  mesh_mapper=mapper)

        def per_chip_qkv(attn):
            q, k, v = (p.weight.detach().T for p in (attn.q_proj, attn.k_proj, attn.v_proj))
            parts = [torch.cat([t.chunk(chips, dim=1)[c] for t in (q, k, v)], dim=1) for c in range(chips)]
            return torch.cat(parts, dim=1)

        self.layers = []
        for layer in hf.model.layers:
            a, m = layer.self_attn, layer.mlp
            self.layers.append(dict(
                norm1=put(layer.input_layernorm.weight), norm2=put(layer.post_attention_layernorm.weight),
                eps=layer.input_layernorm.variance_epsilon,
                wqkv=put(per_chip_qkv(a), dim=3), wo=put(a.o_proj.weight.T, dim=2),
                wg=put(m.gate_proj.weight.T, dim=3), wu=put(m.up_proj.weight.T, dim=3), wd=put(m.down_proj.weight.T, dim=2),
            ))
        self.norm = put(hf.model.norm.weight)
        self.eps = hf.model.norm.variance_epsilon
        self.embed = ttnn.as_tensor(hf.model.embed_tokens.weight.detach().reshape(1, 1, *hf.model.embed_tokens.weight.shape),
                                    dtype=ttnn.bfloat16, layout=ttnn.ROW_MAJOR_LAYOUT, device=mesh, memory_config=DRAM,
                                    mesh_mapper=ttnn.ReplicateTensorToMesh(mesh))
        self.lm_head = put(hf.lm_head.weight.T, dim=3)
        positions = torch.arange(-(-self.max_cache_len // 32) * 32)[None]
        cos, sin = hf.model.rotary_emb(torch.zeros(1, dtype=torch.float32), positions)
        self.cos, self.sin = put(cos[0].unsqueeze(0)), put(sin[0].unsqueeze(0))
        self.scale = self.hd ** -0.5

    @property
    def device(self):
        return torch.device("cpu")

    def can_generate(self):
        return True

    def prepare_inputs_for_generation(self, input_ids, past_key_values=None, **kwargs):
        if isinstance(past_key_values, History) and past_key_values.tokens:
            input_ids = input_ids[:, len(past_key_values.tokens):]
        else:
            past_key_values = None
        return {"input_ids": input_ids, "past_key_values": past_key_values}

    def forward(self, input_ids, past_key_values=None, **kwargs):
        history = past_key_values if isinstance(past_key_values, History) else History()
        new = torch.as_tensor(input_ids).reshape(-1).tolist()
        history.tokens += new
        n = len(history.tokens)
        if n > self.max_cache_len:
            raise ValueError(f"{n} tokens exceed max_cache_len={self.max_cache_len}")
        s_pad = -(-n // 32) * 32
        ids = torch.tensor(history.tokens + [0] * (s_pad - n), dtype=torch.int32).reshape(1, 1, 1, -1)
        ids = ttnn.from_torch(ids, dtype=ttnn.uint32, device=self.mesh, mesh_mapper=ttnn.ReplicateTensorToMesh(self.mesh))
        x = ttnn.reshape(ttnn.embedding(ids, self.embed, layout=ttnn.TILE_LAYOUT), (1, 1, s_pad, self.config.hidden_size))
        cos, sin = self.cos[:, :, :s_pad, :], self.sin[:, :, :s_pad, :]
        for p in self.layers:
            h = ttnn.rms_norm(x, epsilon=p["eps"], weight=p["norm1"])
            q, k, v = ttnn.experimental.nlp_create_qkv_heads(ttnn.linear(h, p["wqkv"]), num_heads=self.nh,
                                                             num_kv_heads=self.nkv, transpose_k_heads=False)
            q, k = ttnn.experimental.rotary_embedding(q, cos, sin), ttnn.experimental.rotary_embedding(k, cos, sin)
            attn = ttnn.transformer.scaled_dot_product_attention(q, k, v, is_causal=True, scale=self.scale)
            o = ttnn.all_reduce(ttnn.linear(ttnn.experimental.nlp_concat_heads(attn), p["wo"]))
            x = ttnn.add(x, o)
            h = ttnn.rms_norm(x, epsilon=p["eps"], weight=p["norm2"])
            up = ttnn.mul(ttnn.silu(ttnn.linear(h, p["wg"])), ttnn.linear(h, p["wu"]))
            x = ttnn.add(x, ttnn.all_reduce(ttnn.linear(up, p["wd"])))
        logits = ttnn.linear(ttnn.rms_norm(x, epsilon=self.eps, weight=self.norm), self.lm_head)
        logits = ttnn.to_torch(logits, mesh_composer=ttnn.ConcatMeshToTensor(self.mesh, dim=3)).float()
        logits = logits.reshape(s_pad, -1)[n - len(new):n]
        return CausalLMOutputWithPast(logits=logits[None], past_key_values=history)


def build_model(hf_model, tt_device, max_seq_len):
    return HardwareFirstLlama(hf_model, tt_device, max_seq_len)
