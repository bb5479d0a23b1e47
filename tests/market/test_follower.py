"""The book follows the chain: deals use orders up, owners cancel them, assets change hands.

On the fake chain and on anvil (where the market's own watcher reads the contracts' logs).
"""

from __future__ import annotations

import asyncio
import logging

import pytest
from eth_account.signers.local import LocalAccount

from nuage.chain.watcher import SqlCursorStore
from nuage.market import BookFollower, Status
from nuage.market.tables import CURSORS
from nuage.protocol import DatasetOrder
from tests.market.conftest import Market
from tests.market.worlds import FakeWorld

PRICE = 10**9


def test_a_deal_lowers_the_remaining_volume_and_a_used_up_order_leaves_the_book(
    market: Market,
    app_owner: LocalAccount,
    dataset_owner: LocalAccount,
    pool_owner: LocalAccount,
    requester: LocalAccount,
    caplog: pytest.LogCaptureFixture,
) -> None:
    world = market.world
    app, dataset = world.new_app(app_owner), world.new_dataset(dataset_owner)
    pool = world.new_workerpool(pool_owner)
    world.deposit(requester, 100 * PRICE)
    world.deposit(pool_owner, 100 * PRICE)
    app_order = world.app_order(app, app_owner, appprice=PRICE, volume=10)
    dataset_order = world.dataset_order(dataset, dataset_owner, volume=3)
    pool_order = world.workerpool_order(pool, pool_owner, workerpoolprice=PRICE, volume=5)
    request = world.request_order(
        app, requester, dataset=dataset, appmaxprice=PRICE, workerpoolmaxprice=PRICE, volume=2
    )
    for order in (app_order, dataset_order, pool_order, request):
        market.client.publish(order)

    assert world.match(app_order, dataset_order, pool_order, request) is None
    with caplog.at_level(logging.INFO, logger="nuage.market"):
        assert market.sync() >= 2

    remaining = {
        kind: market.client.get(order.hash(world.domain))
        for kind, order in (("app", app_order), ("dataset", dataset_order), ("pool", pool_order))
    }
    assert {kind: r.remaining for kind, r in remaining.items()} == {
        "app": 8,
        "dataset": 1,
        "pool": 3,
    }
    assert all(record.status == Status.OPEN for record in remaining.values())
    used_request = market.client.get(request.hash(world.domain))
    assert (used_request.status, used_request.remaining) == (Status.FILLED, 0)
    assert market.client.query("request", app=app).total == 0
    assert "left the book: filled" in caplog.text and "deal 0x" in caplog.text

    second = world.request_order(
        app, requester, dataset=dataset, appmaxprice=PRICE, workerpoolmaxprice=PRICE, volume=5
    )
    assert world.match(app_order, dataset_order, pool_order, second) is None
    market.sync()

    assert market.client.get(dataset_order.hash(world.domain)).status == Status.FILLED
    assert market.client.query("dataset", dataset=dataset).total == 0
    assert market.client.query("workerpool", workerpool=pool).orders[0].remaining == 2


def test_an_order_cancelled_on_chain_leaves_the_book(
    market: Market, pool_owner: LocalAccount
) -> None:
    world = market.world
    pool = world.new_workerpool(pool_owner)
    cancelled = world.workerpool_order(pool, pool_owner, volume=4)
    kept = world.workerpool_order(pool, pool_owner, volume=4)
    market.client.publish(cancelled)
    market.client.publish(kept)

    world.cancel(cancelled, pool_owner)
    market.sync()

    record = market.client.get(cancelled.hash(world.domain))
    assert (record.status, record.consumed, record.remaining) == (Status.CANCELLED, 4, 0)
    assert [r.hash for r in market.client.orders("workerpool", workerpool=pool)] == [
        "0x" + kept.hash(world.domain).hex()
    ]


def test_a_transferred_asset_takes_its_old_owners_orders_out_of_the_book(
    market: Market, app_owner: LocalAccount, attacker: LocalAccount
) -> None:
    world = market.world
    app, other = world.new_app(app_owner), world.new_app(app_owner)
    old = [market.client.publish(world.app_order(app, app_owner)).hash for _ in range(2)]
    untouched = market.client.publish(world.app_order(other, app_owner)).hash

    world.transfer("app", app, app_owner, attacker.address)
    market.sync()
    new = market.client.publish(world.app_order(app, attacker)).hash
    market.sync()

    assert {market.client.get(h).status for h in old} == {Status.OWNER_CHANGED}
    assert [r.hash for r in market.client.orders("app", app=app)] == [new]
    assert [r.hash for r in market.client.orders("app", app=other)] == [untouched]


def test_a_transferred_workerpool_takes_its_orders_out_too(
    market: Market, pool_owner: LocalAccount, attacker: LocalAccount
) -> None:
    world = market.world
    pool = world.new_workerpool(pool_owner)
    order_hash = market.client.publish(world.workerpool_order(pool, pool_owner)).hash

    world.transfer("workerpool", pool, pool_owner, attacker.address)
    market.sync()

    assert market.client.get(order_hash).status == Status.OWNER_CHANGED


def test_a_late_transfer_event_keeps_the_orders_of_the_owner_now(
    market: Market, app_owner: LocalAccount, attacker: LocalAccount
) -> None:
    """Regression: the follower reads the owner now, not the event's receiver."""
    world = market.world
    app = world.new_app(app_owner)
    world.transfer("app", app, app_owner, attacker.address)
    world.transfer("app", app, attacker, app_owner.address)  # back, before the book saw either
    order_hash = market.client.publish(world.app_order(app, app_owner)).hash

    market.sync()

    assert market.client.get(order_hash).status == Status.OPEN


def test_events_about_orders_outside_the_book_change_nothing(
    market: Market, app_owner: LocalAccount, pool_owner: LocalAccount, requester: LocalAccount
) -> None:
    world = market.world
    app, pool = world.new_app(app_owner), world.new_workerpool(pool_owner)
    listed = market.client.publish(world.app_order(app, app_owner, volume=3))
    unlisted = world.app_order(app, app_owner)

    world.match(
        unlisted,
        DatasetOrder.none(),
        world.workerpool_order(pool, pool_owner),
        world.request_order(app, requester),
    )
    world.cancel(world.workerpool_order(pool, pool_owner), pool_owner)
    market.sync()

    assert market.client.get(listed.hash).remaining == 3
    assert market.client.query("app").total == 1


def test_an_event_takes_effect_with_its_cursor_or_not_at_all(
    fake_market: Market, pool_owner: LocalAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cursor is saved in the transaction of the book's changes: a failure in between
    leaves neither, and the event is handled again, once."""
    world = fake_market.world
    assert isinstance(world, FakeWorld)
    pool = world.new_workerpool(pool_owner)
    order = world.workerpool_order(pool, pool_owner, volume=2)
    fake_market.client.publish(order)
    world.cancel(order, pool_owner)
    book = fake_market.book
    cursors = SqlCursorStore(book.engine, CURSORS)
    follower = BookFollower(book, world.reads, world.registries, cursors)
    event = world.events[-1]

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(cursors, "save", crash)
    with pytest.raises(RuntimeError):
        follower.apply(event)
    assert fake_market.client.get(order.hash(world.domain)).status == Status.OPEN
    assert cursors.load(follower.name) is None

    monkeypatch.undo()
    follower.apply(event)
    assert fake_market.client.get(order.hash(world.domain)).status == Status.CANCELLED
    assert cursors.load(follower.name) == event.cursor


class _FlakyWatcher:
    """Fails its first run (a database outage, say), then runs until stopped."""

    cursor = "end of block 7"

    def __init__(self) -> None:
        self.runs = 0

    async def arun(self, handle: object, stop: asyncio.Event) -> None:
        self.runs += 1
        if self.runs == 1:
            raise RuntimeError("the database is gone")
        stop.set()


def test_following_starts_again_after_a_failure(
    fake_market: Market, caplog: pytest.LogCaptureFixture
) -> None:
    world = fake_market.world
    assert isinstance(world, FakeWorld)
    book = fake_market.book
    follower = BookFollower(
        book, world.reads, world.registries, SqlCursorStore(book.engine, CURSORS)
    )
    watcher = _FlakyWatcher()

    with caplog.at_level(logging.INFO, logger="nuage.market"):
        asyncio.run(follower.follow(watcher, asyncio.Event(), retry_delay=0.01))

    assert watcher.runs == 2
    assert follower.failures == 1 and "the database is gone" in (follower.last_error or "")
    assert "stopped following the chain" in caplog.text
    assert "follows the chain again from end of block 7" in caplog.text
