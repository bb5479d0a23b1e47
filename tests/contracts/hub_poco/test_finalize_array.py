"""`finalizeArray`: the scheduler completes several tasks of one deal in one call."""

import boa
import pytest

from nuage.protocol.poco import TaskStatus
from tests.contracts.hub_poco._helpers import events
from tests.contracts.hub_poco._settle_helpers import (
    RESULTS,
    Ledger,
    contributor,
    expected_settlement,
    finalize_item,
    finalize_moves,
    hub_holds_all_money,
    merged,
    open_settled_deal,
    revealed_task,
)

OTHER_RESULTS = b"\x02" * 32


@pytest.fixture
def deal(protocol, requester, app_owner, pool_owner):
    """A trust-3 deal of two tasks."""
    return open_settled_deal(
        protocol,
        requester=requester,
        app_owner=app_owner,
        pool_owner=pool_owner,
        trust=3,
        volume=2,
    )


@pytest.fixture
def teams(deal, workers):
    """Both tasks revealed: workers 0 and 1 on task 0, workers 2 and 3 on task 1."""
    teams = [workers[:2], workers[2:4]]
    for index, team in enumerate(teams):
        revealed_task(deal, team, index=index)
    return teams


def accounts(deal, workers):
    r = deal.record
    return [r.requester, r.app_owner, r.workerpool_owner, *(w.address for w in workers)]


def finalize_array(deal, items, sender=None):
    with boa.env.prank((sender or deal.pool_owner).address):
        deal.hub.finalizeArray(*deal.args(), items)


def test_finalize_array_completes_and_pays_every_task(deal, teams, workers):
    expected = [
        finalize_moves(
            deal.record,
            expected_settlement(deal, [contributor(deal.protocol, w, won=True) for w in team], []),
        )
        for team in teams
    ]
    ledger = Ledger.of(deal.protocol, accounts(deal, workers))

    finalize_array(
        deal,
        [
            finalize_item(deal, 0, teams[0]),
            finalize_item(deal, 1, teams[1], results=OTHER_RESULTS),
        ],
    )

    finalized = events(deal.hub, "TaskFinalized")
    assert [(e.task_id, e.results) for e in finalized] == [
        (deal.task_id(0), RESULTS),
        (deal.task_id(1), OTHER_RESULTS),
    ]
    assert ledger.moves() == merged(*expected)
    assert [deal.status(i) for i in (0, 1)] == [TaskStatus.COMPLETED] * 2
    assert deal.hub.viewResult(deal.task_id(1)) == OTHER_RESULTS
    assert deal.protocol.account(deal.record.requester)[1] == 0  # both tasks paid for
    assert hub_holds_all_money(deal.protocol, accounts(deal, workers))


def test_finalize_array_of_one_task_leaves_the_other_revealing(deal, teams):
    finalize_array(deal, [finalize_item(deal, 1, teams[1])])

    assert [deal.status(i) for i in (0, 1)] == [TaskStatus.REVEALING, TaskStatus.COMPLETED]


def test_empty_batch_changes_nothing(deal, teams):
    root = deal.protocol.state_root()

    finalize_array(deal, [])

    assert deal.protocol.state_root() == root


def refused(deal, reason, items, sender=None):
    root = deal.protocol.state_root()
    with boa.reverts(reason):
        finalize_array(deal, items, sender)
    assert deal.protocol.state_root() == root


def test_one_bad_item_reverts_the_whole_batch(deal, teams):
    good = finalize_item(deal, 0, teams[0])

    refused(
        deal,
        "poco: contributor list incomplete",
        [good, finalize_item(deal, 1, teams[1][:1])],
    )
    refused(
        deal, "poco: empty results", [good, finalize_item(deal, 1, teams[1], results=b"\0" * 32)]
    )
    assert deal.status(0) == TaskStatus.REVEALING


def test_same_task_twice_in_a_batch_reverts(deal, teams):
    item = finalize_item(deal, 0, teams[0])

    refused(deal, "poco: task not revealing", [item, item])


def test_task_outside_the_deal_reverts(deal, teams):
    refused(
        deal,
        "poco: task index outside the deal",
        [finalize_item(deal, 0, teams[0]), finalize_item(deal, 2, teams[1])],
    )


def test_not_the_scheduler_reverts(deal, teams, attacker):
    refused(deal, "poco: not the scheduler", [finalize_item(deal, 0, teams[0])], attacker)
