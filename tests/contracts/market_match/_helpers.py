"""Helpers for the market's tests: amend signed orders, manage them, read what a match
published, and prove refusals.

`assert_refused` is the one place that checks a refused match: `matchOrders`
reverts with exactly the reason (the market's own, or the hub's from the
`openDeal` it calls, which locks the funds), nothing on chain moved, and
`nuage.protocol.check_match`, fed what the market and the hub read, names the
same reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import boa

from nuage.protocol import MatchVerdict, Operation, Order, check_match
from nuage.protocol.deals import Deal as DealRecord
from tests.contracts.harness import Actor, Deal, Protocol

ORDER_KINDS = ("app", "dataset", "workerpool", "request")


def verdict(protocol: Protocol, deal: Deal) -> MatchVerdict:
    """What the client library says of these orders, given what the hub would read."""
    return check_match(deal.app, deal.dataset, deal.workerpool, deal.request, protocol.facts(deal))


def events(protocol: Protocol, name: str) -> list[Any]:
    """The logs named `name` of the market's last call, its calls into the hub included.

    Any call to the market (a view too) becomes its last call: read logs first.
    """
    return [log for log in protocol.market.get_logs() if type(log).__name__ == name]


@dataclasses.dataclass(frozen=True)
class Created:
    """A `DealCreated` event: who emitted it, the deal id, the record and the params."""

    emitter: str
    deal_id: bytes
    record: DealRecord
    params: str


def deal_created(protocol: Protocol) -> Created:
    """The one `DealCreated` of the market's last call, its record read field by field."""
    [log] = events(protocol, "DealCreated")
    return Created(
        emitter=str(log.address),
        deal_id=bytes(log.deal_id),
        record=DealRecord(**log.deal._asdict()),  # by name: a reordered struct fails here
        params=log.params,
    )


def assert_refused(
    protocol: Protocol, deal: Deal, reason: str, sender: Actor | None = None
) -> None:
    """matchOrders reverts with `reason`, changes nothing, and check_match agrees."""
    said = verdict(protocol, deal)
    assert said.revert_reason == reason, said.reasons
    root = protocol.state_root()
    with boa.reverts(reason):
        protocol.match(deal, sender)
    assert protocol.state_root() == root


def manage(protocol: Protocol, order: Order, operation: Operation, owner: Actor) -> None:
    """Presign (SIGN) or cancel (CLOSE) an order on chain, sent by its owner."""
    with boa.env.prank(owner.address):
        getattr(protocol.market, f"manage{order.TYPE_NAME}")(order.as_tuple(), operation, b"")


def consumed(protocol: Protocol, order: Order) -> int:
    """How much of `order`'s volume deals have used (its full volume once cancelled)."""
    return protocol.market.viewConsumed(order.hash(protocol.domain))


@dataclasses.dataclass(frozen=True)
class Market:
    """The actors of a deal, to make ready deals and amend their orders."""

    protocol: Protocol
    requester: Actor
    app_owner: Actor
    dataset_owner: Actor
    pool_owner: Actor

    def owner(self, kind: str) -> Actor:
        return {
            "app": self.app_owner,
            "dataset": self.dataset_owner,
            "workerpool": self.pool_owner,
            "request": self.requester,
        }[kind]

    def deal(self, *, with_dataset: bool = False, **options: Any) -> Deal:
        """`Protocol.ready_deal` between these actors (with a dataset if asked)."""
        return self.protocol.ready_deal(
            requester=self.requester,
            app_owner=self.app_owner,
            pool_owner=self.pool_owner,
            dataset_owner=self.dataset_owner if with_dataset else None,
            **options,
        )

    def amend(
        self,
        deal: Deal,
        *,
        signers: Mapping[str, Actor] | None = None,
        compact: bool = False,
        **changes: Mapping[str, Any],
    ) -> Deal:
        """A copy of `deal` with fields changed (`app={"appprice": 5}`, ...).

        Each changed order is signed again, by its owner or by `signers[kind]`.
        """
        signers = signers or {}
        amended = {}
        for kind in ORDER_KINDS:
            order = getattr(deal, kind)
            if kind in changes or kind in signers:
                signer = signers.get(kind, self.owner(kind))
                order = dataclasses.replace(order, **changes.get(kind, {}))
                order = order.signed(signer.key, self.protocol.domain, compact=compact)
            amended[kind] = order
        return Deal(**amended)
