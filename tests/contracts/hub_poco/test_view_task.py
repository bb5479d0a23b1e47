"""Hub.viewTask: a task's state at every step of its life."""

import boa
from eth_utils import keccak

from nuage.protocol.poco import TaskStatus, result_hash
from tests.contracts.hub_poco._helpers import (
    CONTRIBUTION_DELAY,
    FINAL_DELAY,
    LIE,
    RESULT,
    REVEAL_DELAY,
    ZERO_BYTES32,
)

RESULTS = keccak(text="where the result is stored")
UNSET = {
    "status": TaskStatus.UNSET,
    "contributors": 0,
    "reveals": 0,
    "winners": 0,
    "contribution_deadline": 0,
    "reveal_deadline": 0,
    "final_deadline": 0,
    "consensus_value": ZERO_BYTES32,
    "result_digest": ZERO_BYTES32,
    "results": ZERO_BYTES32,
    "round": 0,
}


def now() -> int:
    return boa.env.evm.patch.timestamp


def claim(deal, contributors=()):
    ordered = sorted((worker.address for worker in contributors), key=lambda a: int(a, 16))
    with boa.env.prank(deal.record.requester):
        deal.hub.claim(*deal.args(), deal.first, ordered)


def test_unknown_task_reads_unset(protocol):
    assert dict(protocol.hub.viewTask(keccak(text="no task"))._asdict()) == UNSET


def test_matched_task_reads_unset_until_initialized(deal):
    assert deal.task() == UNSET


def test_task_through_its_life(deal, workers):
    start = deal.record.start_time
    task = deal.initialize()
    active = {
        **UNSET,
        "status": TaskStatus.ACTIVE,
        "contribution_deadline": start + CONTRIBUTION_DELAY,
        "final_deadline": start + FINAL_DELAY,
    }
    assert deal.task() == active

    liar, first, second, third = workers[:4]
    deal.contribute(liar, LIE)
    deal.contribute(first, RESULT)
    deal.contribute(second, RESULT)
    assert deal.task() == {**active, "contributors": 3}

    deal.contribute(third, RESULT)  # at trust 3, three fresh votes beat one lie
    revealing = {
        **active,
        "status": TaskStatus.REVEALING,
        "contributors": 4,
        "winners": 3,
        "reveal_deadline": now() + REVEAL_DELAY,
        "consensus_value": result_hash(task, RESULT),
    }
    assert deal.task() == revealing

    deal.reveal(first, RESULT)
    assert deal.task() == {**revealing, "reveals": 1, "result_digest": RESULT}
    deal.reveal(second, RESULT)
    deal.reveal(third, RESULT)
    assert deal.task() == {**revealing, "reveals": 3, "result_digest": RESULT}

    deal.protocol.finalize(deal.record, deal.deal_id, deal.first, workers[:4], results=RESULTS)
    assert deal.task() == {
        **revealing,
        "status": TaskStatus.COMPLETED,
        "reveals": 3,
        "result_digest": RESULT,
        "results": RESULTS,
        "round": 0,
    }


def test_failed_task_keeps_its_record(deal, workers):
    deal.initialize()
    deal.contribute(workers[0], LIE)
    before = deal.task()
    boa.env.time_travel(seconds=deal.record.final_deadline - now())

    claim(deal, workers[:1])

    assert deal.task() == {**before, "status": TaskStatus.FAILED}


def test_task_never_started_fails_with_its_final_deadline(deal):
    boa.env.time_travel(seconds=deal.record.final_deadline - now())

    claim(deal)

    assert deal.task() == {
        **UNSET,
        "status": TaskStatus.FAILED,
        "final_deadline": deal.record.final_deadline,
    }


def test_task_completed_in_one_transaction_reads_completed(open_deal, workers):
    deal = open_deal(trust=1)

    deal.contribute_and_finalize(workers[0], results=RESULTS)

    assert deal.task() == {**UNSET, "status": TaskStatus.COMPLETED, "results": RESULTS}
