"""A pool of real processes on the devnet: `python -m nuage.scheduler serve` and workers.

The scheduler and the workers run as the devnet would start them, signing as devnet roles
(`--as pool-owner`, `--as worker-N`). What is checked is what only processes can show: a worker
that dies mid-task (crash mode: it computes, then exits before contributing) is replaced, and
a scheduler killed with SIGKILL mid-deal picks the deal up again from its database, with no
double contribution and no double finalize.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount

from nuage.apps import build
from nuage.chain.anvil import free_port
from nuage.chain.bindings import Contracts
from nuage.chain.client import Chain
from nuage.chain.hub import Hub
from nuage.config import Settings
from nuage.devnet import DevnetState, load_state
from nuage.processes import Daemon, spawn, wait_until_healthy
from nuage.protocol import AppOrder, DatasetOrder, Domain, RequestOrder, WorkerpoolOrder
from nuage.protocol.poco import TaskStatus
from nuage.storage import StorageClient
from tests.integration.cli import Nuage

pytestmark = pytest.mark.integration

NRLC = 10**9
DAPPS = Path(__file__).resolve().parents[2] / "dapps"


class Devnet:
    """The running devnet, seen from the test: chain, contracts, roles, processes it starts."""

    def __init__(self, nuage: Nuage, tmp_path: Path) -> None:
        self.home = nuage.home
        self.state: DevnetState = load_state(Settings(home=nuage.home))  # type: ignore[assignment]
        self.chain = Chain(self.state.rpc_url)
        self.contracts = Contracts(self.chain, self.state.deployment)
        self.hub = Hub(self.contracts)
        self.tmp_path = tmp_path
        self.daemons: list[Daemon] = []
        self.pool_owner = self.role("pool-owner")
        self.requester = self.role("requester")
        self.app_owner = self.role("app-owner")
        self.workerpool, _ = self.contracts.register_workerpool(self.pool_owner, "devnet pool")
        for account in (self.requester, self.pool_owner):
            self.contracts.deposit(account, 100 * NRLC)
        with StorageClient(self.state.services["storage"]) as storage:
            bundle = build(DAPPS / "factorial", tmp_path / "factorial.zip")
            storage.put_file(bundle.path)
        self.app, _ = self.contracts.register_app(
            self.app_owner, "factorial", bytes.fromhex(bundle.sha256)
        )
        self.scheduler_port = free_port()
        self.scheduler_url = f"http://127.0.0.1:{self.scheduler_port}"
        self._salt = 0

    def role(self, name: str) -> LocalAccount:
        return self.state.account(name)

    def env(self) -> dict[str, str]:
        return os.environ | {
            "NUAGE_HOME": str(self.home),
            "NUAGE_SCHEDULER_HEARTBEAT_INTERVAL": "1",
            "NUAGE_SCHEDULER_PULL_INTERVAL": "0.5",
            "NUAGE_SCHEDULER_TICK_INTERVAL": "0.3",
        }

    def start_scheduler(self) -> Daemon:
        command = [
            sys.executable, "-m", "nuage.scheduler", "serve",
            "--workerpool", self.workerpool,
            "--as", "pool-owner",
            "--port", str(self.scheduler_port),
            "--contribution-timeout", "6",
            "--heartbeat-timeout", "5",
            "--tx-retry-after", "3",
        ]  # fmt: skip
        daemon = spawn("scheduler", command, self.tmp_path / "scheduler.log", env=self.env())
        self.daemons.append(daemon)
        wait_until_healthy(daemon, self.scheduler_port, "/health", timeout=60)
        return daemon

    def start_worker(self, n: int, mode: str = "honest") -> Daemon:
        command = [
            sys.executable, "-m", "nuage.worker", "start",
            "--scheduler", self.scheduler_url,
            "--as", f"worker-{n}",
            "--mode", mode,
            "--data-dir", str(self.tmp_path / f"worker-{n}"),
        ]  # fmt: skip
        log = self.tmp_path / f"worker-{n}.log"
        daemon = spawn(f"worker-{n}", command, log, env=self.env())
        self.daemons.append(daemon)
        return daemon

    def match(self, *, trust: int, volume: int) -> tuple[bytes, list[bytes]]:
        self._salt += 1
        salt = self._salt.to_bytes(32, "big")
        domain = Domain(
            chain_id=self.chain.chain_id, verifying_contract=self.state.deployment.market
        )
        price = 2 * NRLC
        orders = (
            AppOrder(app=self.app, appprice=NRLC, volume=volume, salt=salt).signed(
                self.app_owner.key, domain
            ),
            DatasetOrder.none(),
            WorkerpoolOrder(
                workerpool=self.workerpool,
                workerpoolprice=price,
                volume=volume,
                trust=trust,
                salt=salt,
            ).signed(self.pool_owner.key, domain),
            RequestOrder(
                app=self.app,
                requester=self.requester.address,
                appmaxprice=NRLC,
                workerpoolmaxprice=price,
                volume=volume,
                trust=trust,
                params='{"iexec_args": "10"}',
                salt=salt,
            ).signed(self.requester.key, domain),
        )
        receipt = self.chain.transact(
            self.contracts.market.functions.matchOrders(*(o.as_tuple() for o in orders)),
            self.requester,
        )
        (created,) = self.hub.deals_created(receipt)
        return created.deal_id, created.deal.task_ids(created.deal_id)

    def wait(self, condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                logs = {p.name: p.read_text()[-3000:] for p in self.tmp_path.glob("*.log")}
                raise AssertionError(f"timed out waiting for {what}; logs: {logs}")
            time.sleep(0.2)

    def events(self, name: str, task: bytes) -> list[dict]:  # type: ignore[type-arg]
        event = getattr(self.hub.contract.events, name)()
        logs = event.get_logs(
            from_block=self.state.deployment.block, argument_filters={"task_id": task}
        )
        return [dict(entry["args"]) for entry in logs]

    def stop(self) -> None:
        for daemon in reversed(self.daemons):
            daemon.stop()


@pytest.fixture
def devnet(nuage: Nuage, tmp_path: Path):  # type: ignore[no-untyped-def]
    nuage.devnet_up("--workers", "4", "--no-pool")  # the test runs its own pool
    net = Devnet(nuage, tmp_path)
    yield net
    net.stop()


def test_a_pool_of_processes_outlives_a_crashing_worker_and_a_killed_scheduler(devnet: Devnet):
    for n in (1, 2, 3, 4):
        devnet.contracts.deposit(devnet.role(f"worker-{n}"), 10 * NRLC)
    scheduler = devnet.start_scheduler()

    # a worker that dies between computing and contributing: its task goes to another worker
    _, (task,) = devnet.match(trust=1, volume=1)
    crashing = devnet.start_worker(1, mode="crash")
    devnet.wait(lambda: not crashing.running(), 60, "the crashing worker to die")
    assert "crash mode" in Path(crashing.log).read_text()
    devnet.start_worker(2)
    devnet.wait(lambda: devnet.hub.task(task).status == TaskStatus.COMPLETED, 60, "the task")

    # killed mid-deal and started again, the scheduler completes the deal
    devnet.start_worker(3)
    devnet.start_worker(4)
    _, tasks = devnet.match(trust=5, volume=2)  # 3 fresh workers agree at trust 5
    devnet.wait(lambda: devnet.hub.task(tasks[0]).status != TaskStatus.UNSET, 60, "a start")
    os.killpg(scheduler.pid, signal.SIGKILL)
    devnet.wait(lambda: not scheduler.running(), 10, "the scheduler to die")
    devnet.start_scheduler()
    for task in tasks:
        devnet.wait(lambda t=task: devnet.hub.task(t).status == TaskStatus.COMPLETED, 90, "tasks")
    for task in tasks:
        contributions = Counter(e["worker"] for e in devnet.events("TaskContributed", task))
        assert sum(contributions.values()) == 3 and set(contributions.values()) == {1}
        assert len(devnet.events("TaskFinalized", task)) == 1
        assert devnet.hub.task(task).reveals == 3
