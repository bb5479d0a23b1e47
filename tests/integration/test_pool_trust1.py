"""A trust-1 deal through a real pool: scheduler, one worker, sandbox, storage, anvil."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from nuage.chain.client import Chain
from nuage.chain.hub import results_blob
from nuage.protocol.poco import TaskStatus
from nuage.protocol.rewards import settle_fast
from tests.scheduler.live_pool import NRLC, LivePool

pytestmark = pytest.mark.integration


@pytest.fixture
def pool(chain: Chain, tmp_path: Path) -> Iterator[LivePool]:
    live = LivePool(chain, tmp_path)
    yield live
    live.close()


def test_one_worker_completes_a_trust_1_task_and_everyone_is_paid_exactly(pool: LivePool):
    pool.start_scheduler()
    pool.start_worker("worker 1", funds=0)  # trust 1 needs no stake
    parties = {
        "requester": pool.requester.address,
        "app owner": pool.app_owner.address,
        "pool owner": pool.pool_owner.address,
        "worker": pool.workers["worker 1"].account.address,
    }
    before = {name: pool.contracts.hub_account(a) for name, a in parties.items()}
    kitty = pool.contracts.kitty()

    created = pool.match(trust=1, args="10")
    pool.wait_completed(created, timeout=60)

    deal = created.deal
    (task_id,) = deal.task_ids(created.deal_id)
    task = pool.hub.task(task_id)
    assert task.status == TaskStatus.COMPLETED
    assert pool.hub.finalized(task_id) == (task.results, hashlib.sha256(b"3628800\n").digest())

    # the requester downloads the result from storage, checked against its id
    archive = pool.storage.get_bytes(results_blob(task.results))
    with zipfile.ZipFile(io.BytesIO(archive)) as result:
        assert result.read("result.txt") == b"3628800\n"
        assert "computed.json" in result.namelist()

    settlement = settle_fast(
        app_price=deal.app_price,
        dataset_price=deal.dataset_price,
        workerpool_price=deal.workerpool_price,
        scheduler_reward_ratio=deal.scheduler_reward_ratio,
        kitty=kitty,
    )
    after = {name: pool.contracts.hub_account(a) for name, a in parties.items()}
    price = deal.app_price + deal.workerpool_price
    assert after["requester"].free == before["requester"].free - price
    assert after["requester"].frozen == before["requester"].frozen == 0
    assert after["app owner"].free == before["app owner"].free + settlement.app_reward
    assert after["worker"].free == before["worker"].free + settlement.worker_rewards[""]
    assert after["worker"].free == deal.workerpool_price * 99 // 100
    assert after["pool owner"].free == (
        before["pool owner"].free + settlement.scheduler_reward + settlement.kitty_bonus
    )
    assert after["pool owner"].frozen == 0  # its stake for the task is back
    assert after["worker"].score == 0  # no score change at trust 1
    assert deal.app_price == NRLC
