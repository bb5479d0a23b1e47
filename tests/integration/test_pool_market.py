"""The scheduler sells its pool on the market: requesters find its order there and match it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from nuage.chain.client import Chain
from nuage.market.client import MarketClient
from nuage.protocol.orders import WorkerpoolOrder
from nuage.scheduler.offers import Offer, OfferPublisher
from tests.scheduler.live_pool import NRLC, LivePool

pytestmark = pytest.mark.integration


@pytest.fixture
def pool(chain: Chain, tmp_path: Path) -> Iterator[LivePool]:
    live = LivePool(chain, tmp_path)
    yield live
    live.close()


def test_a_requester_matches_the_order_the_scheduler_keeps_on_the_market(pool: LivePool):
    market_url = pool.serve_market()
    offer = Offer(price=2 * NRLC, volume=5, trust=1)
    pool.start_scheduler(publisher=OfferPublisher(MarketClient(market_url), offer, interval=0.3))
    pool.start_worker("worker 1", funds=0)

    with MarketClient(market_url) as market:
        pool.wait_for(
            lambda: market.query("workerpool", workerpool=pool.workerpool).total == 1,
            20,
            "the pool's order in the book",
        )
        (record,) = market.query("workerpool", workerpool=pool.workerpool).orders
        order = record.to_order()
        assert isinstance(order, WorkerpoolOrder)
        assert (order.workerpoolprice, order.volume, order.trust) == (2 * NRLC, 5, 1)
        assert record.owner == pool.pool_owner.address

        created = pool.match(trust=1, volume=2, offer=order)
        pool.wait_completed(created, timeout=60)
        pool.wait_for(
            lambda: market.get(record.hash).remaining == 3, 20, "the book to see the deal"
        )
