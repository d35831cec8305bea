"""Layer-by-layer compare: PCC of every hidden state of a bringup against the HF reference.

``compare_layers(hf_model, tt_model, prompt_ids)`` runs the prompt through both with
``output_hidden_states=True`` (the prefill), then one decode step fed with HF's greedy next token,
and returns a :class:`LayerComparison`. Hidden state 0 is the embeddings, state ``i`` the output
of decoder layer ``i - 1``; as in HF the last state is after the final norm.
``plot_layers`` draws both PCC curves and the threshold into a PNG (matplotlib, Agg).

Both numerics modes (``--numerics both``): one ``LayerComparison`` per mode on the same build;
``side_by_side_lines`` prints them in one table with card minus exact per phase, ``largest_card_loss`` names the
hidden state where card mode loses the most PCC against exact (where the card's loss comes from), and
``plot_layers`` given a ``{mode: LayerComparison}`` dict draws every mode's curves (exact solid, card dashed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from .cli import CliError
from .metrics import pcc


@dataclass
class LayerComparison:
    names: list[str]
    prefill_pcc: list[float]
    decode_pcc: list[float]
    threshold: float
    prompt_len: int
    decode_token: int

    def below(self, i: int) -> bool:
        """True when hidden state ``i`` falls below the threshold in either phase (NaN counts as below)."""
        return not (self.prefill_pcc[i] >= self.threshold and self.decode_pcc[i] >= self.threshold)

    @property
    def first_below(self) -> int | None:
        """Index of the first hidden state below the threshold, or None."""
        return next((i for i in range(len(self.names)) if self.below(i)), None)

    def to_dict(self) -> dict:
        first = self.first_below
        return {"threshold": self.threshold, "prompt_len": self.prompt_len, "decode_token": self.decode_token,
                "first_below": None if first is None else self.names[first],
                "layers": [{"name": n, "prefill_pcc": p, "decode_pcc": d}
                           for n, p, d in zip(self.names, self.prefill_pcc, self.decode_pcc)]}


def state_names(count: int) -> list[str]:
    """Names of ``count`` HF hidden states: embeddings, layer 0.., the last one with the final norm."""
    names = ["embeddings"] + [f"layer {i}" for i in range(count - 1)]
    if count > 1:
        names[-1] += " (+ final norm)"
    return names


def _states(output, who: str, expected: int | None = None):
    states = getattr(output, "hidden_states", None)
    if not states:
        raise CliError(f"{who} returned no hidden_states for output_hidden_states=True")
    if expected is not None and len(states) != expected:
        raise CliError(f"{who} returned {len(states)} hidden states; the HF reference returns {expected}")
    return [s.detach().float() for s in states]


@torch.inference_mode()
def compare_layers(hf_model, tt_model, prompt_ids, threshold: float = 0.99) -> LayerComparison:
    """Per-layer hidden-state PCC for the prefill of ``prompt_ids`` and one decode step (see module doc)."""
    prompt = torch.tensor([list(prompt_ids)], dtype=torch.long)
    hf_out = hf_model(input_ids=prompt, use_cache=True, output_hidden_states=True)
    tt_out = tt_model(input_ids=prompt, past_key_values=None, use_cache=True, output_hidden_states=True)
    hf_states = _states(hf_out, "the HF model")
    tt_states = _states(tt_out, "the bringup", len(hf_states))
    prefill = [pcc(h, t) for h, t in zip(hf_states, tt_states)]

    token = int(hf_out.logits[0, -1].argmax())
    step = torch.tensor([[token]], dtype=torch.long)
    hf_step = hf_model(input_ids=step, past_key_values=hf_out.past_key_values, use_cache=True,
                       output_hidden_states=True)
    tt_step = tt_model(input_ids=step, past_key_values=tt_out.past_key_values, use_cache=True,
                       output_hidden_states=True)
    hf_states = _states(hf_step, "the HF model")
    decode = [pcc(h, t) for h, t in zip(hf_states, _states(tt_step, "the bringup", len(hf_states)))]
    return LayerComparison(names=state_names(len(prefill)), prefill_pcc=prefill, decode_pcc=decode,
                           threshold=threshold, prompt_len=len(prompt_ids), decode_token=token)


def table_lines(c: LayerComparison) -> list[str]:
    """The PCC table, one row per hidden state; rows below the threshold are marked ``<``."""
    width = max(len(n) for n in c.names)
    lines = [f"{'hidden state':<{width}}  {'prefill PCC':>11}  {'decode PCC':>11}"]
    for i, name in enumerate(c.names):
        mark = "  <" if c.below(i) else ""
        lines.append(f"{name:<{width}}  {c.prefill_pcc[i]:>11.6f}  {c.decode_pcc[i]:>11.6f}{mark}")
    return lines


def verdict(c: LayerComparison) -> str:
    first = c.first_below
    if first is None:
        return f"All hidden states at or above PCC {c.threshold} (prefill and decode)"
    return (f"First layer below PCC {c.threshold}: {c.names[first]} "
            f"(prefill {c.prefill_pcc[first]:.6f}, decode {c.decode_pcc[first]:.6f})")


def side_by_side_lines(by_mode: dict[str, LayerComparison]) -> list[str]:
    """One row per hidden state: prefill and decode PCC of every mode, then card minus exact of each phase (when
    both ran); rows below the threshold in any mode are marked ``<``."""
    modes = list(by_mode)
    first = by_mode[modes[0]]
    columns = [(f"prefill {m}", c.prefill_pcc, "") for m, c in by_mode.items()]
    columns += [(f"decode {m}", c.decode_pcc, "") for m, c in by_mode.items()]
    if "exact" in by_mode and "card" in by_mode:
        exact, card = by_mode["exact"], by_mode["card"]
        columns += [("prefill card-exact", [a - b for a, b in zip(card.prefill_pcc, exact.prefill_pcc)], "+"),
                    ("decode card-exact", [a - b for a, b in zip(card.decode_pcc, exact.decode_pcc)], "+")]
    width = max(len(n) for n in first.names)
    sizes = [max(11, len(head)) for head, _, _ in columns]
    lines = [f"{'hidden state':<{width}}  " + "  ".join(f"{h:>{w}}" for (h, _, _), w in zip(columns, sizes))]
    for i, name in enumerate(first.names):
        cells = "  ".join(f"{values[i]:>{sign}{w}.6f}" for (_, values, sign), w in zip(columns, sizes))
        mark = "  <" if any(c.below(i) for c in by_mode.values()) else ""
        lines.append(f"{name:<{width}}  {cells}{mark}")
    return lines


def largest_card_loss(by_mode: dict[str, LayerComparison]) -> str:
    """The hidden state whose PCC card mode lowers most from the state before it, beyond what exact mode loses
    there (prefill and decode summed): the layer where the card's loss comes from."""
    exact, card = by_mode["exact"], by_mode["card"]

    def step_losses(c: LayerComparison) -> list[float]:
        pccs = [p + d for p, d in zip(c.prefill_pcc, c.decode_pcc)]
        return [0.0] + [pccs[i - 1] - pccs[i] for i in range(1, len(pccs))]

    extra = [c - e for c, e in zip(step_losses(card), step_losses(exact))]
    i = max(range(len(extra)), key=lambda k: extra[k])
    return (f"Largest card-mode loss: {card.names[i]} (its PCC step, prefill + decode, is {extra[i]:.2e} larger in "
            f"card mode; PCC there: prefill exact {exact.prefill_pcc[i]:.6f} / card {card.prefill_pcc[i]:.6f}, "
            f"decode exact {exact.decode_pcc[i]:.6f} / card {card.decode_pcc[i]:.6f})")


def plot_layers(comparison: LayerComparison | dict, path: str | Path, title: str) -> Path:
    """Write the PCC-per-layer plot to ``path`` (PNG) and return the path; ``comparison`` is one
    ``LayerComparison`` or ``{mode: LayerComparison}``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_mode = comparison if isinstance(comparison, dict) else {"": comparison}
    c = next(iter(by_mode.values()))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    x = list(range(len(c.names)))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.35 * len(x)), 4.0))
    for mode, m in by_mode.items():
        style = "--" if mode == "card" else "-"
        tag = f"{mode} " if mode else ""
        ax.plot(x, m.prefill_pcc, style, marker="o", label=f"{tag}prefill ({m.prompt_len} tokens)")
        ax.plot(x, m.decode_pcc, style, marker="s", label=f"{tag}decode (1 token)")
    ax.axhline(c.threshold, color="red", linestyle="--", linewidth=1, label=f"threshold {c.threshold}")
    if c.first_below is not None:
        ax.axvline(c.first_below, color="gray", linestyle=":", linewidth=1)
    ax.set_xticks(x, ["emb"] + [str(i) for i in range(len(x) - 1)])
    ax.set_xlabel("hidden state (emb = embeddings, n = output of layer n)")
    ax.set_ylabel("PCC vs HF")
    ax.set_title(title)
    ax.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
