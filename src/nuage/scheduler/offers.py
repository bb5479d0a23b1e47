"""Selling the pool's capacity: keeping a workerpool order of the pool open on the market.

`OfferPublisher` is a publisher for `SchedulerService(publisher=...)`: every `interval` seconds
it asks the market for the pool's open orders and, when none of the pool owner's still has
volume left at the offered terms, signs a new one (`Offer`: price, volume, category, trust, tag)
and publishes it. The market follows the chain, so a filled order leaves the book by itself and
the next round publishes another. A market that does not answer is logged and tried again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from nuage.exceptions import NuageError
from nuage.protocol.eip712 import Domain
from nuage.protocol.orders import WorkerpoolOrder

if TYPE_CHECKING:
    from nuage.scheduler.service import SchedulerService

__all__ = ["Market", "Offer", "OfferPublisher"]

log = logging.getLogger(__name__)


class Market(Protocol):
    """What the publisher needs of `nuage.market.MarketClient`."""

    def domain(self) -> Domain: ...

    def orders(self, kind: Any, **filters: Any) -> Any: ...

    def publish(self, order: Any) -> Any: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Offer:
    """The terms the pool sells at: nRLC per task, tasks per order, category, trust, tag."""

    price: int
    volume: int = 100
    category: int = 0
    trust: int = 0
    tag: bytes = bytes(32)

    def __post_init__(self) -> None:
        if self.price < 0 or self.volume < 1 or self.trust < 0 or len(self.tag) != 32:
            raise ValueError(
                "an offer needs a price >= 0, a volume >= 1, trust >= 0, a bytes32 tag"
            )

    def order(self, workerpool: str) -> WorkerpoolOrder:
        return WorkerpoolOrder(
            workerpool=workerpool,
            workerpoolprice=self.price,
            volume=self.volume,
            tag=self.tag,
            category=self.category,
            trust=self.trust,
            salt=secrets.token_bytes(32),
        )

    def describes(self, fields: dict[str, Any]) -> bool:
        """Whether a published order's fields are these terms."""
        tag = fields.get("tag", "0x" + "00" * 32)
        tag_bytes = bytes.fromhex(tag[2:]) if isinstance(tag, str) else bytes(tag)
        return (
            int(fields.get("workerpoolprice", -1)) == self.price
            and int(fields.get("category", -1)) == self.category
            and int(fields.get("trust", -1)) == self.trust
            and tag_bytes == self.tag
        )


class OfferPublisher:
    """Keeps one order of `offer` open for the pool; pass it as the service's publisher."""

    def __init__(self, market: Market, offer: Offer, *, interval: float = 30.0) -> None:
        self.market = market
        self.offer = offer
        self.interval = interval

    async def __call__(self, service: SchedulerService, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.ensure_open_order, service)
            except NuageError as error:
                log.warning("publishing the pool's order failed: %s; trying again later", error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval)

    def ensure_open_order(self, service: SchedulerService) -> WorkerpoolOrder | None:
        """Publishes a new order unless one at these terms is open; the new order or None."""
        owner = service.pool_owner
        for record in self.market.orders("workerpool", workerpool=service.workerpool):
            mine = record.owner == owner.address and record.remaining > 0
            if mine and self.offer.describes(record.order):
                return None
        order = self.offer.order(service.workerpool).signed(owner.key, self.market.domain())
        self.market.publish(order)
        log.info(
            "published a workerpool order: %d tasks at %d nRLC, category %d, trust %d",
            self.offer.volume,
            self.offer.price,
            self.offer.category,
            self.offer.trust,
        )
        return order
