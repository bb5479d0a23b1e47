"""escrow._unlock (frozen -> free), through the test harness."""

import boa

from tests.contracts.harness import Protocol
from tests.contracts.hub_escrow._helpers import OTHER_REF, REF, events, fund_harness

AMOUNT = 25 * 10**9


def test_unlock_moves_frozen_to_free(protocol, escrow, requester):
    fund_harness(protocol, escrow, requester, AMOUNT)
    escrow.lock(requester.address, 10, REF)

    escrow.unlock(requester.address, 7, OTHER_REF)
    [unlock] = events(escrow, "Unlock")

    assert (unlock.account, unlock.amount, unlock.ref) == (requester.address, 7, OTHER_REF)
    assert (escrow.balanceOf(requester.address), escrow.frozenOf(requester.address)) == (
        AMOUNT - 3,
        3,
    )
    assert protocol.rlc.balanceOf(escrow.address) == AMOUNT


def test_more_than_frozen_reverts(protocol, escrow, requester):
    fund_harness(protocol, escrow, requester, AMOUNT)
    escrow.lock(requester.address, 10, REF)
    root = Protocol.state_root()

    with boa.reverts("escrow: insufficient frozen balance"):
        escrow.unlock(requester.address, 11, REF)

    assert Protocol.state_root() == root


def test_free_balance_cannot_be_unlocked(protocol, escrow, requester):
    fund_harness(protocol, escrow, requester, AMOUNT)
    root = Protocol.state_root()

    with boa.reverts("escrow: insufficient frozen balance"):
        escrow.unlock(requester.address, 1, REF)

    assert Protocol.state_root() == root
    assert (escrow.balanceOf(requester.address), escrow.frozenOf(requester.address)) == (
        AMOUNT,
        0,
    )
