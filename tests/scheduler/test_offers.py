"""Keeping the pool's order open on the market (a fake market: no socket, no chain)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from eth_account import Account
from eth_utils import keccak

from nuage.protocol.eip712 import Domain, recover
from nuage.protocol.orders import WorkerpoolOrder
from nuage.scheduler.offers import Offer, OfferPublisher

POOL = "0x" + "a1" * 20
OWNER = Account.from_key(keccak(text="offers test pool owner"))
DOMAIN = Domain(chain_id=31337, verifying_contract="0x" + "4d" * 20)


class FakeMarket:
    def __init__(self) -> None:
        self.book: list[SimpleNamespace] = []
        self.published: list[WorkerpoolOrder] = []

    def domain(self) -> Domain:
        return DOMAIN

    def orders(self, kind: str, **filters: Any) -> list[SimpleNamespace]:
        assert (kind, filters) == ("workerpool", {"workerpool": POOL})
        return self.book

    def publish(self, order: WorkerpoolOrder) -> None:
        self.published.append(order)
        fields = {"workerpoolprice": order.workerpoolprice, "category": order.category}
        fields |= {"trust": order.trust, "tag": "0x" + order.tag.hex()}
        self.book.append(SimpleNamespace(owner=OWNER.address, remaining=order.volume, order=fields))

    def close(self) -> None:
        pass


SERVICE = SimpleNamespace(workerpool=POOL, pool_owner=OWNER)


def test_an_order_is_published_once_and_again_when_the_first_is_used_up():
    market = FakeMarket()
    publisher = OfferPublisher(market, Offer(price=2 * 10**9, volume=10, trust=100))
    order = publisher.ensure_open_order(SERVICE)  # type: ignore[arg-type]
    assert order is not None and (order.workerpoolprice, order.trust) == (2 * 10**9, 100)
    assert recover(order.hash(DOMAIN), order.sign) == OWNER.address
    assert publisher.ensure_open_order(SERVICE) is None  # type: ignore[arg-type]
    market.book[0].remaining = 0
    assert publisher.ensure_open_order(SERVICE) is not None  # type: ignore[arg-type]
    assert len(market.published) == 2


def test_an_open_order_at_other_terms_does_not_count():
    market = FakeMarket()
    OfferPublisher(market, Offer(price=1)).ensure_open_order(SERVICE)  # type: ignore[arg-type]
    OfferPublisher(market, Offer(price=2)).ensure_open_order(SERVICE)  # type: ignore[arg-type]
    assert [o.workerpoolprice for o in market.published] == [1, 2]


def test_an_offer_must_make_sense():
    with pytest.raises(ValueError):
        Offer(price=1, volume=0)
