#!/usr/bin/env python3
"""Teacher-forcing eval of a bringup against the HF reference; see ttbringup/evaluation/commands/eval.py."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ttbringup.evaluation.commands.eval import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
