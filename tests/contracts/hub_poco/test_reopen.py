"""Hub.reopen: when no winner revealed in time, the scheduler reopens the vote."""

import dataclasses

import boa
import pytest
from eth_utils import keccak

from nuage.protocol.consensus import Consensus, weight
from nuage.protocol.poco import TaskStatus, result_hash
from tests.contracts.hub_poco._helpers import (
    FINAL_DELAY,
    LIE,
    RESULT,
    ZERO_BYTES32,
    assert_refused,
    events,
    funded_workers,
    reach_consensus,
)


def now() -> int:
    return boa.env.evm.patch.timestamp


def travel_to(timestamp: int) -> None:
    boa.env.time_travel(seconds=timestamp - now())


@pytest.fixture
def silent(deal, workers):
    """Winners of a trust-3 task who did not reveal: the reveal deadline has just passed."""
    deal.initialize()
    winners = reach_consensus(deal, workers)
    travel_to(deal.task()["reveal_deadline"])
    return winners


def test_scheduler_reopens_a_task_nobody_revealed(protocol, deal, silent, pool_owner):
    task = deal.task_id()
    before = deal.task()
    stakes = [protocol.account(worker) for worker in silent]

    deal.reopen(pool_owner)
    [reopened] = events(deal.hub, "TaskReopened")

    assert reopened.task_id == task
    assert deal.task() == {
        **before,
        "status": TaskStatus.ACTIVE,
        "winners": 0,
        "reveal_deadline": 0,
        "consensus_value": ZERO_BYTES32,
        "round": 1,
    }
    assert deal.task()["contributors"] == len(silent)
    # the silent winners' contributions and stakes stay, for finalize to seize
    assert all(deal.contribution(worker)["status"] == 1 for worker in silent)
    assert [protocol.account(worker) for worker in silent] == stakes


def test_reopened_task_reaches_consensus_afresh(protocol, deal, silent):
    """The silent group is gone: new workers need a full consensus of their own."""
    deal.reopen()
    newcomers = funded_workers(protocol, 4, first=len(silent) + 10)

    winners = reach_consensus(deal, newcomers, RESULT, state=Consensus(deal.record.trust))

    assert len(winners) == len(silent)  # as many as the first time, not one
    view = deal.task()
    assert view["consensus_value"] == result_hash(deal.task_id(), RESULT)
    assert (view["winners"], view["contributors"]) == (len(winners), 2 * len(winners))


def test_reopen_keeps_the_other_groups(protocol, deal, workers):
    """Only the silent group leaves the total: a liar's vote still counts against consensus."""
    task = deal.initialize()
    liar, *honest = workers
    deal.contribute(liar, LIE)
    lie = Consensus(deal.record.trust).contribute(result_hash(task, LIE), weight(0))
    silent = reach_consensus(deal, honest, RESULT, state=lie)
    travel_to(deal.task()["reveal_deadline"])

    deal.reopen()
    newcomers = funded_workers(protocol, 6, first=20)

    winners = reach_consensus(deal, newcomers, RESULT, state=lie)
    assert len(winners) == len(silent)


def test_silent_winner_cannot_contribute_again(protocol, deal, silent):
    deal.reopen()

    assert_refused(protocol, "poco: already contributed", deal.contribute, silent[0], RESULT)


def test_silent_winner_cannot_reveal_after_reopen(protocol, deal, silent):
    deal.reopen()

    assert_refused(protocol, "poco: task not revealing", deal.reveal, silent[0], RESULT)


def test_silent_winner_cannot_reveal_in_the_next_round(protocol, deal, silent):
    """A winner who kept silent lost its turn: it must not join the next round's winners.

    iExec marks the silent winners' contributions rejected on reopen. If the
    next consensus is on the same result, a silent winner's old contribution
    matches it; revealing then would make it a paid winner of a round it
    never voted in, and count one reveal more than the round has winners.
    """
    deal.reopen()
    newcomers = funded_workers(protocol, 4, first=20)
    reach_consensus(deal, newcomers, RESULT, state=Consensus(deal.record.trust))
    root = protocol.state_root()

    with boa.reverts("poco: contribution from before a reopen"):
        deal.reveal(silent[0], RESULT)

    assert protocol.state_root() == root
    assert deal.task()["reveals"] == 0
    assert deal.task()["round"] == 1
    assert deal.contribution(silent[0])["round"] == 0


def test_attacker_cannot_reopen(protocol, deal, silent, attacker):
    assert_refused(protocol, "poco: not the scheduler", deal.reopen, attacker)


def test_requester_cannot_reopen(protocol, deal, silent, requester):
    assert_refused(protocol, "poco: not the scheduler", deal.reopen, requester)


def test_active_task_cannot_be_reopened(protocol, deal, workers):
    deal.initialize()
    deal.contribute(workers[0], RESULT)
    travel_to(deal.record.start_time + 3 * deal.record.time_ref)

    assert_refused(protocol, "poco: task not revealing", deal.reopen)


def test_task_never_initialized_cannot_be_reopened(protocol, deal):
    assert_refused(protocol, "poco: task not revealing", deal.reopen)


def test_reopen_at_the_final_deadline_reverts(protocol, deal, silent):
    """Past the final deadline the task can only be claimed."""
    travel_to(deal.record.start_time + FINAL_DELAY)

    assert_refused(protocol, "poco: final deadline passed", deal.reopen)


def test_reopen_before_the_reveal_deadline_reverts(protocol, deal, workers):
    """Winners have until the reveal deadline: the scheduler cannot cut their turn short."""
    deal.initialize()
    reach_consensus(deal, workers)
    travel_to(deal.task()["reveal_deadline"] - 1)

    assert_refused(protocol, "poco: reveal deadline not reached", deal.reopen)


def test_reopen_after_a_reveal_reverts(protocol, deal, workers):
    """One revealed result is enough to finalize: reopening would rob its worker."""
    deal.initialize()
    winners = reach_consensus(deal, workers)
    deal.reveal(winners[0], RESULT)
    travel_to(deal.task()["reveal_deadline"])

    assert_refused(protocol, "poco: results were revealed", deal.reopen)


def test_unknown_deal_reverts(protocol, deal, silent):
    unknown = dataclasses.replace(deal, deal_id=keccak(text="no deal"))

    assert_refused(protocol, "poco: unknown deal", unknown.reopen)


def test_deal_not_matching_its_commitment_reverts(protocol, deal, silent, attacker):
    """Naming oneself the pool owner in a forged record does not make one the scheduler."""
    forged = dataclasses.replace(
        deal, record=dataclasses.replace(deal.record, workerpool_owner=attacker.address)
    )

    assert_refused(protocol, "poco: deal does not match its commitment", forged.reopen, attacker)


def test_index_outside_the_deal_reverts(protocol, deal, silent):
    index = deal.record.bot_first + deal.record.bot_size

    assert_refused(protocol, "poco: task index outside the deal", deal.reopen, index=index)
