"""The sabotage benchmark's devnet harness (`bench/trust.py --devnet`), on a few tasks.

What is checked is the plumbing the benchmark's figures rest on: deals bought, tasks followed
to their end, a wrong result recognised as the colluders', a stalled task recognised as one.
"""

from __future__ import annotations

import pytest

from bench.trust import sabotage_devnet

pytestmark = pytest.mark.integration


def test_a_task_the_honest_and_the_colluding_worker_disagree_on_stalls_and_one_vote_decides():
    with sabotage_devnet(workers=2, saboteurs=1, trust=3, log=lambda _: None) as net:
        # trust 3 needs two fresh workers agreeing (4 * 3 > 5 * 2): they never do
        net.buy(2)
        stalled, _ = net.follow(budget_s=60)
        assert [(o.contributions, o.stalled, o.wrong, o.status) for o in stalled] == [
            (2, True, False, "ACTIVE")
        ] * 2
        # trust 2: one fresh worker's vote is consensus (2 * 2 > 3 * 1), wrong when it lied
        net.trust = 2
        net.buy(4)
        outcomes, _ = net.follow(budget_s=60)
        _, (saboteur,) = net.worker_addresses()
        decided = [o for o in outcomes if o.index >= 2]
        assert [o.index for o in decided] == [2, 3, 4, 5]
        for outcome in decided:
            (contributor,) = net.hub.contributors(net.task_ids[outcome.index])
            assert outcome.contributions == 1 and not outcome.stalled
            assert outcome.wrong == (contributor == saboteur), outcome


def test_a_result_only_colluders_voted_for_is_counted_wrong():
    with sabotage_devnet(workers=1, saboteurs=1, trust=2, log=lambda _: None) as net:
        net.buy(2)
        outcomes, _ = net.follow(budget_s=60)
        assert [(o.contributions, o.wrong, o.stalled) for o in outcomes] == [(1, True, False)] * 2
