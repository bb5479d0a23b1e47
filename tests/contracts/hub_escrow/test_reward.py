"""escrow._reward (the transaction's pot -> free), through the test harness."""

import boa
from hypothesis import given
from hypothesis import strategies as st

from tests.contracts.harness import Protocol
from tests.contracts.hub_escrow._helpers import (
    OTHER_REF,
    REF,
    end_transaction,
    events,
    fund_harness,
    held_in_accounts,
)

AMOUNT = 25 * 10**9


def test_reward_pays_seized_funds_to_free_balances(protocol, escrow, worker, pool_owner, app_owner):
    fund_harness(protocol, escrow, worker, AMOUNT)
    escrow.lock(worker.address, 10, REF)

    escrow.seize_and_reward(
        worker.address, 10, [pool_owner.address, app_owner.address], [7, 3], OTHER_REF
    )
    rewards = events(escrow, "Reward")

    assert [(r.account, r.amount, r.ref) for r in rewards] == [
        (pool_owner.address, 7, OTHER_REF),
        (app_owner.address, 3, OTHER_REF),
    ]
    assert (escrow.balanceOf(pool_owner.address), escrow.frozenOf(pool_owner.address)) == (7, 0)
    assert (escrow.balanceOf(app_owner.address), escrow.frozenOf(app_owner.address)) == (3, 0)
    assert held_in_accounts(escrow, [worker, pool_owner, app_owner]) == protocol.rlc.balanceOf(
        escrow.address
    )


def test_reward_keeps_the_receiver_frozen_balance(protocol, escrow, worker, pool_owner):
    fund_harness(protocol, escrow, worker, AMOUNT)
    fund_harness(protocol, escrow, pool_owner, AMOUNT)
    escrow.lock(worker.address, 10, REF)
    escrow.lock(pool_owner.address, 5, REF)

    escrow.seize_and_reward(worker.address, 10, [pool_owner.address], [10], REF)

    assert (escrow.balanceOf(pool_owner.address), escrow.frozenOf(pool_owner.address)) == (
        AMOUNT - 5 + 10,
        5,
    )


def test_reward_without_seize_reverts(protocol, escrow, pool_owner):
    root = Protocol.state_root()

    with boa.reverts("escrow: reward above seized funds"):
        escrow.reward(pool_owner.address, 1, REF)

    assert Protocol.state_root() == root


def test_reward_above_seized_reverts(protocol, escrow, worker, pool_owner, app_owner):
    fund_harness(protocol, escrow, worker, AMOUNT)
    escrow.lock(worker.address, 10, REF)
    root = Protocol.state_root()

    with boa.reverts("escrow: reward above seized funds"):
        escrow.seize_and_reward(
            worker.address, 5, [pool_owner.address, app_owner.address], [3, 3], REF
        )

    assert Protocol.state_root() == root
    assert escrow.frozenOf(worker.address) == 10


def test_pot_seized_in_an_earlier_transaction_cannot_be_spent(protocol, escrow, worker, attacker):
    """The pot lives in transient storage: whatever a transaction leaves in it is gone."""
    fund_harness(protocol, escrow, worker, AMOUNT)
    escrow.lock(worker.address, 10, REF)
    escrow.seize(worker.address, 10, REF)
    end_transaction()
    root = Protocol.state_root()

    with boa.reverts("escrow: reward above seized funds"):
        escrow.reward(attacker.address, 10, REF)

    assert Protocol.state_root() == root
    assert escrow.balanceOf(attacker.address) == 0


@given(
    deposits=st.lists(st.integers(1, 10**16), min_size=3, max_size=3),
    data=st.data(),
)
def test_seize_and_reward_conserve_money(
    protocol, escrow, worker, pool_owner, app_owner, deposits, data
):
    actors = [worker, pool_owner, app_owner]
    with boa.env.anchor():
        for actor, amount in zip(actors, deposits, strict=True):
            fund_harness(protocol, escrow, actor, amount)
        locked = data.draw(st.integers(0, deposits[0]), label="locked")
        escrow.lock(worker.address, locked, REF)
        seized = data.draw(st.integers(0, locked), label="seized")
        cut = data.draw(st.integers(0, seized), label="cut")
        receivers = data.draw(st.permutations(actors), label="receivers")[:2]

        escrow.seize_and_reward(
            worker.address, seized, [r.address for r in receivers], [cut, seized - cut], REF
        )

        assert held_in_accounts(escrow, actors) == protocol.rlc.balanceOf(escrow.address)
        assert escrow.frozenOf(worker.address) == locked - seized
