"""The market in-process (no socket) over SQLite or PostgreSQL, on the fake chain or on anvil.

`market` is the service under test with a client; its parameters are the database (`sqlite`,
`postgres`: skipped without NUAGE_TEST_POSTGRES_URL) and the chain (`fake`, `anvil`: an
integration test). The anvil chain and its deployment are shared by the tests of a process;
each test's market starts following the chain at the block where the test starts.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import anyio.from_thread
import httpx
import pytest
from anyio.from_thread import BlockingPortal
from eth_account.signers.local import LocalAccount
from fastapi import FastAPI
from sqlalchemy import create_engine, text

from nuage.chain.anvil import Anvil
from nuage.chain.client import Chain
from nuage.chain.deployment import deploy_protocol
from nuage.chain.watcher import Cursor
from nuage.market import MarketClient, MarketSettings, create_app
from nuage.market.book import OrderBook
from tests.market.worlds import ChainWorld, FakeWorld, World, actor

MARKET_URL = "http://market.test"
POSTGRES_ENV = "NUAGE_TEST_POSTGRES_URL"


class AppTransport(httpx.BaseTransport):
    """Serves a sync httpx client from an ASGI app in this process (no socket), via a portal."""

    def __init__(
        self, app: FastAPI, portal: BlockingPortal, *, raise_app_exceptions: bool = True
    ) -> None:
        self._asgi = httpx.ASGITransport(app, raise_app_exceptions=raise_app_exceptions)
        self._portal = portal

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()

        async def send() -> tuple[int, httpx.Headers, bytes]:
            async_request = httpx.Request(
                request.method, request.url, headers=request.headers, content=body
            )
            response = await self._asgi.handle_async_request(async_request)
            return response.status_code, response.headers, await response.aread()

        status, headers, content = self._portal.call(send)
        return httpx.Response(status, headers=headers, content=content)


class Clock:
    """The market's clock, which a test may move."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@dataclass
class Market:
    """The service under test, its client, raw HTTP to it, and the chain it follows."""

    app: FastAPI
    client: MarketClient
    http: httpx.Client
    world: World
    clock: Clock

    @property
    def book(self) -> OrderBook:
        book: OrderBook = self.app.state.market.book
        return book

    def sync(self) -> int:
        """Lets the book see what happened on chain."""
        return self.world.sync(self.app)


# -- databases -------------------------------------------------------------------------------


def postgres_url() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f'PostgreSQL: set {POSTGRES_ENV} (eval "$(bash scripts/postgres.sh)")')
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'market.db'}"
        return
    base = postgres_url()
    schema = f"market_test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


# -- chains ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def anvil_world() -> Iterator[ChainWorld]:
    """The protocol on one anvil for the whole test process."""
    with Anvil() as node:
        chain = Chain(node.url)
        deployer = actor("deployer")
        chain.fund_eth(deployer.address, 10**21)
        deployment = deploy_protocol(chain, deployer)
        yield ChainWorld(chain, deployment, deployer)


@pytest.fixture(params=["fake", pytest.param("anvil", marks=pytest.mark.integration)])
def world(request: pytest.FixtureRequest) -> World:
    if request.param == "fake":
        return FakeWorld()
    chain_world: ChainWorld = request.getfixturevalue("anvil_world")
    return chain_world


@pytest.fixture
def fake_world() -> FakeWorld:
    return FakeWorld()


# -- the market ------------------------------------------------------------------------------


@pytest.fixture
def portal() -> Iterator[BlockingPortal]:
    with anyio.from_thread.start_blocking_portal("asyncio") as running_portal:
        yield running_portal


def open_market(world: World, database_url: str, portal: BlockingPortal) -> Market:
    clock = Clock()
    settings = MarketSettings(database_url=database_url, explain_limit=20)
    if isinstance(world, ChainWorld):
        app = create_app(settings, contracts=world.contracts, clock=clock)
        watcher = app.state.market.watcher
        watcher.advance(Cursor(world.chain.block_number()))  # this test's events only
    else:
        app = create_app(
            settings.model_copy(update={"follow_chain": False}), reads=world.reads, clock=clock
        )
    transport = AppTransport(app, portal)
    client = MarketClient(MARKET_URL, transport=transport)
    http = httpx.Client(base_url=MARKET_URL, transport=transport)
    return Market(app=app, client=client, http=http, world=world, clock=clock)


def close_market(market: Market) -> None:
    market.client.close()
    market.http.close()
    market.book.engine.dispose()


@pytest.fixture
def market(world: World, database_url: str, portal: BlockingPortal) -> Iterator[Market]:
    """The market on `world` and `database_url`."""
    opened = open_market(world, database_url, portal)
    yield opened
    close_market(opened)


@pytest.fixture
def fake_market(
    fake_world: FakeWorld, database_url: str, portal: BlockingPortal
) -> Iterator[Market]:
    """The market on the fake chain only (refusals the fake alone can stage)."""
    opened = open_market(fake_world, database_url, portal)
    yield opened
    close_market(opened)


# -- actors ----------------------------------------------------------------------------------


@pytest.fixture
def requester() -> LocalAccount:
    return actor("requester")


@pytest.fixture
def app_owner() -> LocalAccount:
    return actor("app_owner")


@pytest.fixture
def dataset_owner() -> LocalAccount:
    return actor("dataset_owner")


@pytest.fixture
def pool_owner() -> LocalAccount:
    return actor("pool_owner")


@pytest.fixture
def attacker() -> LocalAccount:
    return actor("attacker")
