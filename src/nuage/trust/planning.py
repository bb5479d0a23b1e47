"""What trust to ask for, and what it costs: `plan(bad_fraction, target_error, price)`.

The trust a requester asks for promises confidence `1 - 1/trust`: an accepted result is wrong
with probability at most `1/trust` *by the consensus rule's design*. `plan` starts from the
trust whose promise is the target (`ceil(1 / target_error)`), checks it by simulation
(`nuage.trust.simulation`) against saboteurs lying with each probability in
`lie_probabilities`, and doubles it until every simulated error rate is at most the target. It
never goes below that first trust, even where a lower one passes the simulation. The simulated
saboteurs are served like everyone else; colluders served first (`Scenario.eager`) decide
every task once they are as many as the replicas a fresh task needs, whatever the trust.

Cost. The pool's price is per task, not per replica: the requester pays `price` (plus the app's
and the dataset's prices) for each task whatever the trust, and the pool's workers share it
(99% to the winners, split by log2 of their weights; the scheduler keeps 1%). Replication is the
pool's cost, so a pool sells high trust at a higher price to pay its workers' extra runs: what
a replica earns is about `price * 99% / replicas`. Each contribution locks the worker's stake,
`price * 30%` (the pool's stake ratio), until the task completes; a wrong one forfeits it to the
winners. The pool owner locks `price * 30%` per task as well, lost when the task fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from nuage.protocol.rewards import WORKERPOOL_STAKE_RATIO
from nuage.trust.simulation import Scenario, TrustRun, simulate

__all__ = [
    "LIE_PROBABILITIES",
    "MAX_TRUST",
    "WORKER_STAKE_RATIO",
    "Costs",
    "Plan",
    "plan",
    "plan_tasks",
]

LIE_PROBABILITIES = (0.1, 0.5, 1.0)  # how often a saboteur lies, when nobody knows: the worst
WORKER_STAKE_RATIO = 30  # % of the pool price a worker locks per contribution (pool default)
SCHEDULER_RATIO = 1  # % of the worker pot the scheduler keeps (pool default)
MAX_TRUST = 10**6
MIN_TASKS = 2_000
MAX_TASKS = 200_000


def plan_tasks(target_error: float) -> int:
    """How many tasks to simulate to see an error rate of `target_error`: ~20 expected errors."""
    return min(MAX_TASKS, max(MIN_TASKS, ceil(20 / target_error)))


@dataclass(frozen=True)
class Costs:
    """What one task moves, in nRLC, at the pool's `price` per task."""

    price: int
    replicas: float

    @property
    def requester(self) -> int:
        """What the requester pays the pool per task: its price, whatever the replication."""
        return self.price

    @property
    def per_replica(self) -> float:
        """What a contribution earns on average: the workers' 99% of the price, shared."""
        return self.price * (100 - SCHEDULER_RATIO) / 100 / self.replicas

    @property
    def worker_stake(self) -> int:
        """What each contribution locks from its worker, forfeited when it is wrong."""
        return self.price * WORKER_STAKE_RATIO // 100

    @property
    def stake_at_risk(self) -> float:
        """The workers' stakes locked per task on average: one stake per contribution."""
        return self.worker_stake * self.replicas

    @property
    def pool_stake(self) -> int:
        """What the pool owner locks per task, seized when the task fails."""
        return self.price * WORKERPOOL_STAKE_RATIO // 100

    def to_json(self) -> dict[str, float | int]:
        return {
            "price": self.price,
            "requester_per_task": self.requester,
            "pay_per_replica": round(self.per_replica, 3),
            "worker_stake_per_replica": self.worker_stake,
            "worker_stake_at_risk_per_task": round(self.stake_at_risk, 3),
            "pool_stake_per_task": self.pool_stake,
        }


@dataclass(frozen=True)
class Plan:
    """The trust to ask for and what the simulation says of it, one run per lie probability."""

    bad_fraction: float
    target_error: float
    trust: int
    met: bool  # False when no trust up to MAX_TRUST met the target in simulation
    runs: tuple[TrustRun, ...]  # at `trust`, one per lie probability
    tried: tuple[int, ...]  # the trusts simulated, in order
    costs: Costs | None

    @property
    def replicas(self) -> float:
        """Expected contributions per task: the worst lie probability's, over the whole run."""
        return max(run.redundancy.value for run in self.runs)

    @property
    def steady_replicas(self) -> float:
        """The same once reputations are built: the worst run's last stretch of tasks."""
        return max(run.timeline[-1].redundancy for run in self.runs if run.timeline)

    @property
    def error(self) -> float:
        """The worst simulated error rate at `trust`."""
        return max(run.error_rate.value for run in self.runs)

    def to_json(self) -> dict[str, object]:
        return {
            "bad_fraction": self.bad_fraction,
            "target_error": self.target_error,
            "trust": self.trust,
            "met": self.met,
            "tried": list(self.tried),
            "error_rate": self.error,
            "replicas": round(self.replicas, 4),
            "steady_replicas": round(self.steady_replicas, 4),
            "runs": [
                {
                    "lie_probability": run.scenario.lie_probability,
                    "error_rate": run.error_rate.to_json(),
                    "redundancy": run.redundancy.to_json(),
                    "stalled_rate": run.stalled_rate.to_json(),
                    "tasks": run.scenario.tasks,
                    "workers": run.scenario.workers,
                }
                for run in self.runs
            ],
            "costs": None if self.costs is None else self.costs.to_json(),
        }


def plan(
    bad_fraction: float,
    target_error: float,
    *,
    price: int | None = None,
    lie_probabilities: tuple[float, ...] = LIE_PROBABILITIES,
    workers: int = 100,
    tasks: int | None = None,
    seed: int = 0,
) -> Plan:
    """The smallest trust from `ceil(1/target_error)` up, doubling, that the simulation passes.

    Each candidate runs `tasks` tasks (default `plan_tasks(target_error)`) from a fresh pool of
    `workers`, once per lie probability; it passes when every run's error rate is at most
    `target_error`. `price` (nRLC per task) adds the costs.
    """
    if not 0.0 < target_error < 1.0:
        raise ValueError(f"target error must be in (0, 1), got {target_error}")
    if not lie_probabilities:
        raise ValueError("give at least one lie probability")
    if price is not None and price < 0:
        raise ValueError(f"price must be >= 0, got {price}")
    count = plan_tasks(target_error) if tasks is None else tasks
    trust = max(2, ceil(1 / target_error - 1e-9))
    tried: list[int] = []
    while True:
        tried.append(trust)
        runs = tuple(
            simulate(
                Scenario(
                    bad_fraction=bad_fraction,
                    lie_probability=s,
                    trust=trust,
                    tasks=count,
                    workers=workers,
                    seed=seed,
                )
            )
            for s in lie_probabilities
        )
        met = all(run.error_rate.value <= target_error for run in runs)
        if met or trust * 2 > MAX_TRUST:
            break
        trust *= 2
    replicas = max(run.redundancy.value for run in runs)
    return Plan(
        bad_fraction=bad_fraction,
        target_error=target_error,
        trust=trust,
        met=met,
        runs=runs,
        tried=tuple(tried),
        costs=None if price is None else Costs(price=price, replicas=replicas),
    )
