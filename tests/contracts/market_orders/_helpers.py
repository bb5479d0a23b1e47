"""The four order kinds, described once, and the tests every `manage<Kind>Order` passes.

Each `test_manage_<kind>_order.py` subclasses `ManageOrderContract` with its
`OrderKind` (web3.py's module_testing idea): the same behaviour is checked
for app, dataset, workerpool and request orders, and each file adds what
is particular to its kind.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boa
import pytest

from nuage.protocol import ZERO_ADDRESS, Operation, Order, to_compact
from tests.contracts.harness import Actor, Deal, Protocol

UNKNOWN_OPERATION = 2


@dataclass(frozen=True)
class OrderKind:
    """What differs between the four order kinds."""

    name: str  # "app": manageAppOrder, appOrderHash, Deal.app
    kind: int  # the `kind` of OrderPresigned / OrderClosed
    owner_role: str  # the actor fixture that owns such orders
    new_order: Callable[[Protocol, Actor], Order]  # unsigned, for a registered asset

    @property
    def capitalised(self) -> str:
        return self.name[0].upper() + self.name[1:]

    def manage(self, protocol: Protocol, order: Order, operation: int, sign: bytes = b"") -> None:
        getattr(protocol.market, f"manage{self.capitalised}Order")(
            order.as_tuple(), operation, sign
        )

    def hub_hash(self, protocol: Protocol, order: Order) -> bytes:
        return bytes(getattr(protocol.market, f"{self.name}OrderHash")(order.as_tuple()))


def _app_order(protocol: Protocol, owner: Actor) -> Order:
    return dataclasses.replace(
        protocol.app_order(protocol.new_app(owner), owner, volume=3), sign=b""
    )


def _dataset_order(protocol: Protocol, owner: Actor) -> Order:
    dataset = protocol.new_dataset(owner)
    return dataclasses.replace(protocol.dataset_order(dataset, owner, volume=3), sign=b"")


def _workerpool_order(protocol: Protocol, owner: Actor) -> Order:
    pool = protocol.new_workerpool(owner)
    return dataclasses.replace(protocol.workerpool_order(pool, owner, volume=3), sign=b"")


def _request_order(protocol: Protocol, owner: Actor) -> Order:
    app = protocol.new_app(Actor.named("app_owner"))
    order = protocol.request_order(app, owner, volume=3, params='{"iexec_args": "10"}')
    return dataclasses.replace(order, sign=b"")


APP = OrderKind("app", 0, "app_owner", _app_order)
DATASET = OrderKind("dataset", 1, "dataset_owner", _dataset_order)
WORKERPOOL = OrderKind("workerpool", 2, "pool_owner", _workerpool_order)
REQUEST = OrderKind("request", 3, "requester", _request_order)


def events(contract: Any, name: str) -> list[Any]:
    """The `name` events `contract` emitted in its last call."""
    return [
        log
        for log in contract.get_logs()
        if type(log).__name__ == name and str(log.address) == str(contract.address)
    ]


def ready_deal(protocol: Protocol, actors: dict[str, Actor]) -> Deal:
    """Matchable orders for every kind (a dataset included)."""
    return protocol.ready_deal(
        requester=actors["requester"],
        app_owner=actors["app_owner"],
        pool_owner=actors["pool_owner"],
        dataset_owner=actors["dataset_owner"],
    )


class ManageOrderContract:
    """Behaviour common to manageAppOrder, manageDatasetOrder, ... (not collected itself)."""

    KIND: OrderKind

    @pytest.fixture
    def actors(self, requester, app_owner, dataset_owner, pool_owner) -> dict[str, Actor]:
        # session-scoped actors are requested as arguments, never through
        # request.getfixturevalue: set up inside a test's anchor, they would
        # unbalance titanoboa's stack of anchors
        return {
            "requester": requester,
            "app_owner": app_owner,
            "dataset_owner": dataset_owner,
            "pool_owner": pool_owner,
        }

    @pytest.fixture
    def owner(self, actors: dict[str, Actor]) -> Actor:
        return actors[self.KIND.owner_role]

    @pytest.fixture
    def order(self, protocol: Protocol, owner: Actor) -> Order:
        return self.KIND.new_order(protocol, owner)

    def assert_refused(self, protocol, order, operation, sign, sender, reason):
        order_hash = order.hash(protocol.domain)
        root = protocol.state_root()

        with boa.env.prank(sender.address), boa.reverts(reason):
            self.KIND.manage(protocol, order, operation, sign)

        assert protocol.state_root() == root
        assert protocol.market.viewPresigned(order_hash) == ZERO_ADDRESS
        assert protocol.market.viewConsumed(order_hash) == 0

    # -- success ---------------------------------------------------------------

    def test_owner_presigns(self, protocol, owner, order):
        order_hash = order.hash(protocol.domain)

        with boa.env.prank(owner.address):
            self.KIND.manage(protocol, order, Operation.SIGN)
        [presigned] = events(protocol.market, "OrderPresigned")

        assert (presigned.order_hash, presigned.owner, presigned.kind) == (
            order_hash,
            owner.address,
            self.KIND.kind,
        )
        assert protocol.market.viewPresigned(order_hash) == owner.address
        assert protocol.market.viewConsumed(order_hash) == 0

    def test_owner_cancels(self, protocol, owner, order):
        order_hash = order.hash(protocol.domain)

        with boa.env.prank(owner.address):
            self.KIND.manage(protocol, order, Operation.CLOSE)
        [closed] = events(protocol.market, "OrderClosed")

        assert (closed.order_hash, closed.owner, closed.kind) == (
            order_hash,
            owner.address,
            self.KIND.kind,
        )
        assert protocol.market.viewConsumed(order_hash) == order.volume
        assert protocol.market.viewPresigned(order_hash) == ZERO_ADDRESS

    def test_cancelling_twice_keeps_the_order_consumed(self, protocol, owner, order):
        with boa.env.prank(owner.address):
            self.KIND.manage(protocol, order, Operation.CLOSE)
            self.KIND.manage(protocol, order, Operation.CLOSE)

        assert protocol.market.viewConsumed(order.hash(protocol.domain)) == order.volume

    @pytest.mark.parametrize("compact", [False, True], ids=["65-byte", "64-byte"])
    def test_relayer_presigns_with_the_owner_signature(
        self, protocol, owner, order, attacker, compact
    ):
        sign = order.sign_operation(Operation.SIGN, owner.key, protocol.domain)
        sign = to_compact(sign) if compact else sign

        with boa.env.prank(attacker.address):
            self.KIND.manage(protocol, order, Operation.SIGN, sign)
        [presigned] = events(protocol.market, "OrderPresigned")

        assert presigned.owner == owner.address
        assert protocol.market.viewPresigned(order.hash(protocol.domain)) == owner.address

    def test_relayer_cancels_with_the_owner_signature(self, protocol, owner, order, attacker):
        sign = order.sign_operation(Operation.CLOSE, owner.key, protocol.domain)

        with boa.env.prank(attacker.address):
            self.KIND.manage(protocol, order, Operation.CLOSE, sign)
        [closed] = events(protocol.market, "OrderClosed")

        assert closed.owner == owner.address
        assert protocol.market.viewConsumed(order.hash(protocol.domain)) == order.volume

    def test_hub_hash_is_the_order_digest(self, protocol, order):
        assert self.KIND.hub_hash(protocol, order) == order.hash(protocol.domain)

    # -- refusals --------------------------------------------------------------

    @pytest.mark.parametrize("operation", list(Operation))
    def test_stranger_without_signature_reverts(self, protocol, order, attacker, operation):
        self.assert_refused(protocol, order, operation, b"", attacker, "orders: not the owner")

    @pytest.mark.parametrize("operation", list(Operation))
    def test_stranger_with_his_own_signature_reverts(self, protocol, order, attacker, operation):
        sign = order.sign_operation(operation, attacker.key, protocol.domain)
        self.assert_refused(protocol, order, operation, sign, attacker, "orders: not the owner")

    @pytest.mark.parametrize(
        ("signed", "sent"),
        [(Operation.SIGN, Operation.CLOSE), (Operation.CLOSE, Operation.SIGN)],
        ids=["presign-replayed-as-cancel", "cancel-replayed-as-presign"],
    )
    def test_signature_for_the_other_operation_reverts(
        self, protocol, owner, order, attacker, signed, sent
    ):
        sign = order.sign_operation(signed, owner.key, protocol.domain)
        self.assert_refused(protocol, order, sent, sign, attacker, "orders: not the owner")

    def test_signature_for_another_order_reverts(self, protocol, owner, order, attacker):
        other = dataclasses.replace(order, salt=b"\xee" * 32)
        sign = other.sign_operation(Operation.CLOSE, owner.key, protocol.domain)
        self.assert_refused(
            protocol, order, Operation.CLOSE, sign, attacker, "orders: not the owner"
        )

    def test_order_signature_is_not_an_operation_signature(self, protocol, owner, order, attacker):
        """The owner's signature over the order itself must not let anyone presign it."""
        sign = order.signed(owner.key, protocol.domain).sign
        self.assert_refused(
            protocol, order, Operation.SIGN, sign, attacker, "orders: not the owner"
        )

    @pytest.mark.parametrize("operation", [UNKNOWN_OPERATION, 255])
    def test_unknown_operation_reverts(self, protocol, owner, order, operation):
        self.assert_refused(protocol, order, operation, b"", owner, "orders: unknown operation")

    # -- effect on matching ----------------------------------------------------

    def test_presigned_order_matches_without_signature(self, protocol, actors, owner):
        deal = ready_deal(protocol, actors)
        order = getattr(deal, self.KIND.name)
        unsigned = dataclasses.replace(order, sign=b"")
        with boa.env.prank(owner.address):
            self.KIND.manage(protocol, unsigned, Operation.SIGN)

        protocol.match(dataclasses.replace(deal, **{self.KIND.name: unsigned}))

        assert protocol.market.viewConsumed(order.hash(protocol.domain)) == 1

    def test_unsigned_order_without_presign_does_not_match(self, protocol, actors):
        deal = ready_deal(protocol, actors)
        unsigned = dataclasses.replace(getattr(deal, self.KIND.name), sign=b"")
        root = protocol.state_root()

        with boa.reverts(f"market: bad {self.KIND.name} order signature"):
            protocol.match(dataclasses.replace(deal, **{self.KIND.name: unsigned}))

        assert protocol.state_root() == root

    def test_cancelled_order_does_not_match(self, protocol, actors, owner):
        deal = ready_deal(protocol, actors)
        order = getattr(deal, self.KIND.name)
        with boa.env.prank(owner.address):
            self.KIND.manage(protocol, order, Operation.CLOSE)
        root = protocol.state_root()

        with boa.reverts(f"market: {self.KIND.name} order consumed"):
            protocol.match(deal)

        assert protocol.state_root() == root


class ManageAssetOrderContract(ManageOrderContract):
    """What app, dataset and workerpool orders share: the owner is the asset's owner."""

    def registry(self, protocol: Protocol) -> Any:
        return {"app": protocol.apps, "dataset": protocol.datasets}.get(
            self.KIND.name, protocol.workerpools
        )

    def asset(self, order: Order) -> str:
        return getattr(order, self.KIND.name)

    def transfer(self, protocol: Protocol, order: Order, owner: Actor, receiver: Actor) -> None:
        with boa.env.prank(owner.address):
            self.registry(protocol).transferFrom(
                owner.address, receiver.address, int(self.asset(order), 16)
            )

    @pytest.mark.parametrize("operation", list(Operation))
    def test_unregistered_asset_reverts(self, protocol, owner, order, operation):
        unknown = dataclasses.replace(order, **{self.KIND.name: "0x" + "ab" * 20})
        reason = f"orders: unknown {self.KIND.name}"
        self.assert_refused(protocol, unknown, operation, b"", owner, reason)

    @pytest.mark.parametrize("operation", list(Operation))
    def test_previous_owner_cannot_manage_orders_after_transfer(
        self, protocol, owner, order, attacker, operation
    ):
        self.transfer(protocol, order, owner, attacker)
        sign = order.sign_operation(operation, owner.key, protocol.domain)

        self.assert_refused(protocol, order, operation, b"", owner, "orders: not the owner")
        self.assert_refused(protocol, order, operation, sign, owner, "orders: not the owner")

    def test_new_owner_manages_orders_after_transfer(self, protocol, owner, order, attacker):
        self.transfer(protocol, order, owner, attacker)

        with boa.env.prank(attacker.address):
            self.KIND.manage(protocol, order, Operation.SIGN)

        assert protocol.market.viewPresigned(order.hash(protocol.domain)) == attacker.address

    def test_presign_by_previous_owner_stops_matching_after_transfer(
        self, protocol, actors, owner, attacker
    ):
        deal = ready_deal(protocol, actors)
        unsigned = dataclasses.replace(getattr(deal, self.KIND.name), sign=b"")
        with boa.env.prank(owner.address):
            self.KIND.manage(protocol, unsigned, Operation.SIGN)
        self.transfer(protocol, unsigned, owner, attacker)
        root = protocol.state_root()

        with boa.reverts(f"market: bad {self.KIND.name} order signature"):
            protocol.match(dataclasses.replace(deal, **{self.KIND.name: unsigned}))

        assert protocol.state_root() == root
