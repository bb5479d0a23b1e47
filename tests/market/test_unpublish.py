"""Unpublishing: an owner takes one or all of its orders out of the book, with a signed message
that cannot be replayed or forged."""

from __future__ import annotations

import pytest
from eth_account.signers.local import LocalAccount

from nuage.market import OrderRefused, Status, UnknownOrder, sign_unpublish, sign_unpublish_all
from nuage.market.wire import now_ms
from tests.market.conftest import Market
from tests.market.test_publish import assert_error


def published_app_order(market: Market, owner: LocalAccount, **fields: int) -> str:
    app = market.world.new_app(owner)
    return market.client.publish(market.world.app_order(app, owner, **fields)).hash


def test_the_owner_unpublishes_one_order(market: Market, app_owner: LocalAccount) -> None:
    kept = published_app_order(market, app_owner)
    gone = published_app_order(market, app_owner)

    record = market.client.unpublish(gone, app_owner)

    assert (record.hash, record.status) == (gone, Status.UNPUBLISHED)
    assert market.client.get(gone).status == Status.UNPUBLISHED
    assert [r.hash for r in market.client.orders("app", owner=app_owner.address)] == [kept]


def test_the_owner_unpublishes_all_its_orders(
    market: Market, app_owner: LocalAccount, pool_owner: LocalAccount
) -> None:
    mine = [published_app_order(market, app_owner) for _ in range(3)]
    pool = market.world.new_workerpool(app_owner)
    mine.append(market.client.publish(market.world.workerpool_order(pool, app_owner)).hash)
    theirs = published_app_order(market, pool_owner)

    unpublished = market.client.unpublish_all(app_owner)

    assert sorted(unpublished) == sorted(mine)
    assert [r.hash for r in market.client.orders("app")] == [theirs]
    assert market.client.query("workerpool").total == 0


def test_an_unpublished_order_may_be_published_again(
    market: Market, app_owner: LocalAccount
) -> None:
    app = market.world.new_app(app_owner)
    order = market.world.app_order(app, app_owner)
    market.client.unpublish(market.client.publish(order).hash, app_owner)

    again = market.client.publish(order)

    assert again.status == Status.OPEN
    assert market.client.query("app", app=app).total == 1


def test_only_the_owner_may_unpublish_an_order(
    fake_market: Market, app_owner: LocalAccount, attacker: LocalAccount
) -> None:
    order_hash = published_app_order(fake_market, app_owner)

    with pytest.raises(OrderRefused) as refused:
        fake_market.client.unpublish(order_hash, attacker)

    assert (refused.value.status, refused.value.code) == (403, "not_order_owner")
    assert fake_market.client.get(order_hash).status == Status.OPEN


def test_only_the_owner_may_unpublish_all_its_orders(
    fake_market: Market, app_owner: LocalAccount, attacker: LocalAccount
) -> None:
    order_hash = published_app_order(fake_market, app_owner)
    body = sign_unpublish_all(attacker.key, fake_market.world.domain, app_owner.address)

    response = fake_market.http.post(
        f"/owners/{app_owner.address}/unpublish", json=body.model_dump()
    )

    assert_error(response, 403, "not_order_owner")
    assert fake_market.client.get(order_hash).status == Status.OPEN


def test_a_replayed_message_is_refused(fake_market: Market, app_owner: LocalAccount) -> None:
    app = fake_market.world.new_app(app_owner)
    order = fake_market.world.app_order(app, app_owner)
    order_hash = bytes.fromhex(fake_market.client.publish(order).hash[2:])
    body = sign_unpublish(app_owner.key, fake_market.world.domain, order_hash).model_dump()
    path = f"/orders/0x{order_hash.hex()}/unpublish"
    assert fake_market.http.post(path, json=body).status_code == 200
    fake_market.client.publish(order)  # back in the book

    message = assert_error(fake_market.http.post(path, json=body), 409, "replayed_message")

    assert "sign a new message" in message
    assert fake_market.client.get(order_hash).status == Status.OPEN


def test_a_message_older_than_the_last_one_accepted_is_refused(
    fake_market: Market, app_owner: LocalAccount
) -> None:
    first = bytes.fromhex(published_app_order(fake_market, app_owner)[2:])
    second = bytes.fromhex(published_app_order(fake_market, app_owner)[2:])
    domain = fake_market.world.domain
    now = now_ms()
    late = sign_unpublish(app_owner.key, domain, first, now).model_dump()
    early = sign_unpublish(app_owner.key, domain, second, now - 1).model_dump()
    assert fake_market.http.post(f"/orders/0x{first.hex()}/unpublish", json=late).is_success

    response = fake_market.http.post(f"/orders/0x{second.hex()}/unpublish", json=early)

    assert_error(response, 409, "replayed_message")


def test_a_message_signed_long_ago_is_refused(fake_market: Market, app_owner: LocalAccount) -> None:
    order_hash = bytes.fromhex(published_app_order(fake_market, app_owner)[2:])
    body = sign_unpublish(app_owner.key, fake_market.world.domain, order_hash)
    fake_market.clock.now += 301

    response = fake_market.http.post(
        f"/orders/0x{order_hash.hex()}/unpublish", json=body.model_dump()
    )

    message = assert_error(response, 422, "stale_message")
    assert "sign it again" in message


def test_a_message_for_another_order_does_not_unpublish_this_one(
    fake_market: Market, app_owner: LocalAccount
) -> None:
    target = published_app_order(fake_market, app_owner)
    other = bytes.fromhex(published_app_order(fake_market, app_owner)[2:])
    body = sign_unpublish(app_owner.key, fake_market.world.domain, other)

    response = fake_market.http.post(f"/orders/{target}/unpublish", json=body.model_dump())

    assert_error(response, 403, "not_order_owner")  # the signature recovers a stranger
    assert fake_market.client.get(target).status == Status.OPEN


def test_a_garbage_signature_is_refused(fake_market: Market, app_owner: LocalAccount) -> None:
    order_hash = published_app_order(fake_market, app_owner)
    body = {"timestamp": now_ms(), "sign": "0x" + "00" * 65}

    response = fake_market.http.post(f"/orders/{order_hash}/unpublish", json=body)

    assert_error(response, 422, "bad_signature")


def test_unpublishing_an_unknown_order_answers_404(
    fake_market: Market, app_owner: LocalAccount
) -> None:
    with pytest.raises(UnknownOrder) as refused:
        fake_market.client.unpublish("0x" + "ab" * 32, app_owner)

    assert "0x" + "ab" * 32 in str(refused.value)


def test_unpublishing_an_order_out_of_the_book_is_refused(
    fake_market: Market, app_owner: LocalAccount
) -> None:
    order_hash = published_app_order(fake_market, app_owner)
    fake_market.client.unpublish(order_hash, app_owner)

    with pytest.raises(OrderRefused) as refused:
        fake_market.client.unpublish(order_hash, app_owner)

    assert refused.value.code == "not_in_book"
    assert "unpublished" in str(refused.value)


@pytest.mark.parametrize(
    "path",
    ["/orders/0x1234/unpublish", "/owners/0x1234/unpublish", "/orders/0x" + "zz" * 32],
)
def test_a_malformed_hash_or_address_is_refused(fake_market: Market, path: str) -> None:
    body = {"timestamp": now_ms(), "sign": "0x" + "11" * 65}
    response = (
        fake_market.http.post(path, json=body)
        if path.endswith("unpublish")
        else fake_market.http.get(path)
    )

    assert_error(response, 422, "invalid_request")
