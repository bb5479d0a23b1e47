"""The sabotage simulator: the scheduler's decision, the hub's scores, the figures it reports."""

from __future__ import annotations

from typing import Any

import pytest

import nuage.scheduler.state
from nuage.protocol.consensus import Consensus, replicas_needed
from nuage.trust import Scenario, predict, simulate


def test_a_favourable_pool_keeps_errors_under_one_per_trust():
    run = simulate(Scenario(bad_fraction=0.1, lie_probability=1.0, trust=100, tasks=3_000))
    assert run.error_rate.value <= 1 / 100
    assert run.error_rate.high <= 1 / 100
    assert run.stalled == 0 and run.completed == 3_000
    assert 1.0 <= run.redundancy.value < 7  # fresh workers need 7 agreeing; reputation helps


def test_the_same_seed_gives_the_same_run():
    scenario = Scenario(bad_fraction=0.3, lie_probability=0.5, trust=10, tasks=500, seed=7)
    assert simulate(scenario) == simulate(scenario)
    other = Scenario(bad_fraction=0.3, lie_probability=0.5, trust=10, tasks=500, seed=8)
    assert simulate(other).redundancy != simulate(scenario).redundancy


def test_fresh_workers_need_seven_agreeing_at_trust_100():
    # one task, nobody lies: exactly the replicas the consensus rule needs, no more
    run = simulate(Scenario(bad_fraction=0.0, lie_probability=1.0, trust=100, tasks=1))
    assert run.redundancy.value == 7 == replicas_needed(Consensus(100))
    assert run.assigned == 7


def test_the_simulator_asks_the_schedulers_own_replicas_needed(monkeypatch: pytest.MonkeyPatch):
    calls: list[tuple[Consensus, list[int]]] = []

    def spy(
        consensus: Consensus, pending: Any = (), next_weight: int = 2, limit: int = 1000
    ) -> int:
        calls.append((consensus, list(pending)))
        return replicas_needed(consensus, pending, next_weight, limit)

    monkeypatch.setattr(nuage.scheduler.state, "replicas_needed", spy)
    simulate(Scenario(bad_fraction=0.0, lie_probability=1.0, trust=100, tasks=1))
    # seven hand-outs, each counting the pending ones as agreeing, then the eighth asker is told
    # no; after each contribution but the last, it is asked again and says no (2^7 > 99)
    handing_out, after_contributions = calls[:8], calls[8:]
    assert [len(pending) for _, pending in handing_out] == [0, 1, 2, 3, 4, 5, 6, 7]
    assert all(consensus.trust == 100 and not consensus.groups for consensus, _ in handing_out)
    assert [len(pending) for _, pending in after_contributions] == [6, 5, 4, 3, 2, 1]
    assert [consensus.best()[1] for consensus, _ in after_contributions] == [2, 4, 8, 16, 32, 64]


def test_a_scheduler_that_hands_out_nothing_stalls_every_task(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(nuage.scheduler.state, "replicas_needed", lambda *_, **__: 0)
    run = simulate(Scenario(bad_fraction=0.2, lie_probability=1.0, trust=100, tasks=50))
    assert run.stalled == 50 and run.redundancy.value == 0 and run.wrong == 0


def test_a_scheduler_that_always_wants_more_asks_every_worker(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(nuage.scheduler.state, "replicas_needed", lambda *_, **__: 1)
    run = simulate(Scenario(bad_fraction=0.2, lie_probability=1.0, trust=100, tasks=50, workers=20))
    assert run.assigned == 20  # consensus still ends each task early: the rest are aborted
    assert run.redundancy.value < 20


def test_honest_workers_build_reputation_and_colluders_never_do():
    run = simulate(Scenario(bad_fraction=0.2, lie_probability=1.0, trust=100, tasks=2_000))
    first, last = run.timeline[0], run.timeline[-1]
    assert last.honest_score > first.honest_score > 0
    assert last.saboteur_score == 0  # outvoted whenever they contribute: floor(2/3 * 0)
    assert last.redundancy < first.redundancy  # heavier honest votes need fewer replicas
    assert len(run.timeline) == 20 and run.timeline[-1].tasks == 2_000


def test_occasional_liars_build_reputation_too():
    run = simulate(Scenario(bad_fraction=0.2, lie_probability=0.1, trust=100, tasks=2_000))
    assert run.timeline[-1].saboteur_score > 10


def test_trust_one_takes_the_first_result():
    run = simulate(Scenario(bad_fraction=0.2, lie_probability=1.0, trust=1, tasks=4_000))
    assert run.redundancy.value == 1.0
    assert 0.2 in run.error_rate  # every colluder's single result is accepted
    assert run.timeline[-1].honest_score == 0  # no replication, no score change


def test_a_pool_too_small_for_its_trust_stalls_and_moves_no_score():
    # 8 fresh honest workers weigh 2^8 = 256: one liar (weight 2) in the task and trust 100
    # needs 2^k > 99 * (1 + 2), which 8 cannot give
    run = simulate(
        Scenario(bad_fraction=0.2, lie_probability=1.0, trust=100, tasks=100, workers=10)
    )
    assert run.stalled > 80
    assert run.wrong == 0
    assert run.redundancy.value > 9
    assert run.timeline[-1].saboteur_score == 0


def test_predict_gives_the_range_of_many_runs():
    scenario = Scenario(bad_fraction=0.2, lie_probability=1.0, trust=100, tasks=50, workers=10)
    prediction = predict(scenario, runs=20)
    assert prediction.runs == 20
    single = simulate(scenario)
    assert single.redundancy.value in prediction.redundancy
    assert prediction.stalled_rate.low <= prediction.stalled_rate.value
    assert prediction.stalled_rate.value <= prediction.stalled_rate.high


@pytest.mark.parametrize(
    "bad",
    [
        {"bad_fraction": 1.5},
        {"lie_probability": -0.1},
        {"trust": -1},
        {"tasks": 0},
        {"workers": 0},
    ],
)
def test_a_scenario_refuses_impossible_values(bad: dict[str, float]):
    values: dict[str, Any] = {"bad_fraction": 0.2, "lie_probability": 1.0, "trust": 10}
    values |= {"tasks": 10} | bad
    with pytest.raises(ValueError):
        Scenario(**values)


def test_colluders_served_first_decide_every_task_once_they_fill_the_first_wave():
    # 20 eager colluders against the 7 replicas a fresh task needs at trust 100
    run = simulate(
        Scenario(bad_fraction=0.2, lie_probability=1.0, trust=100, tasks=500, eager=True)
    )
    assert run.wrong == 500
    assert run.timeline[-1].honest_score == 0  # the honest never get a replicate in time
    served_like_anyone = simulate(
        Scenario(bad_fraction=0.2, lie_probability=1.0, trust=100, tasks=500)
    )
    assert served_like_anyone.wrong <= 5


def test_fewer_eager_colluders_than_the_first_wave_only_cost_replicas():
    eager = simulate(
        Scenario(bad_fraction=0.05, lie_probability=1.0, trust=100, tasks=1_000, eager=True)
    )
    fair = simulate(Scenario(bad_fraction=0.05, lie_probability=1.0, trust=100, tasks=1_000))
    assert eager.wrong == 0
    assert eager.redundancy.value > 2 * fair.redundancy.value
