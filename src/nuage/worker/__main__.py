"""``python -m nuage.worker start --scheduler URL --as worker-1``: the worker CLI alone."""

import sys

from nuage.cli.worker import app
from nuage.exceptions import NuageError

if __name__ == "__main__":
    try:
        app(prog_name="nuage worker", standalone_mode=True)
    except NuageError as error:
        print(f"worker: error: {error}", file=sys.stderr)
        sys.exit(1)
