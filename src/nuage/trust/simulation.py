"""Sabotage tolerance of the pool's replication policy, simulated.

A pool of `workers` workers, a fraction `bad_fraction` of them saboteurs who collude: each of
their replicates returns, with probability `lie_probability`, the one wrong result they all
agree on. Tasks run one after another at `trust`, each the way the scheduler and the hub run it:

1. Idle workers ask for work in a random order. Each gets a replicate while the scheduler's own
   decision (`SchedulerState._replicas_needed`, which asks `nuage.protocol.consensus.
   replicas_needed`, counting every pending replicate as joining the best group) says the task
   needs one; never two replicates of one task for one worker, at most 64 contributions.
2. One pending replicate, at random, contributes; the hub's groups grow (`Consensus`), its
   weight being `weight(score)` of its worker when it was handed out.
3. Steps 1 and 2 repeat until the hub reaches consensus (the replicates still pending are then
   aborted: the hub takes no contribution after it), or until no worker is left to ask: the
   task *stalls*, fails at its deadline and is claimed (no score moves).
4. At consensus every contributor's score moves as the hub moves it (`score_after`): +1 for a
   winner when the task had more than one contributor, `floor(score * 2 / 3)` for a loser.

With `eager`, the saboteurs ask for work before anyone else and contribute first (a colluder
that does not compute answers at once, and the scheduler serves whoever asks first): they hold
the first replicates of every task. A real pool working on many tasks at once comes close to
that for whichever workers lead its pipeline (see bench/results/trust.json, devnet_concurrent).

A task whose consensus is the colluders' result is an *error*. Reported: the error rate
(errors / tasks) with Wilson's 95% interval, the redundancy (contributions per task) with the
95% interval of its mean, the stalled rate, and a timeline of the honest workers' and the
saboteurs' mean scores (reputation growing from fresh) with the error rate and redundancy of
each stretch of tasks. Scores carry over from task to task, so the intervals of one run treat
tasks as independent when they are not quite: `predict` runs many seeds and gives the range a
single run of the same length falls in, which is what one real run is compared with.

Everything is deterministic from the scenario's seed.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from nuage.protocol.consensus import score_after, weight
from nuage.scheduler.records import TaskPhase
from nuage.scheduler.state import (
    Replicate,
    ReplicateStatus,
    SchedulerConfig,
    SchedulerState,
    TaskRecord,
)
from nuage.trust.intervals import Interval, mean_interval, percentile_interval, wilson_interval

__all__ = [
    "Checkpoint",
    "Prediction",
    "Scenario",
    "TrustRun",
    "predict",
    "simulate",
]

POOL = "0x000000000000000000000000000000000000f001"
DEAL_ID = bytes(32)
CHECKPOINTS = 20


@dataclass(frozen=True)
class Scenario:
    """A pool and the work it does: who lies, how often, at what trust, for how long."""

    bad_fraction: float
    lie_probability: float
    trust: int
    tasks: int
    workers: int = 100
    seed: int = 0
    eager: bool = False  # saboteurs ask for work first and contribute first

    def __post_init__(self) -> None:
        if not 0.0 <= self.bad_fraction <= 1.0:
            raise ValueError(f"bad fraction must be in [0, 1], got {self.bad_fraction}")
        if not 0.0 <= self.lie_probability <= 1.0:
            raise ValueError(f"lie probability must be in [0, 1], got {self.lie_probability}")
        if self.trust < 0:
            raise ValueError(f"trust must be >= 0, got {self.trust}")
        if self.tasks < 1:
            raise ValueError(f"tasks must be >= 1, got {self.tasks}")
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")

    @property
    def saboteurs(self) -> int:
        """How many of the workers are saboteurs: `round(bad_fraction * workers)`."""
        return round(self.bad_fraction * self.workers)

    def to_json(self) -> dict[str, float | int | bool]:
        return {
            "bad_fraction": self.bad_fraction,
            "lie_probability": self.lie_probability,
            "trust": self.trust,
            "tasks": self.tasks,
            "workers": self.workers,
            "saboteurs": self.saboteurs,
            "seed": self.seed,
            "eager_saboteurs": self.eager,
        }


@dataclass(frozen=True)
class Checkpoint:
    """The pool after its first `tasks` tasks; rates are over the stretch since the last one."""

    tasks: int
    honest_score: float  # mean score of the honest workers
    saboteur_score: float  # mean score of the saboteurs (0 when there are none)
    error_rate: float
    redundancy: float
    stalled_rate: float

    def to_json(self) -> dict[str, float | int]:
        return {
            "tasks": self.tasks,
            "honest_score": round(self.honest_score, 3),
            "saboteur_score": round(self.saboteur_score, 3),
            "error_rate": round(self.error_rate, 6),
            "redundancy": round(self.redundancy, 4),
            "stalled_rate": round(self.stalled_rate, 6),
        }


@dataclass(frozen=True)
class TrustRun:
    """What one simulated run measured."""

    scenario: Scenario
    completed: int  # consensus reached, right or wrong
    wrong: int  # consensus on the colluders' result
    stalled: int  # no consensus with every worker asked
    error_rate: Interval  # wrong / tasks
    stalled_rate: Interval  # stalled / tasks
    redundancy: Interval  # contributions per task
    assigned: float  # replicates handed out per task, the aborted ones included
    honest_score: float  # the honest workers' mean score after the last task
    saboteur_score: float  # the saboteurs' mean score after the last task
    timeline: tuple[Checkpoint, ...] = field(default=())

    @property
    def goal(self) -> float:
        """The error the trust promises: 1 / trust (confidence 1 - 1/trust)."""
        return 1.0 / max(self.scenario.trust, 1)

    def to_json(self) -> dict[str, object]:
        return {
            "scenario": self.scenario.to_json(),
            "completed": self.completed,
            "wrong": self.wrong,
            "stalled": self.stalled,
            "error_rate": self.error_rate.to_json(),
            "goal_error": self.goal,
            "goal_met": self.error_rate.value <= self.goal,
            "stalled_rate": self.stalled_rate.to_json(),
            "redundancy": self.redundancy.to_json(),
            "assigned": round(self.assigned, 4),
            "honest_score": round(self.honest_score, 3),
            "saboteur_score": round(self.saboteur_score, 3),
            "timeline": [c.to_json() for c in self.timeline],
        }


@dataclass(frozen=True)
class _Outcome:
    contributions: int
    assigned: int
    wrong: bool
    stalled: bool


class _Pool:
    """The workers' scores, and the scheduler state whose decision hands out replicates."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.rng = random.Random(scenario.seed)
        n = scenario.workers
        self.scores = [0] * n
        self.saboteur = [i < scenario.saboteurs for i in range(n)]
        self.addresses = [f"worker-{i}" for i in range(n)]
        self.scheduler = SchedulerState(SchedulerConfig(workerpool=POOL))

    def needs_replicate(self, task: TaskRecord, vote_weight: int) -> bool:
        """The scheduler's decision for a worker of `vote_weight` asking for work."""
        return self.scheduler._replicas_needed(task, vote_weight) > 0

    def run_task(self, index: int) -> _Outcome:
        rng, scores, addresses = self.rng, self.scores, self.addresses
        task = TaskRecord(
            task_id=index.to_bytes(32, "big"),
            deal_id=DEAL_ID,
            index=index,
            trust=self.scenario.trust,
            phase=TaskPhase.ACTIVE,
            since=0.0,
        )
        # result hashes differ per task on chain, and ties between groups go to the smaller one
        right, lie = rng.randbytes(32), rng.randbytes(32)
        askers = rng.sample(range(len(scores)), len(scores))  # the order idle workers ask in
        if self.scenario.eager:
            askers.sort(key=lambda worker: not self.saboteur[worker])  # stable: still shuffled
        asked = 0
        pending: list[int] = []
        reached: bytes | None = None
        while True:
            while asked < len(askers):
                worker = askers[asked]
                vote_weight = weight(scores[worker])
                if not self.needs_replicate(task, vote_weight):
                    break
                task.replicates[addresses[worker]] = Replicate(
                    addresses[worker],
                    ReplicateStatus.ASSIGNED,
                    assigned_at=0.0,
                    weight=vote_weight,
                    stake=0,
                    round=0,
                )
                pending.append(worker)
                asked += 1
            if not pending:
                break
            worker = pending.pop(self._next_contribution(pending))
            replicate = task.replicates[addresses[worker]]
            lies = self.saboteur[worker] and rng.random() < self.scenario.lie_probability
            replicate.status = ReplicateStatus.CONTRIBUTED
            replicate.result_hash = lie if lies else right
            reached = SchedulerState.consensus_of(task).reached()
            if reached is not None:
                break
        contributors = [
            (worker, task.replicates[addresses[worker]].result_hash)
            for worker in askers[:asked]
            if task.replicates[addresses[worker]].status is ReplicateStatus.CONTRIBUTED
        ]
        if reached is not None:
            replicated = len(contributors) > 1
            for worker, vote in contributors:
                scores[worker] = score_after(
                    scores[worker], won=vote == reached, replicated=replicated
                )
        return _Outcome(
            contributions=len(contributors),
            assigned=asked,
            wrong=reached == lie,
            stalled=reached is None,
        )

    def _next_contribution(self, pending: list[int]) -> int:
        """Which pending replicate contributes next (its index): at random, or a saboteur's."""
        if self.scenario.eager:
            for position, worker in enumerate(pending):
                if self.saboteur[worker]:
                    return position
        return self.rng.randrange(len(pending))

    def mean_scores(self) -> tuple[float, float]:
        honest = [s for s, bad in zip(self.scores, self.saboteur, strict=True) if not bad]
        saboteurs = [s for s, bad in zip(self.scores, self.saboteur, strict=True) if bad]
        return _mean(honest), _mean(saboteurs)


def _mean(values: list[int]) -> float:
    return sum(values) / len(values) if values else 0.0


def simulate(scenario: Scenario, checkpoints: int = CHECKPOINTS) -> TrustRun:
    """Run the scenario's tasks through the pool's replication policy; see the module doc."""
    pool = _Pool(scenario)
    contributions: list[int] = []
    assigned = wrong = stalled = 0
    timeline: list[Checkpoint] = []
    step = max(1, scenario.tasks // max(checkpoints, 1))
    mark = (0, 0, 0)  # tasks, wrong, stalled at the last checkpoint
    for index in range(scenario.tasks):
        outcome = pool.run_task(index)
        contributions.append(outcome.contributions)
        assigned += outcome.assigned
        wrong += outcome.wrong
        stalled += outcome.stalled
        done = index + 1
        if checkpoints and (done % step == 0 or done == scenario.tasks) and done > mark[0]:
            span = done - mark[0]
            honest_score, saboteur_score = pool.mean_scores()
            timeline.append(
                Checkpoint(
                    tasks=done,
                    honest_score=honest_score,
                    saboteur_score=saboteur_score,
                    error_rate=(wrong - mark[1]) / span,
                    redundancy=sum(contributions[mark[0] :]) / span,
                    stalled_rate=(stalled - mark[2]) / span,
                )
            )
            mark = (done, wrong, stalled)
    tasks = scenario.tasks
    honest_score, saboteur_score = pool.mean_scores()
    return TrustRun(
        scenario=scenario,
        completed=tasks - stalled,
        wrong=wrong,
        stalled=stalled,
        error_rate=wilson_interval(wrong, tasks),
        stalled_rate=wilson_interval(stalled, tasks),
        redundancy=mean_interval(contributions),
        assigned=assigned / tasks,
        honest_score=honest_score,
        saboteur_score=saboteur_score,
        timeline=tuple(timeline),
    )


@dataclass(frozen=True)
class Prediction:
    """Where one run of a scenario lands: means and 95% ranges over `runs` seeds."""

    scenario: Scenario
    runs: int
    error_rate: Interval
    redundancy: Interval
    stalled_rate: Interval
    honest_score: Interval  # the honest workers' mean score after the last task
    saboteur_score: Interval

    def to_json(self) -> dict[str, object]:
        return {
            "scenario": self.scenario.to_json(),
            "runs": self.runs,
            "error_rate": self.error_rate.to_json(),
            "redundancy": self.redundancy.to_json(),
            "stalled_rate": self.stalled_rate.to_json(),
            "honest_score": self.honest_score.to_json(),
            "saboteur_score": self.saboteur_score.to_json(),
        }


def predict(
    scenario: Scenario,
    runs: int = 200,
    progress: Callable[[int], None] | None = None,
) -> Prediction:
    """Simulate `runs` independent runs (seeds `seed`, `seed + 1`, …) of the scenario.

    The intervals hold the middle 95% of the runs' error rates, redundancies, stalled rates
    and final mean scores: a real run of the same pool and length agrees with the simulator
    when its figures fall inside them.
    """
    if runs < 1:
        raise ValueError(f"runs must be >= 1, got {runs}")
    errors: list[float] = []
    redundancies: list[float] = []
    stalls: list[float] = []
    honest: list[float] = []
    saboteurs: list[float] = []
    for n in range(runs):
        seeded = Scenario(
            bad_fraction=scenario.bad_fraction,
            lie_probability=scenario.lie_probability,
            trust=scenario.trust,
            tasks=scenario.tasks,
            workers=scenario.workers,
            seed=scenario.seed + n,
            eager=scenario.eager,
        )
        run = simulate(seeded, checkpoints=0)
        errors.append(run.error_rate.value)
        redundancies.append(run.redundancy.value)
        stalls.append(run.stalled_rate.value)
        honest.append(run.honest_score)
        saboteurs.append(run.saboteur_score)
        if progress is not None:
            progress(n + 1)
    return Prediction(
        scenario=scenario,
        runs=runs,
        error_rate=percentile_interval(errors),
        redundancy=percentile_interval(redundancies),
        stalled_rate=percentile_interval(stalls),
        honest_score=percentile_interval(honest),
        saboteur_score=percentile_interval(saboteurs),
    )
