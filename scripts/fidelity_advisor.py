#!/usr/bin/env python3
"""Per-op-class fidelity / dtype advisor in card-numerics mode; see ttbringup/evaluation/commands/fidelity_advisor.py."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ttbringup.evaluation.commands.fidelity_advisor import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
