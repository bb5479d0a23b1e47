"""Restarts in a real pool: a worker stopped after contributing comes back and reveals, once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from nuage.chain.client import Chain
from nuage.chain.hub import ContributionView
from nuage.worker.state import Stage
from tests.scheduler.live_pool import LivePool

pytestmark = pytest.mark.integration


@pytest.fixture
def pool(chain: Chain, tmp_path: Path) -> Iterator[LivePool]:
    live = LivePool(chain, tmp_path)
    yield live
    live.close()


def test_a_worker_restarted_after_contributing_reveals_without_contributing_again(pool: LivePool):
    pool.start_scheduler()
    first = pool.start_worker("worker 1")
    created = pool.match(trust=5, volume=1)  # 3 fresh workers must agree: worker 1 is needed
    (task,) = created.deal.task_ids(created.deal_id)
    address = first.account.address
    pool.wait_for(
        lambda: pool.hub.contribution(task, address).status == ContributionView.CONTRIBUTED,
        30,
        "worker 1's contribution",
    )
    pool.stop_worker("worker 1")
    for name in ("worker 2", "worker 3"):
        pool.start_worker(name)
    pool.wait_for(lambda: pool.hub.task(task).contributors == 3, 30, "consensus")
    again = pool.start_worker("worker 1")  # the same wallet and database
    pool.wait_completed(created, timeout=60)

    assert pool.hub.contribution(task, address).status == ContributionView.PROVED
    assert pool.hub.task(task).reveals == 3
    logs = pool.hub.contract.events.TaskContributed().get_logs(
        from_block=pool.deployment.block, argument_filters={"task_id": task}
    )
    assert Counter(e["args"]["worker"] for e in logs)[address] == 1
    record = pool.loop.call(lambda: again.agent.state.replicates[task])
    # it may have been the winner asked to upload the result: then UPLOADED until released
    assert record.stage in (Stage.REVEALED, Stage.UPLOADED, Stage.DONE)
