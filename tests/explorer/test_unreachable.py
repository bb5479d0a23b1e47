"""With its chain and market unreachable, the explorer still answers every page, fast, and says
which source is down; the JSON API answers 503 for what needs them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from nuage.chain.anvil import free_port
from nuage.explorer import ExplorerSettings, create_app

pytestmark = pytest.mark.integration  # it calls closed ports on loopback


@pytest.fixture
def closed() -> dict[str, str]:
    """URLs of ports nothing listens on."""
    return {name: f"http://127.0.0.1:{free_port()}" for name in ("rpc", "market", "other")}


class Explorer:
    """The app in this process, its lifespan running on a loop of its own (no socket)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self._lifespan = app.router.lifespan_context(app)
        self.loop.run_until_complete(self._lifespan.__aenter__())
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url="http://explorer.test"
        )

    def get(self, path: str) -> httpx.Response:
        return self.loop.run_until_complete(self.http.get(path))

    def close(self) -> None:
        self.loop.run_until_complete(self.http.aclose())
        self.loop.run_until_complete(self._lifespan.__aexit__(None, None, None))
        self.loop.close()


@pytest.fixture
def explorer(
    tmp_path: Path, closed: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Explorer]:
    monkeypatch.setenv("NUAGE_HOME", str(tmp_path / "home"))  # no devnet there
    monkeypatch.delenv("NUAGE_RPC_URL", raising=False)
    settings = ExplorerSettings(
        database_url=f"sqlite:///{tmp_path / 'explorer.db'}",
        rpc_url=closed["rpc"],
        market_url=closed["market"],
        scheduler_url=closed["other"],
        storage_url=closed["other"],
        follow_chain=False,
    )
    client = Explorer(create_app(settings))
    yield client
    client.close()


def test_every_page_names_the_unreachable_chain_and_market(
    explorer: Explorer, closed: dict[str, str]
) -> None:
    for path in ("/", "/market", "/tasks", "/deals", "/pools", "/workers", "/submit"):
        started = time.monotonic()
        page = explorer.get(path)
        assert page.status_code == 200, path
        assert time.monotonic() - started < 1.0, path
        assert 'data-testid="unreachable"' in page.text, path
        assert f"market unreachable at {closed['market']}" in page.text
        assert f"chain unreachable at {closed['rpc']}" in page.text
    assert "the market is unreachable" in explorer.get("/market").text


def test_an_account_page_says_the_chain_is_down(explorer: Explorer) -> None:
    page = explorer.get("/accounts/0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
    assert page.status_code == 200
    assert 'data-testid="account-free">-<' in page.text


def test_the_api_answers_503_naming_the_source(explorer: Explorer, closed: dict[str, str]) -> None:
    orders = explorer.get("/api/orders/app")
    assert orders.status_code == 503
    assert orders.json()["error"]["code"] == "market_unreachable"
    assert closed["market"] in orders.json()["error"]["message"]

    account = explorer.get("/api/accounts/0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
    assert (account.status_code, account.json()["error"]["code"]) == (503, "chain_unreachable")

    health = explorer.get("/api/health").json()
    assert (health["market"]["ok"], health["market"]["url"]) == (False, closed["market"])
    assert health["chain"]["ok"] is False


def test_the_store_lists_what_the_index_holds_without_prices(explorer: Explorer) -> None:
    apps = explorer.get("/api/apps")
    assert apps.status_code == 200 and apps.json() == {"apps": []}
    assert 'data-testid="app-empty"' in explorer.get("/").text


def test_unknown_routes_answer_404_as_json_under_api_and_as_a_page_elsewhere(
    explorer: Explorer,
) -> None:
    api = explorer.get("/api/nothing")
    assert (api.status_code, api.json()["error"]["code"]) == (404, "not_found")
    page = explorer.get("/nothing")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
