"""The service around the book: health, OpenAPI, the error shape, the database it may use."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from anyio.from_thread import BlockingPortal

from nuage import __version__
from nuage.exceptions import ChainUnreachable, ConfigError
from nuage.market import MarketClient, MarketSettings, create_app
from nuage.protocol import Domain
from tests.market.conftest import MARKET_URL, AppTransport, Market
from tests.market.test_publish import assert_error
from tests.market.worlds import FakeReads, FakeWorld


def test_health_names_the_market_whose_domain_orders_are_signed_in(market: Market) -> None:
    health = market.client.health()

    assert (health.status, health.version) == ("ok", __version__)
    assert market.client.domain() == market.world.domain
    assert health.follower.healthy


def test_the_openapi_schema_lists_every_endpoint_with_the_error_shape(fake_market: Market) -> None:
    schema = fake_market.http.get("/openapi.json").json()

    paths = schema["paths"]
    for kind in ("app", "dataset", "workerpool", "request"):
        assert {"get", "post"} <= set(paths[f"/orders/{kind}"])
    assert "get" in paths["/orders/{order_hash}"]
    assert "post" in paths["/orders/{order_hash}/unpublish"]
    assert "post" in paths["/owners/{owner}/unpublish"]
    assert "post" in paths["/explain"]
    refusal = paths["/orders/app"]["post"]["responses"]["403"]["content"]["application/json"]
    assert refusal["schema"]["$ref"].endswith("/ErrorBody")
    workerpool_filters = {p["name"] for p in paths["/orders/workerpool"]["get"]["parameters"]}
    assert {"category", "min_trust", "tag", "min_volume", "limit", "offset"} <= workerpool_filters


def test_an_unknown_order_answers_404(fake_market: Market) -> None:
    message = assert_error(fake_market.http.get("/orders/0x" + "cd" * 32), 404, "unknown_order")

    assert "0x" + "cd" * 32 in message


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/nowhere", 404, "not_found"),
        ("DELETE", "/orders/app", 405, "method_not_allowed"),
    ],
)
def test_unknown_routes_answer_in_the_error_shape(
    fake_market: Market, method: str, path: str, status: int, code: str
) -> None:
    assert_error(fake_market.http.request(method, path), status, code)


class _DownReads(FakeReads):
    def asset_owner(self, kind: str, asset: str) -> str:
        raise ChainUnreachable("the chain at http://127.0.0.1:1 does not answer")


def test_a_chain_that_does_not_answer_is_a_503(tmp_path: Path, portal: BlockingPortal) -> None:
    world = FakeWorld()
    reads = _DownReads(world.reads.domain)
    settings = MarketSettings(database_url=f"sqlite:///{tmp_path / 'm.db'}", follow_chain=False)
    app = create_app(settings, reads=reads)
    owner = "0x" + "11" * 20
    body = {"app": owner, "sign": "0x" + "11" * 65}
    with httpx.Client(base_url=MARKET_URL, transport=AppTransport(app, portal)) as http:
        message = assert_error(http.post("/orders/app", json=body), 503, "chain_unavailable")
    app.state.market.book.engine.dispose()

    assert "does not answer" in message


class _BrokenReads(FakeReads):
    def asset_owner(self, kind: str, asset: str) -> str:
        raise ZeroDivisionError("a bug")


def test_a_bug_is_a_500_in_the_error_shape_and_logged(
    tmp_path: Path, portal: BlockingPortal, caplog: pytest.LogCaptureFixture
) -> None:
    world = FakeWorld()
    settings = MarketSettings(database_url=f"sqlite:///{tmp_path / 'm.db'}", follow_chain=False)
    app = create_app(settings, reads=_BrokenReads(world.reads.domain))
    body = {"app": "0x" + "11" * 20, "sign": "0x" + "11" * 65}
    transport = AppTransport(app, portal, raise_app_exceptions=False)  # as a server answers
    with httpx.Client(base_url=MARKET_URL, transport=transport) as http:
        assert_error(http.post("/orders/app", json=body), 500, "internal_error")
    app.state.market.book.engine.dispose()

    assert "ZeroDivisionError" in caplog.text


def test_a_database_of_another_deployment_is_refused(database_url: str) -> None:
    first = FakeWorld().reads
    settings = MarketSettings(database_url=database_url, follow_chain=False)
    create_app(settings, reads=first).state.market.book.engine.dispose()
    elsewhere = FakeReads(
        Domain(chain_id=first.domain.chain_id, verifying_contract="0x" + "ef" * 20)
    )

    with pytest.raises(ConfigError) as refused:
        create_app(settings, reads=elsewhere)

    assert "another deployment" in str(refused.value)
    again = create_app(settings, reads=first)  # the same deployment opens it again
    again.state.market.book.engine.dispose()


def test_the_default_database_is_a_sqlite_file_under_nuage_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, portal: BlockingPortal
) -> None:
    monkeypatch.setenv("NUAGE_HOME", str(tmp_path / "home"))
    settings = MarketSettings(follow_chain=False)
    app = create_app(settings, reads=FakeWorld().reads)
    with MarketClient(MARKET_URL, transport=AppTransport(app, portal)) as client:
        client.health()

    assert settings.database_url == f"sqlite:///{tmp_path / 'home' / 'market.db'}"
    assert (tmp_path / "home" / "market.db").is_file()
    app.state.market.book.engine.dispose()


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NUAGE_MARKET_PORT", "9999")
    monkeypatch.setenv("NUAGE_MARKET_DATABASE_URL", "postgresql+psycopg://u:p@db/market")
    monkeypatch.setenv("NUAGE_MARKET_RPC_URL", "http://node:8545")
    monkeypatch.setenv("NUAGE_MARKET_DEPLOYMENT", "~/deployment.json")
    monkeypatch.setenv("NUAGE_MARKET_HOST", "0.0.0.0")

    settings = MarketSettings()

    assert settings.port == 9999 and settings.url == "http://127.0.0.1:9999"
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert settings.rpc_url == "http://node:8545"
    assert settings.deployment == Path("~/deployment.json").expanduser()
    assert (settings.confirmations, settings.poll_interval) == (0, 0.5)


def test_without_a_chain_the_service_does_not_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NUAGE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("NUAGE_RPC_URL", raising=False)
    settings = MarketSettings(database_url=f"sqlite:///{tmp_path / 'm.db'}")

    with pytest.raises(ConfigError) as refused:
        create_app(settings)

    assert "nuage devnet up" in str(refused.value)
