"""escrow._seize (frozen -> the transaction's pot), through the test harness.

A seized amount must be paid out by `_reward` in the same transaction, so
the successful cases seize and reward in one call.
"""

import boa

from tests.contracts.harness import Protocol
from tests.contracts.hub_escrow._helpers import REF, events, fund_harness

AMOUNT = 25 * 10**9


def test_seize_takes_from_the_frozen_balance_only(protocol, escrow, worker, pool_owner):
    fund_harness(protocol, escrow, worker, AMOUNT)
    escrow.lock(worker.address, 10, REF)

    escrow.seize_and_reward(worker.address, 4, [pool_owner.address], [4], REF)
    [seize] = events(escrow, "Seize")

    assert (seize.account, seize.amount, seize.ref) == (worker.address, 4, REF)
    assert (escrow.balanceOf(worker.address), escrow.frozenOf(worker.address)) == (
        AMOUNT - 10,
        6,
    )


def test_more_than_frozen_reverts(protocol, escrow, worker, pool_owner):
    fund_harness(protocol, escrow, worker, AMOUNT)
    escrow.lock(worker.address, 10, REF)
    root = Protocol.state_root()

    with boa.reverts("escrow: insufficient frozen balance"):
        escrow.seize_and_reward(worker.address, 11, [pool_owner.address], [11], REF)

    assert Protocol.state_root() == root


def test_free_balance_cannot_be_seized(protocol, escrow, worker, attacker):
    fund_harness(protocol, escrow, worker, AMOUNT)
    root = Protocol.state_root()

    with boa.reverts("escrow: insufficient frozen balance"):
        escrow.seize_and_reward(worker.address, 1, [attacker.address], [1], REF)

    assert Protocol.state_root() == root
    assert escrow.balanceOf(worker.address) == AMOUNT
