"""Hub.scoreOf: a worker's reputation, 0 when fresh, +1 per replicated task won."""

from nuage.protocol.consensus import Consensus, weight
from nuage.protocol.poco import result_hash
from tests.contracts.hub_poco._helpers import LIE, RESULT, reach_consensus, set_score


def test_fresh_worker_scores_zero(protocol, worker, workers):
    assert protocol.hub.scoreOf(worker.address) == 0
    assert protocol.hub.scoreOf(workers[0].address) == 0  # a deposit is no reputation


def test_contributing_does_not_change_the_score(protocol, deal, workers):
    deal.initialize()

    deal.contribute(workers[0], RESULT)

    assert protocol.hub.scoreOf(workers[0].address) == 0


def test_replicated_win_scores_one_and_a_lie_costs_a_third(protocol, deal, workers):
    task = deal.initialize()
    liar, *honest = workers
    set_score(protocol, liar, 9)
    deal.contribute(liar, LIE)  # weight 2, as a fresh worker
    lie = Consensus(deal.record.trust).contribute(result_hash(task, LIE), weight(9))
    winners = reach_consensus(deal, honest, RESULT, state=lie)
    for winner in winners:
        deal.reveal(winner, RESULT)

    protocol.finalize(deal.record, deal.deal_id, deal.first, [liar, *winners])

    assert [protocol.hub.scoreOf(w.address) for w in winners] == [1] * len(winners)
    assert protocol.hub.scoreOf(liar.address) == 6


def test_single_worker_task_scores_nothing(protocol, open_deal, workers):
    """Without replication a win proves nothing: trust-1 tasks leave the score alone."""
    deal = open_deal(trust=1)

    deal.contribute_and_finalize(workers[0])

    assert protocol.hub.scoreOf(workers[0].address) == 0


def test_score_is_independent_of_balances(protocol, workers):
    free, frozen = protocol.account(workers[0])

    set_score(protocol, workers[0], 2**40)

    assert protocol.account(workers[0]) == (free, frozen)
    assert protocol.hub.scoreOf(workers[0].address) == 2**40
