"""Settings shared by every command, and where nuage keeps its files.

Everything lives under one folder, `$NUAGE_HOME` (default `~/.nuage`)::

    devnet/devnet.json        the running devnet: RPC URL, processes, accounts by role
    devnet/*.log              the devnet processes' logs
    deployments/<chain>.json  the deployment record of each chain nuage knows
    keystores/<name>.json     encrypted Ethereum keystores (`nuage wallet`)

Which chain a command talks to, in order: `--rpc` (or `$NUAGE_RPC_URL`), else the
running devnet. Its deployment record: `--deployment` (or `$NUAGE_DEPLOYMENT`),
else `deployments/<chain id>.json`.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    """nuage's settings, from `NUAGE_*` environment variables and command options."""

    model_config = SettingsConfigDict(env_prefix="NUAGE_", extra="ignore")

    home: Path = Field(default_factory=lambda: Path.home() / ".nuage")
    rpc_url: str | None = None
    deployment: Path | None = None
    wallet: str | None = None  # the keystore used when a command is not told who signs

    @property
    def devnet_dir(self) -> Path:
        return self.home / "devnet"

    @property
    def devnet_file(self) -> Path:
        return self.devnet_dir / "devnet.json"

    @property
    def keystores_dir(self) -> Path:
        return self.home / "keystores"

    def deployment_file(self, chain_id: int) -> Path:
        return self.deployment or self.home / "deployments" / f"{chain_id}.json"
