"""Hub.viewDeal: the commitment the market left for each deal, zero for no deal."""

from eth_utils import keccak

from tests.contracts.hub_poco._helpers import ZERO_BYTES32


def test_matched_deal_reads_its_commitment(protocol, deal):
    assert protocol.hub.viewDeal(deal.deal_id) == deal.record.commitment()


def test_unknown_deal_reads_zero(protocol):
    assert protocol.hub.viewDeal(keccak(text="no deal")) == ZERO_BYTES32


def test_each_deal_has_its_own_commitment(protocol, open_deal):
    first, second = open_deal(), open_deal()

    assert first.deal_id != second.deal_id
    assert protocol.hub.viewDeal(first.deal_id) == first.record.commitment()
    assert protocol.hub.viewDeal(second.deal_id) == second.record.commitment()
    assert first.record.commitment() != second.record.commitment()


def test_task_lifecycle_leaves_the_commitment_alone(protocol, deal, workers):
    deal.initialize()
    deal.contribute(workers[0])
    deal.contribute(workers[1])

    assert protocol.hub.viewDeal(deal.deal_id) == deal.record.commitment()
