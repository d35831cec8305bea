"""``perf_report.py MODEL_PY``: predicted TTFT, decode tokens/s/user and per-op device time of a bringup on a
Wormhole n150 / n300 / T3000, from a data-free emulator run (no card, no weights).

Prints the estimates, then the per-op table of the last decode step (or the prefill, ``--table``) in
tt-perf-report's columns with a total line equal to the sum of its rows, the prefill and decode step grouped by
op code, and writes every op of every phase to a CSV and a stacked bar chart of where the time goes (PNG).
Exit 0 after a report, 2 on bad input.
``--numerics exact|card`` sets the emulator's numerics like every entry point; the prediction does not depend on
it (it models time from the ops' shapes, dtypes and fidelities, not their values).
"""

from __future__ import annotations

import argparse
import os
import sys

from ..cli import CliError, check_writable, cli_errors, go_offline
from ..numerics import add_numerics_arg, apply, requested
from .common import add_model_args, resolve_model, summary


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="perf_report.py", description=summary(__doc__))
    add_model_args(p)
    p.add_argument("--system", choices=("n150", "n300", "t3000"), default=None,
                   help="Wormhole system to predict for (default: the smallest that holds the file's MESH_SHAPE)")
    p.add_argument("--prompt_len", "--prompt-len", dest="prompt_len", type=int, default=128,
                   help="prefill length in tokens (default 128)")
    p.add_argument("--decode_steps", "--decode-steps", dest="decode_steps", type=int, default=4,
                   help="decode steps to run; the last one is reported (default 4)")
    p.add_argument("--batch", type=int, default=1,
                   help="users decoding together, up to the model's users (default 1); each prefills on its own")
    p.add_argument("--trace", action="store_true", help="replay the decode steps as a metal trace")
    p.add_argument("--weight_dtype", "--weight-dtype", dest="weight_dtype", choices=("bf16", "bfp8", "bfp4"),
                   default=None, help="what-if: build with this weight dtype instead of the file's WEIGHT_DTYPE")
    p.add_argument("--table", choices=("decode", "prefill", "both", "none"), default="decode",
                   help="which per-op table to print (default: decode)")
    p.add_argument("--constants", action="store_true",
                   help="also print the cost model's constants with their sources")
    p.add_argument("--csv", metavar="PATH", default="perf_report.csv",
                   help="CSV of every op of every phase (default perf_report.csv)")
    p.add_argument("--chart", metavar="PATH", default=None,
                   help="stacked bar PNG of where the TTFT and the decode step go (default: beside the CSV, .png)")
    add_numerics_arg(p, both=False)
    for action in p._actions:
        if action.dest == "random_weights":
            action.help = ("build from random weights drawn with --seed instead of data-free (for a model file "
                           "whose build needs data; costs host memory like an eval). Either way no checkpoint "
                           "weights are read: the config is a local --model dir's, else the bundled real config "
                           "of a seed id, else the HF cache's")
        elif action.dest == "backend":
            action.help = "emu only: the prediction runs on the emulator"
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    with cli_errors():
        numerics = requested(args.numerics, both=False)[0]
        if args.backend not in (None, "emu"):
            raise CliError(f"perf_report predicts device time from the emulator; --backend {args.backend} is not "
                           "supported (use --backend emu or leave it out)")
        from ..perf_report import PerfRequest, run, validate
        from ..perf_tables import by_block, by_op_code, format_table, summary_lines, write_csv

        req = PerfRequest(model_py=args.model_py, model="", system=args.system, prompt_len=args.prompt_len,
                          batch=args.batch,
                          decode_steps=args.decode_steps, trace=args.trace, max_seq_len=args.max_seq_len,
                          device_id=args.device_id, cache_dir=args.cache_dir,
                          weight_dtype=args.weight_dtype, random_weights=args.random_weights, seed=args.seed)
        validate(req)
        req.model = resolve_model(args.model_py, args.model)
        check_writable(args.csv, "--csv")
        chart = args.chart or os.path.splitext(args.csv)[0] + ".png"
        check_writable(chart, "--chart")
        go_offline()
        apply(numerics)
        report = run(req)
        for line in summary_lines(report):
            print(line)
        print(f"Numerics: {numerics} (values only: the predicted device time does not depend on it)")
        if args.table in ("prefill", "both"):
            print()
            print("\n".join(format_table(report.prefill, "Prefill, per op (predicted):")))
        if args.table in ("decode", "both"):
            print()
            print("\n".join(format_table(report.decode, f"Decode step {req.decode_steps}, per op (predicted):")))
        if args.table != "none":
            for name, rows in (("Prefill", report.prefill), (f"Decode step {req.decode_steps}", report.decode)):
                print()
                print("\n".join(by_op_code(rows, f"{name}, by op code (predicted):")))
            for name, rows in (("Prefill", report.prefill), (f"Decode step {req.decode_steps}", report.decode)):
                print()
                print("\n".join(by_block(rows, f"{name}, by layer (predicted):")))
        if args.constants:
            from ttbringup.emu.device_time.constants import table

            print()
            print("Cost model constants (ttbringup/emu/device_time/constants.py):")
            for name, value, unit, source in table():
                print(f"  {name} = {value:g} {unit}: {source}")
        write_csv(report, args.csv)
        print(f"wrote {args.csv}", file=sys.stderr)
        from ..perf_chart import write_chart

        write_chart(report, chart)
        print(f"wrote {chart}", file=sys.stderr)
    return 0
