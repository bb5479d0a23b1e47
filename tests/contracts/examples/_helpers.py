"""The example contracts, compiled once, with `contracts/` on the search path."""

from pathlib import Path
from typing import Any

import boa

from tests.contracts.deployers import CONTRACTS

FUNDS = 20 * 10**9  # what the requester's owner puts into its contract's hub account


def _compile(path: Path) -> Any:
    boa.interpret.set_search_paths([str(CONTRACTS)])
    try:
        return boa.load_partial(str(path))
    finally:
        boa.interpret.set_search_paths([])


ORACLE_REQUESTER = _compile(CONTRACTS / "examples" / "OracleRequester.vy")
