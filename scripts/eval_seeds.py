#!/usr/bin/env python3
"""The main job: teacher-forcing eval of the seed and generated bringups; see ttbringup/evaluation/commands/eval_seeds.py."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ttbringup.evaluation.commands.eval_seeds import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
