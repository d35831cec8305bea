#!/usr/bin/env python3
"""Greedy generation on a bringup with TTFT and tokens/s/user; see ttbringup/evaluation/commands/demo.py."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ttbringup.evaluation.commands.demo import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
