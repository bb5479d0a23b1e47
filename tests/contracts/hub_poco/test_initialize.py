"""Hub.initialize: anyone starts a task of a matched deal, once."""

import dataclasses

import boa
from eth_utils import keccak

from nuage.protocol.poco import TaskStatus
from tests.contracts.hub_poco._helpers import (
    CONTRIBUTION_DELAY,
    FINAL_DELAY,
    PRICE,
    ZERO_BYTES32,
    MatchedDeal,
    events,
)


def assert_refused(deal, reason, *args, sender=None):
    """initialize(*args) reverts with `reason` and nothing on chain moves."""
    protocol = deal.protocol
    root = protocol.state_root()
    with boa.env.prank((sender or deal.pool_owner).address), boa.reverts(reason):
        protocol.hub.initialize(*args)
    assert protocol.state_root() == root


def test_anyone_initializes_a_task(deal, attacker):
    """The scheduler usually does it, but starting a paid task harms no one."""
    boa.env.time_travel(seconds=123)  # the deadlines count from the deal, not from now

    task = deal.initialize(sender=attacker)
    [initialized] = events(deal.hub, "TaskInitialized")

    start = deal.record.start_time
    assert (
        task
        == keccak(deal.deal_id + (0).to_bytes(32, "big"))
        == deal.record.task_ids(deal.deal_id)[0]
    )
    assert deal.task() == {
        "status": TaskStatus.ACTIVE,
        "contributors": 0,
        "reveals": 0,
        "winners": 0,
        "contribution_deadline": start + CONTRIBUTION_DELAY,
        "reveal_deadline": 0,
        "final_deadline": start + FINAL_DELAY,
        "consensus_value": ZERO_BYTES32,
        "result_digest": ZERO_BYTES32,
        "results": ZERO_BYTES32,
        "round": 0,
    }
    assert (initialized.task_id, initialized.deal_id, initialized.index) == (
        task,
        deal.deal_id,
        0,
    )


def test_each_task_of_a_deal_has_its_own_id(open_deal):
    deal = open_deal(volume=3)

    tasks = [deal.initialize(index) for index in range(3)]

    assert tasks == deal.record.task_ids(deal.deal_id)
    assert len(set(tasks)) == 3
    assert all(deal.status(index) == TaskStatus.ACTIVE for index in range(3))


def test_initialize_moves_no_money(deal, requester, pool_owner):
    before = deal.protocol.account(requester), deal.protocol.account(pool_owner)

    deal.initialize()

    assert (deal.protocol.account(requester), deal.protocol.account(pool_owner)) == before


def test_unknown_deal_reverts(deal):
    assert_refused(deal, "poco: unknown deal", deal.record.as_tuple(), keccak(text="no deal"), 0)


def test_deal_with_a_changed_price_reverts(deal):
    """A scheduler cannot make the hub settle a deal on other terms than matched."""
    cheaper = dataclasses.replace(deal.record, app_price=deal.record.app_price + 1)

    assert_refused(
        deal, "poco: deal does not match its commitment", cheaper.as_tuple(), deal.deal_id, 0
    )


def test_deal_with_another_requester_reverts(deal, attacker):
    forged = dataclasses.replace(deal.record, requester=attacker.address)

    assert_refused(
        deal, "poco: deal does not match its commitment", forged.as_tuple(), deal.deal_id, 0
    )


def test_index_past_the_deal_reverts(open_deal):
    deal = open_deal(volume=2)
    index = deal.record.bot_first + deal.record.bot_size

    assert_refused(deal, "poco: task index outside the deal", *deal.args(), index)


def test_index_before_the_deal_reverts(protocol, requester, app_owner, pool_owner):
    """A request's second deal starts at bot_first 1: its index 0 is the first deal's task."""
    orders = protocol.ready_deal(
        requester=requester,
        app_owner=app_owner,
        pool_owner=pool_owner,
        price=PRICE,
        volume=2,
        trust=3,
    )
    first_pool_order = dataclasses.replace(orders.workerpool, volume=1)
    protocol.match(
        dataclasses.replace(
            orders, workerpool=first_pool_order.signed(pool_owner.key, protocol.domain)
        )
    )
    second_pool_order = dataclasses.replace(orders.workerpool, volume=1, salt=protocol.salt())
    deal_id, record = protocol.match_record(
        dataclasses.replace(
            orders, workerpool=second_pool_order.signed(pool_owner.key, protocol.domain)
        )
    )
    second = MatchedDeal(protocol, deal_id, record, pool_owner)
    assert (record.bot_first, record.bot_size) == (1, 1)

    assert_refused(second, "poco: task index outside the deal", *second.args(), 0)
    assert second.initialize(1) == record.task_ids(deal_id)[0]


def test_second_initialization_reverts(deal):
    """Initializing again would reset the deadlines and the contributor count."""
    deal.initialize()

    assert_refused(deal, "poco: task already initialized", *deal.args(), 0)


def test_trust_one_task_reverts(open_deal):
    """Trust-1 tasks complete through contributeAndFinalize; a task word would only mislead."""
    deal = open_deal(trust=1)

    assert_refused(deal, "poco: trust 1 tasks complete in one transaction", *deal.args(), 0)


def test_trust_zero_request_is_a_trust_one_deal(open_deal):
    deal = open_deal(trust=0)
    assert deal.record.trust == 1

    assert_refused(deal, "poco: trust 1 tasks complete in one transaction", *deal.args(), 0)


def test_task_completed_in_one_transaction_cannot_be_initialized(open_deal, workers, attacker):
    """Reopening a paid task would let its deadlines, then a claim, refund the requester."""
    deal = open_deal(trust=1)
    deal.contribute_and_finalize(workers[0])
    assert deal.status() == TaskStatus.COMPLETED

    assert_refused(
        deal, "poco: trust 1 tasks complete in one transaction", *deal.args(), 0, sender=attacker
    )
    assert deal.status() == TaskStatus.COMPLETED
