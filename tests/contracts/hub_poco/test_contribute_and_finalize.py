"""`contributeAndFinalize`: a trust-1 task completed and paid in one transaction.

The authorised worker hands in the result; it stakes nothing and its score
does not move. Payments are checked against `nuage.protocol.rewards.settle_fast`.
"""

import dataclasses

import boa
import pytest

from nuage.protocol.poco import TaskStatus, sign_authorization
from nuage.protocol.tags import tag
from tests.contracts.harness import Actor
from tests.contracts.hub_poco._helpers import (
    CONTRIBUTION_DELAY,
    FINAL_DELAY,
    MatchedDeal,
    events,
    with_tag,
)
from tests.contracts.hub_poco._settle_helpers import (
    CALLBACK_DATA,
    CALLBACK_DIGEST,
    RESULTS,
    Ledger,
    claim,
    expected_fast_settlement,
    fast_complete,
    fast_moves,
    fill_kitty,
    give_score,
    hub_holds_all_money,
    open_settled_deal,
)


@pytest.fixture
def fast_deal(protocol, requester, app_owner, dataset_owner, pool_owner):
    """A trust-1 deal of two tasks, with a dataset."""
    return open_settled_deal(
        protocol,
        requester=requester,
        app_owner=app_owner,
        pool_owner=pool_owner,
        dataset_owner=dataset_owner,
        trust=1,
        volume=2,
    )


def accounts(deal, *actors):
    r = deal.record
    return [r.requester, r.app_owner, r.dataset_owner, r.workerpool_owner, *actors]


def test_worker_completes_and_everyone_is_paid_at_once(fast_deal, worker):
    # the worker needs no deposit: nothing is staked on this path
    give_score(fast_deal.protocol, worker, 7)
    price = fast_deal.record.workerpool_price
    expected = expected_fast_settlement(fast_deal, worker)
    ledger = Ledger.of(fast_deal.protocol, accounts(fast_deal, worker.address))

    fast_complete(fast_deal, worker, index=1)

    finalized = events(fast_deal.hub, "TaskFinalized")
    rewards = events(fast_deal.hub, "Reward")
    task_id = fast_deal.task_id(1)
    assert [(e.task_id, e.results, e.result_digest) for e in finalized] == [
        (task_id, RESULTS, CALLBACK_DIGEST)
    ]
    assert (worker.address, price * 99 // 100, task_id) in [
        (e.account, e.amount, e.ref) for e in rewards
    ]
    assert expected.worker_rewards == {worker.address: price * 99 // 100}
    assert expected.scheduler_reward == price - price * 99 // 100
    assert ledger.moves() == fast_moves(fast_deal.record, expected)
    assert fast_deal.protocol.account(worker) == (price * 99 // 100, 0)
    assert fast_deal.hub.scoreOf(worker.address) == 7
    assert fast_deal.hub.viewResult(task_id) == RESULTS
    assert hub_holds_all_money(fast_deal.protocol, accounts(fast_deal, worker.address))


def test_completed_task_reads_completed_with_no_deadlines(fast_deal, worker):
    fast_complete(fast_deal, worker, index=1)

    task = fast_deal.task(1)
    assert task["status"] == TaskStatus.COMPLETED
    assert task["results"] == RESULTS
    assert task["contributors"] == task["contribution_deadline"] == task["final_deadline"] == 0
    assert fast_deal.status(0) == TaskStatus.UNSET  # the other task of the deal is untouched


def test_scheduler_gets_a_kitty_bonus(protocol, requester, app_owner, pool_owner, worker):
    kitty = fill_kitty(protocol, requester, app_owner, pool_owner, price=100 * 10**9)
    deal = open_settled_deal(
        protocol, requester=requester, app_owner=app_owner, pool_owner=pool_owner, trust=1
    )
    expected = expected_fast_settlement(deal, worker)
    ledger = Ledger.of(protocol, accounts(deal, worker.address))

    fast_complete(deal, worker)

    [changed] = events(protocol.hub, "KittyChanged")
    assert expected.kitty_bonus == kitty // 10
    assert (changed.old_kitty, changed.new_kitty) == (kitty, kitty - kitty // 10)
    assert protocol.hub.kitty() == kitty - kitty // 10
    assert ledger.moves() == fast_moves(deal.record, expected)


def test_worker_may_hand_callback_data_that_is_the_result(fast_deal, worker):
    fast_complete(fast_deal, worker, callback_data=CALLBACK_DATA)

    assert fast_deal.status() == TaskStatus.COMPLETED


def test_initialize_cannot_block_the_one_transaction_path(fast_deal, worker, attacker):
    # a trust-1 task is never initialized, so an attacker cannot start it first
    root = fast_deal.protocol.state_root()
    with boa.reverts("poco: trust 1 tasks complete in one transaction"):
        fast_deal.initialize(sender=attacker)
    assert fast_deal.protocol.state_root() == root

    fast_complete(fast_deal, worker)

    assert fast_deal.status() == TaskStatus.COMPLETED


# -- refusals ----------------------------------------------------------------------------


def refused(deal, reason, worker, **options):
    root = deal.protocol.state_root()
    with boa.reverts(reason):
        fast_complete(deal, worker, **options)
    assert deal.protocol.state_root() == root


def test_replicated_deal_reverts(protocol, requester, app_owner, pool_owner, worker):
    deal = open_settled_deal(
        protocol, requester=requester, app_owner=app_owner, pool_owner=pool_owner, trust=2
    )

    refused(deal, "poco: trust above 1", worker)


def test_second_completion_reverts(fast_deal, worker):
    fast_complete(fast_deal, worker)

    refused(fast_deal, "poco: task already completed", worker)
    refused(fast_deal, "poco: task already completed", Actor.named("worker 2"))


def test_contribution_deadline_passed_reverts(fast_deal, worker):
    boa.env.time_travel(seconds=CONTRIBUTION_DELAY)

    refused(fast_deal, "poco: contribution deadline passed", worker)


def test_claimed_task_cannot_be_completed(fast_deal, worker):
    boa.env.time_travel(seconds=FINAL_DELAY)
    claim(fast_deal)

    refused(fast_deal, "poco: contribution deadline passed", worker)


def test_empty_results_reverts(fast_deal, worker):
    refused(fast_deal, "poco: empty results", worker, results=b"\x00" * 32)


def test_callback_data_that_is_not_the_result_reverts(fast_deal, worker):
    reason = "poco: callback data does not match the result"
    refused(fast_deal, reason, worker, callback_data=CALLBACK_DATA + b" ")
    refused(fast_deal, reason, worker, callback_data=CALLBACK_DATA, digest=b"\x05" * 32)


def test_callback_contract_given_other_data_reverts(
    protocol, requester, app_owner, pool_owner, worker
):
    deal = open_settled_deal(
        protocol,
        requester=requester,
        app_owner=app_owner,
        pool_owner=pool_owner,
        trust=1,
        callback=requester.address,
    )
    reason = "poco: callback data does not match the result"

    refused(deal, reason, worker, callback_data=b"")
    refused(deal, reason, worker, callback_data=CALLBACK_DATA[:-1])


def test_unauthorised_worker_reverts(fast_deal, worker, attacker):
    deal = fast_deal
    own = sign_authorization(
        attacker.key, deal.protocol.hub_domain, attacker.address, deal.task_id()
    )
    someone_elses = sign_authorization(
        deal.pool_owner.key, deal.protocol.hub_domain, worker.address, deal.task_id()
    )
    other_task = sign_authorization(
        deal.pool_owner.key, deal.protocol.hub_domain, attacker.address, deal.task_id(1)
    )

    for authorization in (own, someone_elses, other_task, b""):
        refused(deal, "poco: bad authorization", attacker, authorization=authorization)


def test_tee_deal_without_an_enclave_reverts(protocol, requester, app_owner, pool_owner, worker):
    orders = protocol.ready_deal(
        requester=requester, app_owner=app_owner, pool_owner=pool_owner, trust=1
    )
    owners = {"app": app_owner, "workerpool": pool_owner, "request": requester}
    deal_id, record = protocol.match_record(with_tag(protocol, orders, tag("tee"), owners))
    deal = MatchedDeal(protocol, deal_id, record, pool_owner)

    refused(deal, "poco: enclave required", worker)


def test_task_index_outside_the_deal_reverts(fast_deal, worker):
    refused(fast_deal, "poco: task index outside the deal", worker, index=2)


def test_unknown_deal_reverts(fast_deal, worker):
    unknown = dataclasses.replace(fast_deal, deal_id=b"\x07" * 32)

    refused(unknown, "poco: unknown deal", worker)


def test_deal_record_that_is_not_the_deal_reverts(fast_deal, worker):
    # a worker cannot be paid at a price of its choosing
    forged = dataclasses.replace(fast_deal.record, workerpool_price=10**12)

    refused(
        dataclasses.replace(fast_deal, record=forged),
        "poco: deal does not match its commitment",
        worker,
    )
