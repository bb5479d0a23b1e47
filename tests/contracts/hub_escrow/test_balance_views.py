"""balanceOf (free) and frozenOf (locked): two halves of one storage word."""

import boa

from tests.contracts import deployers
from tests.contracts.hub_escrow._helpers import ESCROW_HARNESS, REF, fund

AMOUNT = 25 * 10**9
PRICE = 10**9


def test_unknown_account_reads_zero(protocol, attacker):
    assert protocol.hub.balanceOf(attacker.address) == 0
    assert protocol.hub.frozenOf(attacker.address) == 0


def test_deposit_is_free(protocol, requester):
    protocol.deposit(requester, AMOUNT)

    assert protocol.hub.balanceOf(requester.address) == AMOUNT
    assert protocol.hub.frozenOf(requester.address) == 0


def test_match_freezes_the_requester_cost_and_the_pool_stake(
    protocol, requester, app_owner, pool_owner
):
    funds = 100 * PRICE
    deal = protocol.ready_deal(
        requester=requester, app_owner=app_owner, pool_owner=pool_owner, price=PRICE, volume=3
    )

    protocol.match(deal)

    cost = (PRICE + PRICE) * 3  # app and workerpool prices, no dataset
    stake = PRICE * 30 // 100 * 3
    assert protocol.hub.balanceOf(requester.address) == funds - cost
    assert protocol.hub.frozenOf(requester.address) == cost
    assert protocol.hub.balanceOf(pool_owner.address) == funds - stake
    assert protocol.hub.frozenOf(pool_owner.address) == stake


def test_halves_do_not_bleed_into_each_other_at_the_bound(deployer, requester):
    largest = 2**96 - 1
    with boa.env.prank(deployer.address):
        rlc = deployers.RLC.deploy(2**100)
        escrow = ESCROW_HARNESS.deploy(rlc)
    fund(rlc, escrow, deployer, requester, largest)

    escrow.lock(requester.address, largest, REF)
    assert (escrow.balanceOf(requester.address), escrow.frozenOf(requester.address)) == (0, largest)

    escrow.unlock(requester.address, largest - 1, REF)
    assert (escrow.balanceOf(requester.address), escrow.frozenOf(requester.address)) == (
        largest - 1,
        1,
    )
