"""The client library's verdict (`check_match`) agrees with Market.matchOrders.

A fixed world (an app, a dataset, two pools) and compatible orders, of which
an example perturbs a few fields: categories, trusts, prices, tags,
restrictions, volumes, assets, signatures, cancellations, transfers, funds. Whatever the
library says, the market (and the hub, which locks the funds) does: the same deal (id,
volume, money locked in the hub, record committed), or a revert with exactly the
library's first reason and nothing changed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import boa
import pytest
from eth_utils import keccak, to_checksum_address
from hypothesis import event, given, note
from hypothesis import strategies as st

from nuage.protocol import (
    ZERO_ADDRESS,
    AppOrder,
    DatasetOrder,
    Operation,
    Order,
    RequestOrder,
    WorkerpoolOrder,
)
from nuage.protocol.eip712 import SECP256K1_N, to_compact
from nuage.protocol.tags import GPU, TEE
from tests.contracts.harness import Actor, Deal, Protocol
from tests.contracts.market_match._helpers import deal_created, events, manage, verdict

PRICE = 10**9
PLENTY = 10**12
RIGHT, WRONG, ZERO = "right", "wrong", "zero"
UNREGISTERED = "unregistered"

prices = st.sampled_from([0, PRICE - 1, PRICE, PRICE + 1, 2**96])
tags = st.sampled_from([0, TEE, GPU, TEE | GPU])
trusts = st.sampled_from([0, 1, 5, 100, 2**40])
parties = st.sampled_from([ZERO, RIGHT, WRONG])
volumes = st.integers(0, 3)
# how an order's signature is spoiled: the attacker's, none at all, or the owner's, altered
signatures = st.one_of(
    st.sampled_from([WRONG, "nobody", "high s", "v as 0 or 1", "v 29", "r zero", "truncated"]),
    st.binary(min_size=64, max_size=65),
)

# field perturbations an example may draw, each with the values it may take
KNOBS: dict[str, st.SearchStrategy[Any]] = {
    "request.category": st.integers(0, 6),
    "workerpool.category": st.integers(0, 6),
    "request.trust": trusts,
    "workerpool.trust": trusts,
    "app.appprice": prices,
    "dataset.datasetprice": prices,
    "workerpool.workerpoolprice": prices,
    "request.appmaxprice": prices,
    "request.datasetmaxprice": prices,
    "request.workerpoolmaxprice": prices,
    "app.tag": tags,
    "dataset.tag": tags,
    "workerpool.tag": tags,
    "request.tag": tags,
    "request.app": st.sampled_from([RIGHT, WRONG]),
    "request.dataset": parties,
    "request.workerpool": parties,
    "app.datasetrestrict": parties,
    "app.workerpoolrestrict": parties,
    "app.requesterrestrict": parties,
    "dataset.apprestrict": parties,
    "dataset.workerpoolrestrict": parties,
    "dataset.requesterrestrict": parties,
    "workerpool.apprestrict": parties,
    "workerpool.datasetrestrict": parties,
    "workerpool.requesterrestrict": parties,
    "app.volume": volumes,
    "dataset.volume": volumes,
    "workerpool.volume": volumes,
    "request.volume": volumes,
    "app.asset": st.just(UNREGISTERED),
    "dataset.asset": st.just(UNREGISTERED),
    "workerpool.asset": st.sampled_from(["second pool", UNREGISTERED]),
    "app.signature": signatures,
    "dataset.signature": signatures,
    "workerpool.signature": signatures,
    "request.signature": signatures,
    "app.transferred": st.just(True),
    "dataset.transferred": st.just(True),
    "workerpool.transferred": st.just(True),
    "app.cancelled": st.just(True),
    "dataset.cancelled": st.just(True),
    "workerpool.cancelled": st.just(True),
    "request.cancelled": st.just(True),
    "requester.funds": st.sampled_from([0, PRICE, 3 * PRICE]),
    "pool_owner.funds": st.sampled_from([0, PRICE * 30 // 100, PRICE]),
    "requester owns the pool": st.just(True),
    "sixth category": st.just(True),
}


@dataclass(frozen=True)
class Scenario:
    with_dataset: bool
    volumes: dict[str, int]
    styles: dict[str, str]  # how each owner signs: "full", "compact" or "presigned"
    rounds: int  # matching the same orders again sees them partly consumed
    changes: dict[str, Any]

    def get(self, knob: str, default: Any) -> Any:
        return self.changes.get(knob, default)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    kinds = ("app", "dataset", "workerpool", "request")
    knobs = draw(st.sets(st.sampled_from(sorted(KNOBS)), max_size=3))
    return Scenario(
        with_dataset=draw(st.booleans()),
        volumes={kind: draw(st.integers(1, 3)) for kind in kinds},
        styles={kind: draw(st.sampled_from(["full", "compact", "presigned"])) for kind in kinds},
        rounds=draw(st.integers(1, 2)),
        changes={knob: draw(KNOBS[knob]) for knob in sorted(knobs)},
    )


@dataclass(frozen=True)
class World:
    app: str
    dataset: str
    pools: tuple[str, str]


@pytest.fixture
def world(protocol: Protocol, app_owner: Actor, dataset_owner: Actor, pool_owner: Actor) -> World:
    return World(
        app=protocol.new_app(app_owner),
        dataset=protocol.new_dataset(dataset_owner),
        pools=(protocol.new_workerpool(pool_owner), protocol.new_workerpool(pool_owner)),
    )


def unregistered_address(kind: str) -> str:
    return to_checksum_address(keccak(text=f"never registered {kind}")[:20])


@dataclass
class Table:
    """The example's orders as built, with who owns and who signs each."""

    protocol: Protocol
    scenario: Scenario
    world: World
    owners: dict[str, Actor]
    attacker: Actor

    def asset(self, kind: str) -> str:
        choice = self.scenario.get(f"{kind}.asset", "registered")
        if choice == UNREGISTERED:
            return unregistered_address(kind)
        if kind == "app":
            return self.world.app
        if kind == "dataset":
            return self.world.dataset if self.scenario.with_dataset else ZERO_ADDRESS
        return self.world.pools[choice == "second pool"]

    def party(self, knob: str, right: str, default: str = ZERO) -> str:
        choice = self.scenario.get(knob, default)
        return {ZERO: ZERO_ADDRESS, RIGHT: right, WRONG: self.attacker.address}[choice]

    def orders(self) -> Deal:
        s, salt = self.scenario, self.protocol.salt
        app, dataset, pool = self.asset("app"), self.asset("dataset"), self.asset("workerpool")
        requester = self.owners["request"].address
        none = DatasetOrder.none()
        return Deal(
            app=AppOrder(
                app=app,
                appprice=s.get("app.appprice", PRICE),
                volume=s.get("app.volume", s.volumes["app"]),
                tag=bits(s.get("app.tag", 0)),
                datasetrestrict=self.party("app.datasetrestrict", dataset),
                workerpoolrestrict=self.party("app.workerpoolrestrict", pool),
                requesterrestrict=self.party("app.requesterrestrict", requester),
                salt=salt(),
            ),
            dataset=DatasetOrder(
                dataset=dataset,
                datasetprice=s.get("dataset.datasetprice", PRICE if s.with_dataset else 0),
                volume=s.get("dataset.volume", s.volumes["dataset"] if s.with_dataset else 0),
                tag=bits(s.get("dataset.tag", 0)),
                apprestrict=self.party("dataset.apprestrict", app),
                workerpoolrestrict=self.party("dataset.workerpoolrestrict", pool),
                requesterrestrict=self.party("dataset.requesterrestrict", requester),
                salt=salt() if s.with_dataset else none.salt,
            ),
            workerpool=WorkerpoolOrder(
                workerpool=pool,
                workerpoolprice=s.get("workerpool.workerpoolprice", PRICE),
                volume=s.get("workerpool.volume", s.volumes["workerpool"]),
                tag=bits(s.get("workerpool.tag", 0)),
                category=s.get("workerpool.category", 0),
                trust=s.get("workerpool.trust", 0),
                apprestrict=self.party("workerpool.apprestrict", app),
                datasetrestrict=self.party("workerpool.datasetrestrict", dataset),
                requesterrestrict=self.party("workerpool.requesterrestrict", requester),
                salt=salt(),
            ),
            request=RequestOrder(
                app=self.party("request.app", app, default=RIGHT),
                appmaxprice=s.get("request.appmaxprice", PRICE),
                dataset=self.party("request.dataset", dataset, default=RIGHT),
                datasetmaxprice=s.get("request.datasetmaxprice", PRICE),
                workerpool=self.party("request.workerpool", pool),
                workerpoolmaxprice=s.get("request.workerpoolmaxprice", PRICE),
                requester=requester,
                volume=s.get("request.volume", s.volumes["request"]),
                tag=bits(s.get("request.tag", 0)),
                category=s.get("request.category", 0),
                trust=s.get("request.trust", 0),
                salt=salt(),
            ),
        )

    def registered(self, kind: str) -> bool:
        if kind == "request":
            return True
        if kind == "dataset" and not self.scenario.with_dataset:
            return False
        return self.scenario.get(f"{kind}.asset", "registered") != UNREGISTERED

    def sign(self, deal: Deal) -> Deal:
        """Each owner signs (or presigns) its order, then perturbations spoil some."""
        signed = {}
        for kind in ("app", "dataset", "workerpool", "request"):
            order, owner = getattr(deal, kind), self.owners[kind]
            if kind != "dataset" or self.scenario.with_dataset:
                order = self.signed(kind, order, owner)
            if self.scenario.get(f"{kind}.cancelled", False) and self.registered(kind):
                manage(self.protocol, order, Operation.CLOSE, owner)
            signed[kind] = order
        return Deal(**signed)

    def signed(self, kind: str, order: Order, owner: Actor) -> Order:
        domain, style = self.protocol.domain, self.scenario.styles[kind]
        spoil = self.scenario.get(f"{kind}.signature", None)
        if spoil is None and style == "presigned" and self.registered(kind):
            manage(self.protocol, order, Operation.SIGN, owner)
            return order
        signer = self.attacker if spoil == WRONG else owner
        sign = order.signed(signer.key, domain).sign
        r, s, v = sign[:32], int.from_bytes(sign[32:64], "big"), sign[64]
        if isinstance(spoil, bytes):
            sign = spoil
        elif spoil == "nobody":
            sign = b""
        elif spoil == "high s":  # the same signature, malleated (EIP-2 forbids it)
            sign = r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])
        elif spoil == "v as 0 or 1":  # still valid
            sign = sign[:64] + bytes([v - 27])
        elif spoil == "v 29":
            sign = sign[:64] + bytes([29])
        elif spoil == "r zero":
            sign = bytes(32) + sign[32:]
        elif spoil == "truncated":
            sign = sign[:64]
        elif style == "compact":
            sign = to_compact(sign)
        return dataclasses.replace(order, sign=sign)

    def transfer_assets(self) -> None:
        """Perturbed assets change hands after their orders were signed."""
        registries = {
            "app": self.protocol.apps,
            "dataset": self.protocol.datasets,
            "workerpool": self.protocol.workerpools,
        }
        for kind, registry in registries.items():
            if self.scenario.get(f"{kind}.transferred", False) and self.registered(kind):
                owner, asset = self.owners[kind], self.asset(kind)
                with boa.env.prank(owner.address):
                    registry.transferFrom(owner.address, self.attacker.address, int(asset, 16))


def bits(value: int) -> bytes:
    return value.to_bytes(32, "big")


def refusal(protocol: Protocol, deal: Deal) -> str | None:
    """The revert reason of matchOrders on these orders, or None if it made a deal."""
    try:
        protocol.match(deal)
    except boa.BoaError as error:
        return str(error.stack_trace.last_frame.pretty_vm_reason)
    return None


@given(scenario=scenarios())
def test_check_match_agrees_with_match_orders(
    protocol,
    world,
    deployer,
    requester,
    app_owner,
    dataset_owner,
    pool_owner,
    attacker,
    scenario,
):
    with boa.env.anchor():
        if scenario.get("requester owns the pool", False):
            requester = pool_owner
        owners = {
            "app": app_owner,
            "dataset": dataset_owner,
            "workerpool": pool_owner,
            "request": requester,
        }
        table = Table(protocol, scenario, world, owners, attacker)
        for actor, knob in ((requester, "requester.funds"), (pool_owner, "pool_owner.funds")):
            if funds := scenario.get(knob, PLENTY):
                protocol.deposit(actor, funds)
        if scenario.get("sixth category", False):
            with boa.env.prank(deployer.address):
                protocol.market.createCategory("XXL", "T = 1 day", 86400)
        deal = table.sign(table.orders())
        table.transfer_assets()

        for _ in range(scenario.rounds):
            said = verdict(protocol, deal)
            note(f"check_match: {[reason.value for reason in said.reasons]}")
            event(said.revert_reason or "deal made")
            if said.ok:
                assert_same_deal(protocol, deal, said, requester, pool_owner)
            else:
                root = protocol.state_root()
                assert refusal(protocol, deal) == said.revert_reason
                assert protocol.state_root() == root


def assert_same_deal(protocol, deal, said, requester: Actor, pool_owner: Actor) -> None:
    moves: dict[str, list[int]] = {requester.address: [0, 0], pool_owner.address: [0, 0]}
    moves[requester.address][0] -= said.cost
    moves[requester.address][1] += said.cost
    moves[pool_owner.address][0] -= said.stake
    moves[pool_owner.address][1] += said.stake
    before = {address: protocol.account(address) for address in moves}
    request_hash = deal.request.hash(protocol.domain)
    bot_first = protocol.market.viewConsumed(request_hash)

    made = protocol.match(deal)

    [matched] = events(protocol, "OrdersMatched")
    created = deal_created(protocol)
    assert (made, matched.volume) == (said.deal_id, said.volume)
    for address, (free, frozen) in moves.items():
        assert protocol.account(address) == (before[address][0] + free, before[address][1] + frozen)
    assert protocol.market.viewConsumed(request_hash) == bot_first + said.volume
    record = created.record
    assert (created.deal_id, record.bot_first, record.bot_size) == (made, bot_first, said.volume)
    assert protocol.hub.viewDeal(made) == record.commitment()
