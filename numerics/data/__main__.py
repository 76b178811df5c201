"""``python -m lrwb.numerics.data SHARED_DATA_FOLDER [DEST]``: rebuild the bundled data from the full data set."""

import sys

from lrwb.numerics.data import build_bundle

if __name__ == "__main__":  # importing this module (the API docs do) runs nothing
    if len(sys.argv) < 2:
        sys.exit("usage: python -m lrwb.numerics.data SHARED_DATA_FOLDER [DEST]")
    made = build_bundle(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
    print(f"{len(made['files'])} files written")
