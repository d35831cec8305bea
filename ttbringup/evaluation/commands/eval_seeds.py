"""``scripts/eval_seeds.py``: the main job; every bringup with a tiny trained checkpoint (``FIXTURE_MODELS``: the
four seeds and the five ``ttbringup new`` wrote), on n150, n300 and T3000, on the emulator against that checkpoint, as a markdown table on stdout and in ``out/eval_seeds.md`` (+ ``.json``).

``--numerics both`` scores every bringup in exact and card mode on one build and adds a card column beside
top-1, top-5 and logits PCC.

Exit 0 when every model ran, 1 when any is FAILED (all are still run and reported).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..cli import CliError, check_positive, check_writable, cli_errors, go_offline
from ..numerics import add_numerics_arg, requested
from .common import summary


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="eval_seeds.py", description=summary(__doc__))
    p.add_argument("--models", nargs="*", default=None, help="a subset of the model ids with fixtures (default: all nine)")
    p.add_argument("--systems", nargs="*", default=["n150", "n300", "t3000"],
                   help="system folders of the model files (default: n150 n300 t3000)")
    p.add_argument("--max_new_tokens", type=int, default=100, help="scored tokens per model (default 100)")
    p.add_argument("--backend", choices=("auto", "ttnn", "emu"), default="emu", help="ttnn implementation (default emu)")
    p.add_argument("--out", default="out/eval_seeds.md", help="markdown path; the JSON goes beside it")
    add_numerics_arg(p)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    with cli_errors():
        check_positive("--max_new_tokens", args.max_new_tokens)
        modes = requested(args.numerics)
        check_writable(args.out, "--out")
        check_writable(Path(args.out).with_suffix(".json"), "--out")
        go_offline()
        from ttbringup.fixtures import FIXTURE_MODELS

        from ..report import write_json
        from ..seeds import evaluate_seed, results_markdown

        models = args.models or list(FIXTURE_MODELS)
        unknown = [m for m in models if m not in FIXTURE_MODELS]
        if unknown:
            raise CliError(f"no tiny trained checkpoint for {', '.join(unknown)} (known: {', '.join(FIXTURE_MODELS)})")
        rows = []
        for system in args.systems:
            for hf_id in models:
                print(f"[eval_seeds] {hf_id} ({system})", file=sys.stderr)
                rows.append(evaluate_seed(hf_id, system=system, max_new_tokens=args.max_new_tokens,
                                          backend=args.backend, numerics=modes))
                print(f"[eval_seeds] {hf_id} ({system}): {rows[-1]['status']}", file=sys.stderr)
        text = results_markdown(rows, args.max_new_tokens, args.backend, modes)
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        write_json(out.with_suffix(".json"), rows)
        print(text)
        print(f"wrote {out} and {out.with_suffix('.json')}", file=sys.stderr)
    return 0 if all(row["ok"] for row in rows) else 1
