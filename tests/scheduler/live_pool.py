"""A whole pool on a real chain, for the integration tests (`tests/integration/test_pool_*`).

`LivePool` deploys the protocol on an anvil chain, runs a storage service and a scheduler
(FastAPI under uvicorn, on loopback ports) and worker agents, all in one asyncio loop on a
background thread of the test process; the app is the `factorial` dapp, built and stored. Tests
sign and match orders directly (`match`), then wait for the chain to say the tasks are done.
Actors are named by role and their keys derived from their names.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_canonical_address
from web3.types import RPCEndpoint

from nuage.apps import build
from nuage.chain.bindings import Contracts
from nuage.chain.client import Chain
from nuage.chain.deployment import deploy_protocol
from nuage.chain.hub import DealCreated, Hub
from nuage.protocol import AppOrder, DatasetOrder, Domain, RequestOrder, WorkerpoolOrder
from nuage.sandbox import default_runner
from nuage.scheduler.api import create_app as create_scheduler_app
from nuage.scheduler.client import SchedulerClient
from nuage.scheduler.service import SchedulerService
from nuage.scheduler.state import SchedulerConfig
from nuage.scheduler.store import SchedulerStore, open_engine
from nuage.storage import StorageClient, StorageSettings
from nuage.storage import create_app as create_storage_app
from nuage.worker.agent import AgentSettings, WorkerAgent
from nuage.worker.capabilities import detect_capabilities
from nuage.worker.store import WorkerStore

DAPPS = Path(__file__).resolve().parents[2] / "dapps"
NRLC = 10**9
ETH = 10**18


def actor(name: str) -> LocalAccount:
    return Account.from_key(keccak(text=f"nuage pool test {name}"))


def free_socket() -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class Loop:
    """An asyncio loop on a daemon thread: services and agents run there, tests wait here."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def submit(self, coroutine: Coroutine[Any, Any, Any]) -> Future[Any]:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def call(self, function: Callable[[], Any], timeout: float = 30) -> Any:
        async def run() -> Any:
            return function()

        return self.submit(run()).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@dataclass
class Server:
    """A uvicorn server on a loopback port, run in the pool's loop."""

    url: str
    server: uvicorn.Server
    task: Future[Any]


class Delegate:
    """An ASGI app that forwards to another, swapped when the scheduler restarts."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


@dataclass
class RunningWorker:
    account: LocalAccount
    agent: WorkerAgent
    stop: asyncio.Event
    task: Future[Any]
    crashed: list[str] = field(default_factory=list)
    clients_closed: bool = False

    async def closed(self) -> None:
        """Waits for the agent to stop, then closes its clients (once)."""
        with contextlib.suppress(Exception):
            await asyncio.wrap_future(self.task)
        if not self.clients_closed:
            self.clients_closed = True
            await self.agent.scheduler.close()
            self.agent.storage.close()


class LivePool:
    """Protocol, storage, scheduler and workers on one anvil chain; see the module docstring."""

    def __init__(self, chain: Chain, tmp_path: Path) -> None:
        self.chain = chain
        self.tmp_path = tmp_path
        self.deployer = actor("deployer")
        self.requester = actor("requester")
        self.app_owner = actor("app owner")
        self.pool_owner = actor("pool owner")
        for account in (self.deployer, self.requester, self.app_owner, self.pool_owner):
            chain.fund_eth(account.address, 100 * ETH)
        self.deployment = deploy_protocol(chain, self.deployer)
        self.contracts = Contracts(chain, self.deployment)
        self.hub = Hub(self.contracts)
        self.loop = Loop()
        self._servers: list[Server] = []
        self.storage_url = self._serve(
            create_storage_app(StorageSettings(root=tmp_path / "storage"))
        ).url
        self.storage = StorageClient(self.storage_url)
        self.app = self.register_app(DAPPS / "factorial")
        self.workerpool, _ = self.contracts.register_workerpool(self.pool_owner, "test pool")
        for account in (self.requester, self.pool_owner):
            self.give_rlc(account, 1000 * NRLC)
        self.market_domain = Domain(
            chain_id=chain.chain_id, verifying_contract=self.deployment.market
        )
        self.workers: dict[str, RunningWorker] = {}
        self.scheduler: SchedulerService | None = None
        self._scheduler_stop: asyncio.Event | None = None
        self._scheduler_task: Future[Any] | None = None
        self._scheduler_server: Server | None = None
        self._salt = 0
        self._stopped: list[RunningWorker] = []

    def register_app(self, directory: Path) -> str:
        """Builds the app in `directory`, stores its bundle, registers it: its address."""
        bundle = build(directory, self.tmp_path / "bundles" / f"{directory.name}.zip")
        self.storage.put_file(bundle.path)
        address, _ = self.contracts.register_app(
            self.app_owner, bundle.manifest.name, bytes.fromhex(bundle.sha256)
        )
        return address

    # -- money -------------------------------------------------------------------------------

    def give_rlc(self, account: LocalAccount, amount: int, deposit: bool = True) -> None:
        self.contracts.transfer_rlc(self.deployer, account.address, amount)
        if deposit:
            self.contracts.deposit(account, amount)

    def set_score(self, address: str, score: int) -> None:
        """Writes a worker's score into the hub's escrow word (anvil_setStorageAt).

        Earning a score takes one replicated task per point. The word of an account is
        free and frozen (96 bits each) under the score (the top 64 bits); its slot is
        keccak(base slot ++ address) (Vyper's order), the base found as the one slot whose word
        holds the account's free balance.
        """
        free = self.contracts.hub_account(address).free
        assert free > 0, "set_score needs an account with a free balance"
        w3 = self.chain.w3
        for base in range(64):
            key = keccak(base.to_bytes(32, "big") + bytes(12) + to_canonical_address(address))
            word = int.from_bytes(w3.eth.get_storage_at(self.deployment.hub, key), "big")
            if free in (word % 2**96, word >> 96 & (2**96 - 1)):
                word = word % 2**192 | score << 192
                w3.provider.make_request(
                    RPCEndpoint("anvil_setStorageAt"),
                    [self.deployment.hub, "0x" + key.hex(), "0x" + word.to_bytes(32, "big").hex()],
                )
                assert self.hub.score(address) == score
                return
        raise AssertionError("the escrow's account slot was not found")

    def advance_time(self, seconds: int) -> None:
        self.chain.w3.provider.make_request(RPCEndpoint("evm_increaseTime"), [seconds])
        self.chain.w3.provider.make_request(RPCEndpoint("evm_mine"), [])

    # -- orders ------------------------------------------------------------------------------

    def match(
        self, *, trust: int, volume: int = 1, app_price: int = NRLC, pool_price: int = 2 * NRLC,
        args: str = "10", app: str | None = None, offer: WorkerpoolOrder | None = None,
    ) -> DealCreated:  # fmt: skip
        """Signs an app, a workerpool and a request order and matches them: the new deal."""
        app = app or self.app
        self._salt += 1
        salt = self._salt.to_bytes(32, "big")
        orders = (
            AppOrder(app=app, appprice=app_price, volume=volume, salt=salt).signed(
                self.app_owner.key, self.market_domain
            ),
            DatasetOrder.none(),
            offer
            or WorkerpoolOrder(
                workerpool=self.workerpool,
                workerpoolprice=pool_price,
                volume=volume,
                trust=trust,
                salt=salt,
            ).signed(self.pool_owner.key, self.market_domain),
            RequestOrder(
                app=app,
                requester=self.requester.address,
                appmaxprice=app_price,
                workerpoolmaxprice=pool_price,
                volume=volume,
                trust=trust,
                params=f'{{"iexec_args": "{args}"}}',
                salt=salt,
            ).signed(self.requester.key, self.market_domain),
        )
        receipt = self.chain.transact(
            self.contracts.market.functions.matchOrders(*(o.as_tuple() for o in orders)),
            self.requester,
        )
        (created,) = self.hub.deals_created(receipt)
        return created

    # -- services ----------------------------------------------------------------------------

    def _serve(self, app: Any, lifespan: str = "off") -> Server:
        sock = free_socket()
        config = uvicorn.Config(app, log_config=None, lifespan=lifespan, access_log=False)
        server = uvicorn.Server(config)
        task = self.loop.submit(server.serve(sockets=[sock]))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "server did not start"
            assert not task.done(), task.exception()
            time.sleep(0.02)
        self._servers.append(Server(url, server, task))
        return self._servers[-1]

    def serve_market(self) -> str:
        """Runs the market service (the order book, following the chain); its URL."""
        from nuage.market.service import create_app as create_market_app
        from nuage.market.settings import MarketSettings

        settings = MarketSettings(
            database_url=f"sqlite:///{self.tmp_path / 'market.db'}", poll_interval=0.1
        )
        return self._serve(create_market_app(settings, contracts=self.contracts), "on").url

    def start_scheduler(self, publisher: Any = None, **timeouts: float) -> str:
        """Starts (or restarts) the scheduler on its database; returns its URL."""
        config = SchedulerConfig(
            workerpool=self.workerpool,
            heartbeat_timeout=timeouts.pop("heartbeat_timeout", 10.0),
            contribution_timeout=timeouts.pop("contribution_timeout", 60.0),
            upload_timeout=timeouts.pop("upload_timeout", 10.0),
            tx_retry_after=timeouts.pop("tx_retry_after", 5.0),
        )
        store = SchedulerStore(open_engine(f"sqlite:///{self.tmp_path / 'scheduler.db'}"))

        async def build() -> SchedulerService:
            return SchedulerService(
                hub=self.hub,
                pool_owner=self.pool_owner,
                config=config,
                store=store,
                storage=StorageClient(self.storage_url),
                tick_interval=0.2,
                heartbeat_interval=0.3,
                pull_interval=0.3,
                watcher_poll=0.1,
                publisher=publisher,
            )

        self.scheduler = self.loop.submit(build()).result(10)
        self._scheduler_stop = self.loop.call(asyncio.Event)
        self._scheduler_task = self.loop.submit(self.scheduler.run(self._scheduler_stop))
        if self._scheduler_server is None:
            self._scheduler_app = Delegate(create_scheduler_app(self.scheduler))
            self._scheduler_server = self._serve(self._scheduler_app)
        else:  # a restart: the same address, the new service behind it
            self._scheduler_app.app = create_scheduler_app(self.scheduler)
        deadline = time.monotonic() + 10
        while not self.scheduler.started.is_set():
            assert time.monotonic() < deadline, "the scheduler did not start"
            if self._scheduler_task.done():
                self._scheduler_task.result()
            time.sleep(0.02)
        return self._scheduler_server.url

    def stop_scheduler(self) -> None:
        assert self._scheduler_stop is not None and self._scheduler_task is not None
        self.loop.loop.call_soon_threadsafe(self._scheduler_stop.set)
        self._scheduler_task.result(10)

    def start_worker(
        self,
        name: str,
        *,
        mode: str = "honest",
        funds: int = 100 * NRLC,
        parallel: int = 1,
        max_wall_clock: float = 30,
    ) -> RunningWorker:
        account = actor(name)
        if account.address not in {w.account.address for w in self.workers.values()}:
            self.chain.fund_eth(account.address, 100 * ETH)
            if funds:
                self.give_rlc(account, funds)
        assert self._scheduler_server is not None
        url = self._scheduler_server.url
        work_dir = self.tmp_path / "workers" / name
        store = WorkerStore(open_engine(f"sqlite:///{self.tmp_path / f'worker-{name}.db'}"))
        crashed: list[str] = []

        async def build() -> tuple[WorkerAgent, asyncio.Event]:
            stop = asyncio.Event()

            def crash(reason: str) -> None:
                crashed.append(reason)
                stop.set()

            agent = WorkerAgent(
                account=account,
                scheduler=SchedulerClient(url, account),
                hub=self.hub,
                storage=StorageClient(self.storage_url),
                runner=default_runner(),
                store=store,
                settings=AgentSettings(
                    work_dir=work_dir,
                    mode=mode,
                    max_parallel=parallel,
                    max_wall_clock=max_wall_clock,
                ),
                capabilities=detect_capabilities(runners=[default_runner()]),
                crash=crash,
            )
            return agent, stop

        agent, stop = self.loop.submit(build()).result(10)
        task = self.loop.submit(agent.run(stop))
        running = RunningWorker(account, agent, stop, task, crashed)
        if name in self.workers:
            self._stopped.append(self.workers[name])
        self.workers[name] = running
        return running

    def stop_worker(self, name: str) -> None:
        """Stops a worker as its process would stop (its database stays), closing its clients."""
        worker = self.workers[name]
        self.loop.loop.call_soon_threadsafe(worker.stop.set)
        self.loop.submit(worker.closed()).result(10)

    # -- waiting -----------------------------------------------------------------------------

    def wait_for(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
            if self._scheduler_task is not None and self._scheduler_task.done():
                self._scheduler_task.result()
            for name, worker in self.workers.items():
                if worker.task.done() and not worker.crashed and not worker.stop.is_set():
                    worker.task.result()  # raises the agent's error
                    raise AssertionError(f"worker {name} stopped")
            time.sleep(0.1)

    def wait_completed(self, created: DealCreated, timeout: float = 60) -> None:
        tasks = created.deal.task_ids(created.deal_id)
        self.wait_for(
            lambda: all(self.hub.task(t).status == 3 for t in tasks),
            timeout,
            f"{len(tasks)} tasks to complete",
        )

    def close(self) -> None:
        """Stops every worker, the scheduler and the servers, and closes what they opened."""

        async def shut_down() -> None:
            for worker in self.workers.values():
                worker.stop.set()
            everyone = [*self.workers.values(), *self._stopped]
            await asyncio.gather(*(worker.closed() for worker in everyone))
            if self._scheduler_stop is not None and self._scheduler_task is not None:
                self._scheduler_stop.set()
                with contextlib.suppress(Exception):
                    await asyncio.wrap_future(self._scheduler_task)
            if self.scheduler is not None and self.scheduler.storage is not None:
                self.scheduler.storage.close()
            if self.scheduler is not None and self.scheduler.publisher is not None:
                self.scheduler.publisher.market.close()  # type: ignore[attr-defined]
            for server in self._servers:
                server.server.should_exit = True
            for server in self._servers:
                with contextlib.suppress(Exception):
                    await asyncio.wrap_future(server.task)

        self.loop.submit(shut_down()).result(30)
        self.storage.close()
        self.loop.close()
