"""When things go wrong in a real pool: apps that crash, loop or say nothing; deals nobody runs.

An app's failure is a result like any other: every honest worker computes the same error
result (its digest depends on the failure's message only), it goes through consensus, and the
requester reads why in the result. A task nobody completes by its final deadline is claimed,
and the requester gets exactly what it paid back.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from nuage.chain.client import Chain
from nuage.chain.hub import results_blob
from nuage.config import Settings
from nuage.protocol.poco import TaskStatus
from nuage.scheduler.state import TaskPhase
from nuage.wallet import Keystores
from tests.integration.cli import Nuage
from tests.scheduler.live_pool import NRLC, LivePool

pytestmark = pytest.mark.integration

MISBEHAVING = Path(__file__).resolve().parents[1] / "apps" / "misbehaving"
WALL_CLOCK = 2.0


@pytest.fixture
def pool(chain: Chain, tmp_path: Path) -> Iterator[LivePool]:
    live = LivePool(chain, tmp_path)
    yield live
    live.close()


def error_of(pool: LivePool, task: bytes) -> str:
    """The error message in a completed task's result, read from storage as a requester would."""
    results, digest = pool.hub.finalized(task)  # type: ignore[misc]
    with zipfile.ZipFile(io.BytesIO(pool.storage.get_bytes(results_blob(results)))) as archive:
        body = archive.read("error.json")
        computed = json.loads(archive.read("computed.json"))
    assert digest == hashlib.sha256(body).digest()  # the error itself is what was agreed on
    assert computed["deterministic-output-path"] == "/iexec_out/error.json"
    return str(json.loads(body)["error"])


def test_crashing_looping_and_silent_apps_end_with_error_results_in_bounded_time(pool: LivePool):
    app = pool.register_app(MISBEHAVING)
    pool.start_scheduler()
    for name in ("worker 1", "worker 2"):
        pool.start_worker(name, funds=0, max_wall_clock=WALL_CLOCK)
    started = time.monotonic()
    created = pool.match(trust=1, volume=4, app=app)
    pool.wait_completed(created, timeout=60)
    assert time.monotonic() - started < 30
    tasks = created.deal.task_ids(created.deal_id)
    assert error_of(pool, tasks[0]) == (
        "the app failed (exit status 1) and the app wrote no computed.json"
    )
    assert error_of(pool, tasks[1]) == "the app failed: wall-clock limit of 2 s exceeded"
    assert error_of(pool, tasks[2]) == "the app wrote no computed.json"
    _, digest = pool.hub.finalized(tasks[3])  # type: ignore[misc]
    assert digest == hashlib.sha256(b"fine\n").digest()


def test_replicated_workers_agree_on_an_error_result(pool: LivePool):
    app = pool.register_app(MISBEHAVING)
    pool.start_scheduler()
    for n in (1, 2, 3):
        pool.start_worker(f"worker {n}", max_wall_clock=WALL_CLOCK)
    created = pool.match(trust=5, volume=1, app=app)  # task 0 crashes; 3 fresh workers agree
    pool.wait_completed(created, timeout=60)
    (task,) = created.deal.task_ids(created.deal_id)
    view = pool.hub.task(task)
    assert (view.contributors, view.winners, view.reveals) == (3, 3, 3)
    assert "exit status 1" in error_of(pool, task)


def _nuage_as_requester(pool: LivePool, home: Path) -> Nuage:
    """The `nuage` command on the live pool's chain, signing with the requester's keystore."""
    cli = Nuage(home)
    record = home / "deployment.json"
    pool.contracts.deployment.save(record)
    cli.env |= {
        "NUAGE_RPC_URL": pool.chain.url,
        "NUAGE_DEPLOYMENT": str(record),
        "NUAGE_PASSWORD": "pw",
    }
    Keystores(Settings(home=home).keystores_dir).import_key(
        "requester", "0x" + bytes(pool.requester.key).hex(), "pw"
    )
    return cli


def test_a_task_nobody_ran_is_claimed_and_the_requester_refunded_exactly(
    pool: LivePool, tmp_path: Path
):
    pool.start_scheduler()
    requester_before = pool.contracts.hub_account(pool.requester.address)
    owner_before = pool.contracts.hub_account(pool.pool_owner.address)
    kitty_before = pool.contracts.kitty()
    created = pool.match(trust=1, volume=1, pool_price=2 * NRLC)  # no worker ever comes
    deal = created.deal
    (task,) = deal.task_ids(created.deal_id)
    nuage = _nuage_as_requester(pool, tmp_path / "home")
    task_hex = "0x" + task.hex()
    assert nuage.json("task", "show", task_hex)["status"] == "UNSET"
    early = nuage("task", "claim", task_hex, ok=False)
    assert "it can be claimed after that" in " ".join(early.output.split())
    pool.advance_time(10 * deal.time_ref + 1)  # past the final deadline
    claimed = nuage.json("task", "claim", task_hex)  # the CLI, as a requester would
    assert claimed["refunded_nrlc"] == deal.app_price + deal.dataset_price + deal.workerpool_price
    assert nuage.json("task", "show", task_hex)["status"] == "FAILED"
    shown = nuage.json("deal", "show", "0x" + created.deal_id.hex())
    assert shown["tasks"] == {task_hex: "FAILED"}

    assert pool.hub.task(task).status == TaskStatus.FAILED
    assert pool.contracts.hub_account(pool.requester.address) == requester_before
    stake = deal.workerpool_price * 30 // 100
    owner = pool.contracts.hub_account(pool.pool_owner.address)
    assert (owner.free, owner.frozen) == (owner_before.free - stake, owner_before.frozen)
    assert pool.contracts.kitty() == kitty_before + stake
    scheduler = pool.scheduler
    assert scheduler is not None

    def phase() -> TaskPhase | None:
        record = scheduler.state.tasks.get(task)
        return None if record is None else record.phase

    pool.wait_for(
        lambda: pool.loop.call(phase) is TaskPhase.FAILED, 10, "the scheduler to see the claim"
    )
