"""The storage service's settings, read from ``NUAGE_STORAGE_*`` environment variables.

``root`` defaults to ``$NUAGE_HOME/storage`` when ``NUAGE_HOME`` is set, else
``~/.nuage/storage``. Settings are passed to :func:`nuage.storage.create_app`; nothing reads the
environment behind its back.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_MAX_BLOB_BYTES", "DEFAULT_PORT", "StorageSettings", "default_storage_root"]

DEFAULT_PORT = 8701
DEFAULT_MAX_BLOB_BYTES = 1024**3  # 1 GiB


def default_storage_root() -> Path:
    """``$NUAGE_HOME/storage`` when ``NUAGE_HOME`` is set, else ``~/.nuage/storage``."""
    nuage_home = os.environ.get("NUAGE_HOME")
    if nuage_home:
        return Path(nuage_home).expanduser() / "storage"
    return Path.home() / ".nuage" / "storage"


class StorageSettings(BaseSettings):
    """Where the blobs live, where the service listens, how big a blob may be, who may write."""

    model_config = SettingsConfigDict(env_prefix="NUAGE_STORAGE_", extra="ignore")

    root: Path = Field(
        default_factory=default_storage_root,
        description="Directory holding `blobs/` and `tmp/`.",
    )
    host: str = Field(default="127.0.0.1", description="Address to listen on.")
    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535, description="TCP port to listen on.")
    max_blob_bytes: int = Field(
        default=DEFAULT_MAX_BLOB_BYTES, gt=0, description="Largest blob accepted, in bytes."
    )
    token: SecretStr | None = Field(
        default=None, description="Bearer token that uploads must present; reads stay open."
    )

    @field_validator("root")
    @classmethod
    def _expand_user(cls, root: Path) -> Path:
        return root.expanduser()

    @field_validator("token")
    @classmethod
    def _empty_token_is_none(cls, token: SecretStr | None) -> SecretStr | None:
        if token is None or not token.get_secret_value():
            return None
        return token

    @property
    def url(self) -> str:
        """The URL clients on this machine use to reach the service."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        if ":" in host:  # an IPv6 address
            host = f"[{host}]"
        return f"http://{host}:{self.port}"
