"""Whole pools in simulation: honest, lying, colluding, silent and crashing workers.

Every event goes through `Simulation.feed`, which validates the state and checks that each
replicate handed out was needed by the consensus prediction.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from nuage.protocol.consensus import contributions_for_trust
from nuage.scheduler.actions import FinalizeTasks, InitializeTasks
from nuage.scheduler.state import TaskPhase
from tests.scheduler.simulation import (
    BEHAVIOURS,
    COLLUDING,
    CRASH,
    DEAL_ID,
    HONEST,
    LIAR,
    SILENT,
    Simulation,
    honest_digest,
    make_deal,
)

T = 20  # a short category keeps simulated deadlines near


def test_seven_fresh_honest_workers_complete_a_trust_100_task_with_exactly_seven_replicates():
    sim = Simulation([HONEST] * 9)
    sim.open_deal(make_deal(trust=100, time_ref=T))
    sim.run()
    (task,) = sim.state.tasks.values()
    assert task.phase is TaskPhase.COMPLETED
    assert len(sim.assignments) == 7 == contributions_for_trust(100)
    assert sim.contributions(task.task_id) == 7
    assert task.digest == honest_digest(task.task_id)
    assert all(sim.hub.scores[w] == 1 for w in task.contributors)


def test_two_colluding_liars_among_eleven_lose_to_nine_honest_workers():
    # 2 colluders weigh 4: the honest group needs 2**9 = 512 > 99 * 5 to win at trust 100
    sim = Simulation([COLLUDING, COLLUDING] + [HONEST] * 9, seed=3)
    sim.workers[0], sim.workers[2] = sim.workers[2], sim.workers[0]
    sim.open_deal(make_deal(trust=100, time_ref=T))
    sim.run()
    (task,) = sim.state.tasks.values()
    assert task.phase is TaskPhase.COMPLETED
    assert task.digest == honest_digest(task.task_id)


def test_trust_1_hands_out_one_replicate_and_never_initializes():
    sim = Simulation([HONEST] * 3)
    sim.open_deal(make_deal(trust=1, volume=2, time_ref=T))
    sim.run()
    assert all(t.phase is TaskPhase.COMPLETED for t in sim.state.tasks.values())
    assert len(sim.assignments) == 2
    assert not any(isinstance(a, InitializeTasks) for a, _ in sim.refused)
    assert all(sim.hub.tasks[t].status == "completed" for t in sim.state.tasks)


def test_a_crashing_worker_at_trust_1_is_replaced_after_the_contribution_timeout():
    sim = Simulation([CRASH, HONEST])
    sim.workers = [sim.by_address[a] for a in sorted(sim.by_address)]  # any order works
    sim.open_deal(make_deal(trust=1, time_ref=T))
    sim.run()
    (task,) = sim.state.tasks.values()
    assert task.phase is TaskPhase.COMPLETED
    assert task.digest == honest_digest(task.task_id)


def test_silent_winners_get_the_task_reopened_and_lose_their_stake():
    sim = Simulation([SILENT] * 7 + [HONEST] * 7, seed=1)
    sim.workers = sim.workers[:7] + sim.workers[7:]
    # the silent workers pull first, so they alone reach the first consensus
    sim.rng.shuffle = lambda workers: workers.sort(  # type: ignore[method-assign]
        key=lambda w: (w.behaviour != SILENT, w.address)
    )
    sim.open_deal(make_deal(trust=100, time_ref=T))
    sim.run()
    (task,) = sim.state.tasks.values()
    assert task.phase is TaskPhase.COMPLETED
    assert task.round == 1
    silent = [w.address for w in sim.workers if w.behaviour == SILENT]
    assert all(sim.hub.scores.get(w, 0) == 0 for w in silent)
    assert sim.contributions(task.task_id) == 14


def test_tasks_of_a_deal_ready_together_are_finalized_in_one_batch():
    sim = Simulation([HONEST] * 14, max_parallel=2)
    sim.rng.randint = lambda a, b: 0  # type: ignore[method-assign]
    executed = _executed(sim)
    sim.open_deal(make_deal(trust=100, time_ref=T, volume=2))
    sim.run()
    finalizations = [a for a in executed if isinstance(a, FinalizeTasks)]
    assert all(t.phase is TaskPhase.COMPLETED for t in sim.state.tasks.values())
    assert len(finalizations) == 1 and len(finalizations[0].tasks) == 2


def _executed(sim: Simulation) -> list[object]:
    executed: list[object] = []
    original = sim._chain_call

    def spy(action: object) -> list[object]:
        executed.append(action)
        return original(action)  # type: ignore[arg-type]

    sim._chain_call = spy  # type: ignore[method-assign,assignment]
    return executed


def _honest_can_win(behaviours: list[str], trust: int) -> bool:
    """Whether the fully honest workers alone outvote every lie, whatever the order."""
    lies = 2 ** behaviours.count(COLLUDING) if COLLUDING in behaviours else 0
    lies += 2 * behaviours.count(LIAR)
    group = 1
    for _ in range(behaviours.count(HONEST)):
        group *= 2
        if group * trust > (1 + lies + group) * (trust - 1):
            return True
    return False


@settings(max_examples=30)
@given(
    behaviours=st.lists(st.sampled_from(BEHAVIOURS), min_size=1, max_size=12),
    trust=st.sampled_from([1, 2, 5, 100]),
    volume=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
def test_random_pools_stay_valid_and_honest_majorities_win(
    behaviours: list[str], trust: int, volume: int, seed: int
):
    sim = Simulation(behaviours, seed=seed)
    sim.open_deal(make_deal(trust=trust, time_ref=T, volume=volume))
    sim.run(max_steps=12 * T)
    largest_lie = max(behaviours.count(COLLUDING), 1 if LIAR in behaviours else 0)
    lies_cannot_win = largest_lie < contributions_for_trust(trust)
    for task in sim.state.tasks.values():
        assert task.phase in (TaskPhase.COMPLETED, TaskPhase.EXPIRED)
        if task.phase is TaskPhase.COMPLETED and trust > 1 and lies_cannot_win:
            assert task.digest == honest_digest(task.task_id)
        if trust > 1 and lies_cannot_win and _honest_can_win(behaviours, trust):
            assert task.phase is TaskPhase.COMPLETED, (behaviours, task)
            assert task.digest == honest_digest(task.task_id)
        if trust <= 1 and HONEST in behaviours:
            assert task.phase is TaskPhase.COMPLETED
    if (
        set(behaviours) == {HONEST}
        and trust > 1
        and len(behaviours) >= contributions_for_trust(trust)
    ):
        needed = contributions_for_trust(trust)
        for task in sim.state.tasks.values():
            assert sim.contributions(task.task_id) == needed  # as many as needed, no more
    assert DEAL_ID in sim.state.deals
