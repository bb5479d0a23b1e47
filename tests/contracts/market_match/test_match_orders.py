"""Market.matchOrders: deals made, money locked in the hub, every reason a match is refused.

Each refusal is checked three ways (`assert_refused`): the exact revert
reason (the market's, or the hub's from `openDeal` for the two balance
checks), an unchanged chain, and the same first reason from the client
library's `check_match`. Each deal made is checked against `check_match`'s
prediction and against its `DealCreated` record, whose commitment the hub keeps.
"""

import ast
import dataclasses
import re
from pathlib import Path

import boa
import pytest
from eth_utils import keccak, to_checksum_address

from nuage.protocol import ZERO_ADDRESS, Incompatibility, Operation, deal_id
from nuage.protocol.tags import GPU, TEE
from tests.contracts.deployers import CONTRACTS
from tests.contracts.harness import Actor, Deal
from tests.contracts.market_match._helpers import (
    Created,
    assert_refused,
    consumed,
    deal_created,
    events,
    manage,
    verdict,
)

PRICE = 10**9  # ready_deal's price of each order, in nRLC
STAKE = PRICE * 30 // 100  # the pool owner's lock per task
HERE = Path(__file__).resolve().parent


def tag(bits: int) -> bytes:
    return bits.to_bytes(32, "big")


def unregistered(name: str) -> str:
    return to_checksum_address(keccak(text=f"never registered {name}")[:20])


def leave_free(protocol, actor: Actor, free: int) -> None:
    """Withdraw until `actor` has exactly `free` nRLC of free balance in the hub."""
    with boa.env.prank(actor.address):
        protocol.hub.withdraw(protocol.hub.balanceOf(actor.address) - free)


def assert_matches(protocol, deal: Deal, sender: Actor | None = None) -> Created:
    """The market makes the deal check_match predicts (id and volume), publishes its
    record in `DealCreated`, and the hub keeps that record's commitment."""
    said = verdict(protocol, deal)
    assert said.ok, said.reasons
    made = protocol.match(deal, sender)
    assert made == said.deal_id
    [matched] = events(protocol, "OrdersMatched")
    assert matched.volume == said.volume
    created = deal_created(protocol)
    assert (created.deal_id, created.record.bot_size) == (made, said.volume)
    assert protocol.hub.viewDeal(made) == created.record.commitment()
    return created


# -- deals made ------------------------------------------------------------------


def test_plain_deal_locks_payment_and_stake_and_consumes_orders(
    protocol, market, requester, pool_owner
):
    deal = market.deal(volume=2)
    said = verdict(protocol, deal)
    request_hash = deal.request.hash(protocol.domain)
    requester_free, requester_frozen = protocol.account(requester)
    owner_free, owner_frozen = protocol.account(pool_owner)
    root = protocol.state_root()

    made = protocol.match(deal)

    [notice] = events(protocol, "SchedulerNotice")
    [matched] = events(protocol, "OrdersMatched")
    [created] = events(protocol, "DealCreated")
    locks = events(protocol, "Lock")  # the hub's, from the openDeal the market called
    assert made == deal_id(request_hash, 0) == said.deal_id
    cost = (PRICE + PRICE) * 2
    stake = STAKE * 2
    assert (said.cost, said.stake, said.volume) == (cost, stake, 2)
    assert protocol.account(requester) == (requester_free - cost, requester_frozen + cost)
    assert protocol.account(pool_owner) == (owner_free - stake, owner_frozen + stake)
    assert [consumed(protocol, o) for o in (deal.app, deal.workerpool, deal.request)] == [2, 2, 2]
    assert (notice.workerpool, notice.deal_id) == (deal.workerpool.workerpool, made)
    assert (matched.deal_id, created.deal_id) == (made, made)
    assert matched.app_order_hash == deal.app.hash(protocol.domain)
    assert matched.dataset_order_hash == bytes(32)
    assert matched.workerpool_order_hash == deal.workerpool.hash(protocol.domain)
    assert matched.request_order_hash == request_hash
    assert matched.volume == 2
    assert {str(log.address) for log in (notice, matched, created)} == {protocol.market.address}
    assert {str(log.address) for log in locks} == {protocol.hub.address}
    assert [(log.account, log.amount, log.ref) for log in locks] == [
        (requester.address, cost, made),
        (pool_owner.address, stake, made),
    ]
    assert protocol.state_root() != root  # the fingerprint refusals compare sees a deal


def test_deal_with_dataset_pays_for_the_dataset(protocol, market, requester):
    deal = market.deal(with_dataset=True, volume=2)
    said = verdict(protocol, deal)
    free, frozen = protocol.account(requester)

    made = protocol.match(deal)

    [matched] = events(protocol, "OrdersMatched")
    cost = 3 * PRICE * 2
    assert said.cost == cost
    assert protocol.account(requester) == (free - cost, frozen + cost)
    assert consumed(protocol, deal.dataset) == 2
    assert matched.dataset_order_hash == deal.dataset.hash(protocol.domain)
    assert (matched.deal_id, matched.volume) == (made, 2)


@pytest.mark.parametrize(
    "volumes",
    [(3, 5, 7, 4), (5, 3, 7, 4), (5, 7, 3, 4), (5, 7, 4, 3)],
    ids=["app", "dataset", "workerpool", "request"],
)
def test_deal_volume_is_the_smallest_remaining_volume(protocol, market, requester, volumes):
    deal = market.deal(with_dataset=True, volume=7)
    app, dataset, pool, request = volumes
    deal = market.amend(
        deal,
        app={"volume": app},
        dataset={"volume": dataset},
        workerpool={"volume": pool},
        request={"volume": request},
    )
    free, _ = protocol.account(requester)

    assert_matches(protocol, deal)

    assert protocol.account(requester)[0] == free - 3 * PRICE * 3
    orders = (deal.app, deal.dataset, deal.workerpool, deal.request)
    assert [consumed(protocol, o) for o in orders] == [3, 3, 3, 3]


def test_pool_stake_rounds_down_per_task(protocol, market, pool_owner):
    deal = market.deal(price=5, volume=3)  # 30% of 5 nRLC is 1 nRLC per task, not 4.5 in all
    free, frozen = protocol.account(pool_owner)
    assert verdict(protocol, deal).stake == 3

    assert_matches(protocol, deal)

    assert protocol.account(pool_owner) == (free - 3, frozen + 3)


def test_request_order_matched_in_two_deals(protocol, market):
    deal = market.amend(market.deal(volume=3), app={"volume": 1})
    request_hash = deal.request.hash(protocol.domain)
    first = assert_matches(protocol, deal)

    again = market.amend(deal, app={"volume": 5})
    second = assert_matches(protocol, again)

    assert first.deal_id == deal_id(request_hash, 0)
    assert second.deal_id == deal_id(request_hash, 1)
    assert [(d.record.bot_first, d.record.bot_size) for d in (first, second)] == [(0, 1), (1, 2)]
    assert protocol.hub.viewDeal(first.deal_id) == first.record.commitment()
    assert consumed(protocol, deal.request) == 3
    assert consumed(protocol, again.app) == 2


def test_deal_volume_is_what_partial_consumption_left(protocol, market):
    deal = market.amend(market.deal(volume=10), workerpool={"volume": 5}, request={"volume": 2})
    assert_matches(protocol, deal)
    bigger = market.amend(deal, request={"volume": 10})

    assert_matches(protocol, bigger)

    [matched] = events(protocol, "OrdersMatched")
    assert matched.volume == 3
    assert consumed(protocol, deal.workerpool) == 5
    assert consumed(protocol, deal.app) == 5


def test_presigned_orders_match_without_signatures(protocol, market):
    deal = market.deal(with_dataset=True)
    unsigned = {}
    for kind in ("app", "dataset", "workerpool", "request"):
        order = getattr(deal, kind)
        manage(protocol, order, Operation.SIGN, market.owner(kind))
        presigner = protocol.market.viewPresigned(order.hash(protocol.domain))
        assert presigner == market.owner(kind).address
        unsigned[kind] = dataclasses.replace(order, sign=b"")

    assert_matches(protocol, Deal(**unsigned))

    assert consumed(protocol, deal.request) == 1


def test_compact_signatures_match(protocol, market):
    deal = market.deal(with_dataset=True)
    compact = {
        kind: getattr(deal, kind).signed(market.owner(kind).key, protocol.domain, compact=True)
        for kind in ("app", "dataset", "workerpool", "request")
    }
    assert {len(order.sign) for order in compact.values()} == {64}

    assert_matches(protocol, Deal(**compact))


def test_trust_zero_is_stored_as_one(protocol, market):
    deal = market.deal(trust=0)

    created = assert_matches(protocol, deal)

    assert created.record.trust == 1


def test_gpu_requested_and_offered(protocol, market):
    deal = market.amend(market.deal(), request={"tag": tag(GPU)}, workerpool={"tag": tag(GPU)})

    created = assert_matches(protocol, deal)

    assert created.record.tag == tag(GPU)


def test_tee_app_runs_on_a_tee_pool(protocol, market):
    deal = market.amend(market.deal(), app={"tag": tag(TEE)}, workerpool={"tag": tag(TEE | GPU)})

    created = assert_matches(protocol, deal)

    assert created.record.tag == tag(TEE)


def test_requester_who_owns_the_pool_locks_both_from_one_account(protocol, app_owner, pool_owner):
    deal = protocol.ready_deal(requester=pool_owner, app_owner=app_owner, pool_owner=pool_owner)
    free, frozen = protocol.account(pool_owner)

    assert_matches(protocol, deal)

    locked = 2 * PRICE + STAKE
    assert protocol.account(pool_owner) == (free - locked, frozen + locked)


def test_anyone_may_send_the_match_and_pays_nothing(protocol, market, requester, attacker):
    deal = market.deal()
    wallet = protocol.rlc.balanceOf(attacker.address)
    free, _ = protocol.account(requester)

    assert_matches(protocol, deal, sender=attacker)

    assert protocol.account(attacker) == (0, 0)
    assert protocol.rlc.balanceOf(attacker.address) == wallet
    assert protocol.account(requester)[0] == free - 2 * PRICE


# -- the orders disagree ------------------------------------------------------------


def test_category_mismatch(protocol, market):
    deal = market.amend(market.deal(), request={"category": 1})
    assert_refused(protocol, deal, "market: category mismatch")


def test_unknown_category_until_the_owner_creates_it(protocol, market, deployer):
    deal = market.amend(market.deal(), request={"category": 5}, workerpool={"category": 5})
    assert_refused(protocol, deal, "market: unknown category")

    with boa.env.prank(deployer.address):
        protocol.market.createCategory("XXL", "T = 1 day", 86400)
    assert_matches(protocol, deal)


def test_workerpool_trust_too_low(protocol, market):
    deal = market.amend(market.deal(trust=1), request={"trust": 5})
    assert_refused(protocol, deal, "market: workerpool trust too low")


def test_trust_out_of_range(protocol, market):
    deal = market.deal(trust=2**40)
    assert_refused(protocol, deal, "market: trust out of range")


@pytest.mark.parametrize(
    ("kind", "field", "reason"),
    [
        ("app", "appprice", "market: app price too high"),
        ("dataset", "datasetprice", "market: dataset price too high"),
        ("workerpool", "workerpoolprice", "market: workerpool price too high"),
    ],
)
def test_price_above_the_requested_maximum(protocol, market, kind, field, reason):
    deal = market.amend(market.deal(with_dataset=True), **{kind: {field: PRICE + 1}})
    assert_refused(protocol, deal, reason)


def test_tag_not_offered_by_workerpool(protocol, market):
    deal = market.amend(market.deal(), request={"tag": tag(GPU)})
    assert_refused(protocol, deal, "market: tag not offered by workerpool")


def test_tee_bit_differs_from_app(protocol, market):
    deal = market.amend(market.deal(), request={"tag": tag(TEE)}, workerpool={"tag": tag(TEE)})
    assert_refused(protocol, deal, "market: tee bit differs from app")


def test_app_mismatch(protocol, market, app_owner):
    other_app = protocol.new_app(app_owner, "other")
    deal = market.amend(market.deal(), request={"app": other_app})
    assert_refused(protocol, deal, "market: app mismatch")


def test_dataset_mismatch(protocol, market, dataset_owner):
    other_dataset = protocol.new_dataset(dataset_owner, "other")
    deal = market.amend(market.deal(with_dataset=True), request={"dataset": other_dataset})
    assert_refused(protocol, deal, "market: dataset mismatch")


def test_workerpool_mismatch(protocol, market, pool_owner):
    other_pool = protocol.new_workerpool(pool_owner)
    deal = market.amend(market.deal(), request={"workerpool": other_pool})
    assert_refused(protocol, deal, "market: workerpool mismatch")


RESTRICTIONS = [
    ("app", "datasetrestrict", "market: app order restricts dataset"),
    ("app", "workerpoolrestrict", "market: app order restricts workerpool"),
    ("app", "requesterrestrict", "market: app order restricts requester"),
    ("dataset", "apprestrict", "market: dataset order restricts app"),
    ("dataset", "workerpoolrestrict", "market: dataset order restricts workerpool"),
    ("dataset", "requesterrestrict", "market: dataset order restricts requester"),
    ("workerpool", "apprestrict", "market: workerpool order restricts app"),
    ("workerpool", "datasetrestrict", "market: workerpool order restricts dataset"),
    ("workerpool", "requesterrestrict", "market: workerpool order restricts requester"),
]


@pytest.mark.parametrize(("kind", "field", "reason"), RESTRICTIONS)
def test_restriction_to_someone_else(protocol, market, attacker, kind, field, reason):
    deal = market.amend(market.deal(with_dataset=True), **{kind: {field: attacker.address}})
    assert_refused(protocol, deal, reason)


def test_restrictions_to_the_parties_of_the_deal_match(protocol, market, requester):
    deal = market.deal(with_dataset=True)
    app, dataset, pool = deal.app.app, deal.dataset.dataset, deal.workerpool.workerpool
    restricted = market.amend(
        deal,
        app={
            "datasetrestrict": dataset,
            "workerpoolrestrict": pool,
            "requesterrestrict": requester.address,
        },
        dataset={
            "apprestrict": app,
            "workerpoolrestrict": pool,
            "requesterrestrict": requester.address,
        },
        workerpool={
            "apprestrict": app,
            "datasetrestrict": dataset,
            "requesterrestrict": requester.address,
        },
        request={"workerpool": pool},
    )

    assert_matches(protocol, restricted)


def test_app_order_restricting_a_dataset_needs_that_dataset(protocol, market, dataset_owner):
    dataset = protocol.new_dataset(dataset_owner)
    deal = market.amend(market.deal(), app={"datasetrestrict": dataset})
    assert_refused(protocol, deal, "market: app order restricts dataset")


# -- the orders are not their owners' -----------------------------------------------


def test_app_not_registered(protocol, market):
    app = unregistered("app")
    deal = market.amend(market.deal(), app={"app": app}, request={"app": app})
    assert_refused(protocol, deal, "market: app not registered")


def test_dataset_not_registered(protocol, market):
    dataset = unregistered("dataset")
    deal = market.amend(
        market.deal(with_dataset=True), dataset={"dataset": dataset}, request={"dataset": dataset}
    )
    assert_refused(protocol, deal, "market: dataset not registered")


def test_workerpool_not_registered(protocol, market):
    deal = market.amend(market.deal(), workerpool={"workerpool": unregistered("workerpool")})
    assert_refused(protocol, deal, "market: workerpool not registered")


SIGNATURE_REASONS = {
    "app": "market: bad app order signature",
    "dataset": "market: bad dataset order signature",
    "workerpool": "market: bad workerpool order signature",
    "request": "market: bad request order signature",
}


@pytest.mark.parametrize("kind", list(SIGNATURE_REASONS))
def test_order_signed_by_the_attacker(protocol, market, attacker, kind):
    deal = market.amend(market.deal(with_dataset=True), signers={kind: attacker})
    assert_refused(protocol, deal, SIGNATURE_REASONS[kind])


@pytest.mark.parametrize("kind", list(SIGNATURE_REASONS))
def test_unsigned_order_that_nobody_presigned(protocol, market, kind):
    deal = market.deal(with_dataset=True)
    deal = dataclasses.replace(deal, **{kind: dataclasses.replace(getattr(deal, kind), sign=b"")})
    assert_refused(protocol, deal, SIGNATURE_REASONS[kind])


@pytest.mark.parametrize("kind", ["app", "dataset", "workerpool"])
def test_transferred_assets_old_orders_stop_matching(protocol, market, kind):
    """The market checks signatures against the asset's current owner."""
    deal = market.deal(with_dataset=True)
    registry = {
        "app": protocol.apps,
        "dataset": protocol.datasets,
        "workerpool": protocol.workerpools,
    }
    asset = getattr(getattr(deal, kind), kind)
    seller, buyer = market.owner(kind), Actor.named("new owner")
    with boa.env.prank(seller.address):
        registry[kind].transferFrom(seller.address, buyer.address, int(asset, 16))
    protocol.deposit(buyer, 100 * PRICE)  # a new pool owner stakes

    assert_refused(protocol, deal, SIGNATURE_REASONS[kind])

    assert_matches(protocol, market.amend(deal, signers={kind: buyer}))


# -- the orders have no volume left ---------------------------------------------------

CONSUMED_REASONS = {
    "app": "market: app order consumed",
    "dataset": "market: dataset order consumed",
    "workerpool": "market: workerpool order consumed",
    "request": "market: request order consumed",
}


@pytest.mark.parametrize("kind", list(CONSUMED_REASONS))
def test_cancelled_order(protocol, market, kind):
    deal = market.deal(with_dataset=True, volume=3)
    manage(protocol, getattr(deal, kind), Operation.CLOSE, market.owner(kind))
    assert consumed(protocol, getattr(deal, kind)) == 3

    assert_refused(protocol, deal, CONSUMED_REASONS[kind])


@pytest.mark.parametrize("kind", list(CONSUMED_REASONS))
def test_order_fully_matched_before(protocol, market, kind):
    deal = market.amend(market.deal(with_dataset=True, volume=2), **{kind: {"volume": 1}})
    assert_matches(protocol, deal)

    assert_refused(protocol, deal, CONSUMED_REASONS[kind])


@pytest.mark.parametrize("kind", list(CONSUMED_REASONS))
def test_order_of_volume_zero(protocol, market, kind):
    deal = market.amend(market.deal(with_dataset=True), **{kind: {"volume": 0}})
    assert_refused(protocol, deal, CONSUMED_REASONS[kind])


# -- the requester or the pool owner cannot pay ----------------------------------------


def test_requester_balance_too_low_without_deposit(protocol, market, requester):
    deal = market.deal()
    leave_free(protocol, requester, 0)
    assert_refused(protocol, deal, "hub: requester balance too low")


def test_requester_balance_one_short_then_exact(protocol, market, requester):
    deal = market.deal(volume=2)
    leave_free(protocol, requester, 4 * PRICE - 1)
    assert_refused(protocol, deal, "hub: requester balance too low")

    protocol.deposit(requester, 1)
    assert_matches(protocol, deal)
    assert protocol.account(requester)[0] == 0


def priced_at(market, field: str, price: int) -> Deal:
    """A deal with a dataset where `field` (and the request's maximum for it) is `price`."""
    kind = field.removesuffix("price")
    return market.amend(
        market.deal(with_dataset=True),
        **{kind: {field: price}},
        request={field.replace("price", "maxprice"): price},
    )


@pytest.mark.parametrize("price", [2**96, 2**256 - 1], ids=["2**96", "max uint256"])
@pytest.mark.parametrize("field", ["appprice", "datasetprice", "workerpoolprice"])
def test_price_beyond_any_balance_is_out_of_range(protocol, market, field, price):
    """No escrow balance reaches 2**96: the market refuses before the cost can overflow."""
    assert_refused(protocol, priced_at(market, field, price), "market: price out of range")


@pytest.mark.parametrize("field", ["appprice", "datasetprice", "workerpoolprice"])
def test_largest_price_in_range_is_left_to_the_balance_check(protocol, market, field):
    assert_refused(protocol, priced_at(market, field, 2**96 - 1), "hub: requester balance too low")


def test_workerpool_owner_balance_too_low(protocol, market, pool_owner):
    deal = market.deal(volume=2)
    leave_free(protocol, pool_owner, 2 * STAKE - 1)
    assert_refused(protocol, deal, "hub: workerpool owner balance too low")


def test_requester_owning_the_pool_can_pay_but_not_stake(protocol, app_owner, pool_owner):
    deal = protocol.ready_deal(requester=pool_owner, app_owner=app_owner, pool_owner=pool_owner)
    leave_free(protocol, pool_owner, 2 * PRICE + STAKE - 1)
    assert_refused(protocol, deal, "hub: workerpool owner balance too low")


# -- the first failing check names the reason ---------------------------------------------

Fault = Incompatibility


def faulty_deal(protocol, market, attacker: Actor, faults: set[Incompatibility]) -> Deal:
    """A deal with a dataset, spoiled to fail each check in `faults`."""
    deal = market.deal(with_dataset=True)
    elsewhere = attacker.address
    app = unregistered("app") if Fault.APP_NOT_REGISTERED in faults else deal.app.app
    dataset = (
        unregistered("dataset") if Fault.DATASET_NOT_REGISTERED in faults else deal.dataset.dataset
    )
    pool = (
        unregistered("workerpool")
        if Fault.WORKERPOOL_NOT_REGISTERED in faults
        else deal.workerpool.workerpool
    )
    category = 5 if Fault.UNKNOWN_CATEGORY in faults else 0
    trust = 2**40 if Fault.TRUST_OUT_OF_RANGE in faults else 1
    asked = (GPU if Fault.TAG_NOT_OFFERED in faults else 0) | (
        TEE if Fault.TEE_MISMATCH in faults else 0
    )

    def pick(fault: Incompatibility, faulty, fine):
        return faulty if fault in faults else fine

    def restriction(fault: Incompatibility) -> str:
        return pick(fault, elsewhere, ZERO_ADDRESS)

    app_price = pick(Fault.PRICE_OUT_OF_RANGE, 2**96, PRICE)  # the request agrees to pay it

    changes = {
        "app": {
            "app": app,
            "appprice": pick(Fault.APP_PRICE, app_price + 1, app_price),
            "volume": pick(Fault.APP_CONSUMED, 0, 1),
            "datasetrestrict": restriction(Fault.APP_RESTRICTS_DATASET),
            "workerpoolrestrict": restriction(Fault.APP_RESTRICTS_WORKERPOOL),
            "requesterrestrict": restriction(Fault.APP_RESTRICTS_REQUESTER),
        },
        "dataset": {
            "dataset": dataset,
            "datasetprice": pick(Fault.DATASET_PRICE, PRICE + 1, PRICE),
            "volume": pick(Fault.DATASET_CONSUMED, 0, 1),
            "apprestrict": restriction(Fault.DATASET_RESTRICTS_APP),
            "workerpoolrestrict": restriction(Fault.DATASET_RESTRICTS_WORKERPOOL),
            "requesterrestrict": restriction(Fault.DATASET_RESTRICTS_REQUESTER),
        },
        "workerpool": {
            "workerpool": pool,
            "workerpoolprice": pick(Fault.WORKERPOOL_PRICE, PRICE + 1, PRICE),
            "volume": pick(Fault.WORKERPOOL_CONSUMED, 0, 1),
            "tag": tag(asked & TEE),
            "category": pick(Fault.CATEGORY_MISMATCH, category + 1, category),
            "trust": pick(Fault.TRUST_TOO_LOW, trust - 1, trust),
            "apprestrict": restriction(Fault.WORKERPOOL_RESTRICTS_APP),
            "datasetrestrict": restriction(Fault.WORKERPOOL_RESTRICTS_DATASET),
            "requesterrestrict": restriction(Fault.WORKERPOOL_RESTRICTS_REQUESTER),
        },
        "request": {
            "app": pick(Fault.APP_MISMATCH, elsewhere, app),
            "appmaxprice": app_price,
            "dataset": pick(Fault.DATASET_MISMATCH, elsewhere, dataset),
            "workerpool": restriction(Fault.WORKERPOOL_MISMATCH),
            "volume": pick(Fault.REQUEST_CONSUMED, 0, 1),
            "tag": tag(asked),
            "category": category,
            "trust": trust,
        },
    }
    signatures = {
        Fault.APP_SIGNATURE: "app",
        Fault.DATASET_SIGNATURE: "dataset",
        Fault.WORKERPOOL_SIGNATURE: "workerpool",
        Fault.REQUEST_SIGNATURE: "request",
    }
    signers = {kind: attacker for fault, kind in signatures.items() if fault in faults}
    if Fault.REQUESTER_FUNDS in faults:
        leave_free(protocol, market.requester, 0)
    if Fault.WORKERPOOL_OWNER_FUNDS in faults:
        leave_free(protocol, market.pool_owner, 0)
    return market.amend(deal, signers=signers, **changes)


def test_match_names_the_first_failing_check_and_client_lists_them_all(protocol, market, attacker):
    """Failing every check, then mending them one by one in check order, matchOrders always
    names the first still failing: market and hub check in the order check_match does."""
    remaining = list(Incompatibility)
    while remaining:
        with boa.env.anchor():
            deal = faulty_deal(protocol, market, attacker, set(remaining))
            # nothing is left to pay while an order has no volume left
            unpaid = any(reason.name.endswith("_CONSUMED") for reason in remaining)
            listed = [r for r in remaining if not (unpaid and r.name.endswith("_FUNDS"))]
            assert list(verdict(protocol, deal).reasons) == listed
            assert_refused(protocol, deal, remaining[0].value)
        remaining.pop(0)
    assert_matches(protocol, faulty_deal(protocol, market, attacker, set()))


# -- every reason is known to clients and tested ----------------------------------------


# openDeal's first check: only the bound market may open deals. Ours is the bound one
# (see the test below), so matchOrders never fails it; hub_poco tests it.
OPEN_DEAL_CALLER_CHECK = "hub: only the market"


def reasons_in(module: str, function: str, prefix: str) -> list[str]:
    """The `prefix: ...` revert reasons of `function` in contracts/modules/`module`.vy,
    in source order."""
    source = (CONTRACTS / "modules" / f"{module}.vy").read_text()
    body = source.split(f"def {function}(", 1)[1].split("\n@", 1)[0]
    return re.findall(rf'"({prefix}: [^"]+)"', body)


def match_orders_reasons() -> list[str]:
    """Every reason matchOrders can revert with, in check order: the market's own checks,
    then those of the hub's openDeal, which it calls last."""
    open_deal = reasons_in("poco", "openDeal", "hub")
    assert open_deal[0] == OPEN_DEAL_CALLER_CHECK
    return reasons_in("market", "matchOrders", "market") + open_deal[1:]


def reasons_named_in_tests() -> set[str]:
    """Every "market: ..." or "hub: ..." string constant in this directory's tests
    (docstrings aside)."""
    found: set[str] = set()
    for path in HERE.glob("test_*.py"):
        tree = ast.parse(path.read_text())
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
        }
        found |= {
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value.startswith(("market: ", "hub: "))
            and id(node) not in docstrings
        }
    return found


def test_every_revert_reason_of_match_orders_is_an_incompatibility_in_check_order(protocol):
    assert protocol.hub.market() == protocol.market.address  # openDeal's caller check passes
    assert match_orders_reasons() == [reason.value for reason in Incompatibility]


def test_every_revert_reason_of_match_orders_has_a_test():
    assert set(match_orders_reasons()) - reasons_named_in_tests() == set()
