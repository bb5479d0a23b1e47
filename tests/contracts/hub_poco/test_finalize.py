"""`finalize`: the scheduler completes a revealed task and the hub pays everyone.

Payments are checked account by account against `nuage.protocol.rewards.settle`,
and every refusal leaves the chain as it was.
"""

import dataclasses

import boa
import pytest

from nuage.protocol.poco import TaskStatus
from tests.contracts.hub_poco._helpers import LIE, REVEAL_DELAY, events
from tests.contracts.hub_poco._settle_helpers import (
    CALLBACK_DATA,
    CALLBACK_DIGEST,
    RESULTS,
    Ledger,
    ascending,
    contributor,
    expected_settlement,
    finalize,
    finalize_moves,
    give_score,
    hub_holds_all_money,
    open_settled_deal,
    revealed_task,
)


@pytest.fixture
def deal(protocol, requester, app_owner, pool_owner):
    """A trust-3 deal of one task; two fresh agreeing workers reach consensus."""
    return open_settled_deal(
        protocol, requester=requester, app_owner=app_owner, pool_owner=pool_owner, trust=3
    )


@pytest.fixture
def revealing(deal, workers):
    """Task 0 in REVEALING: workers 0 and 1 agreed on the result, neither revealed yet."""
    deal.initialize()
    for worker in workers[:2]:
        deal.contribute(worker, CALLBACK_DIGEST)
    assert deal.status() == TaskStatus.REVEALING
    return workers[:2]


@pytest.fixture
def revealed(deal, revealing):
    """Task 0 with both winners revealed: ready to finalize."""
    for worker in revealing:
        deal.reveal(worker, CALLBACK_DIGEST)
    return revealing


def everyone(deal, workers):
    record = deal.record
    return [
        record.requester,
        record.app_owner,
        record.dataset_owner,
        record.workerpool_owner,
        *(w.address for w in workers),
    ]


# -- success ---------------------------------------------------------------------------


def test_finalize_after_every_winner_revealed_pays_as_settle_computes(deal, revealed, workers):
    winners = [contributor(deal.protocol, w, won=True) for w in revealed]
    expected = expected_settlement(deal, winners, [])
    ledger = Ledger.of(deal.protocol, everyone(deal, workers))

    finalize(deal, revealed)

    assert ledger.moves() == finalize_moves(deal.record, expected)
    task = deal.task()
    assert task["status"] == TaskStatus.COMPLETED
    assert task["results"] == RESULTS
    assert deal.hub.viewResult(deal.task_id()) == RESULTS
    assert [deal.hub.scoreOf(w.address) for w in revealed] == [1, 1]
    assert hub_holds_all_money(deal.protocol, everyone(deal, workers))


def test_finalize_after_the_reveal_deadline_with_one_reveal(deal, revealing, workers):
    revealer, silent = revealing
    deal.reveal(revealer, CALLBACK_DIGEST)
    boa.env.time_travel(seconds=REVEAL_DELAY)
    expected = expected_settlement(
        deal,
        [contributor(deal.protocol, revealer, won=True)],
        [contributor(deal.protocol, silent, won=False)],
    )
    ledger = Ledger.of(deal.protocol, everyone(deal, workers))

    finalize(deal, revealing)

    [faulty] = events(deal.hub, "FaultyContribution")
    assert faulty.worker == silent.address
    assert ledger.moves() == finalize_moves(deal.record, expected)
    assert ledger.moves()[silent.address] == (0, -deal.record.worker_stake)
    assert deal.status() == TaskStatus.COMPLETED


def test_finalize_pays_owners_winners_and_scheduler_and_seizes_losers(
    protocol, requester, app_owner, dataset_owner, pool_owner, workers
):
    # a liar votes first; three winners of weights 2, 3 and 32 reach consensus
    # (2, 6, then 192 of 195); the first winner stays silent past the reveal deadline
    deal = open_settled_deal(
        protocol,
        requester=requester,
        app_owner=app_owner,
        pool_owner=pool_owner,
        dataset_owner=dataset_owner,
        trust=3,
    )
    liar, silent, light, heavy = workers[:4]
    for worker, score in ((liar, 8), (silent, 9), (light, 12), (heavy, 100)):
        give_score(protocol, worker, score)
    winners = [contributor(protocol, w, won=True) for w in (light, heavy)]
    losers = [contributor(protocol, w, won=False) for w in (liar, silent)]
    deal.initialize()
    deal.contribute(liar, LIE)
    for worker in (silent, light, heavy):
        deal.contribute(worker, CALLBACK_DIGEST)
    assert deal.status() == TaskStatus.REVEALING
    deal.reveal(light, CALLBACK_DIGEST)
    deal.reveal(heavy, CALLBACK_DIGEST)
    boa.env.time_travel(seconds=REVEAL_DELAY)
    expected = expected_settlement(deal, winners, losers)
    accounts = everyone(deal, workers)
    ledger = Ledger.of(protocol, accounts)

    finalize(deal, [liar, silent, light, heavy])

    finalized = events(deal.hub, "TaskFinalized")
    accurate = events(deal.hub, "AccurateContribution")
    faulty = events(deal.hub, "FaultyContribution")
    # pot 1.6 RLC (price + 2 seized stakes), 99% to the winners by log2 weight 1 : 5
    assert expected.worker_rewards == {light.address: 264_000_000, heavy.address: 1_320_000_000}
    assert expected.scheduler_reward == 16_000_000
    assert ledger.moves() == finalize_moves(deal.record, expected)
    assert [(e.task_id, e.results, e.result_digest) for e in finalized] == [
        (deal.task_id(), RESULTS, CALLBACK_DIGEST)
    ]
    assert {e.worker for e in accurate} == {light.address, heavy.address}
    assert {e.worker for e in faulty} == {liar.address, silent.address}
    assert all(e.task_id == deal.task_id() for e in [*accurate, *faulty])
    scores = {w.address: deal.hub.scoreOf(w.address) for w in (liar, silent, light, heavy)}
    assert scores == dict(expected.scores)
    assert scores == {liar.address: 5, silent.address: 6, light.address: 13, heavy.address: 101}
    assert deal.status() == TaskStatus.COMPLETED
    assert hub_holds_all_money(protocol, accounts)


def test_single_contributor_wins_without_a_score_change(
    protocol, requester, app_owner, pool_owner, workers
):
    # trust 2: one worker of weight 2 is consensus alone (2 * 2 > 3 * 1); not replicated
    deal = open_settled_deal(
        protocol, requester=requester, app_owner=app_owner, pool_owner=pool_owner, trust=2
    )
    worker = workers[0]
    give_score(protocol, worker, 5)
    revealed_task(deal, [worker])
    expected = expected_settlement(deal, [contributor(protocol, worker, won=True)], [])
    ledger = Ledger.of(protocol, everyone(deal, workers))

    finalize(deal, [worker])

    assert events(deal.hub, "AccurateContribution") == []
    assert ledger.moves() == finalize_moves(deal.record, expected)
    assert protocol.hub.scoreOf(worker.address) == 5
    assert deal.status() == TaskStatus.COMPLETED


def test_callback_data_without_a_callback_contract_is_accepted_when_it_is_the_result(
    deal, revealed
):
    finalize(deal, revealed, callback_data=CALLBACK_DATA)

    assert deal.status() == TaskStatus.COMPLETED


# -- refusals ----------------------------------------------------------------------------


def refused(deal, reason, contributors, **options):
    """`finalize` reverts with `reason` and nothing on chain moves."""
    root = deal.protocol.state_root()
    with boa.reverts(reason):
        finalize(deal, contributors, **options)
    assert deal.protocol.state_root() == root


def test_not_the_scheduler_reverts(deal, revealed, attacker, requester):
    refused(deal, "poco: not the scheduler", revealed, sender=attacker)
    refused(deal, "poco: not the scheduler", revealed, sender=requester)


def test_uninitialized_task_reverts(deal):
    refused(deal, "poco: task not revealing", [])


def test_active_task_without_consensus_reverts(deal, workers):
    deal.initialize()
    deal.contribute(workers[0], CALLBACK_DIGEST)

    refused(deal, "poco: task not revealing", workers[:1])


def test_second_finalize_reverts(deal, revealed):
    finalize(deal, revealed)

    refused(deal, "poco: task not revealing", revealed)


def test_claimed_task_reverts(deal, revealing):
    boa.env.time_travel(seconds=10 * deal.record.time_ref)
    with boa.env.prank(deal.record.requester):
        deal.hub.claim(*deal.args(), deal.first, ascending(revealing))

    refused(deal, "poco: task not revealing", revealing)


def test_final_deadline_passed_reverts(deal, revealed):
    boa.env.time_travel(seconds=10 * deal.record.time_ref)

    refused(deal, "poco: final deadline passed", revealed)


def test_winner_yet_to_reveal_before_the_deadline_reverts(deal, revealing):
    deal.reveal(revealing[0], CALLBACK_DIGEST)

    refused(deal, "poco: reveals still expected", revealing)


def test_no_reveal_at_all_after_the_deadline_reverts(deal, revealing):
    # nobody revealed: the scheduler must reopen the task, not finalize it
    boa.env.time_travel(seconds=REVEAL_DELAY)

    refused(deal, "poco: reveals still expected", revealing)


def test_empty_results_reverts(deal, revealed):
    refused(deal, "poco: empty results", revealed, results=b"\x00" * 32)


def test_callback_data_that_is_not_the_result_reverts(deal, revealed):
    reason = "poco: callback data does not match the result"
    refused(deal, reason, revealed, callback_data=CALLBACK_DATA + b" ")
    refused(deal, reason, revealed, callback_data=CALLBACK_DIGEST)


def test_callback_contract_given_other_data_reverts(
    protocol, requester, app_owner, pool_owner, workers
):
    deal = open_settled_deal(
        protocol,
        requester=requester,
        app_owner=app_owner,
        pool_owner=pool_owner,
        callback=requester.address,
    )
    winners = workers[:2]
    revealed_task(deal, winners)
    reason = "poco: callback data does not match the result"

    refused(deal, reason, winners, callback_data=b"")
    refused(deal, reason, winners, callback_data=b"\x00" + CALLBACK_DATA)
    finalize(deal, winners, callback_data=CALLBACK_DATA)
    assert deal.status() == TaskStatus.COMPLETED


def test_contributor_left_out_reverts(deal, revealed):
    refused(deal, "poco: contributor list incomplete", revealed[:1])
    refused(deal, "poco: contributor list incomplete", [])


def test_contributor_added_reverts(deal, revealed, workers):
    refused(deal, "poco: contributor list incomplete", [*revealed, workers[2]])


def test_contributors_out_of_order_reverts(deal, revealed):
    descending = list(reversed(ascending(revealed)))

    refused(deal, "poco: contributors not in ascending order", descending, ordered=False)


def test_contributor_listed_twice_reverts(deal, revealed):
    # the right length, one winner twice and the other left out: the liar's
    # stake would stay frozen and a winner be paid twice
    first = ascending(revealed)[0]

    refused(deal, "poco: contributors not in ascending order", [first, first], ordered=False)


def test_stranger_in_the_list_reverts(deal, revealed, workers):
    # the right length and order, but a worker who never contributed
    stranger = workers[2]
    listed = ascending([revealed[0], stranger])

    refused(deal, "poco: not a contributor", listed, ordered=False)


def test_zero_address_in_the_list_reverts(deal, revealed):
    listed = ["0x" + "00" * 20, ascending(revealed)[1]]

    refused(deal, "poco: contributors not in ascending order", listed, ordered=False)


def test_task_index_outside_the_deal_reverts(deal, revealed):
    refused(deal, "poco: task index outside the deal", revealed, index=deal.first + 1)


def test_deal_record_that_is_not_the_deal_reverts(deal, revealed):
    # the scheduler cannot pay itself at another price than the deal's
    forged = dataclasses.replace(deal.record, workerpool_price=deal.record.workerpool_price * 10)

    refused(
        dataclasses.replace(deal, record=forged),
        "poco: deal does not match its commitment",
        revealed,
    )


def test_unknown_deal_reverts(deal, revealed):
    refused(dataclasses.replace(deal, deal_id=b"\x07" * 32), "poco: unknown deal", revealed)
