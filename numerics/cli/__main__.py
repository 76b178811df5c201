"""``python -m numerics.cli``: the same as ``lrwb``."""

import sys

from numerics.cli import main

sys.exit(main())
