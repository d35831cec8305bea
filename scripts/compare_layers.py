#!/usr/bin/env python3
"""Layer-by-layer hidden-state PCC of a bringup against HF; see ttbringup/evaluation/commands/compare_layers.py."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ttbringup.evaluation.commands.compare_layers import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
