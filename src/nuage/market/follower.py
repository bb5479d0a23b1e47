"""Keeps the book in step with the chain: fills, cancellations and assets changing hands.

`BookFollower.apply` takes one contract event:

- ``OrdersMatched`` (a deal used the orders) and ``OrderClosed`` (an owner cancelled one): the
  consumed volume of each order of the book it names is read again from the chain; an order
  with nothing left leaves the book, FILLED or CANCELLED;
- a registry's ERC-721 ``Transfer``: the asset's owner is read again, and the open orders for it
  signed by anyone else leave the book (OWNER_CHANGED): the hub would refuse their signatures;
- ``DealCreated`` is logged; other events change nothing.

Values are read from the chain as it is now, not as it was at the event, so an event handled
late never undoes a newer state. The book's changes and the watcher's cursor are committed in
one transaction (`SqlCursorStore`): each event takes effect exactly once, across restarts.
`follow` runs an `EventWatcher` with `apply` until stopped, and starts it again after a failure.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from contextlib import suppress
from typing import Any

from eth_utils import to_checksum_address
from sqlalchemy import Engine

from nuage.chain.bindings import Contracts
from nuage.chain.watcher import Event, EventWatcher, SqlCursorStore, Web3LogSource
from nuage.market.book import BookOrder, OrderBook, Status
from nuage.market.reads import ChainReads
from nuage.market.tables import CURSORS
from nuage.market.wire import OrderKind
from nuage.protocol.orders import ZERO_ADDRESS

__all__ = ["WATCHER_NAME", "BookFollower", "market_watcher"]

log = logging.getLogger(__name__)

WATCHER_NAME = "market-book"
_MATCHED_HASHES = (
    "app_order_hash",
    "dataset_order_hash",
    "workerpool_order_hash",
    "request_order_hash",
)


def market_watcher(
    contracts: Contracts,
    engine: Engine,
    *,
    confirmations: int = 0,
    poll_interval: float = 0.5,
) -> EventWatcher:
    """A watcher of the market and the three registries, its cursor in the book's database."""
    artifacts = contracts.chain.artifacts
    deployment = contracts.deployment
    watched = {
        deployment.market: artifacts["Market"].abi,
        deployment.app_registry: artifacts["AppRegistry"].abi,
        deployment.dataset_registry: artifacts["DatasetRegistry"].abi,
        deployment.workerpool_registry: artifacts["WorkerpoolRegistry"].abi,
    }
    return EventWatcher(
        Web3LogSource(contracts.chain.w3),
        watched,
        SqlCursorStore(engine, CURSORS),
        WATCHER_NAME,
        from_block=deployment.block,
        confirmations=confirmations,
        poll_interval=poll_interval,
    )


class BookFollower:
    """Applies contract events to the book, each with the watcher's cursor."""

    def __init__(
        self,
        book: OrderBook,
        reads: ChainReads,
        registries: Mapping[str, OrderKind],
        cursors: SqlCursorStore,
        *,
        name: str = WATCHER_NAME,
    ) -> None:
        self.book = book
        self.reads = reads
        self.registries: dict[str, OrderKind] = {
            str(to_checksum_address(address)): kind for address, kind in registries.items()
        }
        self.cursors = cursors
        self.name = name
        self.failures = 0
        self.last_error: str | None = None

    @classmethod
    def for_contracts(
        cls, book: OrderBook, reads: ChainReads, contracts: Contracts, cursors: SqlCursorStore
    ) -> BookFollower:
        deployment = contracts.deployment
        registries: dict[str, OrderKind] = {
            deployment.app_registry: "app",
            deployment.dataset_registry: "dataset",
            deployment.workerpool_registry: "workerpool",
        }
        return cls(book, reads, registries, cursors)

    def apply(self, event: Event) -> None:
        """Applies one event to the book (chain reads first, then one transaction)."""
        if event.name == "OrdersMatched":
            hashes = [bytes(event.args[name]) for name in _MATCHED_HASHES]
            self._consumed(event, hashes, Status.FILLED)
        elif event.name == "OrderClosed":
            self._consumed(event, [bytes(event.args["order_hash"])], Status.CANCELLED)
        elif event.name == "Transfer" and event.address in self.registries:
            self._transfer(event, self.registries[event.address])
        elif event.name == "DealCreated":
            _log_deal(event.args)

    async def handle(self, event: Event) -> None:
        """`apply`, in a thread (it reads the chain and writes the database)."""
        await asyncio.to_thread(self.apply, event)
        self.last_error = None  # an event went through: whatever failed before works again

    def catch_up(self, watcher: EventWatcher) -> int:
        """Applies every confirmed event not handled yet; how many there were."""
        handled = 0
        while events := watcher.poll():
            for event in events:
                self.apply(event)
                watcher.ack(event)
                handled += 1
        return handled

    async def follow(
        self,
        watcher: EventWatcher,
        stop: asyncio.Event,
        *,
        retry_delay: float = 1.0,
        max_retry_delay: float = 30.0,
    ) -> None:
        """Follows the chain until `stop` is set; a failure is logged and retried with backoff.

        The watcher waits out chain outages by itself; what stops it is a failure in `apply`
        (the database, or a chain read in between two polls). The event is not acked, so the
        next run hands it over again.
        """
        delay = retry_delay
        while not stop.is_set():
            try:
                await watcher.arun(self.handle, stop)
            except Exception as error:
                self.failures += 1
                self.last_error = f"{type(error).__name__}: {error}"
                log.error("the book stopped following the chain (%s); again in %g s", error, delay)
                with suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                delay = min(max_retry_delay, delay * 2)
            else:
                return
            log.info("the book follows the chain again from %s", watcher.cursor)

    # -- internals

    def _consumed(self, event: Event, hashes: list[bytes], gone: Status) -> None:
        with self.book.engine.connect() as connection:
            known = self.book.known(connection, hashes)
        consumed = {order.hash: self.reads.consumed(order.hash) for order in known}
        with self.book.writing() as connection:
            for order in self.book.known(connection, consumed):
                status = self.book.record_consumed(connection, order, consumed[order.hash], gone)
                _log_consumed(order, consumed[order.hash], status, event)
            self.cursors.save(self.name, event.cursor, connection=connection)

    def _transfer(self, event: Event, kind: OrderKind) -> None:
        if event.args["sender"] == ZERO_ADDRESS:
            return  # a new asset: no order can name it yet
        asset = to_checksum_address(int(event.args["token_id"]).to_bytes(20, "big"))
        owner = self.reads.asset_owner(kind, asset)
        with self.book.writing() as connection:
            retired = self.book.retire_old_owners(connection, kind, asset, owner)
            self.cursors.save(self.name, event.cursor, connection=connection)
        if retired:
            log.info(
                "%d %s order(s) left the book: %s %s now belongs to %s (%s)",
                len(retired),
                kind,
                kind,
                asset,
                owner,
                ", ".join("0x" + h.hex() for h in retired),
            )


def _log_consumed(order: BookOrder, consumed: int, status: Status, event: Event) -> None:
    key = "0x" + order.hash.hex()
    left = max(0, order.volume - consumed)
    if status == order.status:
        log.info("%s order %s: %d of %d left (%s)", order.kind, key, left, order.volume, event)
    else:
        log.info("%s order %s left the book: %s (%s)", order.kind, key, status, event)


def _log_deal(args: Mapping[str, Any]) -> None:
    deal = args.get("deal", {})
    log.info(
        "deal 0x%s: %s task(s) of app %s on workerpool %s for %s",
        bytes(args["deal_id"]).hex(),
        deal.get("bot_size"),
        deal.get("app"),
        deal.get("workerpool"),
        deal.get("requester"),
    )
