"""`nuage storage …` commands, in-process: the storage app behind them, no sockets."""

import hashlib
import json
from pathlib import Path

import pytest
import typer
from typer.core import TyperGroup
from typer.testing import CliRunner, Result

from nuage.cli import storage as storage_cli
from nuage.exceptions import ConfigError, StorageError
from nuage.storage import DEFAULT_STORAGE_URL, StorageClient, StorageSettings
from nuage.storage import service as storage_service
from tests.storage.conftest import STORAGE_URL, WRITER_TOKEN, AppTransport

CONTENT = b"a result archive\n" * 100
CONTENT_ID = hashlib.sha256(CONTENT).hexdigest()


@pytest.fixture
def clients(monkeypatch: pytest.MonkeyPatch, app_transport: AppTransport) -> list[str]:
    """The commands' clients talk to the app in-process; returns the URLs they were given."""
    urls: list[str] = []

    def in_process_client(url: str, token: str | None) -> StorageClient:
        urls.append(url)
        return StorageClient(url, token=token, transport=app_transport)

    monkeypatch.setattr(storage_cli, "_client", in_process_client)
    for name in ("NUAGE_STORAGE_URL", "NUAGE_STORAGE_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return urls


def _flat(text: str) -> str:
    """``text`` with Rich's line wrapping and box drawing undone."""
    return " ".join(text.replace("│", " ").split())


def _nuage_storage(*args: str, **env: str) -> Result:
    return CliRunner().invoke(storage_cli.app, list(args), env=env)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "result.txt"
    path.write_bytes(CONTENT)
    return path


def test_put_prints_the_blob_id(clients: list[str], source: Path) -> None:
    result = _nuage_storage("put", str(source), "--token", WRITER_TOKEN, "--url", STORAGE_URL)

    assert result.exit_code == 0, result.output
    assert result.stdout == f"{CONTENT_ID}\n"
    assert clients == [STORAGE_URL]


def test_put_json_gives_id_size_and_file(clients: list[str], source: Path) -> None:
    result = _nuage_storage("put", str(source), "--json", NUAGE_STORAGE_TOKEN=WRITER_TOKEN)

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "id": CONTENT_ID,
        "size": len(CONTENT),
        "file": str(source),
    }


def test_the_url_defaults_to_the_environment_then_the_local_service(
    clients: list[str], source: Path
) -> None:
    _nuage_storage("head", CONTENT_ID)
    _nuage_storage("head", CONTENT_ID, NUAGE_STORAGE_URL="http://storage.example:9000")

    assert clients == [DEFAULT_STORAGE_URL, "http://storage.example:9000"]
    assert storage_cli.DEFAULT_URL == DEFAULT_STORAGE_URL


def test_put_without_the_token_fails_with_the_services_message(
    clients: list[str], source: Path
) -> None:
    result = _nuage_storage("put", str(source))

    assert result.exit_code == 1
    assert isinstance(result.exception, StorageError)
    assert "need a token" in str(result.exception)


def test_put_of_a_missing_file_is_a_usage_error(clients: list[str], tmp_path: Path) -> None:
    result = _nuage_storage("put", str(tmp_path / "missing"))

    assert result.exit_code == 2
    assert "does not exist" in _flat(result.output)


def test_get_saves_the_blob_into_the_file(clients: list[str], source: Path, tmp_path: Path) -> None:
    _nuage_storage("put", str(source), "--token", WRITER_TOKEN)
    dest = tmp_path / "copy.txt"

    result = _nuage_storage("get", CONTENT_ID, "-o", str(dest))

    assert result.exit_code == 0, result.output
    assert dest.read_bytes() == CONTENT
    assert f"saved {len(CONTENT):,} bytes to {dest}" in result.stderr


def test_get_of_an_unknown_blob_fails_and_writes_nothing(
    clients: list[str], tmp_path: Path
) -> None:
    dest = tmp_path / "copy.txt"

    result = _nuage_storage("get", CONTENT_ID, "--output", str(dest))

    assert result.exit_code == 1
    assert isinstance(result.exception, StorageError)
    assert f"no blob {CONTENT_ID}" in str(result.exception)
    assert not dest.exists()


def test_head_shows_the_size(clients: list[str], source: Path) -> None:
    _nuage_storage("put", str(source), "--token", WRITER_TOKEN)

    text = _nuage_storage("head", CONTENT_ID)
    as_json = _nuage_storage("head", CONTENT_ID, "--json")

    assert text.exit_code == 0, text.output
    assert text.stdout == f"{CONTENT_ID}  {len(CONTENT):,} bytes\n"
    assert json.loads(as_json.stdout) == {"id": CONTENT_ID, "size": len(CONTENT)}


def test_head_of_an_unknown_blob_exits_1(clients: list[str]) -> None:
    result = _nuage_storage("head", CONTENT_ID)

    assert result.exit_code == 1
    assert isinstance(result.exception, StorageError)


def test_a_malformed_id_fails_saying_what_an_id_is(clients: list[str]) -> None:
    result = _nuage_storage("head", "not-an-id")

    assert result.exit_code == 1
    assert "64 lowercase hex" in str(result.exception)


def test_errors_become_one_line_under_the_nuage_command(clients: list[str]) -> None:
    from nuage.cli import app as nuage_app

    nuage_group = type(typer.main.get_command(nuage_app))  # turns NuageError into a line
    assert issubclass(nuage_group, TyperGroup)
    parent = typer.Typer(cls=nuage_group)
    parent.add_typer(storage_cli.app)

    result = CliRunner().invoke(parent, ["storage", "head", CONTENT_ID])

    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert _flat(result.stderr) == (
        f"error: no blob {CONTENT_ID} is stored at {DEFAULT_STORAGE_URL}"
    )


def test_serve_passes_its_options_to_the_service(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    served: list[tuple[StorageSettings, str]] = []
    monkeypatch.setattr(
        storage_service, "serve", lambda settings, log_level: served.append((settings, log_level))
    )
    monkeypatch.setenv("NUAGE_STORAGE_PORT", "9100")

    result = _nuage_storage(
        "serve",
        "--host", "0.0.0.0",
        "--root", str(tmp_path / "blobs"),
        "--token", "s3cret",
        "--max-size", "2G",
        "--log-level", "WARNING",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    [(settings, log_level)] = served
    assert settings.host == "0.0.0.0"
    assert settings.port == 9100  # from the environment, as no option said otherwise
    assert settings.root == tmp_path / "blobs"
    assert settings.token is not None and settings.token.get_secret_value() == "s3cret"
    assert settings.max_blob_bytes == 2 * 1024**3
    assert log_level == "warning"


@pytest.mark.parametrize(
    ("text", "size"),
    [("1048576", 1048576), ("512K", 512 * 1024), ("512m", 512 * 1024**2), ("2GiB", 2 * 1024**3)],
)
def test_max_size_understands_units(text: str, size: int) -> None:
    assert storage_cli._parse_size(text) == size


@pytest.mark.parametrize("text", ["", "0", "-5", "1.5G", "12X", "G"])
def test_serve_refuses_a_max_size_that_is_not_a_size(text: str) -> None:
    result = _nuage_storage("serve", "--max-size", text)

    assert result.exit_code == 2
    assert "is not a size" in _flat(result.output)


def test_serve_refuses_invalid_settings_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NUAGE_STORAGE_MAX_BLOB_BYTES", "-1")

    result = _nuage_storage("serve")

    assert result.exit_code == 1
    assert isinstance(result.exception, ConfigError)
    assert "max_blob_bytes" in str(result.exception)
