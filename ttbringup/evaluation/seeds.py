"""The main job: teacher-forcing eval of every bringup with fixtures (the seeds and the five ``ttbringup new``
wrote, ``ttbringup.fixtures.FIXTURE_MODELS``) on its bundled tiny trained checkpoint.

``evaluate_seed(hf_id)`` runs ``models/<hf_id>/<system>/functional/model.py`` against
``tiny_checkpoint_dir(hf_id)`` with prompts/bringup_eval_long.txt and returns one table row;
a failure becomes a row with status ``FAILED: <one-line reason>`` instead of an exception, so one
broken model never hides the others.

``numerics``: the emulator modes to score (``("exact", "card")``: both on one build). The row's ``top-1`` /
``top-5`` / ``logits PCC`` are the first mode's; with two modes ``headers(numerics)`` adds a ``card`` column
beside each (``top-1 card`` ...), and the JSON row holds ``by_numerics``.
"""

from __future__ import annotations

import sys
import time
import traceback
from pathlib import Path

from .cli import CliError, describe_expected, repo_root
from .report import format_pcc, markdown_table, numerics_summary

HEADERS = ["model", "system", "checkpoint", "weights dtype", "prompt tokens", "scored tokens", "top-1", "top-5",
           "logits PCC", "wall time", "status"]


def _checkpoint(hf_id: str) -> Path:
    from ttbringup.fixtures import tiny_checkpoint_dir

    path = Path(tiny_checkpoint_dir(hf_id))
    if not (path / "config.json").is_file():
        raise CliError(f"no tiny checkpoint at {path} (make it with python -m ttbringup.fixtures.make_tiny)")
    return path


SCORES = ("top-1", "top-5", "logits PCC")


def headers(numerics: tuple[str, ...] = ("exact",)) -> list[str]:
    """The table's columns: ``HEADERS``, with each score followed by its other modes' (``top-1 card``)."""
    out = []
    for h in HEADERS:
        out.append(h)
        if h in SCORES:
            out += [f"{h} {mode}" for mode in numerics[1:]]
    return out


def _scores(r) -> dict:
    return {"top-1": f"{r.top1 * 100:.2f}%", "top-5": f"{r.top5 * 100:.2f}%", "logits PCC": format_pcc(r.logits_pcc)}


def evaluate_seed(hf_id: str, *, system: str = "n150", max_new_tokens: int = 100, backend: str = "emu",
                  prompt_file: str | Path | None = None, numerics: tuple[str, ...] | None = None) -> dict:
    """One row of the results table (keys: ``headers(numerics)`` plus raw numbers); never raises for a failing
    model."""
    from .loading import seed_model_file
    from .pipeline import EvalRequest, run_eval
    from .prompts import LONG_PROMPT_FILE, read_text

    row = {"model": hf_id, "system": system, "checkpoint": "", "weights dtype": "?", "prompt tokens": "",
           "scored tokens": "", "top-1": "", "top-5": "", "logits PCC": "", "wall time": "", "status": ""}
    row.update({f"{h} {mode}": "" for h in SCORES for mode in (numerics or ())[1:]})
    start = time.perf_counter()
    try:
        model_py = seed_model_file(hf_id, system)
        ckpt = _checkpoint(hf_id)
        row["checkpoint"] = f"tiny trained ({ckpt.relative_to(repo_root()) if ckpt.is_relative_to(repo_root()) else ckpt})"
        req = EvalRequest(model_py=str(model_py), model=str(ckpt), prompt=read_text(prompt_file or LONG_PROMPT_FILE),
                          max_new_tokens=max_new_tokens, backend=backend, numerics=numerics)
        outcome = run_eval(req)
    except Exception as err:  # noqa: BLE001 - one model's failure must not stop the others
        reason = describe_expected(err)
        if reason is None:
            traceback.print_exc(file=sys.stderr)
            reason = " ".join(f"{type(err).__name__}: {err}".split())
        row.update({"wall time": f"{time.perf_counter() - start:.1f} s", "status": f"FAILED: {reason}",
                    "ok": False})
        return row
    r = outcome.result
    row.update({
        "weights dtype": outcome.weights_dtype or "?", "prompt tokens": r.prompt_len, "scored tokens": r.total,
        **_scores(r), "wall time": f"{time.perf_counter() - start:.1f} s", "status": "ok", "ok": True,
        "top1": r.top1, "top5": r.top5, "pcc": r.logits_pcc, "first_mismatch": r.first_mismatch,
        "backend": outcome.backend, "numerics": outcome.numerics,
        "by_numerics": {key: numerics_summary(m) for key, m in outcome.by_numerics.items()},
    })
    for key, m in list(outcome.by_numerics.items())[1:]:
        row.update({f"{h} {key}": v for h, v in _scores(m).items()})
    return row


def results_markdown(rows: list[dict], max_new_tokens: int, backend: str,
                     numerics: tuple[str, ...] = ("exact",)) -> str:
    """The results document: what was measured, then the table."""
    cols = headers(numerics)
    table = markdown_table(cols, [[row.get(h, "") for h in cols] for row in rows])
    modes = (f"Numerics: {numerics[0]} mode; the `card` columns: the same build in card-numerics mode (the ops "
             "card mode models compute like a Wormhole Tensix, docs/card-numerics.md). "
             if len(numerics) > 1 else f"Numerics: {numerics[0]} mode. ")
    return (
        "# Seed and generated bringups: teacher-forcing eval\n\n"
        f"Each `model.py` (n150: one chip; n300: a 1x2 mesh; t3000: a 2x4 mesh, tensor-parallel) on the `{backend}` "
        "backend against its bundled tiny trained checkpoint "
        "(`ttbringup/fixtures/tiny/`), HF reference in float32 on CPU. Prompt: `prompts/bringup_eval_long.txt`; "
        f"{max_new_tokens} greedy reference tokens scored by teacher forcing. Top-1: our argmax equals the "
        "reference token; top-5: the reference token is in our top 5; logits PCC over all scored positions. "
        "Wall time includes loading and the HF reference" + (" and both modes" if len(numerics) > 1 else "")
        + ". " + modes + "\n\n"
        f"Reproduce: `python scripts/eval_seeds.py` (or `make eval`).\n\n{table}\n"
    )
