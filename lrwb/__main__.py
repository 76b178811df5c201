"""``python -m lrwb ...``: the ``lrwb`` command without the installed entry point (same as ``python -m lrwb.app.cli``)."""

import sys

from lrwb.app.cli import main

if __name__ == "__main__":  # importing this module (the API docs do) runs nothing
    sys.exit(main())
