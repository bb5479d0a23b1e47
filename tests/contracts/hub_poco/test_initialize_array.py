"""Hub.initializeArray: several tasks of one deal at once, all or none."""

import dataclasses

import boa
from eth_utils import keccak

from nuage.protocol.poco import TaskStatus
from tests.contracts.hub_poco._helpers import CONTRIBUTION_DELAY, FINAL_DELAY, events

MAX_BATCH = 16


def initialize_array(deal, indices, record=None, deal_id=None):
    with boa.env.prank(deal.pool_owner.address):
        deal.hub.initializeArray(
            (record or deal.record).as_tuple(), deal_id or deal.deal_id, indices
        )


def assert_refused(deal, reason, indices, **options):
    """initializeArray reverts with `reason`, nothing moves, and no task started."""
    root = deal.protocol.state_root()
    with boa.reverts(reason):
        initialize_array(deal, indices, **options)
    assert deal.protocol.state_root() == root
    for index in range(deal.record.bot_size):
        assert deal.status(index) == TaskStatus.UNSET


def test_initializes_every_listed_task(open_deal):
    deal = open_deal(volume=4)

    initialize_array(deal, [3, 0, 2])
    initialized = events(deal.hub, "TaskInitialized")

    tasks = deal.record.task_ids(deal.deal_id)
    assert [(e.task_id, e.deal_id, e.index) for e in initialized] == [
        (tasks[3], deal.deal_id, 3),
        (tasks[0], deal.deal_id, 0),
        (tasks[2], deal.deal_id, 2),
    ]
    assert [deal.status(index) for index in range(4)] == [
        TaskStatus.ACTIVE,
        TaskStatus.UNSET,
        TaskStatus.ACTIVE,
        TaskStatus.ACTIVE,
    ]
    start = deal.record.start_time
    for index in (0, 2, 3):
        task = deal.task(index)
        assert task["contribution_deadline"] == start + CONTRIBUTION_DELAY
        assert task["final_deadline"] == start + FINAL_DELAY


def test_a_full_batch_initializes(open_deal):
    deal = open_deal(volume=MAX_BATCH)

    initialize_array(deal, list(range(MAX_BATCH)))

    assert all(deal.status(index) == TaskStatus.ACTIVE for index in range(MAX_BATCH))


def test_empty_batch_changes_nothing(deal):
    root = deal.protocol.state_root()

    initialize_array(deal, [])

    assert deal.protocol.state_root() == root


def test_one_index_outside_the_deal_reverts_the_whole_batch(open_deal):
    deal = open_deal(volume=3)

    assert_refused(deal, "poco: task index outside the deal", [0, 1, 3])


def test_one_started_task_reverts_the_whole_batch(open_deal):
    deal = open_deal(volume=3)
    deal.initialize(1)
    root = deal.protocol.state_root()

    with boa.reverts("poco: task already initialized"):
        initialize_array(deal, [0, 1, 2])

    assert deal.protocol.state_root() == root
    assert [deal.status(index) for index in range(3)] == [
        TaskStatus.UNSET,
        TaskStatus.ACTIVE,
        TaskStatus.UNSET,
    ]


def test_repeated_index_reverts(open_deal):
    deal = open_deal(volume=2)

    assert_refused(deal, "poco: task already initialized", [0, 0])


def test_unknown_deal_reverts(deal):
    assert_refused(deal, "poco: unknown deal", [0], deal_id=keccak(text="no deal"))


def test_deal_not_matching_its_commitment_reverts(deal):
    forged = dataclasses.replace(deal.record, workerpool_price=deal.record.workerpool_price * 2)

    assert_refused(deal, "poco: deal does not match its commitment", [0], record=forged)


def test_trust_one_deal_reverts(open_deal):
    deal = open_deal(trust=1, volume=2)

    assert_refused(deal, "poco: trust 1 tasks complete in one transaction", [0, 1])
