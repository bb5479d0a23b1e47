"""escrow._lock (free -> frozen), through the test harness."""

import boa

from tests.contracts.harness import Protocol
from tests.contracts.hub_escrow._helpers import REF, events, fund_harness

AMOUNT = 25 * 10**9


def test_lock_moves_free_to_frozen(protocol, escrow, requester):
    fund_harness(protocol, escrow, requester, AMOUNT)

    escrow.lock(requester.address, 10, REF)
    [lock] = events(escrow, "Lock")

    assert (lock.account, lock.amount, lock.ref) == (requester.address, 10, REF)
    assert (escrow.balanceOf(requester.address), escrow.frozenOf(requester.address)) == (
        AMOUNT - 10,
        10,
    )
    assert protocol.rlc.balanceOf(escrow.address) == AMOUNT


def test_locks_add_up(protocol, escrow, requester):
    fund_harness(protocol, escrow, requester, AMOUNT)

    escrow.lock(requester.address, 10, REF)
    escrow.lock(requester.address, AMOUNT - 10, REF)

    assert (escrow.balanceOf(requester.address), escrow.frozenOf(requester.address)) == (
        0,
        AMOUNT,
    )


def test_more_than_free_reverts(protocol, escrow, requester):
    fund_harness(protocol, escrow, requester, AMOUNT)
    escrow.lock(requester.address, 10, REF)
    root = Protocol.state_root()

    with boa.reverts("escrow: insufficient free balance"):
        escrow.lock(requester.address, AMOUNT - 9, REF)

    assert Protocol.state_root() == root
    assert (escrow.balanceOf(requester.address), escrow.frozenOf(requester.address)) == (
        AMOUNT - 10,
        10,
    )


def test_empty_account_reverts(escrow, attacker):
    root = Protocol.state_root()

    with boa.reverts("escrow: insufficient free balance"):
        escrow.lock(attacker.address, 1, REF)

    assert Protocol.state_root() == root
