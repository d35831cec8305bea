"""``python -m ttbringup fit|new ...``: see ``ttbringup.bringup.commands``."""

import sys

from ttbringup.bringup.commands import main

if __name__ == "__main__":
    sys.exit(main())
