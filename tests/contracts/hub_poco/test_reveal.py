"""Hub.reveal: winners show the digest they committed to, before the reveal deadline."""

import boa
import pytest
from eth_utils import keccak

from nuage.protocol.consensus import Consensus, weight
from nuage.protocol.poco import TaskStatus, result_hash, result_seal
from tests.contracts.harness import Actor
from tests.contracts.hub_poco._helpers import (
    LIE,
    RESULT,
    REVEAL_DELAY,
    ZERO_BYTES32,
    assert_refused,
    events,
    reach_consensus,
)


@pytest.fixture
def revealing(deal, workers):
    """A trust-3 task where a liar voted first, then honest workers reached consensus.

    Returns (liar, winners).
    """
    task = deal.initialize()
    liar, *honest = workers
    deal.contribute(liar, LIE)
    state = Consensus(deal.record.trust).contribute(result_hash(task, LIE), weight(0))
    winners = reach_consensus(deal, honest, RESULT, state=state)
    return liar, winners


def test_winner_reveals_its_result(deal, revealing):
    _, (winner, *_) = revealing
    task = deal.task_id()

    deal.reveal(winner, RESULT)
    [revealed] = events(deal.hub, "TaskRevealed")

    assert deal.contribution(winner)["status"] == 2
    view = deal.task()
    assert (view["status"], view["reveals"], view["result_digest"]) == (
        TaskStatus.REVEALING,
        1,
        RESULT,
    )
    assert (revealed.task_id, revealed.worker, revealed.result_digest) == (
        task,
        winner.address,
        RESULT,
    )


def test_every_winner_reveals(deal, revealing):
    _, winners = revealing

    for count, winner in enumerate(winners, start=1):
        deal.reveal(winner, RESULT)
        assert deal.task()["reveals"] == count

    assert deal.task()["reveals"] == deal.task()["winners"] == len(winners)
    assert all(deal.contribution(winner)["status"] == 2 for winner in winners)


def test_reveal_keeps_the_contribution_weight_and_commitment(deal, revealing):
    _, (winner, *_) = revealing
    before = deal.contribution(winner)

    deal.reveal(winner, RESULT)

    after = deal.contribution(winner)
    assert (after["log2_weight"], after["commitment"]) == (
        before["log2_weight"],
        before["commitment"],
    )


def test_reveal_in_the_last_second(deal, revealing):
    _, (winner, *_) = revealing
    deadline = deal.task()["reveal_deadline"]
    boa.env.time_travel(seconds=deadline - 1 - boa.env.evm.patch.timestamp)

    deal.reveal(winner, RESULT)

    assert deal.task()["reveals"] == 1


def test_reveal_at_the_deadline_reverts(protocol, deal, revealing):
    _, (winner, *_) = revealing
    assert deal.task()["reveal_deadline"] == boa.env.evm.patch.timestamp + REVEAL_DELAY
    boa.env.time_travel(seconds=REVEAL_DELAY)

    assert_refused(protocol, "poco: reveal deadline passed", deal.reveal, winner, RESULT)


def test_reveal_on_an_active_task_reverts(protocol, deal, workers):
    """Before consensus a reveal would show the result to workers still voting."""
    deal.initialize()
    deal.contribute(workers[0], RESULT)

    assert_refused(protocol, "poco: task not revealing", deal.reveal, workers[0], RESULT)


def test_reveal_on_an_unknown_task_reverts(protocol, deal, workers):
    assert_refused(
        protocol,
        "poco: task not revealing",
        protocol.reveal,
        keccak(text="no task"),
        workers[0],
        RESULT,
    )


def test_reveal_without_contribution_is_refused(protocol, deal, revealing):
    """A stranger who learnt the result cannot count as a winner and share the reward."""
    stranger = Actor.named("stranger")

    assert_refused(protocol, "poco: no contribution to reveal", deal.reveal, stranger, RESULT)
    assert deal.task()["reveals"] == 0


def test_second_reveal_is_refused(protocol, deal, revealing):
    """Revealing twice would count one winner twice and let finalize run early."""
    _, (winner, *_) = revealing
    deal.reveal(winner, RESULT)

    assert_refused(protocol, "poco: no contribution to reveal", deal.reveal, winner, RESULT)
    assert deal.task()["reveals"] == 1


def test_loser_revealing_its_own_result_reverts(protocol, deal, revealing):
    liar, _ = revealing

    assert_refused(protocol, "poco: result is not the consensus", deal.reveal, liar, LIE)


def test_winner_revealing_another_digest_reverts(protocol, deal, revealing):
    _, (winner, *_) = revealing

    assert_refused(protocol, "poco: result is not the consensus", deal.reveal, winner, LIE)


def test_loser_cannot_reveal_the_winning_result(protocol, deal, revealing):
    """Once a winner showed the result, a loser knows it, but its contribution says otherwise."""
    liar, (winner, *_) = revealing
    deal.reveal(winner, RESULT)

    assert_refused(
        protocol, "poco: result does not match the contribution", deal.reveal, liar, RESULT
    )


def test_copied_vote_cannot_be_revealed(protocol, deal, workers):
    """A worker who copies another's vote without computing cannot prove it later.

    The copier sees the honest worker's result hash (it is public) but not
    the digest, so its seal is made for a guess; once the honest worker
    reveals, the copier knows the digest, but its seal does not match.
    """
    task = deal.initialize()
    honest, copier = workers[0], workers[1]
    deal.contribute(honest, RESULT)
    guess = keccak(text="a guess")
    deal.contribute(
        copier, vote=result_hash(task, RESULT), seal=result_seal(copier.address, task, guess)
    )
    assert deal.task()["winners"] == 2  # the copy counted towards consensus
    deal.reveal(honest, RESULT)

    assert_refused(
        protocol, "poco: result does not match the contribution", deal.reveal, copier, RESULT
    )
    assert deal.contribution(copier)["status"] == 1


def test_copied_vote_and_seal_cannot_be_revealed(protocol, deal, workers):
    """The seal names its worker: copying the honest worker's seal as well does not help."""
    task = deal.initialize()
    honest, copier = workers[0], workers[1]
    deal.contribute(honest, RESULT)
    deal.contribute(
        copier, vote=result_hash(task, RESULT), seal=result_seal(honest.address, task, RESULT)
    )
    deal.reveal(honest, RESULT)

    assert_refused(
        protocol, "poco: result does not match the contribution", deal.reveal, copier, RESULT
    )


def test_unrevealed_task_keeps_no_digest(deal, revealing):
    assert deal.task()["result_digest"] == ZERO_BYTES32


def test_reveal_after_finalize_is_refused(protocol, deal, revealing):
    """A winner late past the deadline, once the task is paid, cannot become a winner."""
    liar, (first, *late) = revealing
    deal.reveal(first, RESULT)
    boa.env.time_travel(seconds=REVEAL_DELAY)
    protocol.finalize(deal.record, deal.deal_id, deal.first, [liar, first, *late])
    assert deal.task()["status"] == TaskStatus.COMPLETED

    assert_refused(protocol, "poco: task not revealing", deal.reveal, late[0], RESULT)
