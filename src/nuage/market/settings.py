"""The market service's settings, read from ``NUAGE_MARKET_*`` environment variables.

``database_url`` defaults to the SQLite file ``$NUAGE_HOME/market.db`` (``~/.nuage/market.db``
without ``NUAGE_HOME``); a PostgreSQL URL (``postgresql+psycopg://user:password@host/db``) works
the same. Which chain: ``rpc_url``, else ``$NUAGE_RPC_URL``, else the running devnet's; which
deployment: ``deployment`` (a record file), else the one nuage keeps for that chain. Settings are
passed to :func:`nuage.market.create_app`; nothing reads the environment behind its back.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_PORT", "MarketSettings", "default_database_url"]

DEFAULT_PORT = 8702


def _nuage_home() -> Path:
    nuage_home = os.environ.get("NUAGE_HOME")
    return Path(nuage_home).expanduser() if nuage_home else Path.home() / ".nuage"


def default_database_url() -> str:
    """``sqlite:///$NUAGE_HOME/market.db`` (``~/.nuage/market.db`` without ``NUAGE_HOME``)."""
    return f"sqlite:///{_nuage_home() / 'market.db'}"


class MarketSettings(BaseSettings):
    """Where the book is kept, where the service listens, which chain it follows and how."""

    model_config = SettingsConfigDict(env_prefix="NUAGE_MARKET_", extra="ignore")

    database_url: str = Field(
        default_factory=default_database_url,
        description="SQLAlchemy URL of the book: sqlite:///PATH or postgresql+psycopg://…",
    )
    host: str = Field(default="127.0.0.1", description="Address to listen on.")
    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535, description="TCP port to listen on.")
    rpc_url: str | None = Field(
        default=None,
        description="JSON-RPC URL of the chain [default: $NUAGE_RPC_URL, else the devnet's].",
    )
    deployment: Path | None = Field(
        default=None,
        description="Deployment record file [default: the one nuage keeps for the chain].",
    )
    confirmations: int = Field(
        default=0, ge=0, description="Blocks an event must be buried under before it counts."
    )
    poll_interval: float = Field(
        default=0.5, gt=0, description="Seconds between polls of the chain when caught up."
    )
    follow_chain: bool = Field(
        default=True, description="Follow the chain's events (off only in tests)."
    )
    unpublish_window: float = Field(
        default=300.0,
        gt=0,
        description="How far, in seconds, an unpublish message's timestamp may be from now.",
    )
    explain_limit: int = Field(
        default=20,
        ge=1,
        le=200,
        description="Offers of each kind `POST /explain` considers by default (cheapest first).",
    )

    @field_validator("deployment")
    @classmethod
    def _expand_user(cls, path: Path | None) -> Path | None:
        return None if path is None else path.expanduser()

    @property
    def url(self) -> str:
        """The URL clients on this machine use to reach the service."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        if ":" in host:  # an IPv6 address
            host = f"[{host}]"
        return f"http://{host}:{self.port}"
