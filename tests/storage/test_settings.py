"""StorageSettings: defaults, NUAGE_HOME, and NUAGE_STORAGE_* environment variables."""

import os
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from nuage.storage import StorageSettings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in os.environ:
        if name.startswith("NUAGE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def test_defaults(tmp_path: Path) -> None:
    settings = StorageSettings()

    assert settings.root == tmp_path / "home" / ".nuage" / "storage"
    assert (settings.host, settings.port) == ("127.0.0.1", 8701)
    assert settings.max_blob_bytes == 1024**3
    assert settings.token is None
    assert settings.url == "http://127.0.0.1:8701"


def test_the_root_follows_nuage_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NUAGE_HOME", str(tmp_path / "devnet"))

    assert StorageSettings().root == tmp_path / "devnet" / "storage"


def test_environment_variables_set_every_field(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NUAGE_STORAGE_ROOT", str(tmp_path / "blobs"))
    monkeypatch.setenv("NUAGE_STORAGE_HOST", "0.0.0.0")
    monkeypatch.setenv("NUAGE_STORAGE_PORT", "9000")
    monkeypatch.setenv("NUAGE_STORAGE_MAX_BLOB_BYTES", "1000")
    monkeypatch.setenv("NUAGE_STORAGE_TOKEN", "s3cret")

    settings = StorageSettings()

    assert settings.root == tmp_path / "blobs"
    assert (settings.host, settings.port, settings.max_blob_bytes) == ("0.0.0.0", 9000, 1000)
    assert settings.token is not None
    assert settings.token.get_secret_value() == "s3cret"
    assert settings.url == "http://127.0.0.1:9000"  # where a client on this machine connects


def test_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NUAGE_STORAGE_PORT", "9000")

    assert StorageSettings(port=9001).port == 9001


def test_the_token_never_shows_in_a_repr() -> None:
    assert "s3cret" not in repr(StorageSettings(token=SecretStr("s3cret")))


def test_an_empty_token_means_no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NUAGE_STORAGE_TOKEN", "")

    assert StorageSettings().token is None


def test_a_tilde_in_the_root_is_expanded(tmp_path: Path) -> None:
    assert StorageSettings(root=Path("~/blobs")).root == tmp_path / "home" / "blobs"


@pytest.mark.parametrize(("field", "value"), [("port", 70000), ("port", -1), ("max_blob_bytes", 0)])
def test_out_of_range_values_are_refused(field: str, value: int) -> None:
    values: dict[str, Any] = {field: value}
    with pytest.raises(ValidationError, match=field):
        StorageSettings(**values)
