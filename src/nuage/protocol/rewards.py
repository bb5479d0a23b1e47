"""What the hub pays when a task completes or fails, in nRLC, exactly.

`settle` mirrors the hub's finalize (iExec PoCo v5 semantics): the app and
dataset owners get their prices; the worker pot (pool price plus the stakes
seized from losers) goes `(100 - scheduler ratio)%` to the winners, split by
`log2(weight)`, and the rest to the scheduler, who also gets a kitty bonus.
`settle_fast` is the one-transaction path of trust <= 1; `refund` and
`pool_stake` are what a claim moves. All integer arithmetic, floor division,
nothing lost to rounding.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from nuage.protocol.consensus import score_after
from nuage.protocol.matching import WORKERPOOL_STAKE_RATIO

__all__ = [
    "KITTY_MIN",
    "KITTY_RATIO",
    "WORKERPOOL_STAKE_RATIO",
    "Contributor",
    "Settlement",
    "kitty_bonus",
    "pool_stake",
    "refund",
    "settle",
    "settle_fast",
]

KITTY_RATIO = 10  # % of the kitty paid to the scheduler of each completed task
KITTY_MIN = 10**9  # at least 1 RLC (in nRLC), when the kitty holds that much


def kitty_bonus(kitty: int) -> int:
    """The scheduler's bonus out of the kitty: 10% of it, at least 1 RLC, at most all of it."""
    _check_amount("kitty", kitty)
    return min(max(kitty * KITTY_RATIO // 100, KITTY_MIN), kitty)


def pool_stake(workerpool_price: int) -> int:
    """The pool owner's stake per task (30% of its price), seized into the kitty on failure."""
    _check_amount("workerpool_price", workerpool_price)
    return workerpool_price * WORKERPOOL_STAKE_RATIO // 100


def refund(*, app_price: int, dataset_price: int, workerpool_price: int) -> int:
    """What the requester gets back when a failed task is claimed: the task's whole price."""
    for name, amount in (
        ("app_price", app_price),
        ("dataset_price", dataset_price),
        ("workerpool_price", workerpool_price),
    ):
        _check_amount(name, amount)
    return app_price + dataset_price + workerpool_price


@dataclass(frozen=True)
class Contributor:
    """One contribution to a task, as finalize sees it.

    `log2_weight` is `consensus.log2_weight(weight(score))` at contribution
    time; `won` means revealed and in the consensus group.
    """

    worker: str
    log2_weight: int
    won: bool


@dataclass(frozen=True)
class Settlement:
    """The balance moves of a completed task, per account, in nRLC.

    `worker_rewards` (winners only) and `scheduler_reward` (the remainder of
    the worker pot) are paid out of the pool price and the seized stakes;
    `kitty_bonus` is paid to the pool owner out of the kitty; `app_reward`
    and `dataset_reward` go to the asset owners. `seized_stakes` are the
    losers' stakes, taken into the pot; winners' stakes and the pool owner's
    stake are only unlocked, so they appear nowhere here. `scores` holds the
    new score of every contributor.
    """

    worker_rewards: Mapping[str, int]
    seized_stakes: Mapping[str, int]
    scheduler_reward: int
    kitty_bonus: int
    app_reward: int
    dataset_reward: int
    scores: Mapping[str, int] = field(default_factory=dict)


def settle(
    *,
    app_price: int,
    dataset_price: int,
    workerpool_price: int,
    worker_stake: int,
    scheduler_reward_ratio: int,
    contributors: Sequence[Contributor],
    kitty: int,
    scores: Mapping[str, int],
) -> Settlement:
    """The payment of a completed (replicated) task, as the hub's finalize makes it.

    `scores` are the contributors' scores before the task (a worker not in
    it has score 0, as in the hub's storage). Raises ValueError when nobody
    won: the hub cannot finalize such a task.
    """
    _check_prices(app_price, dataset_price, workerpool_price, scheduler_reward_ratio)
    _check_amount("worker_stake", worker_stake)
    workers = [c.worker for c in contributors]
    if len(set(workers)) != len(workers):
        raise ValueError("a worker contributes at most once to a task")
    winners = [c for c in contributors if c.won]
    losers = [c for c in contributors if not c.won]
    total_log = sum(c.log2_weight for c in winners)
    if not winners:
        raise ValueError("no winner: a task cannot be finalized without one")
    if total_log < 1 or any(c.log2_weight < 0 for c in winners):
        raise ValueError("winners' log2 weights must be >= 0 and not all 0")

    pot = workerpool_price + worker_stake * len(losers)
    workers_pot = pot * (100 - scheduler_reward_ratio) // 100
    worker_rewards = {c.worker: workers_pot * c.log2_weight // total_log for c in winners}
    replicated = len(contributors) > 1
    return Settlement(
        worker_rewards=worker_rewards,
        seized_stakes={c.worker: worker_stake for c in losers},
        scheduler_reward=pot - sum(worker_rewards.values()),
        kitty_bonus=kitty_bonus(kitty),
        app_reward=app_price,
        dataset_reward=dataset_price,
        scores={
            c.worker: score_after(scores.get(c.worker, 0), won=c.won, replicated=replicated)
            for c in contributors
        },
    )


def settle_fast(
    *,
    app_price: int,
    dataset_price: int,
    workerpool_price: int,
    scheduler_reward_ratio: int,
    kitty: int,
    worker: str = "",
) -> Settlement:
    """The payment of the one-transaction path (trust <= 1): one worker, no stake, no score.

    The worker gets `workerpool_price * (100 - ratio) // 100`, filed in
    `worker_rewards` under `worker` (its address; "" when not given); the
    scheduler the rest of the pool price, plus the kitty bonus.
    """
    _check_prices(app_price, dataset_price, workerpool_price, scheduler_reward_ratio)
    reward = workerpool_price * (100 - scheduler_reward_ratio) // 100
    return Settlement(
        worker_rewards={worker: reward},
        seized_stakes={},
        scheduler_reward=workerpool_price - reward,
        kitty_bonus=kitty_bonus(kitty),
        app_reward=app_price,
        dataset_reward=dataset_price,
        scores={},
    )


def _check_prices(
    app_price: int, dataset_price: int, workerpool_price: int, scheduler_reward_ratio: int
) -> None:
    _check_amount("app_price", app_price)
    _check_amount("dataset_price", dataset_price)
    _check_amount("workerpool_price", workerpool_price)
    if not 0 <= scheduler_reward_ratio <= 100:
        raise ValueError(
            f"scheduler_reward_ratio must be in [0, 100], got {scheduler_reward_ratio}"
        )


def _check_amount(name: str, amount: int) -> None:
    if amount < 0:
        raise ValueError(f"{name} must be >= 0, got {amount}")
