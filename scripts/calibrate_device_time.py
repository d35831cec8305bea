#!/usr/bin/env python3
"""Predict every published tt_transformers row (perf-facts §1) with the device-time model; see
ttbringup/evaluation/calibration.py.

    python scripts/calibrate_device_time.py            # predict every row, print the table
    python scripts/calibrate_device_time.py --write    # also refresh the table in docs/device-time-calibration.md
    python scripts/calibrate_device_time.py --row meta-llama/Llama-3.2-1B n150 1   # one row's table line
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ttbringup.evaluation.cli import CliError, cli_errors, go_offline  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="refresh the table in docs/device-time-calibration.md")
    parser.add_argument("--row", nargs=3, metavar=("MODEL", "SYSTEM", "BATCH"),
                        help="predict one published row and print its table lines")
    args = parser.parse_args(argv)
    with cli_errors():
        from ttbringup.evaluation import calibration
        from ttbringup.evaluation.perf_tables import PUBLISHED

        keys = list(PUBLISHED)
        if args.row:
            model, system, batch = args.row
            key = (model, system, int(batch)) if batch.isdigit() else None
            if key not in PUBLISHED:
                raise CliError(f"no published row {' '.join(args.row)}; published: "
                               + ", ".join(f"{m} {s} {b}" for m, s, b in keys))
            if args.write:
                raise CliError("--write refreshes the whole table; leave out --row")
            keys = [key]
        go_offline()
        rows = []
        for key in keys:
            rows.append(calibration.predict(key))
            print(calibration.table_line(rows[-1]), file=sys.stderr, flush=True)
        if args.row:
            print(calibration.table_line(rows[0]))
            print(calibration.parts_line(rows[0]))
            return 0
        print(calibration.render_markdown(rows))
        if args.write:
            calibration.write(rows)
            print(f"wrote {calibration.DOC}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
