"""Replicated deals (trust 100) through a real pool: consensus, reveals, rewards, liars punished.

At trust 100 fresh workers (weight 2) reach consensus with 7 agreeing contributions
(2**7 = 128 > 99 * 1.29). Two colluding liars weigh 4 between them: the honest group then needs
2**9 = 512 > 99 * (1 + 4 + 512) / 100, nine honest workers, eleven in all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from nuage.chain.client import Chain
from nuage.protocol.poco import TaskStatus
from nuage.protocol.rewards import Contributor, settle
from tests.scheduler.live_pool import NRLC, LivePool

pytestmark = pytest.mark.integration

RESULT = hashlib.sha256(b"3628800\n").digest()  # 10!


@pytest.fixture
def pool(chain: Chain, tmp_path: Path) -> Iterator[LivePool]:
    live = LivePool(chain, tmp_path)
    yield live
    live.close()


def accounts(pool: LivePool, names: list[str]) -> dict[str, object]:
    return {name: pool.contracts.hub_account(pool.workers[name].account.address) for name in names}


def test_seven_fresh_honest_workers_reach_consensus_and_are_all_paid(pool: LivePool):
    pool.start_scheduler()
    names = [f"worker {n}" for n in range(1, 8)]
    for name in names:
        pool.start_worker(name)
    before = accounts(pool, names)
    pool_owner_before = pool.contracts.hub_account(pool.pool_owner.address)

    created = pool.match(trust=100, pool_price=2 * NRLC)
    pool.wait_completed(created, timeout=90)

    deal = created.deal
    (task_id,) = deal.task_ids(created.deal_id)
    task = pool.hub.task(task_id)
    assert task.status == TaskStatus.COMPLETED
    assert (task.contributors, task.winners, task.reveals) == (7, 7, 7)
    assert pool.hub.finalized(task_id) == (task.results, RESULT)
    addresses = {name: pool.workers[name].account.address for name in names}
    settlement = settle(
        app_price=deal.app_price,
        dataset_price=deal.dataset_price,
        workerpool_price=deal.workerpool_price,
        worker_stake=deal.worker_stake,
        scheduler_reward_ratio=deal.scheduler_reward_ratio,
        contributors=[Contributor(a, 1, True) for a in addresses.values()],
        kitty=0,
        scores={},
    )
    after = accounts(pool, names)
    for name, address in addresses.items():
        assert after[name].free == before[name].free + settlement.worker_rewards[address]
        assert after[name].frozen == 0  # the stake is back
        assert after[name].score == before[name].score + 1
    pool_owner = pool.contracts.hub_account(pool.pool_owner.address)
    assert pool_owner.free == pool_owner_before.free + settlement.scheduler_reward
    assert pool_owner.frozen == 0  # its stake, locked at the match, is back


def test_two_colluding_liars_among_eleven_lose_their_stakes_to_the_honest(pool: LivePool):
    pool.start_scheduler()
    liars = ["liar 1", "liar 2"]
    honest = [f"worker {n}" for n in range(1, 10)]
    for name in liars:
        pool.start_worker(name, mode="colluding")
        pool.set_score(pool.workers[name].account.address, 6)  # weight 2 still; 6 -> 4 when caught
    created = pool.match(trust=100, pool_price=2 * NRLC)
    (task_id,) = created.deal.task_ids(created.deal_id)
    # the liars vote first, so their stakes are in the task when consensus comes
    pool.wait_for(lambda: pool.hub.task(task_id).contributors == 2, 60, "the liars' votes")
    for name in honest:
        pool.start_worker(name)
    before = accounts(pool, liars + honest)

    pool.wait_completed(created, timeout=120)

    deal = created.deal
    task = pool.hub.task(task_id)
    assert (task.contributors, task.winners, task.reveals) == (11, 9, 9)
    assert pool.hub.finalized(task_id) == (task.results, RESULT)
    address = {name: pool.workers[name].account.address for name in liars + honest}
    settlement = settle(
        app_price=deal.app_price,
        dataset_price=deal.dataset_price,
        workerpool_price=deal.workerpool_price,
        worker_stake=deal.worker_stake,
        scheduler_reward_ratio=deal.scheduler_reward_ratio,
        contributors=[Contributor(address[n], 1, n in honest) for n in liars + honest],
        kitty=0,
        scores={address[n]: 6 for n in liars},
    )
    after = accounts(pool, liars + honest)
    for name in liars:
        assert after[name].frozen == 0 and before[name].frozen == deal.worker_stake
        assert after[name].free == before[name].free  # the locked stake is gone
        assert after[name].score == 4
    share = (deal.workerpool_price + 2 * deal.worker_stake) * 99 // 100 // 9
    for name in honest:
        # each deposited 100 RLC, staked, got its stake back and its share
        assert after[name].free == 100 * NRLC + share
        assert after[name].frozen == 0
        assert settlement.worker_rewards[address[name]] == share
        assert after[name].score == 1
