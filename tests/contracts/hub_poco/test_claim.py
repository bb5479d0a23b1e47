"""`claim`: after the final deadline anyone fails a task that did not complete.

The requester gets the task's price back, the pool owner's stake for it goes
to the kitty, and every contributor's stake is unlocked.
"""

import dataclasses

import boa
import pytest

from nuage.protocol.poco import TaskStatus
from nuage.protocol.rewards import pool_stake, refund
from tests.contracts.hub_poco._helpers import FINAL_DELAY, events
from tests.contracts.hub_poco._settle_helpers import (
    CALLBACK_DIGEST,
    Ledger,
    ascending,
    claim,
    claim_moves,
    fast_complete,
    finalize,
    hub_holds_all_money,
    open_settled_deal,
    revealed_task,
)


@pytest.fixture
def deal(protocol, requester, app_owner, dataset_owner, pool_owner):
    """A trust-3 deal of two tasks, with a dataset."""
    return open_settled_deal(
        protocol,
        requester=requester,
        app_owner=app_owner,
        pool_owner=pool_owner,
        dataset_owner=dataset_owner,
        trust=3,
        volume=2,
    )


@pytest.fixture
def stalled(deal, workers):
    """Task 0 active with one contribution (no consensus at trust 3)."""
    deal.initialize()
    deal.contribute(workers[0], CALLBACK_DIGEST)
    return workers[:1]


def accounts(deal, workers=()):
    r = deal.record
    return [
        r.requester,
        r.app_owner,
        r.dataset_owner,
        r.workerpool_owner,
        *(w.address for w in workers),
    ]


def test_anyone_claims_a_stalled_task_after_the_final_deadline(deal, stalled, attacker, workers):
    boa.env.time_travel(seconds=FINAL_DELAY)
    ledger = Ledger.of(deal.protocol, accounts(deal, workers))
    scores = [deal.hub.scoreOf(w.address) for w in stalled]

    claim(deal, stalled, sender=attacker)

    [claimed] = events(deal.hub, "TaskClaimed")
    [kitty] = events(deal.hub, "KittyChanged")
    stake = pool_stake(deal.record.workerpool_price)
    assert claimed.task_id == deal.task_id()
    assert (kitty.old_kitty, kitty.new_kitty, kitty.ref) == (0, stake, deal.task_id())
    assert ledger.moves() == claim_moves(deal.record, stalled)
    assert deal.hub.kitty() == ledger.kitty + stake
    assert deal.status() == TaskStatus.FAILED
    assert deal.status(1) == TaskStatus.UNSET
    assert [deal.hub.scoreOf(w.address) for w in stalled] == scores
    assert hub_holds_all_money(deal.protocol, accounts(deal, workers))


def test_requester_is_refunded_the_whole_task_price(deal, stalled):
    boa.env.time_travel(seconds=FINAL_DELAY)
    free, frozen = deal.protocol.account(deal.record.requester)
    price = refund(app_price=10**9, dataset_price=10**9, workerpool_price=10**9)

    claim(deal, stalled)

    assert deal.protocol.account(deal.record.requester) == (free + price, frozen - price)


def test_revealed_task_never_finalized_can_be_claimed(deal, workers):
    # the scheduler walked away: winners get their stakes back, no score
    winners = workers[:2]
    revealed_task(deal, winners)
    boa.env.time_travel(seconds=FINAL_DELAY)
    ledger = Ledger.of(deal.protocol, accounts(deal, workers))

    claim(deal, winners)

    assert ledger.moves() == claim_moves(deal.record, winners)
    assert [deal.hub.scoreOf(w.address) for w in winners] == [0, 0]
    assert deal.status() == TaskStatus.FAILED


def test_never_initialized_task_is_claimed_with_an_empty_list(deal):
    boa.env.time_travel(seconds=FINAL_DELAY)
    ledger = Ledger.of(deal.protocol, accounts(deal))

    claim(deal, [], index=1)

    assert ledger.moves() == claim_moves(deal.record)
    task = deal.task(1)
    assert task["status"] == TaskStatus.FAILED
    assert task["final_deadline"] == deal.record.final_deadline
    assert deal.status(0) == TaskStatus.UNSET


def test_trust_one_task_nobody_completed_is_claimed(protocol, requester, app_owner, pool_owner):
    deal = open_settled_deal(
        protocol, requester=requester, app_owner=app_owner, pool_owner=pool_owner, trust=1
    )
    boa.env.time_travel(seconds=FINAL_DELAY)
    ledger = Ledger.of(protocol, accounts(deal))

    claim(deal)

    assert ledger.moves() == claim_moves(deal.record)
    assert deal.status() == TaskStatus.FAILED


# -- refusals ----------------------------------------------------------------------------


def refused(deal, reason, contributors=(), **options):
    root = deal.protocol.state_root()
    with boa.reverts(reason):
        claim(deal, contributors, **options)
    assert deal.protocol.state_root() == root


def test_before_the_final_deadline_reverts(deal, stalled):
    boa.env.time_travel(seconds=FINAL_DELAY - 1)

    refused(deal, "poco: final deadline not reached", stalled)
    refused(deal, "poco: final deadline not reached", index=1)


def test_finalized_task_reverts(deal, workers):
    winners = workers[:2]
    revealed_task(deal, winners)
    finalize(deal, winners)
    boa.env.time_travel(seconds=FINAL_DELAY)

    refused(deal, "poco: task already completed", winners)


def test_fast_completed_task_reverts(protocol, requester, app_owner, pool_owner, worker):
    deal = open_settled_deal(
        protocol, requester=requester, app_owner=app_owner, pool_owner=pool_owner, trust=1
    )
    fast_complete(deal, worker)
    boa.env.time_travel(seconds=FINAL_DELAY)

    refused(deal, "poco: task already completed")


def test_second_claim_reverts(deal, stalled):
    boa.env.time_travel(seconds=FINAL_DELAY)
    claim(deal, stalled)
    claim(deal, index=1)

    refused(deal, "poco: task already claimed", stalled)
    refused(deal, "poco: task already claimed", index=1)


def test_contributor_left_out_reverts(deal, stalled):
    # a contributor left out would have its stake frozen for ever
    boa.env.time_travel(seconds=FINAL_DELAY)

    refused(deal, "poco: contributor list incomplete", [])


def test_contributor_added_to_an_unstarted_task_reverts(deal, workers):
    boa.env.time_travel(seconds=FINAL_DELAY)

    refused(deal, "poco: contributor list incomplete", workers[:1], index=1)


def test_contributors_out_of_order_reverts(deal, workers):
    deal.initialize()
    for worker in workers[:2]:
        deal.contribute(worker, CALLBACK_DIGEST)
    boa.env.time_travel(seconds=FINAL_DELAY)
    descending = list(reversed(ascending(workers[:2])))
    first = ascending(workers[:2])[0]

    refused(deal, "poco: contributors not in ascending order", descending, ordered=False)
    refused(deal, "poco: contributors not in ascending order", [first, first], ordered=False)


def test_stranger_in_the_list_reverts(deal, stalled, workers):
    # a stranger listed instead of the contributor would get a stake unlocked it never locked
    boa.env.time_travel(seconds=FINAL_DELAY)

    refused(deal, "poco: not a contributor", [workers[5]])


def test_task_index_outside_the_deal_reverts(deal):
    boa.env.time_travel(seconds=FINAL_DELAY)

    refused(deal, "poco: task index outside the deal", index=2)


def test_deal_record_that_is_not_the_deal_reverts(deal):
    # a claimer cannot be refunded more than the requester paid
    boa.env.time_travel(seconds=FINAL_DELAY)
    forged = dataclasses.replace(deal.record, app_price=deal.record.app_price * 2)

    refused(
        dataclasses.replace(deal, record=forged),
        "poco: deal does not match its commitment",
        index=1,
    )


def test_unknown_deal_reverts(deal):
    boa.env.time_travel(seconds=FINAL_DELAY)

    refused(dataclasses.replace(deal, deal_id=b"\x07" * 32), "poco: unknown deal", index=1)
