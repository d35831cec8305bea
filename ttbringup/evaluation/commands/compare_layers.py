"""``scripts/compare_layers.py MODEL_PY``: hidden-state PCC of every layer, bringup vs HF.

Prints a table (prefill and one decode step), names the first layer below ``--threshold``
(default 0.99) and writes a PNG plot (default ``out/compare_<model>.png``). Exit 0 once the
compare ran, whatever it found; 2 on bad input. ``--numerics both`` compares exact and card mode on one build:
one table with both modes' PCC and card minus exact, the layer where card mode loses most, both in the plot.
"""

from __future__ import annotations

import argparse
import os
import sys

from ..cli import CliError, check_writable, cli_errors, go_offline
from ..numerics import add_numerics_arg
from .common import add_model_args, summary
from .eval import request_from_args


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="compare_layers.py", description=summary(__doc__))
    add_model_args(p)
    p.add_argument("--prompt", default=None, help="prompt text (default: prompts/bringup_eval_long.txt)")
    p.add_argument("--prompt_file", default=None, help="file holding the prompt text")
    p.add_argument("--prompt_ids_file", default=None, help="file of prompt token ids")
    p.add_argument("--threshold", type=float, default=0.99, help="PCC a layer must reach (default 0.99)")
    p.add_argument("--plot", default=None, help="PNG path (default: out/compare_<model>.png)")
    p.add_argument("--json", metavar="PATH", default=None, help="write the table as JSON")
    add_numerics_arg(p)
    return p


def plot_name(model: str) -> str:
    """``out/compare_<model>.png`` with the model id (or local dir name) made file-safe."""
    name = os.path.basename(os.path.normpath(model)) if os.path.isdir(model) else model.replace("/", "__")
    return os.path.join("out", f"compare_{name}.png")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.max_new_tokens, args.min_new_tokens, args.prefill_decode, args.trace = 1, None, False, False
    with cli_errors():
        if not 0 < args.threshold <= 1:
            raise CliError(f"--threshold must be in (0, 1] (got {args.threshold})")
        req = request_from_args(args)
        plot = args.plot or plot_name(req.model)
        check_writable(plot, "--plot")
        go_offline()
        from ..compare import compare_layers, largest_card_loss, plot_layers, side_by_side_lines, table_lines, verdict
        from ..pipeline import built_bringup, load, numerics_modes, numerics_of
        from ..report import write_json

        loaded = load(req)
        modes = numerics_modes(req, loaded.backend)
        by_mode = {}
        with built_bringup(loaded) as tt_model:
            for key in modes:
                with numerics_of(key):
                    by_mode[key] = compare_layers(loaded.ref.model, tt_model, loaded.prompt_ids, args.threshold)
        result = by_mode[modes[0]]
        print(f"Bringup: {req.model_py} | reference: {req.model} ({loaded.ref.source}) | backend: {loaded.backend}"
              f" | numerics: {'both' if len(modes) > 1 else modes[0]}")
        print(f"Prompt tokens: {result.prompt_len} | decode step fed HF's greedy token {result.decode_token}")
        if len(modes) == 1:
            for line in table_lines(result):
                print(line)
            print(verdict(result))
        else:
            for line in side_by_side_lines(by_mode):
                print(line)
            for key, c in by_mode.items():
                print(f"{key}: {verdict(c)}")
            print(largest_card_loss(by_mode))
        plot = plot_layers(by_mode if len(modes) > 1 else result, plot, f"{req.model}: hidden-state PCC vs HF")
        print(f"Plot: {plot}")
        if args.json:
            data = result.to_dict()
            data["numerics"] = "both" if len(modes) > 1 else modes[0]
            data["by_numerics"] = {key: c.to_dict() for key, c in by_mode.items()}
            write_json(args.json, data)
            print(f"wrote {args.json}", file=sys.stderr)
    return 0
