"""Running a worker as a process: settings, the sandbox, the agent, until SIGINT or SIGTERM.

`WorkerSettings` come from ``NUAGE_WORKER_*`` variables and command options; `start(settings,
account)` checks that a sandbox works here (a worker never runs untrusted code without one),
connects to the chain and storage, and runs a `WorkerAgent` against the scheduler.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING

from eth_account.signers.local import LocalAccount
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from nuage.exceptions import ConfigError, SandboxError
from nuage.worker.state import HONEST, MODES

if TYPE_CHECKING:
    from nuage.sandbox import Runner
    from nuage.scheduler.client import SchedulerClient
    from nuage.scheduler.models import Info

__all__ = ["WorkerSettings", "pick_runner", "start"]

log = logging.getLogger(__name__)


def _nuage_home() -> Path:
    home = os.environ.get("NUAGE_HOME")
    return Path(home).expanduser() if home else Path.home() / ".nuage"


class WorkerSettings(BaseSettings):
    """Which scheduler, chain and storage; how many replicates at once; which sandbox."""

    model_config = SettingsConfigDict(env_prefix="NUAGE_WORKER_", extra="ignore")

    scheduler_url: str = "http://127.0.0.1:8703"
    rpc_url: str | None = None
    storage_url: str | None = Field(
        default=None, description="[default: what the scheduler says, else the devnet's]"
    )
    storage_token: str | None = None
    parallel: int = Field(default=1, ge=1, le=256)
    mode: str = HONEST
    sandbox: str | None = Field(default=None, description="bubblewrap, docker or podman")
    data_dir: Path | None = Field(
        default=None, description="[default: $NUAGE_HOME/worker/<chain id>-<genesis>/<address>]"
    )
    memory_bytes: int = Field(default=1024**3, gt=0)
    max_wall_clock: float | None = Field(default=None, gt=0)
    heartbeat_interval: float | None = Field(default=None, gt=0)
    pull_interval: float | None = Field(default=None, gt=0)

    def folder(self, address: str, chain: str) -> Path:
        """Its own folder; the default is per chain (`chain`: id and genesis hash)."""
        return self.data_dir or _nuage_home() / "worker" / chain / address.lower()


def pick_runner(name: str | None) -> Runner:
    """The sandbox runner to use: the one named, else the preferred one that works here."""
    from nuage.sandbox import all_runners, default_runner

    if name is None:
        return default_runner()  # raises SandboxError listing why none works
    for runner in all_runners():
        if runner.name == name:
            if not runner.available():
                raise SandboxError(
                    f"the {name} sandbox does not work here: {runner.why_unavailable()}"
                )
            return runner
    raise ConfigError(f"unknown sandbox {name!r}: bubblewrap, docker or podman")


def start(settings: WorkerSettings, account: LocalAccount, *, log_level: str = "info") -> None:
    """Runs the worker until interrupted; logs go to stderr."""
    if settings.mode not in MODES:
        raise ConfigError(f"unknown mode {settings.mode!r}: one of {', '.join(MODES)}")
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if log_level != "debug":
        logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    asyncio.run(_run(settings, account))


async def _scheduler_info(scheduler: SchedulerClient) -> Info:
    """The scheduler's `/info`, waiting (with backoff) while it does not answer."""
    from nuage.scheduler.client import SchedulerUnreachable

    delay = 0.5
    while True:
        try:
            return await scheduler.info()
        except SchedulerUnreachable as error:
            log.warning("%s; retrying in %.1f s", error, delay)
            await asyncio.sleep(delay)
            delay = min(2 * delay, 30.0)


async def _run(settings: WorkerSettings, account: LocalAccount) -> None:
    from nuage.chain.hub import Hub
    from nuage.config import Settings
    from nuage.network import connect, service_url
    from nuage.scheduler.client import SchedulerClient
    from nuage.scheduler.store import open_engine
    from nuage.storage.client import StorageClient
    from nuage.worker.agent import AgentSettings, WorkerAgent
    from nuage.worker.capabilities import detect_capabilities
    from nuage.worker.store import WorkerStore

    runner = pick_runner(settings.sandbox)
    log.info("sandbox: %s", runner.describe())
    contracts = await asyncio.to_thread(connect, Settings(), settings.rpc_url)
    hub = Hub(contracts)
    genesis = await asyncio.to_thread(hub.genesis_hash)
    scheduler = SchedulerClient(settings.scheduler_url, account)
    info = await _scheduler_info(scheduler)
    storage_url = settings.storage_url or info.storage_url
    storage_url = storage_url or service_url(Settings(), "storage", None, "http://127.0.0.1:8701")
    storage = StorageClient(storage_url, token=settings.storage_token)
    folder = settings.folder(account.address, f"{contracts.chain.chain_id}-{genesis[2:10]}")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    agent = WorkerAgent(
        account=account,
        scheduler=scheduler,
        hub=hub,
        storage=storage,
        runner=runner,
        store=WorkerStore(open_engine(f"sqlite:///{folder / 'worker.db'}")),
        settings=AgentSettings(
            work_dir=folder,
            max_parallel=settings.parallel,
            mode=settings.mode,
            memory_bytes=settings.memory_bytes,
            max_wall_clock=settings.max_wall_clock,
            pull_interval=settings.pull_interval,
            heartbeat_interval=settings.heartbeat_interval,
        ),
        capabilities=detect_capabilities(settings.parallel, [runner]),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await agent.run(stop)
    finally:
        await scheduler.close()
        storage.close()
