"""The market client: what a person sees when the market refuses, fails or does not answer."""

from __future__ import annotations

import httpx
import pytest

from nuage.exceptions import ConfigError, NuageError, OrderError
from nuage.market import MarketClient, MarketError, MarketUnreachable, OrderRefused, UnknownOrder


def client_answering(status: int, body: object | None = None, text: str = "") -> MarketClient:
    def answer(request: httpx.Request) -> httpx.Response:
        if body is not None:
            return httpx.Response(status, json=body)
        return httpx.Response(status, text=text)

    return MarketClient("http://market.test", transport=httpx.MockTransport(answer))


def test_a_market_that_does_not_answer_says_how_to_start_one() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    client = MarketClient("http://127.0.0.1:9", transport=httpx.MockTransport(refuse))

    with pytest.raises(MarketUnreachable) as unreachable:
        client.query("app")

    message = str(unreachable.value)
    assert "http://127.0.0.1:9 does not answer" in message
    assert "nuage market serve" in message and "nuage devnet status" in message
    assert isinstance(unreachable.value, NuageError)


def test_an_order_refusal_is_an_order_error_with_the_servers_message() -> None:
    client = client_answering(
        403, {"error": {"code": "not_asset_owner", "message": "app 0x1 belongs to 0x2"}}
    )

    with pytest.raises(OrderRefused) as refused:
        client.get("0x" + "00" * 32)

    assert isinstance(refused.value, OrderError)
    assert (refused.value.status, refused.value.code) == (403, "not_asset_owner")
    assert str(refused.value) == "app 0x1 belongs to 0x2"


def test_an_unknown_order_is_its_own_error() -> None:
    client = client_answering(404, {"error": {"code": "unknown_order", "message": "no order"}})

    with pytest.raises(UnknownOrder):
        client.get(b"\x00" * 32)


def test_a_refusal_about_no_order_is_a_market_error() -> None:
    client = client_answering(422, {"error": {"code": "invalid_filter", "message": "bad tag"}})

    with pytest.raises(MarketError) as refused:
        client.query("workerpool", tag="x")

    assert (refused.value.code, str(refused.value)) == ("invalid_filter", "bad tag")


def test_an_answer_that_is_no_market_answer_is_reported() -> None:
    with pytest.raises(MarketError) as failed:
        client_answering(502, text="<html>Bad Gateway</html>").health()
    assert "HTTP 502" in str(failed.value) and "Bad Gateway" in str(failed.value)

    with pytest.raises(MarketError) as strange:
        client_answering(200, {"hello": "world"}).health()
    assert "not a nuage market's answer" in str(strange.value)


def test_a_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(ConfigError) as refused:
        MarketClient("127.0.0.1:8702")

    assert "http://127.0.0.1:8702" in str(refused.value)


def test_query_parameters_travel_as_the_service_reads_them() -> None:
    seen: list[httpx.URL] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, json={"total": 0, "limit": 5, "offset": 0, "orders": []})

    with MarketClient("http://market.test/", transport=httpx.MockTransport(answer)) as client:
        client.query("workerpool", tag=b"\x00" * 31 + b"\x01", category=2, owner=None, limit=5)

    assert seen[0].path == "/orders/workerpool"
    assert dict(seen[0].params) == {
        "tag": "0x" + "00" * 31 + "01",
        "category": "2",
        "limit": "5",
        "offset": "0",
    }
