"""Why no match: the cheapest offers that match together, and each other offer's reasons.

On the fake chain and on anvil; a combination the market calls matchable is then matched on
chain, and must go through.
"""

from __future__ import annotations

from typing import Any

from eth_account.signers.local import LocalAccount

from nuage.market import OrderRecord
from nuage.protocol import DatasetOrder, Incompatibility, tags
from tests.market.conftest import Market
from tests.market.test_publish import assert_error
from tests.market.worlds import actor

PRICE = 10**9
R = Incompatibility


def publish(market: Market, order: Any) -> OrderRecord:
    return market.client.publish(order)


def reasons_by_hash(answer: Any) -> dict[str, list[str]]:
    return {offer.hash: offer.reasons for offer in answer.offers}


def test_the_cheapest_compatible_offers_win_and_the_others_say_why(
    market: Market,
    app_owner: LocalAccount,
    pool_owner: LocalAccount,
    requester: LocalAccount,
    attacker: LocalAccount,
) -> None:
    world = market.world
    app = world.new_app(app_owner)
    pool, other_pool = world.new_workerpool(pool_owner), world.new_workerpool(pool_owner)
    world.deposit(requester, 100 * PRICE)
    world.deposit(pool_owner, 100 * PRICE)
    gpu = tags.tag("gpu")
    app_orders = {
        "for someone else": world.app_order(app, app_owner, requesterrestrict=attacker.address),
        "dear": world.app_order(app, app_owner, appprice=4 * PRICE),
        "good": world.app_order(app, app_owner, appprice=PRICE, volume=3),
    }
    pool_orders = {
        "other category": world.workerpool_order(pool, pool_owner, category=1),
        "no gpu": world.workerpool_order(pool, pool_owner, trust=5),
        "low trust": world.workerpool_order(pool, pool_owner, tag=gpu, trust=1),
        "too dear": world.workerpool_order(
            pool, pool_owner, tag=gpu, trust=5, workerpoolprice=9 * PRICE
        ),
        "not this app": world.workerpool_order(
            other_pool, pool_owner, tag=gpu, trust=5, apprestrict=world.new_app(app_owner)
        ),
        "good": world.workerpool_order(
            pool, pool_owner, tag=gpu, trust=5, workerpoolprice=2 * PRICE, volume=2
        ),
        "good but dearer": world.workerpool_order(
            other_pool, pool_owner, tag=gpu, trust=9, workerpoolprice=3 * PRICE
        ),
    }
    published = {
        name: publish(market, order).hash
        for name, order in [
            *app_orders.items(),
            *(("pool " + n, o) for n, o in pool_orders.items()),
        ]
    }
    request = world.request_order(
        app,
        requester,
        appmaxprice=5 * PRICE,
        workerpoolmaxprice=5 * PRICE,
        trust=4,
        tag=gpu,
        volume=5,
    )

    answer = market.client.explain(request)

    assert answer.matchable and answer.signature_checked
    assert answer.best is not None
    assert (answer.best.app, answer.best.workerpool) == (published["good"], published["pool good"])
    assert (answer.best.volume, answer.best.price) == (2, 3 * PRICE)
    assert (answer.best.cost, answer.best.stake) == (6 * PRICE, 2 * PRICE * 30 // 100 * 2)
    assert answer.request_reasons == [] and answer.missing == []
    reasons = reasons_by_hash(answer)
    assert reasons == {
        published["for someone else"]: [R.APP_RESTRICTS_REQUESTER],
        published["dear"]: [],
        published["good"]: [],
        published["pool other category"]: [R.CATEGORY_MISMATCH, R.TRUST_TOO_LOW, R.TAG_NOT_OFFERED],
        published["pool no gpu"]: [R.TAG_NOT_OFFERED],
        published["pool low trust"]: [R.TRUST_TOO_LOW],
        published["pool too dear"]: [R.WORKERPOOL_PRICE],
        published["pool not this app"]: [R.WORKERPOOL_RESTRICTS_APP],
        published["pool good"]: [],
        published["pool good but dearer"]: [],
    }
    chosen = {offer.hash for offer in answer.offers if offer.chosen}
    assert chosen == {published["good"], published["pool good"]}
    assert "matchable" in answer.summary

    assert (
        world.match(app_orders["good"], DatasetOrder.none(), pool_orders["good"], request) is None
    )


def test_a_request_with_a_dataset_takes_the_cheapest_dataset_order_that_fits(
    market: Market,
    app_owner: LocalAccount,
    dataset_owner: LocalAccount,
    pool_owner: LocalAccount,
    requester: LocalAccount,
) -> None:
    world = market.world
    app, dataset = world.new_app(app_owner), world.new_dataset(dataset_owner)
    pool = world.new_workerpool(pool_owner)
    app_order = world.app_order(app, app_owner)
    pool_order = world.workerpool_order(pool, pool_owner)
    wrong_app = world.dataset_order(dataset, dataset_owner, apprestrict=pool)
    fits = world.dataset_order(dataset, dataset_owner, datasetprice=1)
    for order in (app_order, pool_order, wrong_app, fits):
        publish(market, order)
    world.deposit(requester, PRICE)
    request = world.request_order(app, requester, dataset=dataset, datasetmaxprice=1)

    answer = market.client.explain(request)

    assert answer.matchable, answer
    assert answer.best is not None and answer.best.dataset == "0x" + fits.hash(world.domain).hex()
    assert reasons_by_hash(answer)["0x" + wrong_app.hash(world.domain).hex()] == [
        R.DATASET_RESTRICTS_APP
    ]
    assert world.match(app_order, fits, pool_order, request) is None


def test_an_unsigned_request_is_judged_as_if_signed(
    market: Market, app_owner: LocalAccount, pool_owner: LocalAccount, requester: LocalAccount
) -> None:
    world = market.world
    app, pool = world.new_app(app_owner), world.new_workerpool(pool_owner)
    publish(market, world.app_order(app, app_owner))
    publish(market, world.workerpool_order(pool, pool_owner, category=2))

    answer = market.client.explain({"app": app, "requester": requester.address, "category": 2})

    assert answer.matchable and not answer.signature_checked
    assert answer.best is not None


def test_a_request_the_requester_cannot_pay_is_explained(
    market: Market, app_owner: LocalAccount, pool_owner: LocalAccount, requester: LocalAccount
) -> None:
    world = market.world
    app, pool = world.new_app(app_owner), world.new_workerpool(pool_owner)
    publish(market, world.app_order(app, app_owner, appprice=PRICE))
    publish(market, world.workerpool_order(pool, pool_owner))
    broke = world.request_order(app, actor("broke requester"), appmaxprice=PRICE)

    answer = market.client.explain(broke)

    assert not answer.matchable and answer.best is not None
    assert answer.request_reasons == [R.REQUESTER_FUNDS]
    assert "requester balance too low" in answer.summary


def test_offers_out_of_step_with_the_chain_are_explained(
    market: Market,
    app_owner: LocalAccount,
    pool_owner: LocalAccount,
    requester: LocalAccount,
    attacker: LocalAccount,
) -> None:
    """Before the book sees a cancellation or a transfer, explain still reads the chain."""
    world = market.world
    app, pool, sold_pool = (
        world.new_app(app_owner),
        world.new_workerpool(pool_owner),
        world.new_workerpool(pool_owner),
    )
    cancelled = world.app_order(app, app_owner)
    live = world.app_order(app, app_owner, appprice=1)
    sold = world.workerpool_order(sold_pool, pool_owner)
    kept = world.workerpool_order(pool, pool_owner, workerpoolprice=1)
    for order in (cancelled, live, sold, kept):
        publish(market, order)
    world.cancel(cancelled, app_owner)
    world.transfer("workerpool", sold_pool, pool_owner, attacker.address)
    world.deposit(requester, PRICE)
    world.deposit(pool_owner, PRICE)

    answer = market.client.explain(
        world.request_order(app, requester, appmaxprice=1, workerpoolmaxprice=1)
    )

    reasons = reasons_by_hash(answer)
    assert reasons["0x" + cancelled.hash(world.domain).hex()] == [R.APP_CONSUMED]
    assert reasons["0x" + sold.hash(world.domain).hex()] == [R.WORKERPOOL_SIGNATURE]
    assert answer.matchable


def test_a_kind_missing_from_the_book_is_named(
    market: Market, app_owner: LocalAccount, requester: LocalAccount
) -> None:
    world = market.world
    app = world.new_app(app_owner)
    app_order = world.app_order(app, app_owner, appprice=5)
    publish(market, app_order)

    answer = market.client.explain(world.request_order(app, requester, appmaxprice=4))

    assert not answer.matchable and answer.best is None
    assert answer.missing == ["workerpool"]
    assert "no workerpool order" in answer.summary
    assert answer.offers[0].reasons == [R.APP_PRICE]


def test_a_malformed_request_is_refused(fake_market: Market) -> None:
    response = fake_market.http.post("/explain", json={"app": "0x12"})

    message = assert_error(response, 422, "invalid_request")

    assert "app" in message and "requester" in message
