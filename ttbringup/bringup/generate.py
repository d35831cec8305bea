"""The text of a generated bringup: ``model.py`` (the seeds' shape: constants + ``check_config`` +
``build_decoder_lm``) and ``MODEL_BRINGUP.md`` (what is special, choices, memory plan, check, traps, next steps).

``Bringup`` holds every decision; the renderers only format it, so a file differs from a hand-written seed only in
its prose. The memory-plan section uses the markers and table format of ``scripts/memory_plan.py``, so
``scripts/memory_plan.py --write`` can refresh it.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import ttnn

from ttbringup.evaluation.cli import repo_root

from .architectures import COMMON_TRAPS, Architecture
from .fit import MARGIN, MIN_CONTEXT, TARGET_CONTEXT, ChoiceFit, render_table
from .memory import MESH_SHAPES, Choice, Plan

SYSTEM_TEXT = {
    "n150": "one n150 (Wormhole, 12 GB)",
    "n300": "an n300 (two Wormhole chips as a 1x2 mesh, 12 GB each), tensor-parallel",
    "t3000": "a T3000 (eight Wormhole chips as a 2x4 mesh, 12 GB each), tensor-parallel",
}
MESH_TRAPS = (
    "`to_torch` of any tensor on a multi-chip mesh needs a `mesh_composer`, replicated ones included; the harness "
    "reads replicated hidden states from `ttnn.get_device_tensors(t)[0]`.",
    "Collectives without `set_fabric_config` fail with \"Trying to get un-initialized fabric context\" at the first "
    "all_reduce; the harness sets `FABRIC_1D` before opening the mesh.",
    "Sharding needs equal parts: heads and vocabulary that do not divide over the chips are padded "
    "(`ttbringup.llm.parallel`).",
)
BEGIN, END = "<!-- memory-plan:begin (scripts/memory_plan.py --write) -->", "<!-- memory-plan:end -->"
_PY = {ttnn.bfloat16: "ttnn.bfloat16", ttnn.bfloat8_b: "ttnn.bfloat8_b", ttnn.bfloat4_b: "ttnn.bfloat4_b",
       ttnn.ROW_MAJOR_LAYOUT: "ttnn.ROW_MAJOR_LAYOUT", ttnn.TILE_LAYOUT: "ttnn.TILE_LAYOUT"}


def bringup_dir(name: str, system: str, models_dir: str | Path | None = None) -> Path:
    """``<models_dir>/<org>/<model>/<system>/functional`` (default: the repository's models/)."""
    return Path(models_dir or Path(repo_root()) / "models") / name / system / "functional"


@dataclass
class Bringup:
    """Everything a generated bringup decides. ``fit``: every choice's search result (the table)."""

    name: str
    system: str
    source: str
    config: object
    arch: Architecture
    check_args: dict  # check_config keywords
    flags: dict  # build_decoder_lm keywords beyond dtypes and cache
    pick: ChoiceFit
    fit: list[ChoiceFit] = field(default_factory=list)

    @property
    def choice(self) -> Choice:
        return self.pick.choice

    @property
    def plan(self) -> Plan:
        return self.pick.best

    @property
    def cache_len(self) -> int:
        return self.pick.cache_len


def facts(b: Bringup) -> list[str]:
    """Plain-text facts of the config the choices follow from."""
    c = b.config
    from ttbringup.llm import rope_type
    from ttbringup.llm.build import hidden_activation
    from ttbringup.llm.rope import head_dim

    q, kv = c.num_attention_heads, c.num_key_value_heads
    attn = "full multi-head attention" if q == kv else "GQA"
    rope = rope_type(c)
    scaling = getattr(c, "rope_scaling", None) or {}
    rope_text = f"RoPE {rope} (theta {c.rope_theta:g}" + (f", factor {scaling['factor']:g})" if "factor" in scaling
                                                             else ")")
    return [
        f"{c.num_hidden_layers} layers, hidden {c.hidden_size}, {attn} {q} query / {kv} KV heads of head_dim "
        f"{head_dim(c)}, vocab {c.vocab_size}, context {c.max_position_embeddings}",
        f"{rope_text}; {'tied' if c.tie_word_embeddings else 'untied'} lm_head; MLP {hidden_activation(c)}, "
        f"intermediate {c.intermediate_size}",
    ]


def _constants(b: Bringup) -> list[str]:
    ch = b.choice
    lines = []
    if MESH_SHAPES[b.system]:
        lines.append(f"MESH_SHAPE = {MESH_SHAPES[b.system]}")
    lines += [f"EMBEDDING_DTYPE, EMBEDDING_LAYOUT = {_PY[ch.embedding]}, {_PY[ch.embedding_layout]}",
              f"WEIGHT_DTYPE = {_PY[ch.weight]}"]
    if ch.lm_head is not None:
        lines.append(f"LM_HEAD_DTYPE = {_PY[ch.lm_head]}")
    each = "per-chip " if MESH_SHAPES[b.system] else ""
    lines.append(f"MAX_CACHE_LEN = {b.cache_len}  # tokens; the {each}memory plan in MODEL_BRINGUP.md shows what "
                 f"this costs")
    if b.flags.get("shard_kv"):
        lines.append("SHARD_KV = True")
    return lines


def _tuple(items) -> str:
    return "(" + ", ".join(f'"{x}"' for x in items) + ("," if len(items) == 1 else "") + ")"


def render_model_py(b: Bringup) -> str:
    a = b.check_args
    check = (f"    check_config(hf_model.config, model_types={_tuple(a['model_types'])}, "
             f"hidden_act=\"{a['hidden_act']}\", rope_types={_tuple(a['rope_types'])})")
    kwargs = ["        cache_cap=MAX_CACHE_LEN,", "        weight_dtype=WEIGHT_DTYPE,",
              "        embedding_dtype=EMBEDDING_DTYPE, embedding_layout=EMBEDDING_LAYOUT,"]
    if b.choice.lm_head is not None:
        kwargs.append("        lm_head_dtype=LM_HEAD_DTYPE,")
    for key, value in sorted(b.flags.items()):
        kwargs.append("        shard_kv=SHARD_KV," if key == "shard_kv" else f"        {key}={value!r},")
    prose = " ".join([f"Generated by `ttbringup new` from the {b.source} ({b.arch.model_type} blocks of ttbringup.llm).",
                      *(f"{line}." for line in facts(b)),
                      f"Weights {b.choice.name} and a {b.cache_len}-token cache: what `ttbringup fit` recommends."])
    doc = f'"""{b.name} on {SYSTEM_TEXT[b.system]}.\n\n{textwrap.fill(prose, 116)}\n"""\n'
    return "\n".join([
        doc, "import ttnn", "", "from ttbringup.llm import build_decoder_lm, check_config", "",
        *_constants(b), "", "",
        "def build_model(hf_model, tt_device, max_seq_len):", check,
        "    return build_decoder_lm(", "        hf_model, tt_device, max_seq_len,", *kwargs, "    )", "",
    ])


def _gb(n: int) -> str:
    return f"{n / 1e9:.2f} GB"


def render_memory_plan(b: Bringup) -> str:
    """The plan in ``scripts/memory_plan.py``'s ``render_markdown`` format (prefill + decode)."""
    p = b.plan
    each = " per chip" if p.chips > 1 else ""
    emb = f"{b.choice.embedding.name} {b.choice.embedding_layout.name}"
    rows = [
        (f"weights{each} (incl. RoPE tables)", p.weights_bytes),
        (f"KV cache{each} ({p.cache_len} tokens, BFLOAT16, 2 x layers x {list(p.kv_cache_shape)})", p.kv_cache_bytes),
        (f"peak DRAM{each} (prefill + decode)", p.peak_bytes),
        (f"headroom{each} of 12 x 1,072,693,184 B", p.headroom_bytes),
    ]
    lines = ["| item | bytes | |", "|---|---:|---:|"] + [f"| {a} | {n:,} B | {_gb(n)} |" for a, n in rows]
    lines.append(f"\nWeights {b.choice.weight.name}, embedding table {emb}, norms and RoPE tables BFLOAT16; cache "
                 f"length {p.cache_len} tokens.")
    return "\n".join(lines)


def _check_rows(check: dict, tiny_dir: Path, ch: Choice) -> list[str]:
    """The tiny-checkpoint check's rows: against HF on the weights as held (block floats), and on its own weights."""
    what = f"logits at {check['prompt_len']} prompt positions + {check['decode_steps']} decode steps"
    ckpt = f"tiny random checkpoint (`{tiny_dir}`)"
    if "float_decode_pcc" not in check:
        return [f"| {ckpt} | this model.py on the emulator vs HF float32: {what} | min PCC "
                f"{check['prefill_pcc']:.5f} (prefill), {check['decode_pcc']:.5f} (decode); threshold 0.99 |"]
    below = min(check["float_prefill_pcc"], check["float_decode_pcc"]) < 0.99
    note = ("; below 0.99: whether this dtype is precise enough is for the real checkpoint's eval to show"
            if below else "")
    return [f"| {ckpt} | this model.py on the emulator vs HF float32 on the weights rounded as the file holds them "
            f"({ch.weight.name}; `ttbringup/bringup/held.py`): {what} | min PCC {check['prefill_pcc']:.5f} "
            f"(prefill), {check['decode_pcc']:.5f} (decode); threshold 0.99 |",
            f"| the same, vs HF float32 on the checkpoint's own weights | what {ch.weight.name} costs on random "
            f"weights (not a pass / fail) | min PCC {check['float_prefill_pcc']:.5f} (prefill), "
            f"{check['float_decode_pcc']:.5f} (decode){note} |"]


def render_bringup_md(b: Bringup, check: dict, tiny_dir: Path) -> str:
    """``check``: ``prefill_pcc``, ``decode_pcc``, ``prompt_len``, ``decode_steps`` of the tiny-checkpoint check."""
    rel = f"models/{b.name}/{b.system}/functional/model.py"
    each = " per chip" if MESH_SHAPES[b.system] else ""
    ch = b.choice
    choices = [  # the why of each choice is fit's rule
        ("weights", ch.weight.name, f"the most precise dtype whose largest fitting cache reaches "
                                    f"{TARGET_CONTEXT} tokens (else {MIN_CONTEXT}, else the largest cache)"),
        ("embedding table", f"{ch.embedding.name} {ch.embedding_layout.name}",
         "ROW_MAJOR is what `ttnn.embedding` reads natively; block floats need TILE"),
        ("lm_head", (ch.lm_head or ch.weight).name, "the weights' dtype" if ch.lm_head is None else
         "bfp8: bfp4 only for the projections, as tt_transformers' performance mode"),
        ("cache cap", f"{b.cache_len} tokens", f"the largest power of two (or the whole context) leaving >= "
                                               f"{MARGIN / 1e9:.0f} GB{each} headroom"),
    ]
    if b.flags.get("shard_kv"):
        choices.append(("K/V before fill_cache", "height-sharded, 1 head per core",
                        "full multi-head attention: portable to tt-metal builds with the interleaved fill limit"))
    for key in sorted(set(b.flags) - {"shard_kv"}):
        choices.append((key, repr(b.flags[key]), f"the {b.arch.model_type} block"))
    traps = list(COMMON_TRAPS) + list(b.arch.traps) + (list(MESH_TRAPS) if MESH_SHAPES[b.system] else [])
    mesh = f" on {SYSTEM_TEXT[b.system]}, `MESH_SHAPE = {MESH_SHAPES[b.system]}`" if MESH_SHAPES[b.system] else ""
    parts = [
        f"# {b.name.split('/')[1]} on {b.system} (functional, generated by `ttbringup new`)\n",
        f"`{rel}`: `build_model(hf_model, tt_device, max_seq_len)` on the shared blocks of `ttbringup/llm`{mesh}. "
        f"Generated from the {b.source}; the KV cache holds `min(max_seq_len, MAX_CACHE_LEN)` tokens.\n",
        "## What is special\n",
        *[f"- {line}." for line in facts(b)], *[f"- {line}" for line in b.arch.special], "",
        "## Configuration choices\n", "| setting | value | why |", "|---|---|---|",
        *[f"| {a} | {v} | {w} |" for a, v, w in choices], "",
        f"## Memory plan (real shape, emulated {b.system}, data-free{',' + each if each else ''})\n",
        "Built from the config on torch's meta device, so every device tensor has its real size and no values; then "
        "one prefill of `cache_len - 1` tokens and one decode step (`ttbringup fit`).\n",
        BEGIN, render_memory_plan(b), END, "",
        f"Every weights choice (`ttbringup fit {b.name} --system {b.system}`), figures{each} at its largest cache:\n",
        render_table(b.fit), "",
        "## How it was checked\n",
        "| check | what | result |", "|---|---|---|",
        *_check_rows(check, tiny_dir, ch), "",
        "## Traps known for this architecture\n", *[f"- {t}" for t in traps], "",
        "## Next steps\n",
        "Not yet run against the real checkpoint. Check, in this order:\n",
        "```",
        f"python eval.py {rel} --model {tiny_dir}",
        f"python scripts/compare_layers.py {rel} --model {tiny_dir}",
        f"python eval.py {rel} --model {b.name} --prompt_file prompts/bringup_eval_long.txt --max_new_tokens 100",
        f"python scripts/compare_layers.py {rel} --model {b.name}",
        "```",
        "The last two need the checkpoint in the HF cache. Record their top-1/top-5 here, and any hand edit of "
        "model.py with its reason.",
        "",
    ]
    return "\n".join(parts)
