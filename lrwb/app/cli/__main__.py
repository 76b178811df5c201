"""``python -m lrwb.app.cli ...``: the ``lrwb`` command without the installed entry point."""

import sys

from lrwb.app.cli import main

if __name__ == "__main__":  # importing this module (the API docs do) runs nothing
    sys.exit(main())
