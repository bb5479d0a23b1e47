"""The nuage explorer: a web explorer of the network, and its DApp Store.

An indexer follows the chain's events (registries, market, hub) into a SQLite index; pages and a
JSON API are built from that index, the market's open orders (its HTTP API) and a few reads of
the chain as it is now (balances, scores). Task changes stream to the pages as server-sent
events. Every asset (one stylesheet, one script) is served by the explorer itself.

``nuage explorer serve`` runs it; ``nuage devnet up`` starts one on port 8704.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nuage.explorer.settings import DEFAULT_PORT, ExplorerSettings

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["DEFAULT_PORT", "ExplorerSettings", "create_app", "serve"]


def create_app(settings: ExplorerSettings) -> FastAPI:
    """The explorer's FastAPI application (imports the service stack only when called)."""
    from nuage.explorer.service import create_app as create

    return create(settings)


def serve(settings: ExplorerSettings, *, log_level: str = "info") -> None:
    """Runs the explorer in this process until interrupted."""
    from nuage.explorer.service import serve as run

    run(settings, log_level=log_level)
