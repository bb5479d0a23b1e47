"""The market's verdict on four orders equals `matchOrders` on chain, for random orders.

The market judges with `check_match` on chain facts it reads itself (`nuage.market.judge`); the
contract is asked with an `eth_call`. Both accept, or both refuse with the same first reason.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from web3.exceptions import ContractLogicError

from nuage.chain.anvil import Anvil
from nuage.chain.client import Chain
from nuage.chain.deployment import deploy_protocol
from nuage.market import judge
from nuage.protocol import (
    ZERO_ADDRESS,
    AppOrder,
    DatasetOrder,
    Order,
    RequestOrder,
    WorkerpoolOrder,
    tags,
)
from tests.market.worlds import ChainWorld, actor

pytestmark = pytest.mark.integration

PRICE = 10**9
TAGS = [b"\x00" * 32, tags.tag("gpu"), tags.tag("tee"), tags.tag("tee", "gpu")]


@dataclasses.dataclass
class Stage:
    """Registered assets and accounts, some rich and some poor, on one anvil."""

    world: ChainWorld
    app_owner: LocalAccount
    dataset_owner: LocalAccount
    pool_owner: LocalAccount
    poor_pool_owner: LocalAccount
    requester: LocalAccount
    poor_requester: LocalAccount
    attacker: LocalAccount
    app: str
    other_app: str
    dataset: str
    pool: str
    poor_pool: str
    salts: Iterator[int] = dataclasses.field(default_factory=itertools.count)


@pytest.fixture
def stage(anvil: Anvil) -> Stage:
    chain = Chain(anvil.url)
    deployer = actor("deployer")
    chain.fund_eth(deployer.address, 10**21)
    world = ChainWorld(chain, deploy_protocol(chain, deployer), deployer)
    roles = {
        role: actor(role)
        for role in (
            "app_owner",
            "dataset_owner",
            "pool_owner",
            "poor_pool_owner",
            "requester",
            "poor_requester",
            "attacker",
        )
    }
    for role in ("poor_requester", "attacker", "poor_pool_owner"):
        world.chain.fund_eth(roles[role].address, 10**20)
    world.deposit(roles["requester"], 10_000 * PRICE)
    world.deposit(roles["pool_owner"], 10_000 * PRICE)
    return Stage(
        world=world,
        app=world.new_app(roles["app_owner"]),
        other_app=world.new_app(roles["attacker"]),
        dataset=world.new_dataset(roles["dataset_owner"]),
        pool=world.new_workerpool(roles["pool_owner"]),
        poor_pool=world.new_workerpool(roles["poor_pool_owner"]),
        **roles,
    )


def pick(data: st.DataObject, *choices: Any) -> Any:
    return data.draw(st.sampled_from(choices))


def rarely(data: st.DataObject) -> bool:
    """True about one time in twenty: most examples keep orders compatible, so that every check
    of matchOrders, the last ones too, gets its turn to refuse."""
    return data.draw(st.integers(0, 19)) == 0


def authored(data: st.DataObject, stage: Stage, order: Order, owner: LocalAccount) -> Order:
    """The order signed by its owner; rarely by an attacker, presigned, or not signed at all."""
    how = pick(data, "attacker", "presigned", "unsigned") if rarely(data) else "owner"
    domain = stage.world.domain
    if how == "owner":
        return order.signed(owner.key, domain)
    if how == "attacker":
        return order.signed(stage.attacker.key, domain)
    if how == "presigned":
        stage.world.presign(order, owner)
    return order


def draw_orders(
    data: st.DataObject, stage: Stage
) -> tuple[AppOrder, DatasetOrder, WorkerpoolOrder, RequestOrder]:
    def salt() -> bytes:
        return next(stage.salts).to_bytes(32, "big")

    def restriction(right: str) -> str:
        if rarely(data):
            return stage.attacker.address
        return str(pick(data, ZERO_ADDRESS, right))

    def max_price(price: int) -> int:
        if rarely(data) and price:
            return price - 1
        return price + int(pick(data, 0, PRICE))

    def tag() -> bytes:
        return pick(data, *TAGS) if rarely(data) else TAGS[0]

    requester = stage.poor_requester if rarely(data) else stage.requester
    poor = rarely(data)
    pool = stage.poor_pool if poor else stage.pool
    pool_owner = stage.poor_pool_owner if poor else stage.pool_owner
    with_dataset = pick(data, False, True)
    prices = st.sampled_from([0, PRICE, 3 * PRICE])
    app = AppOrder(
        app=stage.app,
        appprice=data.draw(prices),
        volume=data.draw(st.integers(1, 3)),
        tag=tag(),
        datasetrestrict=restriction(stage.dataset if with_dataset else ZERO_ADDRESS),
        workerpoolrestrict=restriction(pool),
        requesterrestrict=restriction(requester.address),
        salt=salt(),
    )
    dataset = DatasetOrder.none()
    if with_dataset:
        dataset = DatasetOrder(
            dataset=stage.dataset,
            datasetprice=data.draw(prices),
            volume=data.draw(st.integers(1, 3)),
            tag=tag(),
            apprestrict=restriction(stage.app),
            workerpoolrestrict=restriction(pool),
            requesterrestrict=restriction(requester.address),
            salt=salt(),
        )
    request_tag = tag()
    asked = tags.to_int(app.tag) | tags.to_int(dataset.tag) | tags.to_int(request_tag)
    offered = tags.to_int(pick(data, *TAGS)) if rarely(data) else asked
    category, trust = data.draw(st.integers(0, 1)), data.draw(st.integers(0, 3))
    workerpool = WorkerpoolOrder(
        workerpool=pool,
        workerpoolprice=data.draw(prices),
        volume=data.draw(st.integers(1, 3)),
        tag=offered.to_bytes(32, "big"),
        category=category,
        trust=trust,
        apprestrict=restriction(stage.app),
        datasetrestrict=restriction(stage.dataset if with_dataset else ZERO_ADDRESS),
        requesterrestrict=restriction(requester.address),
        salt=salt(),
    )
    request = RequestOrder(
        app=stage.other_app if rarely(data) else stage.app,
        appmaxprice=max_price(app.appprice),
        dataset=stage.dataset if rarely(data) else dataset.dataset,
        datasetmaxprice=max_price(dataset.datasetprice),
        workerpool=restriction(pool),
        workerpoolmaxprice=max_price(workerpool.workerpoolprice),
        requester=requester.address,
        volume=data.draw(st.integers(1, 3)),
        tag=request_tag,
        category=pick(data, 1 - category, 7) if rarely(data) else category,
        trust=trust + 1 if rarely(data) else data.draw(st.integers(0, trust)),
        salt=salt(),
    )
    owners: list[tuple[Order, LocalAccount]] = [
        (app, stage.app_owner),
        (workerpool, pool_owner),
        (request, requester),
    ]
    if with_dataset:
        owners.append((dataset, stage.dataset_owner))
    signed = {id(order): authored(data, stage, order, owner) for order, owner in owners}
    for order, owner in owners:
        if rarely(data):
            stage.world.cancel(order, owner)
    app_signed = signed[id(app)]
    assert isinstance(app_signed, AppOrder)
    dataset_signed = signed.get(id(dataset), dataset)
    assert isinstance(dataset_signed, DatasetOrder)
    pool_signed = signed[id(workerpool)]
    assert isinstance(pool_signed, WorkerpoolOrder)
    request_signed = signed[id(request)]
    assert isinstance(request_signed, RequestOrder)
    return app_signed, dataset_signed, pool_signed, request_signed


def chain_verdict(stage: Stage, orders: tuple[Order, ...]) -> str | None:
    """None when matchOrders would succeed now, else its revert reason."""
    market = stage.world.contracts.market
    call = market.functions.matchOrders(*(order.as_tuple() for order in orders))
    try:
        call.call({"from": stage.world.deployer.address})
    except ContractLogicError as refused:
        message = str(refused.message or refused)
        return message.removeprefix("execution reverted: ")
    return None


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_the_market_judges_four_orders_as_matchOrders_does(
    stage: Stage, data: st.DataObject
) -> None:
    orders = draw_orders(data, stage)

    verdict = judge(stage.world.reads, *orders)
    on_chain = chain_verdict(stage, orders)

    event(on_chain or "matched")
    assert verdict.revert_reason == on_chain, verdict.reasons
    if on_chain is None:  # a deal: later examples meet consumed volumes and smaller balances
        assert stage.world.match(*orders) is None
