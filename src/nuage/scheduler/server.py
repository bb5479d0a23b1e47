"""Running a scheduler as a process: settings, the service and its HTTP API in one event loop.

`SchedulerSettings` come from ``NUAGE_SCHEDULER_*`` variables and command options;
`serve(settings, pool_owner)` connects to the chain, opens the database, starts the service and
the API under uvicorn, and runs until SIGINT or SIGTERM (or until the service fails: a wrong
owner, a dead database). ``GET /health`` answers once the service runs.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

from eth_account.signers.local import LocalAccount
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from nuage.exceptions import ConfigError
from nuage.scheduler.offers import Offer, OfferPublisher

__all__ = ["DEFAULT_PORT", "SchedulerSettings", "serve"]

DEFAULT_PORT = 8703
log = logging.getLogger(__name__)


def _nuage_home() -> Path:
    home = os.environ.get("NUAGE_HOME")
    return Path(home).expanduser() if home else Path.home() / ".nuage"


class SchedulerSettings(BaseSettings):
    """Which pool, where to listen, where to keep state, and the timeouts, in seconds."""

    model_config = SettingsConfigDict(env_prefix="NUAGE_SCHEDULER_", extra="ignore")

    workerpool: str = Field(description="The workerpool this scheduler serves (its address).")
    host: str = "127.0.0.1"
    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535)
    database_url: str | None = Field(
        default=None,
        description="sqlite:///PATH or postgresql+psycopg://… [default: "
        "sqlite:///$NUAGE_HOME/scheduler/<chain id>-<genesis>/<workerpool>.db].",
    )
    rpc_url: str | None = None
    storage_url: str | None = Field(
        default=None, description="The storage workers upload results to (told at register)."
    )
    heartbeat_interval: float = Field(default=5.0, gt=0)
    heartbeat_timeout: float = Field(default=30.0, gt=0)
    contribution_timeout: float | None = Field(
        default=None, gt=0, description="[default: 2 T + 60 s of the deal's category]"
    )
    upload_timeout: float = Field(default=60.0, gt=0)
    tx_retry_after: float = Field(default=60.0, gt=0)
    tick_interval: float = Field(default=1.0, gt=0)
    pull_interval: float = Field(default=2.0, gt=0)
    confirmations: int = Field(default=0, ge=0)
    market_url: str | None = Field(
        default=None, description="The market to publish the pool's orders on."
    )
    offer_price: int | None = Field(
        default=None, ge=0, description="nRLC per task; None: publish nothing."
    )
    offer_volume: int = Field(default=100, ge=1)
    offer_category: int = Field(default=0, ge=0)
    offer_trust: int = Field(default=0, ge=0)
    offer_tag: str = Field(default="", description="Tag names (tee, gpu), comma-separated.")

    def database(self, chain: str) -> str:
        """The database URL; the default file is per chain (`chain`: id and genesis hash)."""
        if self.database_url:
            return self.database_url
        folder = _nuage_home() / "scheduler" / chain
        folder.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{folder / (self.workerpool.lower() + '.db')}"

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"


def serve(
    settings: SchedulerSettings, pool_owner: LocalAccount, *, log_level: str = "info"
) -> None:
    """Runs the scheduler in this process until interrupted; logs go to stderr."""
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if log_level != "debug":
        logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    asyncio.run(_serve(settings, pool_owner, log_level))


async def _serve(settings: SchedulerSettings, pool_owner: LocalAccount, log_level: str) -> None:
    import uvicorn  # only the serving process needs it

    from nuage.chain.hub import Hub
    from nuage.config import Settings
    from nuage.network import connect
    from nuage.scheduler.api import create_app
    from nuage.scheduler.service import SchedulerService
    from nuage.scheduler.state import SchedulerConfig
    from nuage.scheduler.store import SchedulerStore, open_engine
    from nuage.storage.client import StorageClient

    contracts = await asyncio.to_thread(connect, Settings(), settings.rpc_url)
    hub = Hub(contracts)
    genesis = await asyncio.to_thread(hub.genesis_hash)
    store = SchedulerStore(
        open_engine(settings.database(f"{contracts.chain.chain_id}-{genesis[2:10]}"))
    )
    storage = StorageClient(settings.storage_url) if settings.storage_url else None
    publisher = _publisher(settings)
    service = SchedulerService(
        hub=hub,
        pool_owner=pool_owner,
        config=SchedulerConfig(
            workerpool=settings.workerpool,
            heartbeat_timeout=settings.heartbeat_timeout,
            contribution_timeout=settings.contribution_timeout,
            upload_timeout=settings.upload_timeout,
            tx_retry_after=settings.tx_retry_after,
        ),
        store=store,
        storage=storage,
        tick_interval=settings.tick_interval,
        heartbeat_interval=settings.heartbeat_interval,
        pull_interval=settings.pull_interval,
        publisher=publisher,
    )
    service.watcher.confirmations = settings.confirmations
    stop = asyncio.Event()
    running = asyncio.create_task(service.run(stop))
    started = asyncio.create_task(service.started.wait())
    await asyncio.wait([running, started], return_when=asyncio.FIRST_COMPLETED)
    if running.done():
        started.cancel()
        running.result()  # the error that stopped it at start
        raise ConfigError("the scheduler stopped at start")
    config = uvicorn.Config(
        create_app(service),
        host=settings.host,
        port=settings.port,
        log_level=log_level,
        lifespan="off",
        access_log=log_level == "debug",
    )
    server = uvicorn.Server(config)

    async def stop_server_when_service_ends() -> None:
        await asyncio.wait([running])
        server.should_exit = True

    guard = asyncio.create_task(stop_server_when_service_ends())
    log.info("scheduler API on %s (health: %s/health)", settings.url, settings.url)
    try:
        await server.serve()
    finally:
        stop.set()
        guard.cancel()
        await asyncio.gather(running, return_exceptions=True)
        if storage is not None:
            storage.close()
        if publisher is not None:
            publisher.market.close()
    if running.done() and not running.cancelled() and running.exception() is not None:
        raise running.exception()  # type: ignore[misc]


def _publisher(settings: SchedulerSettings) -> OfferPublisher | None:
    """What keeps the pool's order on the market, when the settings give a price."""
    if settings.offer_price is None:
        return None
    if not settings.market_url:
        raise ConfigError("an offer price needs a market to publish on: pass --market URL")
    from nuage.market.client import MarketClient
    from nuage.protocol.tags import tag

    names = [name.strip() for name in settings.offer_tag.split(",") if name.strip()]
    try:
        offer = Offer(
            price=settings.offer_price,
            volume=settings.offer_volume,
            category=settings.offer_category,
            trust=settings.offer_trust,
            tag=tag(*names),
        )
    except (ValueError, KeyError) as error:
        raise ConfigError(f"invalid offer: {error}") from None
    return OfferPublisher(MarketClient(settings.market_url), offer)
