"""Hub.openDeal: only the bound market opens deals; it locks the payment and the pool stake."""

import boa
import pytest
from eth_utils import keccak

from tests.contracts.hub_poco._helpers import PRICE, ZERO_BYTES32, events

DEAL_ID = keccak(text="a deal the market never made")
COMMITMENT = keccak(text="a made-up deal record")
COST = 3 * PRICE
STAKE = PRICE * 30 // 100
FUNDS = 10 * PRICE


def open_deal_args(requester, pool_owner, cost=COST, stake=STAKE):
    return (DEAL_ID, COMMITMENT, requester.address, cost, pool_owner.address, stake)


@pytest.fixture
def funded(protocol, requester, pool_owner):
    protocol.deposit(requester, FUNDS)
    protocol.deposit(pool_owner, FUNDS)


def test_match_locks_payment_and_stake_and_keeps_the_commitment(
    protocol, requester, app_owner, pool_owner
):
    volume = 3
    orders = protocol.ready_deal(
        requester=requester, app_owner=app_owner, pool_owner=pool_owner, price=PRICE, volume=volume
    )
    requester_free, _ = protocol.account(requester)
    pool_free, _ = protocol.account(pool_owner)

    deal_id, record = protocol.match_record(orders)
    locks = events(protocol.hub, "Lock", called=protocol.market)

    cost = (record.app_price + record.dataset_price + record.workerpool_price) * volume
    stake = record.workerpool_price * 30 // 100 * volume
    assert cost == 2 * PRICE * volume  # app and pool prices, no dataset
    assert [(lock.account, lock.amount, lock.ref) for lock in locks] == [
        (requester.address, cost, deal_id),
        (pool_owner.address, stake, deal_id),
    ]
    assert protocol.account(requester) == (requester_free - cost, cost)
    assert protocol.account(pool_owner) == (pool_free - stake, stake)
    assert protocol.hub.viewDeal(deal_id) == record.commitment()


def test_market_opens_a_deal(protocol, requester, pool_owner, funded):
    with boa.env.prank(protocol.market.address):
        protocol.hub.openDeal(*open_deal_args(requester, pool_owner))
    locks = events(protocol.hub, "Lock")

    assert [(lock.account, lock.amount, lock.ref) for lock in locks] == [
        (requester.address, COST, DEAL_ID),
        (pool_owner.address, STAKE, DEAL_ID),
    ]
    assert protocol.account(requester) == (FUNDS - COST, COST)
    assert protocol.account(pool_owner) == (FUNDS - STAKE, STAKE)
    assert protocol.hub.viewDeal(DEAL_ID) == COMMITMENT


def test_attacker_cannot_open_a_deal(protocol, attacker, requester, pool_owner, funded):
    """Opening a deal locks other people's money: only the market, after its checks, may."""
    root = protocol.state_root()

    with boa.env.prank(attacker.address), boa.reverts("hub: only the market"):
        protocol.hub.openDeal(*open_deal_args(requester, pool_owner))

    assert protocol.state_root() == root
    assert protocol.hub.viewDeal(DEAL_ID) == ZERO_BYTES32


def test_requester_cannot_open_a_deal_directly(protocol, requester, pool_owner, funded):
    """Even a requester paying its own deal must go through the market's order checks."""
    root = protocol.state_root()

    with boa.env.prank(requester.address), boa.reverts("hub: only the market"):
        protocol.hub.openDeal(*open_deal_args(requester, pool_owner))

    assert protocol.state_root() == root


def test_requester_balance_too_low_reverts(protocol, requester, pool_owner, funded):
    root = protocol.state_root()

    with (
        boa.env.prank(protocol.market.address),
        boa.reverts("hub: requester balance too low"),
    ):
        protocol.hub.openDeal(*open_deal_args(requester, pool_owner, cost=FUNDS + 1))

    assert protocol.state_root() == root


def test_pool_owner_balance_too_low_reverts_after_the_requester_lock(
    protocol, requester, pool_owner, funded
):
    """The requester's lock is undone with the rest of the call."""
    root = protocol.state_root()

    with (
        boa.env.prank(protocol.market.address),
        boa.reverts("hub: workerpool owner balance too low"),
    ):
        protocol.hub.openDeal(*open_deal_args(requester, pool_owner, stake=FUNDS + 1))

    assert protocol.state_root() == root
    assert protocol.account(requester) == (FUNDS, 0)


def test_match_with_an_underfunded_requester_opens_nothing(
    protocol, requester, app_owner, pool_owner
):
    orders = protocol.ready_deal(
        requester=requester, app_owner=app_owner, pool_owner=pool_owner, price=PRICE
    )
    with boa.env.prank(requester.address):
        protocol.hub.withdraw(protocol.hub.balanceOf(requester.address) - PRICE)
    root = protocol.state_root()

    with boa.reverts("hub: requester balance too low"):
        protocol.match(orders)

    assert protocol.state_root() == root
