#!/usr/bin/env python3
"""Automation wrapper printing one YT_METRICS={json} line; see ttbringup/evaluation/commands/run_eval.py."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ttbringup.evaluation.commands.run_eval import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
