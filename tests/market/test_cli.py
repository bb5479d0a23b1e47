"""`nuage market serve`: options and environment become the service's settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from nuage.cli import market as market_cli
from nuage.exceptions import ConfigError
from nuage.market import MarketSettings, service


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[tuple[MarketSettings, str]]:
    calls: list[tuple[MarketSettings, str]] = []
    monkeypatch.setattr(
        service, "serve", lambda settings, log_level: calls.append((settings, log_level))
    )
    for name in ("NUAGE_MARKET_PORT", "NUAGE_MARKET_HOST", "NUAGE_MARKET_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return calls


def test_serve_passes_its_options_to_the_service(
    served: list[tuple[MarketSettings, str]], tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        market_cli.app,
        [
            "serve",
            "--port", "9000",
            "--host", "0.0.0.0",
            "--database-url", f"sqlite:///{tmp_path / 'book.db'}",
            "--rpc", "http://127.0.0.1:8545",
            "--deployment", str(tmp_path / "deployment.json"),
            "--confirmations", "2",
            "--log-level", "DEBUG",
        ],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    ((settings, level),) = served
    assert (settings.port, settings.host, settings.confirmations) == (9000, "0.0.0.0", 2)
    assert settings.database_url == f"sqlite:///{tmp_path / 'book.db'}"
    assert settings.rpc_url == "http://127.0.0.1:8545"
    assert settings.deployment == tmp_path / "deployment.json"
    assert level == "debug"


def test_serve_takes_the_environment_where_no_option_is_given(
    served: list[tuple[MarketSettings, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NUAGE_MARKET_PORT", "9100")

    result = CliRunner().invoke(market_cli.app, ["serve"])

    assert result.exit_code == 0, result.output
    assert served[0][0].port == 9100


def test_serve_refuses_a_bad_log_level(served: list[tuple[MarketSettings, str]]) -> None:
    result = CliRunner().invoke(market_cli.app, ["serve", "--log-level", "loud"])

    assert result.exit_code == 2
    assert "not a log level" in result.output
    assert served == []


def test_serve_refuses_bad_settings_with_a_config_error(
    served: list[tuple[MarketSettings, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NUAGE_MARKET_POLL_INTERVAL", "-1")

    result = CliRunner().invoke(market_cli.app, ["serve"])

    assert isinstance(result.exception, ConfigError)
    assert "poll_interval" in str(result.exception)
