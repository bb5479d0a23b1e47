"""`plan`: the trust to ask for, checked by simulation, and what a task costs."""

import pytest

from nuage.trust import plan
from nuage.trust.planning import Costs, plan_tasks

NRLC = 10**9


def test_the_plan_asks_for_the_trust_whose_promise_is_the_target():
    result = plan(0.2, 0.01, price=NRLC, tasks=1_000)
    assert result.trust == 100 and result.met and result.tried == (100,)
    assert [run.scenario.lie_probability for run in result.runs] == [0.1, 0.5, 1.0]
    assert all(run.scenario.trust == 100 for run in result.runs)
    assert result.error <= 0.01
    assert result.replicas == max(run.redundancy.value for run in result.runs)
    assert 1 <= result.steady_replicas <= result.replicas


def test_the_plan_raises_the_trust_until_the_simulation_passes():
    # half the pool colluding: at trust 4 they win too often; 32 holds them under 30%
    result = plan(0.5, 0.3, lie_probabilities=(1.0,), workers=20, tasks=300)
    assert result.tried == (4, 8, 16, 32)
    assert result.trust == 32 and result.met
    assert result.error <= 0.3


def test_a_task_costs_the_requester_the_price_whatever_the_replicas():
    costs = Costs(price=2 * NRLC, replicas=4.0)
    assert costs.requester == 2 * NRLC
    assert costs.per_replica == pytest.approx(2 * NRLC * 0.99 / 4)
    assert costs.worker_stake == 2 * NRLC * 30 // 100
    assert costs.stake_at_risk == pytest.approx(4 * costs.worker_stake)
    assert costs.pool_stake == 2 * NRLC * 30 // 100
    assert plan(0.1, 0.1, price=2 * NRLC, tasks=200).costs is not None
    assert plan(0.1, 0.1, tasks=200).costs is None


def test_the_plan_simulates_enough_tasks_to_see_the_target_error():
    assert plan_tasks(0.001) == 20_000
    assert plan_tasks(0.5) == 2_000
    assert plan_tasks(1e-9) == 200_000


@pytest.mark.parametrize("target", [0.0, 1.0, -0.1])
def test_the_plan_refuses_a_target_that_is_not_a_probability(target: float):
    with pytest.raises(ValueError, match="target error"):
        plan(0.1, target)
