"""``python -m numerics.cli ...``: the ``lrwb`` command without the installed entry point."""

import sys

from numerics.cli import main

sys.exit(main())
