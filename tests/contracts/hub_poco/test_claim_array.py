"""`claimArray`: several failed tasks of one deal claimed in one call."""

import boa
import pytest

from nuage.protocol.poco import TaskStatus
from nuage.protocol.rewards import pool_stake
from tests.contracts.hub_poco._helpers import FINAL_DELAY, events
from tests.contracts.hub_poco._settle_helpers import (
    CALLBACK_DIGEST,
    Ledger,
    ascending,
    claim_moves,
    hub_holds_all_money,
    merged,
    open_settled_deal,
)


@pytest.fixture
def deal(protocol, requester, app_owner, pool_owner):
    """A trust-3 deal of three tasks."""
    return open_settled_deal(
        protocol,
        requester=requester,
        app_owner=app_owner,
        pool_owner=pool_owner,
        trust=3,
        volume=3,
    )


@pytest.fixture
def stalled(deal, workers):
    """Task 0 active with worker 0's contribution; tasks 1 and 2 never started."""
    deal.initialize(0)
    deal.contribute(workers[0], CALLBACK_DIGEST, 0)
    return workers[:1]


def claim_array(deal, items, sender):
    with boa.env.prank(sender.address):
        deal.hub.claimArray(*deal.args(), items)


def accounts(deal, workers):
    r = deal.record
    return [r.requester, r.app_owner, r.workerpool_owner, *(w.address for w in workers)]


def test_claim_array_fails_every_task_listed(deal, stalled, workers, attacker):
    boa.env.time_travel(seconds=FINAL_DELAY)
    ledger = Ledger.of(deal.protocol, accounts(deal, workers))

    claim_array(deal, [(0, ascending(stalled)), (2, [])], attacker)

    claimed = events(deal.hub, "TaskClaimed")
    assert [e.task_id for e in claimed] == [deal.task_id(0), deal.task_id(2)]
    assert ledger.moves() == merged(claim_moves(deal.record, stalled), claim_moves(deal.record))
    assert deal.hub.kitty() == 2 * pool_stake(deal.record.workerpool_price)
    assert [deal.status(i) for i in (0, 1, 2)] == [
        TaskStatus.FAILED,
        TaskStatus.UNSET,
        TaskStatus.FAILED,
    ]
    assert hub_holds_all_money(deal.protocol, accounts(deal, workers))


def test_empty_batch_changes_nothing(deal, attacker):
    boa.env.time_travel(seconds=FINAL_DELAY)
    root = deal.protocol.state_root()

    claim_array(deal, [], attacker)

    assert deal.protocol.state_root() == root


def refused(deal, reason, items, sender):
    root = deal.protocol.state_root()
    with boa.reverts(reason):
        claim_array(deal, items, sender)
    assert deal.protocol.state_root() == root


def test_one_bad_item_reverts_the_whole_batch(deal, stalled, attacker):
    boa.env.time_travel(seconds=FINAL_DELAY)

    refused(deal, "poco: contributor list incomplete", [(1, []), (0, [])], attacker)
    refused(deal, "poco: task index outside the deal", [(1, []), (3, [])], attacker)


def test_same_task_twice_in_a_batch_reverts(deal, attacker):
    # the pool stake would be seized twice, the requester refunded twice
    boa.env.time_travel(seconds=FINAL_DELAY)

    refused(deal, "poco: task already claimed", [(1, []), (1, [])], attacker)


def test_before_the_final_deadline_reverts(deal, attacker):
    boa.env.time_travel(seconds=FINAL_DELAY - 1)

    refused(deal, "poco: final deadline not reached", [(1, [])], attacker)
