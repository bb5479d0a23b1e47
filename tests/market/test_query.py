"""Querying the book: filters, order (price, then time), pages, and bad filters refused."""

from __future__ import annotations

import pytest
from eth_account.signers.local import LocalAccount

from nuage.market import MarketError
from nuage.protocol import ZERO_ADDRESS, tags
from tests.market.conftest import Market
from tests.market.test_publish import assert_error


def hashes(market: Market, kind: str, **filters: object) -> list[str]:
    page = market.client.query(kind, **filters)
    return [record.hash for record in page.orders]


def publish(market: Market, order: object) -> str:
    record = market.client.publish(order)
    market.clock.now += 1  # publication times differ: ties on price keep this order
    return record.hash


def test_offers_come_cheapest_first_then_oldest_first(
    market: Market, pool_owner: LocalAccount
) -> None:
    world = market.world
    pool = world.new_workerpool(pool_owner)
    prices = [5, 2, 9, 2, 0]
    published = [
        publish(market, world.workerpool_order(pool, pool_owner, workerpoolprice=price))
        for price in prices
    ]

    found = hashes(market, "workerpool", workerpool=pool)

    assert found == [published[4], published[1], published[3], published[0], published[2]]


def test_requests_come_best_paying_first(
    market: Market, app_owner: LocalAccount, requester: LocalAccount
) -> None:
    world = market.world
    app = world.new_app(app_owner)
    low = publish(market, world.request_order(app, requester, appmaxprice=1, workerpoolmaxprice=1))
    high = publish(market, world.request_order(app, requester, workerpoolmaxprice=10))

    assert hashes(market, "request", app=app) == [high, low]


def test_pages_cover_the_book_once_with_the_total(market: Market, app_owner: LocalAccount) -> None:
    world = market.world
    app = world.new_app(app_owner)
    published = [publish(market, world.app_order(app, app_owner, appprice=p)) for p in range(7)]

    pages = [market.client.query("app", app=app, limit=3, offset=offset) for offset in (0, 3, 6)]

    assert [page.total for page in pages] == [7, 7, 7]
    assert [record.hash for page in pages for record in page.orders] == published
    assert [
        record.hash for record in market.client.orders("app", app=app, page_size=2)
    ] == published


def test_asset_owner_and_requester_filters_select_what_they_name(
    market: Market,
    app_owner: LocalAccount,
    dataset_owner: LocalAccount,
    requester: LocalAccount,
    attacker: LocalAccount,
) -> None:
    world = market.world
    app, other_app = world.new_app(app_owner), world.new_app(dataset_owner)
    mine = publish(market, world.app_order(app, app_owner))
    theirs = publish(market, world.app_order(other_app, dataset_owner))
    asked = publish(market, world.request_order(app, requester))
    publish(market, world.request_order(other_app, attacker))

    assert hashes(market, "app", asset=app) == [mine]
    assert hashes(market, "app", app=other_app) == [theirs]
    assert hashes(market, "app", owner=dataset_owner.address) == [theirs]
    assert hashes(market, "request", requester=requester.address) == [asked]
    assert hashes(market, "request", asset=app) == [asked]
    assert hashes(market, "request", owner=requester.address, app=other_app) == []


def test_restriction_filters_select_orders_that_let_the_address_through(
    market: Market, app_owner: LocalAccount, pool_owner: LocalAccount, requester: LocalAccount
) -> None:
    world = market.world
    app = world.new_app(app_owner)
    pool, other_pool = world.new_workerpool(pool_owner), world.new_workerpool(pool_owner)
    anyone = publish(market, world.workerpool_order(pool, pool_owner))
    only_app = publish(market, world.workerpool_order(pool, pool_owner, apprestrict=app))
    only_requester = publish(
        market, world.workerpool_order(other_pool, pool_owner, requesterrestrict=requester.address)
    )
    request_any_pool = publish(market, world.request_order(app, requester))
    request_this_pool = publish(market, world.request_order(app, requester, workerpool=pool))

    assert hashes(market, "workerpool", app=app) == [anyone, only_app, only_requester]
    assert hashes(market, "workerpool", app=world.new_app(app_owner)) == [anyone, only_requester]
    assert hashes(market, "workerpool", requester=app_owner.address) == [anyone, only_app]
    assert hashes(market, "request", workerpool=pool) == [request_any_pool, request_this_pool]
    assert hashes(market, "request", workerpool=other_pool) == [request_any_pool]


def test_category_trust_tag_and_volume_filters(market: Market, pool_owner: LocalAccount) -> None:
    world = market.world
    pool = world.new_workerpool(pool_owner)
    gpu = tags.tag("gpu")
    tee_gpu = tags.tag("tee", "gpu")
    plain = publish(market, world.workerpool_order(pool, pool_owner, category=0, trust=1, volume=1))
    gpu_pool = publish(
        market, world.workerpool_order(pool, pool_owner, category=2, trust=5, tag=gpu, volume=10)
    )
    tee_pool = publish(
        market, world.workerpool_order(pool, pool_owner, category=2, trust=2**60, tag=tee_gpu)
    )

    assert hashes(market, "workerpool", category=2) == [gpu_pool, tee_pool]
    assert hashes(market, "workerpool", min_trust=5) == [gpu_pool, tee_pool]
    assert hashes(market, "workerpool", min_trust=2**62) == []
    assert hashes(market, "workerpool", tag="gpu") == [gpu_pool, tee_pool]
    assert hashes(market, "workerpool", tag="tee,gpu") == [tee_pool]
    assert hashes(market, "workerpool", tag=tee_gpu) == [tee_pool]
    assert hashes(market, "workerpool", tag="0x" + "00" * 32) == [plain, gpu_pool, tee_pool]
    assert hashes(market, "workerpool", min_volume=2) == [gpu_pool]


def test_a_tag_filter_reads_every_one_of_its_256_bits(
    fake_market: Market, pool_owner: LocalAccount
) -> None:
    world = fake_market.world
    pool = world.new_workerpool(pool_owner)
    high_bits = (1 << 255 | 1 << 128 | 1 << 63 | 1 << 64).to_bytes(32, "big")
    top = publish(fake_market, world.workerpool_order(pool, pool_owner, tag=high_bits))
    publish(
        fake_market, world.workerpool_order(pool, pool_owner, tag=(1 << 255).to_bytes(32, "big"))
    )

    assert hashes(fake_market, "workerpool", tag="0x" + high_bits.hex()) == [top]
    assert hashes(fake_market, "workerpool", tag=hex(1 << 63)) == [top]


def test_a_huge_price_sorts_as_a_number(fake_market: Market, app_owner: LocalAccount) -> None:
    world = fake_market.world
    app = world.new_app(app_owner)
    requester = app_owner
    big = publish(fake_market, world.request_order(app, requester, appmaxprice=2**255))
    small = publish(fake_market, world.request_order(app, requester, appmaxprice=9))

    assert hashes(fake_market, "request", app=app) == [big, small]
    assert fake_market.client.get(big).price == 2**255


@pytest.mark.parametrize(
    ("kind", "query", "code"),
    [
        ("app", "category=1", "invalid_filter"),  # app orders have no category
        ("app", "colour=blue", "invalid_filter"),
        ("app", "app=0x1234", "invalid_filter"),
        ("workerpool", "min_trust=-1", "invalid_filter"),
        ("workerpool", "category=two", "invalid_filter"),
        ("workerpool", "limit=0", "invalid_filter"),
        ("workerpool", "limit=1001", "invalid_filter"),
        ("workerpool", "offset=-1", "invalid_filter"),
        ("workerpool", "tag=fast", "invalid_filter"),
        ("workerpool", "tag=0xzz", "invalid_filter"),
        ("dataset", f"asset={'0x' + '11' * 20}&dataset={'0x' + '22' * 20}", "invalid_filter"),
    ],
)
def test_a_bad_filter_is_refused(fake_market: Market, kind: str, query: str, code: str) -> None:
    message = assert_error(fake_market.http.get(f"/orders/{kind}?{query}"), 422, code)

    assert query.split("=")[0] in message


def test_the_client_raises_a_bad_filter_as_a_market_error(fake_market: Market) -> None:
    with pytest.raises(MarketError) as refused:
        fake_market.client.query("workerpool", tag="fast")

    assert refused.value.code == "invalid_filter"
    assert "tee" in str(refused.value) and "gpu" in str(refused.value)


def test_an_empty_book_answers_an_empty_page(fake_market: Market) -> None:
    page = fake_market.client.query("dataset", app=ZERO_ADDRESS)

    assert (page.total, page.orders, page.limit, page.offset) == (0, [], 100, 0)
