#!/usr/bin/env python3
"""Predicted TTFT and tokens/s/user of each seed bringup on its system (batch 1 and 32, eager and traced) and its
weight-streaming roofline; see ttbringup/evaluation/device_time_goals.py.

    python scripts/device_time_goals.py                                  # every seed file, print the sections
    python scripts/device_time_goals.py meta-llama/Llama-3.2-1B --systems n150 --write   # refresh MODEL_BRINGUP.md
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ttbringup.evaluation.cli import CliError, cli_errors, go_offline  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", help="seed HF ids (default: every seed)")
    parser.add_argument("--systems", nargs="*", default=None, help="n150, n300, t3000 (default: all a seed has)")
    parser.add_argument("--write", action="store_true", help="refresh the section of each MODEL_BRINGUP.md")
    args = parser.parse_args(argv)
    with cli_errors():
        from ttbringup.evaluation import device_time_goals as dtg

        files = dtg.seed_files()
        known = sorted({hf_id for hf_id, _ in files})
        for hf_id in args.models:
            if hf_id not in known:
                raise CliError(f"{hf_id} is not a seed; seeds: {', '.join(known)}")
        for system in args.systems or ():
            if system not in ("n150", "n300", "t3000"):
                raise CliError(f"unknown system {system!r}; choose from n150, n300, t3000")
        picked = [(h, s) for h, s in files if (not args.models or h in args.models)
                  and (args.systems is None or s in args.systems)]
        go_offline()
        for hf_id, system in picked:
            text = dtg.render_markdown(dtg.goals(hf_id, system))
            print(f"## {hf_id} ({system})\n{text}\n", flush=True)
            if args.write:
                print(f"wrote {dtg.write_section(hf_id, system, text)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
