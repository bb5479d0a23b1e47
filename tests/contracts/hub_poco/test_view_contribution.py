"""Hub.viewContribution: a worker's status, weight and commitment on one task."""

from eth_utils import keccak

from nuage.protocol.poco import result_hash, result_seal
from tests.contracts.hub_poco._helpers import LIE, RESULT, ZERO_BYTES32, commitment_of

NONE = {"status": 0, "log2_weight": 0, "commitment": ZERO_BYTES32, "round": 0}


def test_no_contribution_reads_zero(protocol, deal, workers):
    deal.initialize()

    assert deal.contribution(workers[0]) == NONE
    assert (
        dict(protocol.hub.viewContribution(keccak(text="no task"), workers[0].address)._asdict())
        == NONE
    )


def test_contribution_then_reveal(deal, workers):
    task = deal.initialize()
    worker = workers[0]

    deal.contribute(worker, RESULT)
    commitment = commitment_of(result_hash(task, RESULT), result_seal(worker.address, task, RESULT))
    assert deal.contribution(worker) == {
        "status": 1,
        "log2_weight": 1,
        "commitment": commitment,
        "round": 0,
    }
    assert commitment[-2:] == b"\x00\x00"  # the low 16 bits hold status and weight

    deal.contribute(workers[1], RESULT)  # consensus at trust 3
    deal.reveal(worker, RESULT)
    assert deal.contribution(worker) == {
        "status": 2,
        "log2_weight": 1,
        "commitment": commitment,
        "round": 0,
    }


def test_contributions_are_per_worker_and_per_task(open_deal, workers):
    deal = open_deal(volume=2)
    first, second = deal.initialize(0), deal.initialize(1)
    worker, other = workers[0], workers[1]

    deal.contribute(worker, RESULT, index=0)
    deal.contribute(worker, LIE, index=1)

    assert deal.contribution(other, index=0) == NONE
    assert deal.contribution(worker, index=0)["commitment"] == commitment_of(
        result_hash(first, RESULT), result_seal(worker.address, first, RESULT)
    )
    assert deal.contribution(worker, index=1)["commitment"] == commitment_of(
        result_hash(second, LIE), result_seal(worker.address, second, LIE)
    )
