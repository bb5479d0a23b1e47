"""``python -m nuage.explorer``: serve the explorer with settings from ``NUAGE_EXPLORER_*``."""

import sys

from nuage.exceptions import NuageError
from nuage.explorer.service import serve
from nuage.explorer.settings import ExplorerSettings

if __name__ == "__main__":
    try:
        serve(ExplorerSettings())
    except NuageError as error:
        print(f"explorer: error: {error}", file=sys.stderr)
        sys.exit(1)
