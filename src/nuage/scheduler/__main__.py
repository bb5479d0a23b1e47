"""``python -m nuage.scheduler serve --workerpool 0x… --as pool-owner``: the scheduler CLI alone."""

import sys

from nuage.cli.scheduler import app
from nuage.exceptions import NuageError

if __name__ == "__main__":
    try:
        app(prog_name="nuage scheduler", standalone_mode=True)
    except NuageError as error:
        print(f"scheduler: error: {error}", file=sys.stderr)
        sys.exit(1)
