"""The explorer's settings, read from ``NUAGE_EXPLORER_*`` environment variables.

The index is a SQLite file (default ``$NUAGE_HOME/explorer.db``): a cache of the chain that the
explorer rebuilds from events whenever it is deleted. Which chain: ``rpc_url``, else
``$NUAGE_RPC_URL``, else the running devnet's; which deployment: ``deployment`` (a record file),
else the one nuage keeps for that chain, else the devnet's. The other services' URLs default to
the running devnet's, then to their usual local ports.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_PORT", "ExplorerSettings"]

DEFAULT_PORT = 8704


def _nuage_home() -> Path:
    nuage_home = os.environ.get("NUAGE_HOME")
    return Path(nuage_home).expanduser() if nuage_home else Path.home() / ".nuage"


def _default_database_url() -> str:
    return f"sqlite:///{_nuage_home() / 'explorer.db'}"


class ExplorerSettings(BaseSettings):
    """Where the explorer listens, what it reads, and how patiently."""

    model_config = SettingsConfigDict(env_prefix="NUAGE_EXPLORER_", extra="ignore")

    host: str = Field(default="127.0.0.1", description="Address to listen on.")
    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535, description="TCP port.")
    database_url: str = Field(
        default_factory=_default_database_url,
        description="SQLAlchemy URL of the index [default: sqlite:///$NUAGE_HOME/explorer.db].",
    )
    rpc_url: str | None = Field(default=None, description="JSON-RPC URL of the chain.")
    deployment: Path | None = Field(default=None, description="The deployment record file.")
    market_url: str | None = Field(default=None, description="The market service.")
    scheduler_url: str | None = Field(default=None, description="A pool's scheduler (logs).")
    storage_url: str | None = Field(default=None, description="The storage service (results).")
    poll_interval: float = Field(default=0.3, gt=0, description="Seconds between chain polls.")
    source_timeout: float = Field(
        default=1.0, gt=0, description="Seconds a page waits for the chain or a service."
    )
    health_interval: float = Field(
        default=2.0, gt=0, description="Seconds between checks that the sources answer."
    )
    follow_chain: bool = Field(default=True, description="Index the chain (off only in tests).")

    @field_validator("deployment")
    @classmethod
    def _expand_user(cls, path: Path | None) -> Path | None:
        return None if path is None else path.expanduser()

    @property
    def url(self) -> str:
        """The URL browsers on this machine use."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"
