#!/usr/bin/env python3
"""Predicted device time of a bringup on a Wormhole system; see ttbringup/evaluation/commands/perf_report.py."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ttbringup.evaluation.commands.perf_report import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
