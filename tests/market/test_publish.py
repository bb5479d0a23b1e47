"""Publishing orders: each kind is checked as the market contract would, and each refusal says why.

Every test runs on the fake chain and on anvil, over SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
import pytest
from eth_account.signers.local import LocalAccount

from nuage.market import OrderRefused, Status, order_to_json
from nuage.protocol import DatasetOrder, Domain, RequestOrder
from nuage.protocol.matching import MAX_BALANCE, MAX_TRUST
from tests.market.conftest import Market


def assert_error(response: httpx.Response, status: int, code: str) -> str:
    """The response is the service's error shape with this status and code; its message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code, body
    message: str = body["error"]["message"]
    return message


def post_order(market: Market, kind: str, order: Any) -> httpx.Response:
    return market.http.post(f"/orders/{kind}", json=order_to_json(order))


def test_an_app_order_signed_by_the_app_owner_enters_the_book(
    market: Market, app_owner: LocalAccount
) -> None:
    app = market.world.new_app(app_owner)
    order = market.world.app_order(app, app_owner, appprice=5, volume=3)

    response = post_order(market, "app", order)

    assert response.status_code == 201, response.text
    record = response.json()
    assert record["hash"] == "0x" + order.hash(market.world.domain).hex()
    assert (record["kind"], record["status"], record["owner"]) == ("app", "open", app_owner.address)
    assert (record["price"], record["volume"], record["consumed"], record["remaining"]) == (
        5,
        3,
        0,
        3,
    )
    assert record["order"] == order_to_json(order)
    assert market.client.get(record["hash"]).to_order() == order


def test_each_kind_of_order_enters_the_book_signed_by_its_owner(
    market: Market,
    app_owner: LocalAccount,
    dataset_owner: LocalAccount,
    pool_owner: LocalAccount,
    requester: LocalAccount,
) -> None:
    world = market.world
    app = world.new_app(app_owner)
    dataset = world.new_dataset(dataset_owner)
    pool = world.new_workerpool(pool_owner)
    orders = {
        "app": world.app_order(app, app_owner, appprice=1),
        "dataset": world.dataset_order(dataset, dataset_owner, datasetprice=2),
        "workerpool": world.workerpool_order(pool, pool_owner, workerpoolprice=3, category=1),
        "request": world.request_order(app, requester, dataset=dataset, category=1, volume=4),
    }
    owners = {
        "app": app_owner.address,
        "dataset": dataset_owner.address,
        "workerpool": pool_owner.address,
        "request": requester.address,
    }

    for kind, order in orders.items():
        record = market.client.publish(order)
        assert (record.kind, record.owner, record.status) == (kind, owners[kind], Status.OPEN)
        assert record.to_order() == order

    request = market.client.get(orders["request"].hash(world.domain))
    assert (request.remaining, request.price) == (4, 0)


def test_a_presigned_order_enters_the_book_without_a_signature(
    market: Market, pool_owner: LocalAccount
) -> None:
    pool = market.world.new_workerpool(pool_owner)
    order = dataclasses.replace(market.world.workerpool_order(pool, pool_owner), sign=b"")
    market.world.presign(order, pool_owner)

    record = market.client.publish(order)

    assert (record.status, record.owner, record.order["sign"]) == ("open", pool_owner.address, "0x")


def test_an_unsigned_order_nobody_presigned_is_refused(
    market: Market, app_owner: LocalAccount
) -> None:
    app = market.world.new_app(app_owner)
    order = dataclasses.replace(market.world.app_order(app, app_owner), sign=b"")

    message = assert_error(post_order(market, "app", order), 422, "not_signed")

    assert "presign" in message and app_owner.address in message
    assert market.client.query("app", app=app).total == 0


def test_an_order_presigned_by_a_former_owner_is_refused(
    market: Market, app_owner: LocalAccount, attacker: LocalAccount
) -> None:
    app = market.world.new_app(app_owner)
    order = dataclasses.replace(market.world.app_order(app, app_owner), sign=b"")
    market.world.presign(order, app_owner)
    market.world.transfer("app", app, app_owner, attacker.address)

    message = assert_error(post_order(market, "app", order), 403, "not_asset_owner")

    assert f"presigned by {app_owner.address}" in message and attacker.address in message


def test_an_order_signed_by_another_than_the_asset_owner_is_refused(
    market: Market, app_owner: LocalAccount, attacker: LocalAccount
) -> None:
    app = market.world.new_app(app_owner)
    forged = market.world.app_order(app, attacker, appprice=0)

    message = assert_error(post_order(market, "app", forged), 403, "not_asset_owner")

    assert attacker.address in message and app_owner.address in message
    assert market.client.query("app", app=app).total == 0


def test_a_request_signed_by_another_than_its_requester_is_refused(
    market: Market, app_owner: LocalAccount, requester: LocalAccount, attacker: LocalAccount
) -> None:
    app = market.world.new_app(app_owner)
    request = RequestOrder(app=app, requester=requester.address, salt=market.world.salt())
    forged = request.signed(attacker.key, market.world.domain)

    message = assert_error(post_order(market, "request", forged), 403, "not_requester")

    assert attacker.address in message


def test_an_order_signed_in_another_domain_is_refused(
    market: Market, app_owner: LocalAccount
) -> None:
    app = market.world.new_app(app_owner)
    domain = market.world.domain
    elsewhere = Domain(chain_id=domain.chain_id + 1, verifying_contract=domain.verifying_contract)
    order = market.world.app_order(app, app_owner).signed(app_owner.key, elsewhere)

    message = assert_error(post_order(market, "app", order), 403, "not_asset_owner")

    assert f"chain {domain.chain_id}" in message and domain.verifying_contract in message


@pytest.mark.parametrize(
    "signature",
    [b"\x01" * 65, b"\x01" * 64, b"\x01" * 10],
    ids=["65 bytes", "64 bytes", "10 bytes"],
)
def test_a_malformed_signature_is_refused(
    market: Market, app_owner: LocalAccount, signature: bytes
) -> None:
    app = market.world.new_app(app_owner)
    order = dataclasses.replace(market.world.app_order(app, app_owner), sign=signature)

    response = post_order(market, "app", order)

    assert response.status_code in (403, 422)
    code = response.json()["error"]["code"]
    assert code in ("bad_signature", "not_asset_owner")


def test_a_signature_that_recovers_nobody_is_a_bad_signature(
    market: Market, app_owner: LocalAccount
) -> None:
    app = market.world.new_app(app_owner)
    order = dataclasses.replace(market.world.app_order(app, app_owner), sign=b"\x00" * 65)

    assert_error(post_order(market, "app", order), 422, "bad_signature")


def test_an_order_for_an_unregistered_asset_is_refused(
    market: Market, app_owner: LocalAccount
) -> None:
    order = market.world.app_order("0x" + "12" * 20, app_owner)

    message = assert_error(post_order(market, "app", order), 422, "asset_not_registered")

    assert "register" in message


def test_a_cancelled_order_is_refused(market: Market, pool_owner: LocalAccount) -> None:
    pool = market.world.new_workerpool(pool_owner)
    order = market.world.workerpool_order(pool, pool_owner, volume=2)
    market.world.cancel(order, pool_owner)

    message = assert_error(post_order(market, "workerpool", order), 409, "order_consumed")

    assert "2 of 2 used" in message


def test_a_used_up_order_is_refused(
    market: Market, app_owner: LocalAccount, pool_owner: LocalAccount, requester: LocalAccount
) -> None:
    world = market.world
    app, pool = world.new_app(app_owner), world.new_workerpool(pool_owner)
    app_order = world.app_order(app, app_owner)
    pool_order = world.workerpool_order(pool, pool_owner, volume=5)
    request = world.request_order(app, requester)

    assert world.match(app_order, DatasetOrder.none(), pool_order, request) is None

    assert_error(post_order(market, "app", app_order), 409, "order_consumed")
    record = market.client.publish(pool_order)
    assert (record.consumed, record.remaining) == (1, 4)


def test_publishing_an_order_twice_is_refused(market: Market, app_owner: LocalAccount) -> None:
    app = market.world.new_app(app_owner)
    order = market.world.app_order(app, app_owner)
    market.client.publish(order)

    message = assert_error(post_order(market, "app", order), 409, "duplicate_order")

    assert "0x" + order.hash(market.world.domain).hex() in message
    assert market.client.query("app", app=app).total == 1


def test_an_order_of_an_unknown_category_is_refused(
    market: Market, pool_owner: LocalAccount
) -> None:
    pool = market.world.new_workerpool(pool_owner)
    order = market.world.workerpool_order(pool, pool_owner, category=5)

    message = assert_error(post_order(market, "workerpool", order), 422, "unknown_category")

    assert "0 to 4" in message


def test_a_price_no_escrow_can_pay_is_refused(market: Market, app_owner: LocalAccount) -> None:
    app = market.world.new_app(app_owner)
    order = market.world.app_order(app, app_owner, appprice=MAX_BALANCE)

    assert_error(post_order(market, "app", order), 422, "price_out_of_range")


def test_a_request_asking_too_much_trust_is_refused(
    market: Market, app_owner: LocalAccount, requester: LocalAccount
) -> None:
    app = market.world.new_app(app_owner)
    order = market.world.request_order(app, requester, trust=MAX_TRUST)

    assert_error(post_order(market, "request", order), 422, "trust_out_of_range")


def test_the_client_raises_the_refusal_with_its_code(
    market: Market, app_owner: LocalAccount, attacker: LocalAccount
) -> None:
    app = market.world.new_app(app_owner)

    with pytest.raises(OrderRefused) as refused:
        market.client.publish(market.world.app_order(app, attacker))

    assert (refused.value.status, refused.value.code) == (403, "not_asset_owner")
    assert app_owner.address in str(refused.value)


# -- malformed bodies (no chain needed: the fake chain only) ----------------------------------


def test_a_body_that_is_not_json_is_refused(fake_market: Market) -> None:
    response = fake_market.http.post(
        "/orders/app", content=b"{not json", headers={"content-type": "application/json"}
    )

    assert_error(response, 422, "invalid_request")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("app", "0x1234"),
        ("appprice", -1),
        ("appprice", 2**256),
        ("appprice", "ten"),
        ("tag", "0x01"),
        ("sign", "0xzz"),
        ("colour", "blue"),
    ],
)
def test_a_malformed_field_is_refused_with_its_name(
    fake_market: Market, app_owner: LocalAccount, field: str, value: Any
) -> None:
    app = fake_market.world.new_app(app_owner)
    body = order_to_json(fake_market.world.app_order(app, app_owner)) | {field: value}

    message = assert_error(fake_market.http.post("/orders/app", json=body), 422, "invalid_request")

    assert field in message


def test_a_request_with_params_too_long_is_refused(
    fake_market: Market, app_owner: LocalAccount, requester: LocalAccount
) -> None:
    app = fake_market.world.new_app(app_owner)
    body = order_to_json(fake_market.world.request_order(app, requester)) | {"params": "x" * 2049}

    message = assert_error(
        fake_market.http.post("/orders/request", json=body), 422, "invalid_request"
    )

    assert "params" in message


def test_a_decimal_string_is_an_integer(fake_market: Market, app_owner: LocalAccount) -> None:
    app = fake_market.world.new_app(app_owner)
    order = fake_market.world.app_order(app, app_owner, appprice=12)
    body = order_to_json(order) | {"appprice": "12"}

    response = fake_market.http.post("/orders/app", json=body)

    assert response.status_code == 201, response.text
    assert response.json()["price"] == 12
