"""The whole network on one machine: `nuage devnet up | status | down`.

`up` starts anvil in the background on 127.0.0.1, deploys the protocol, gives
every role account RLC, and writes the devnet's state to
`$NUAGE_HOME/devnet/devnet.json`, where every other command finds the RPC URL,
the deployment, the accounts by role and the services' URLs. Services: the
blob storage (`$NUAGE_HOME/storage`, port 8701 when free) the order book (port 8702,
SQLite in `devnet/market.db`), a workerpool ("devnet pool") whose scheduler (port 8703)
sells tasks at 1 RLC up to trust 100 on the market, with one worker process per worker
account (each has deposited 100 RLC to stake), and the web explorer (port 8704, its index in
`devnet/explorer.db`). `down` stops everything `up` started and removes that state.

The role accounts are anvil's well-known test accounts (public keys for a
public test mnemonic): fine for a devnet, never for real value.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3.types import RPCEndpoint

from nuage.chain.anvil import anvil_command, wait_for_rpc
from nuage.chain.bindings import Contracts
from nuage.chain.client import Chain
from nuage.chain.deployment import Deployment, deploy_protocol
from nuage.config import Settings
from nuage.exceptions import ConfigError, NuageError
from nuage.processes import Daemon, spawn, wait_until_healthy
from nuage.protocol.amounts import NRLC_PER_RLC

__all__ = [
    "BASE_ROLES",
    "DEFAULT_PORT",
    "DevnetAlreadyUp",
    "DevnetState",
    "DevnetStatus",
    "down",
    "load_state",
    "normalize_role",
    "role_accounts",
    "status",
    "up",
]

DEFAULT_PORT = 8545
STORAGE_PORT = 8701
MARKET_PORT = 8702
SCHEDULER_PORT = 8703
EXPLORER_PORT = 8704
DEVNET_POOL = "devnet pool"
POOL_PRICE = "1"  # RLC per task, offered on the market by the devnet's scheduler
POOL_TRUST = 100  # the highest trust it sells: requests at trust 1 take the one-tx path
WORKER_DEPOSIT = 100 * NRLC_PER_RLC  # each worker's stake money in the hub
POOL_OWNER_DEPOSIT = 1_000 * NRLC_PER_RLC  # the pool's stake money: 30% of 1 RLC per task
CHAIN_ID = 31337
ANVIL_MNEMONIC = "test test test test test test test test test test test junk"
BASE_ROLES = ("deployer", "requester", "app-owner", "dataset-owner", "pool-owner")
ROLE_RLC = 1_000_000 * NRLC_PER_RLC  # each role account's starting wallet


class DevnetAlreadyUp(NuageError):
    """`up` found a devnet already running; `.state` describes it."""

    def __init__(self, state: DevnetState) -> None:
        self.state = state
        super().__init__(
            f"the devnet is already up at {state.rpc_url} (chain {state.chain_id}); "
            "`nuage devnet status` describes it, `nuage devnet down` stops it"
        )


@dataclass
class DevnetState:
    """What `up` started and where: saved as JSON, read by every command."""

    rpc_url: str
    chain_id: int
    block_time: int | None
    started_at: float
    deployment: Deployment
    accounts: dict[str, dict[str, str]]  # role -> {"address", "private_key"}
    daemons: list[Daemon] = field(default_factory=list)
    services: dict[str, str] = field(default_factory=dict)  # service name -> URL
    workerpool: str | None = None  # the devnet pool, run by the scheduler service

    def account(self, role: str) -> LocalAccount:
        entry = self.accounts.get(normalize_role(role))
        if entry is None:
            raise ConfigError(
                f"no devnet account for role {role!r}: roles are {', '.join(self.accounts)}"
            )
        return Account.from_key(entry["private_key"])

    def as_dict(self) -> dict[str, Any]:
        return {
            "rpc_url": self.rpc_url,
            "chain_id": self.chain_id,
            "block_time": self.block_time,
            "started_at": self.started_at,
            "deployment": self.deployment.as_dict(),
            "accounts": self.accounts,
            "daemons": [daemon.as_dict() for daemon in self.daemons],
            "services": self.services,
            "workerpool": self.workerpool,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> DevnetState:
        return cls(
            rpc_url=str(raw["rpc_url"]),
            chain_id=int(raw["chain_id"]),
            block_time=raw.get("block_time"),
            started_at=float(raw["started_at"]),
            deployment=Deployment.from_dict(raw["deployment"]),
            accounts={str(k): dict(v) for k, v in raw["accounts"].items()},
            daemons=[Daemon.from_dict(d) for d in raw.get("daemons", [])],
            services=dict(raw.get("services", {})),
            workerpool=raw.get("workerpool"),
        )

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(self.as_dict(), indent=2) + "\n")
        partial.chmod(0o600)  # holds (public, test) private keys all the same
        partial.replace(path)


def normalize_role(role: str) -> str:
    """`app_owner`, `App-Owner` and `app-owner` name the same role."""
    return role.strip().lower().replace("_", "-")


def load_state(settings: Settings) -> DevnetState | None:
    """The devnet's saved state, or None when no devnet was started."""
    try:
        raw = json.loads(settings.devnet_file.read_text())
    except FileNotFoundError:
        return None
    except (json.JSONDecodeError, UnicodeDecodeError, OSError) as error:
        raise ConfigError(
            f"the devnet state {settings.devnet_file} is unreadable ({error}): "
            "`nuage devnet down` clears it"
        ) from None
    try:
        return DevnetState.from_dict(raw)
    except (KeyError, TypeError, ValueError) as error:
        raise ConfigError(
            f"the devnet state {settings.devnet_file} is incomplete ({error}): "
            "`nuage devnet down` clears it"
        ) from None


def role_accounts(workers: int) -> dict[str, LocalAccount]:
    """The role accounts: anvil's default accounts, in the order of BASE_ROLES, then workers."""
    Account.enable_unaudited_hdwallet_features()
    roles = [*BASE_ROLES, *(f"worker-{n}" for n in range(1, workers + 1))]
    return {
        role: Account.from_mnemonic(ANVIL_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
        for index, role in enumerate(roles)
    }


def up(
    settings: Settings,
    *,
    port: int | None = None,
    block_time: int | None = None,
    workers: int = 3,
    storage_port: int | None = None,
    market_port: int | None = None,
    scheduler_port: int | None = None,
    explorer_port: int | None = None,
    pool: bool = True,
    explorer: bool = True,
    progress: Callable[[str], None] = lambda _: None,
) -> DevnetState:
    """Starts the devnet; raises DevnetAlreadyUp if one runs. Stops what it started on failure.

    `explorer=False` leaves the web explorer out (benchmarks: it is no part of a task's path).
    """
    existing = load_state(settings)
    if existing is not None:
        if any(daemon.running() for daemon in existing.daemons):
            raise DevnetAlreadyUp(existing)
        _clear(settings, existing)  # left over from a crash or a reboot
    if workers < 1:
        raise ConfigError("a devnet needs at least one worker: pass --workers 1 or more")
    port = _pick_port(port)
    accounts = role_accounts(workers)
    started: list[Daemon] = []
    try:
        progress(f"starting anvil on 127.0.0.1:{port}")
        anvil = spawn(
            "anvil",
            anvil_command(port, chain_id=CHAIN_ID, accounts=max(10, len(accounts))),
            settings.devnet_dir / "anvil.log",
        )
        started.append(anvil)
        url = f"http://127.0.0.1:{port}"
        wait_for_rpc(url, 20.0, anvil.exit_reason)
        chain = Chain(url)
        progress("deploying the protocol")
        deployer = accounts["deployer"]
        deployment = deploy_protocol(chain, deployer)
        progress(f"funding {len(accounts) - 1} role accounts with RLC")
        contracts = Contracts(chain, deployment)
        _fund(contracts, deployer, accounts)
        record = settings.deployment_file(chain.chain_id)
        deployment.save(record)  # the services read it
        progress("starting the storage and market services")
        services = {
            "storage": _start_service(
                settings,
                started,
                "storage",
                _pick_port(storage_port, preferred=STORAGE_PORT),
                {"NUAGE_STORAGE_ROOT": str(settings.home / "storage")},
            ),
            "market": _start_service(
                settings,
                started,
                "market",
                _pick_port(market_port, preferred=MARKET_PORT),
                {
                    "NUAGE_MARKET_RPC_URL": url,
                    "NUAGE_MARKET_DEPLOYMENT": str(record),
                    "NUAGE_MARKET_DATABASE_URL": f"sqlite:///{_market_db(settings)}",
                },
            ),
        }
        scheduler_url = None
        if pool:
            scheduler_url = f"http://127.0.0.1:{_pick_port(scheduler_port, SCHEDULER_PORT)}"
        # the explorer starts while the pool does, and is waited for at the end
        explorer_options = (url, record, services, scheduler_url)
        chosen_port = explorer_port
        explorer_daemon = None
        if explorer:
            explorer_port = _pick_port(explorer_port, preferred=EXPLORER_PORT)
            explorer_daemon = _spawn_explorer(settings, started, explorer_port, *explorer_options)
        pool_address = None
        if pool:
            progress("registering the devnet workerpool; workers deposit their stake money")
            pool_address = _prepare_pool(contracts, accounts)
        state = DevnetState(
            rpc_url=url,
            chain_id=chain.chain_id,
            block_time=block_time,
            started_at=time.time(),
            deployment=deployment,
            accounts={
                role: {"address": account.address, "private_key": "0x" + bytes(account.key).hex()}
                for role, account in accounts.items()
            },
            daemons=started,
            services=services,
            workerpool=pool_address,
        )
        state.save(settings.devnet_file)  # the scheduler and workers find their keys in it
        if pool_address is not None and scheduler_url is not None:
            progress(f"starting the scheduler and {workers} workers")
            services["scheduler"] = _start_scheduler(
                settings, started, url, pool_address, services, scheduler_url
            )
            _start_workers(settings, started, url, services["scheduler"], workers)
        if explorer_daemon is not None and explorer_port is not None:
            progress("waiting for the explorer")
            try:
                wait_until_healthy(explorer_daemon, explorer_port, "/health")
            except ConfigError:
                if chosen_port is not None:
                    raise
                # another devnet starting at the same time took the port it was free on: again
                explorer_daemon.stop()
                started.remove(explorer_daemon)
                explorer_port = _pick_port(None, preferred=0)
                explorer_daemon = _spawn_explorer(
                    settings, started, explorer_port, *explorer_options
                )
                wait_until_healthy(explorer_daemon, explorer_port, "/health")
            services["explorer"] = f"http://127.0.0.1:{explorer_port}"
        if block_time:
            # deploying and funding ran automined; real block times start now
            chain.w3.provider.make_request(RPCEndpoint("evm_setIntervalMining"), [block_time])
            chain.w3.provider.make_request(RPCEndpoint("evm_setAutomine"), [False])
        state.save(settings.devnet_file)
        return state
    except BaseException:
        for daemon in reversed(started):
            daemon.stop()
        settings.devnet_file.unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class DevnetStatus:
    """`nuage devnet status`: whether the devnet runs, and what is in it."""

    up: bool
    state: DevnetState | None
    running: dict[str, bool]  # daemon name -> running
    block: int | None  # the chain's head, None when it does not answer

    def as_dict(self) -> dict[str, Any]:
        if self.state is None:
            return {"up": False}
        return {
            "up": self.up,
            "rpc_url": self.state.rpc_url,
            "chain_id": self.state.chain_id,
            "block": self.block,
            "block_time": self.state.block_time,
            "started_at": self.state.started_at,
            "processes": {
                d.name: {"pid": d.pid, "running": self.running[d.name], "log": d.log}
                for d in self.state.daemons
            },
            "services": self.state.services,
            "workerpool": self.state.workerpool,
            "deployment": self.state.deployment.as_dict(),
            "accounts": {role: entry["address"] for role, entry in self.state.accounts.items()},
        }


def status(settings: Settings) -> DevnetStatus:
    state = load_state(settings)
    if state is None:
        return DevnetStatus(up=False, state=None, running={}, block=None)
    running = {daemon.name: daemon.running() for daemon in state.daemons}
    block = None
    if running.get("anvil"):
        with contextlib.suppress(NuageError):
            block = Chain(state.rpc_url, retries=1, timeout=2).block_number()
    return DevnetStatus(up=all(running.values()), state=state, running=running, block=block)


def down(settings: Settings) -> list[str]:
    """Stops every process the devnet started and forgets it; the names of those it stopped."""
    state = load_state(settings)
    if state is None:
        return []
    stopped = [d.name for d in reversed(state.daemons) if d.stop()]
    _clear(settings, state)
    return stopped


def _clear(settings: Settings, state: DevnetState) -> None:
    for daemon in state.daemons:
        daemon.stop()
    record = settings.deployment_file(state.chain_id)
    with contextlib.suppress(FileNotFoundError, NuageError):
        if Deployment.load(record) == state.deployment:
            record.unlink()
    settings.devnet_file.unlink(missing_ok=True)
    # the book, the scheduler's state and the workers' belong to this chain: a new devnet
    # starts new ones
    databases = (_market_db(settings), settings.devnet_dir / "scheduler.db", _explorer_db(settings))
    for database in databases:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
    for folder in settings.devnet_dir.glob("worker-*"):
        if folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)


def _start_service(
    settings: Settings, started: list[Daemon], name: str, port: int, env: dict[str, str]
) -> str:
    """Starts `python -m nuage.<name>` on 127.0.0.1:`port`; its URL once it answers."""
    prefix = f"NUAGE_{name.upper()}_"
    environment = os.environ | env | {f"{prefix}HOST": "127.0.0.1", f"{prefix}PORT": str(port)}
    daemon = spawn(
        name,
        [sys.executable, "-m", f"nuage.{name}"],
        settings.devnet_dir / f"{name}.log",
        env=environment,
    )
    started.append(daemon)
    wait_until_healthy(daemon, port, "/health")
    return f"http://127.0.0.1:{port}"


def _spawn_explorer(
    settings: Settings,
    started: list[Daemon],
    port: int,
    rpc_url: str,
    record: Path,
    services: dict[str, str],
    scheduler_url: str | None,
) -> Daemon:
    """Starts the explorer without waiting for it (`wait_until_healthy` later)."""
    environment = os.environ | {
        "NUAGE_HOME": str(settings.home),
        "NUAGE_EXPLORER_HOST": "127.0.0.1",
        "NUAGE_EXPLORER_PORT": str(port),
        "NUAGE_EXPLORER_RPC_URL": rpc_url,
        "NUAGE_EXPLORER_DEPLOYMENT": str(record),
        "NUAGE_EXPLORER_MARKET_URL": services["market"],
        "NUAGE_EXPLORER_STORAGE_URL": services["storage"],
        "NUAGE_EXPLORER_DATABASE_URL": f"sqlite:///{_explorer_db(settings)}",
    }
    if scheduler_url is not None:
        environment["NUAGE_EXPLORER_SCHEDULER_URL"] = scheduler_url
    daemon = spawn(
        "explorer",
        [sys.executable, "-m", "nuage.explorer"],
        settings.devnet_dir / "explorer.log",
        env=environment,
    )
    started.append(daemon)
    return daemon


def _prepare_pool(contracts: Contracts, accounts: dict[str, LocalAccount]) -> str:
    pool, _ = contracts.register_workerpool(accounts["pool-owner"], DEVNET_POOL)
    # workers stake from their hub accounts; so does the pool owner (30% of each task's price)
    stakers = [(a, WORKER_DEPOSIT) for role, a in accounts.items() if role.startswith("worker-")]
    stakers.append((accounts["pool-owner"], POOL_OWNER_DEPOSIT))
    with ThreadPoolExecutor(max_workers=4) as threads:
        list(threads.map(lambda staker: contracts.deposit(*staker), stakers))
    return pool


def _start_scheduler(
    settings: Settings,
    started: list[Daemon],
    rpc_url: str,
    pool: str,
    services: dict[str, str],
    url: str,
) -> str:
    port = int(url.rsplit(":", 1)[1])
    command = [
        sys.executable, "-m", "nuage.scheduler", "serve",
        "--workerpool", pool, "--as", "pool-owner",
        "--price", POOL_PRICE, "--trust", str(POOL_TRUST), "--volume", "1000",
        "--market", services["market"],
    ]  # fmt: skip
    environment = os.environ | {
        "NUAGE_HOME": str(settings.home),
        "NUAGE_RPC_URL": rpc_url,
        "NUAGE_STORAGE_URL": services["storage"],
        "NUAGE_SCHEDULER_HOST": "127.0.0.1",
        "NUAGE_SCHEDULER_PORT": str(port),
        "NUAGE_SCHEDULER_DATABASE_URL": f"sqlite:///{settings.devnet_dir / 'scheduler.db'}",
    }
    daemon = spawn("scheduler", command, settings.devnet_dir / "scheduler.log", env=environment)
    started.append(daemon)
    wait_until_healthy(daemon, port, "/health")
    return f"http://127.0.0.1:{port}"


def _start_workers(
    settings: Settings, started: list[Daemon], rpc_url: str, scheduler: str, count: int
) -> None:
    environment = os.environ | {"NUAGE_HOME": str(settings.home), "NUAGE_RPC_URL": rpc_url}
    for n in range(1, count + 1):
        role = f"worker-{n}"
        command = [
            sys.executable, "-m", "nuage.worker", "start",
            "--scheduler", scheduler, "--as", role,
            "--data-dir", str(settings.devnet_dir / role),
        ]  # fmt: skip
        started.append(spawn(role, command, settings.devnet_dir / f"{role}.log", env=environment))
    _wait_for_workers(scheduler, count, [d for d in started if d.name.startswith("worker-")])


def _wait_for_workers(scheduler: str, count: int, daemons: list[Daemon]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for daemon in daemons:
            reason = daemon.exit_reason()
            if reason is not None:
                raise ConfigError(f"{daemon.name} exited at start: {reason}")
        with contextlib.suppress(httpx.HTTPError, ValueError, KeyError, TypeError):
            health = httpx.get(f"{scheduler}/health", timeout=2).json()
            if int(health["summary"]["workers"]["alive"]) >= count:
                return
        time.sleep(0.1)
    raise ConfigError(
        f"the workers did not log in to the scheduler within 60 s: see "
        f"{daemons[0].log if daemons else 'the worker logs'}"
    )


def _market_db(settings: Settings) -> Path:
    return settings.devnet_dir / "market.db"


def _explorer_db(settings: Settings) -> Path:
    return settings.devnet_dir / "explorer.db"


def _fund(contracts: Contracts, deployer: LocalAccount, accounts: dict[str, LocalAccount]) -> None:
    receivers = [account for role, account in accounts.items() if role != "deployer"]
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(
            pool.map(
                lambda receiver: contracts.transfer_rlc(deployer, receiver.address, ROLE_RLC),
                receivers,
            )
        )


def _pick_port(port: int | None, preferred: int = DEFAULT_PORT) -> int:
    """`port` if given (it must be free), else `preferred` if free, else any free port."""
    if port is not None:
        if not _is_free(port):
            raise ConfigError(f"port {port} on 127.0.0.1 is taken: pass another --port")
        return port
    if preferred and _is_free(preferred):
        return preferred
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True
