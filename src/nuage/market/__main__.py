"""``python -m nuage.market``: serve the order book with settings from ``NUAGE_MARKET_*``."""

import sys

from nuage.exceptions import NuageError
from nuage.market.service import serve
from nuage.market.settings import MarketSettings

if __name__ == "__main__":
    try:
        serve(MarketSettings())
    except NuageError as error:
        print(f"market: error: {error}", file=sys.stderr)
        sys.exit(1)
