"""The market as a real process on a real chain: it follows deals, cancellations and transfers by
itself, shuts down cleanly, and resumes where it stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from nuage.chain.anvil import Anvil, free_port
from nuage.chain.client import Chain
from nuage.chain.deployment import deploy_protocol
from nuage.market import MarketClient, Status
from nuage.protocol import DatasetOrder
from tests.market.conftest import postgres_url
from tests.market.worlds import ChainWorld, actor

pytestmark = pytest.mark.integration

PRICE = 10**9


@dataclass
class RunningMarket:
    url: str
    log: Path
    process: subprocess.Popen[bytes]

    def client(self) -> MarketClient:
        return MarketClient(self.url, timeout=10)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise


class Launcher:
    """Starts `python -m nuage.market` with NUAGE_MARKET_* settings, as the devnet would."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.env = env
        self.started: list[RunningMarket] = []

    def start(self) -> RunningMarket:
        port = free_port()
        log = self.workdir / f"market-{len(self.started)}.log"
        env = os.environ | self.env | {"NUAGE_MARKET_PORT": str(port)}
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "nuage.market"], env=env, stdout=out, stderr=out
            )
        running = RunningMarket(f"http://127.0.0.1:{port}", log, process)
        self.started.append(running)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"the market exited: {log.read_text()}")
            try:
                if httpx.get(f"{running.url}/health", timeout=1).is_success:
                    return running
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        pytest.fail(f"the market did not answer within 30 s: {log.read_text()}")


@pytest.fixture(params=["sqlite", "postgres"])
def launcher(
    request: pytest.FixtureRequest, tmp_path: Path, anvil: Anvil
) -> Iterator[tuple[Launcher, ChainWorld]]:
    chain = Chain(anvil.url)
    deployer = actor("deployer")
    chain.fund_eth(deployer.address, 10**21)
    record = tmp_path / "deployment.json"
    deployment = deploy_protocol(chain, deployer, record=record)
    if request.param == "sqlite":
        database_url = f"sqlite:///{tmp_path / 'market.db'}"
    else:
        database_url = request.getfixturevalue("database_url_postgres")
    env = {
        "NUAGE_HOME": str(tmp_path / "home"),
        "NUAGE_MARKET_HOST": "127.0.0.1",
        "NUAGE_MARKET_RPC_URL": anvil.url,
        "NUAGE_MARKET_DEPLOYMENT": str(record),
        "NUAGE_MARKET_DATABASE_URL": database_url,
        "NUAGE_MARKET_POLL_INTERVAL": "0.1",
    }
    launch = Launcher(tmp_path, env)
    yield launch, ChainWorld(chain, deployment, deployer)
    for running in launch.started:
        if running.process.poll() is None:
            running.process.kill()
            running.process.wait()


@pytest.fixture
def database_url_postgres() -> Iterator[str]:
    import uuid

    from sqlalchemy import create_engine, text

    base = postgres_url()
    schema = f"market_it_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def eventually(check: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    pytest.fail(f"{what} did not happen within {timeout:g} s")


def test_the_service_follows_the_chain_and_resumes_after_a_restart(
    launcher: tuple[Launcher, ChainWorld],
) -> None:
    launch, world = launcher
    app_owner, pool_owner, requester = actor("app_owner"), actor("pool_owner"), actor("requester")
    market = launch.start()
    client = market.client()
    app, pool = world.new_app(app_owner), world.new_workerpool(pool_owner)
    world.deposit(requester, 100 * PRICE)
    world.deposit(pool_owner, 100 * PRICE)
    app_order = world.app_order(app, app_owner, appprice=PRICE, volume=3)
    pool_order = world.workerpool_order(pool, pool_owner, workerpoolprice=PRICE, volume=2)
    cancelled = world.workerpool_order(pool, pool_owner, workerpoolprice=5 * PRICE)
    request = world.request_order(app, requester, appmaxprice=PRICE, workerpoolmaxprice=PRICE)
    for order in (app_order, pool_order, cancelled, request):
        client.publish(order)
    assert client.explain(request).matchable

    assert world.match(app_order, DatasetOrder.none(), pool_order, request) is None
    world.cancel(cancelled, pool_owner)

    eventually(lambda: client.get(request.hash(world.domain)).status == Status.FILLED, "fill")
    eventually(
        lambda: client.get(cancelled.hash(world.domain)).status == Status.CANCELLED, "cancel"
    )
    assert client.get(app_order.hash(world.domain)).remaining == 2
    assert client.health().follower.healthy
    client.close()
    assert market.stop() in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in market.log.read_text()

    world.transfer("app", app, app_owner, requester.address)  # while the market is down
    again = launch.start()
    with again.client() as client:
        eventually(
            lambda: client.get(app_order.hash(world.domain)).status == Status.OWNER_CHANGED,
            "the transfer seen after the restart",
        )
        assert client.get(request.hash(world.domain)).status == Status.FILLED
        assert client.query("workerpool", workerpool=pool).orders[0].remaining == 1
    assert "resumes after" in again.log.read_text()
    assert again.stop() in (0, -signal.SIGTERM)


def test_the_service_refuses_to_start_without_its_chain(tmp_path: Path) -> None:
    env = os.environ | {
        "NUAGE_HOME": str(tmp_path / "home"),
        "NUAGE_MARKET_RPC_URL": f"http://127.0.0.1:{free_port()}",
        "NUAGE_MARKET_DATABASE_URL": f"sqlite:///{tmp_path / 'market.db'}",
    }
    finished = subprocess.run(
        [sys.executable, "-m", "nuage.market"], env=env, capture_output=True, timeout=60
    )

    assert finished.returncode == 1
    assert b"market: error:" in finished.stderr and b"does not answer" in finished.stderr
