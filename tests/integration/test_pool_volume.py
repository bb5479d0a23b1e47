"""A 20-task deal at trust 1 through four workers: every task finalized, each exactly once."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from nuage.chain.client import Chain
from tests.scheduler.live_pool import LivePool

pytestmark = pytest.mark.integration


@pytest.fixture
def pool(chain: Chain, tmp_path: Path) -> Iterator[LivePool]:
    live = LivePool(chain, tmp_path)
    yield live
    live.close()


def test_twenty_tasks_at_trust_1_through_four_workers(pool: LivePool):
    pool.start_scheduler()
    for n in range(1, 5):
        pool.start_worker(f"worker {n}", funds=0)
    created = pool.match(trust=1, volume=20, args="12")
    pool.wait_completed(created, timeout=120)

    tasks = created.deal.task_ids(created.deal_id)
    expected = hashlib.sha256(b"479001600\n").digest()  # 12!
    assert all(pool.hub.finalized(task)[1] == expected for task in tasks)  # type: ignore[index]
    finalized = pool.hub.contract.events.TaskFinalized().get_logs(from_block=pool.deployment.block)
    assert Counter(bytes(e["args"]["task_id"]) for e in finalized) == Counter(tasks)
    workers = {name: w.account.address for name, w in pool.workers.items()}
    paid = [pool.contracts.hub_account(a).free for a in workers.values()]
    per_task = created.deal.workerpool_price * 99 // 100
    assert sum(paid) == 20 * per_task
    assert sum(p > 0 for p in paid) >= 2  # the work was shared
