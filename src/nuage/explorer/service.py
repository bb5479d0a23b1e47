"""The explorer's HTTP service (FastAPI): server-rendered pages, a JSON API, live task events.

``create_app(settings)`` builds the application; ``serve(settings)`` runs it with uvicorn. While it
runs, two background tasks work: the indexer follows the chain into the index (`indexer`) and
publishes task changes to the broadcaster, which `/api/events` streams as server-sent events;
the health monitor checks every few seconds that the chain, market, scheduler and storage answer.

The explorer starts and serves pages whatever is down: a chain that does not answer yet is
retried in the background, and every page names the sources it could not reach. Errors of the
JSON API answer ``{"error": {"code": ..., "message": ...}}``; pages answer an error page.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import logging.config
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine, delete, select
from starlette.exceptions import HTTPException as StarletteHTTPException

import nuage
from nuage.chain.bindings import Contracts
from nuage.chain.client import Chain
from nuage.chain.deployment import Deployment
from nuage.config import Settings
from nuage.exceptions import NuageError
from nuage.explorer.broadcast import Broadcaster
from nuage.explorer.indexer import Indexer, TaskChange, explorer_watcher
from nuage.explorer.pages import add_pages
from nuage.explorer.queries import BadInput, NotFound, Queries
from nuage.explorer.settings import ExplorerSettings
from nuage.explorer.sources import ChainReads, HealthMonitor, MarketReads, SourceDown
from nuage.explorer.tables import META, METADATA

__all__ = ["Explorer", "create_app", "serve"]

log = logging.getLogger(__name__)

KEEPALIVE = 15.0  # seconds between comments on an idle event stream (proxies close silent ones)
STATIC = Path(__file__).parent / "static"


@dataclass
class Explorer:
    """What the routes share."""

    settings: ExplorerSettings
    engine: Engine
    urls: dict[str, str | None]
    deployment: Deployment | None
    health: HealthMonitor
    queries: Queries
    broadcaster: Broadcaster
    contracts: Contracts | None = None  # for reads now (short timeouts)
    indexer: Indexer | None = None
    started_at: float = field(default_factory=time.time)


def create_app(settings: ExplorerSettings) -> FastAPI:
    """The explorer over ``settings.database_url``, reading the sources ``settings`` name."""
    from nuage.market.book import make_engine

    urls, deployment = _sources(settings)
    engine = make_engine(settings.database_url)
    _prepare(engine, deployment)
    health = HealthMonitor(urls, settings.source_timeout)
    contracts = None
    if deployment is not None and urls["chain"]:
        reads_chain = Chain(urls["chain"], timeout=settings.source_timeout, retries=1, backoff=0)
        contracts = Contracts(reads_chain, deployment)
    market = MarketReads(urls["market"], health, settings.source_timeout)
    queries = Queries(engine, market, ChainReads(contracts, urls["chain"], health))
    explorer = Explorer(
        settings, engine, urls, deployment, health, queries, Broadcaster(), contracts
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        await health.refresh()  # the first pages know what is down
        tasks = [asyncio.create_task(health.run(settings.health_interval, stop))]
        if settings.follow_chain:
            tasks.append(asyncio.create_task(_index(explorer, stop)))
        try:
            yield
        finally:
            stop.set()
            explorer.broadcaster.close()
            for task in tasks:
                with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(task, 10)
            engine.dispose()

    app = FastAPI(
        title="nuage explorer",
        version=nuage.__version__,
        description="The apps, orders, deals, tasks, pools, workers and accounts of a nuage "
        "network, as pages and as JSON.",
        lifespan=lifespan,
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    app.state.explorer = explorer
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _add_api(app, explorer)
    add_pages(app, explorer)
    _add_error_handlers(app, explorer)
    return app


# -- sources and the index ---------------------------------------------------------------------


def _sources(settings: ExplorerSettings) -> tuple[dict[str, str | None], Deployment | None]:
    """The sources' URLs and the deployment: from the settings, else the running devnet."""
    from nuage.devnet import load_state

    config = Settings()
    try:
        state = load_state(config)
    except NuageError:
        state = None
    services = state.services if state is not None else {}
    rpc = settings.rpc_url or config.rpc_url or (state.rpc_url if state else None)
    urls: dict[str, str | None] = {
        "chain": rpc,
        "market": settings.market_url or services.get("market") or "http://127.0.0.1:8702",
        "scheduler": settings.scheduler_url or services.get("scheduler") or "http://127.0.0.1:8703",
        "storage": settings.storage_url or services.get("storage") or "http://127.0.0.1:8701",
    }
    deployment = None
    if settings.deployment is not None:
        deployment = Deployment.load(settings.deployment)
    elif state is not None and rpc == state.rpc_url:
        deployment = state.deployment
    elif rpc:
        with contextlib.suppress(NuageError):
            chain_id = Chain(rpc, timeout=2, retries=1).chain_id
            deployment = Deployment.load(config.deployment_file(chain_id))
    return urls, deployment


def _prepare(engine: Engine, deployment: Deployment | None) -> None:
    """Creates the tables; an index of another deployment is emptied (it is only a cache)."""
    METADATA.create_all(engine)
    if deployment is None:
        return
    identity = json.dumps(deployment.as_dict(), sort_keys=True)
    with engine.begin() as connection:
        recorded = connection.execute(
            select(META.c.value).where(META.c.key == "deployment")
        ).scalar_one_or_none()
    if recorded == identity:
        return
    if recorded is not None:
        log.warning("the index followed another deployment: indexing this one afresh")
    METADATA.drop_all(engine)
    METADATA.create_all(engine)
    with engine.begin() as connection:
        connection.execute(delete(META))
        connection.execute(META.insert().values(key="deployment", value=identity))


async def _index(explorer: Explorer, stop: asyncio.Event) -> None:
    """Follows the chain into the index until `stop`; task changes go to the broadcaster."""
    deployment = explorer.deployment
    url = explorer.urls["chain"]
    if deployment is None or not url:
        log.warning("no deployment known for the chain at %s: nothing to index", url)
        return
    contracts = Contracts(Chain(url, timeout=10), deployment)
    indexer = Indexer.for_contracts(explorer.engine, contracts, explorer.urls["storage"])
    explorer.indexer = indexer
    watcher = await asyncio.to_thread(
        explorer_watcher, contracts, explorer.engine, poll_interval=explorer.settings.poll_interval
    )

    def publish(changes: list[TaskChange]) -> None:
        for change in changes:
            explorer.broadcaster.publish("task", change.as_dict())

    await indexer.follow(watcher, stop, publish)


# -- the JSON API ------------------------------------------------------------------------------


def _add_api(app: FastAPI, explorer: Explorer) -> None:
    queries = explorer.queries

    @app.get("/health", include_in_schema=False)
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": nuage.__version__}

    @app.get("/api/health", summary="Whether each source answers")
    def api_health() -> dict[str, Any]:
        sources = {name: h.as_dict() for name, h in explorer.health.current().items()}
        indexer = explorer.indexer
        return {
            "status": "ok",
            "version": nuage.__version__,
            "sources": sources,
            **sources,
            "indexer": {
                "following": indexer is not None,
                "last_error": indexer.last_error if indexer else None,
            },
        }

    @app.get("/api/apps", summary="Apps, newest first; q filters by name, owner, description")
    def apps(q: str | None = None) -> dict[str, Any]:
        return {"apps": queries.apps(q)}

    @app.get("/api/apps/{address}", summary="One app, its open orders and recent tasks")
    def app_detail(address: str) -> dict[str, Any]:
        return queries.app(address)

    @app.get("/api/orders/{kind}", summary="Open orders of one kind (app, dataset, ...)")
    def orders(kind: str) -> dict[str, Any]:
        return queries.orders(kind)

    @app.get("/api/deals", summary="Deals, newest first")
    def deals() -> dict[str, Any]:
        return {"deals": queries.deals()}

    @app.get("/api/deals/{deal_id}", summary="One deal and its tasks")
    def deal(deal_id: str) -> dict[str, Any]:
        return queries.deal(deal_id)

    @app.get("/api/tasks", summary="Tasks, most recently changed first")
    def tasks(status: str | None = None) -> dict[str, Any]:
        return {"tasks": queries.tasks(status=status)}

    @app.get("/api/tasks/{task_id}", summary="One task and its contributions")
    def task(task_id: str) -> dict[str, Any]:
        return queries.task(task_id)

    @app.get("/api/tasks/{task_id}/logs", summary="The task's logs, from the pool's scheduler")
    def task_logs(task_id: str) -> dict[str, Any]:
        return task_logs_of(explorer, task_id)

    @app.get("/api/pools", summary="Workerpools and their open orders")
    def pools() -> dict[str, Any]:
        return {"pools": queries.pools()}

    @app.get("/api/workers", summary="Workers: contributions, score and stake")
    def workers() -> dict[str, Any]:
        return queries.workers()

    @app.get("/api/accounts/{address}", summary="RLC in the wallet, free and frozen in the hub")
    def account(address: str) -> dict[str, Any]:
        return queries.account(address)

    @app.get("/api/events", summary="Task changes, as server-sent events (event: task)")
    async def events(request: Request) -> StreamingResponse:
        return StreamingResponse(
            _event_stream(explorer.broadcaster, request),
            media_type="text/event-stream",
            headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
        )


async def _event_stream(broadcaster: Broadcaster, request: Request) -> AsyncIterator[str]:
    async with broadcaster.subscribe() as queue:
        yield "retry: 2000\n: connected\n\n"
        last = time.monotonic()
        while not broadcaster.closed.is_set():
            try:
                name, data = await asyncio.wait_for(queue.get(), 1.0)
            except TimeoutError:
                if await request.is_disconnected():
                    return
                if time.monotonic() - last >= KEEPALIVE:
                    last = time.monotonic()
                    yield ": keepalive\n\n"
                continue
            last = time.monotonic()
            yield f"event: {name}\ndata: {json.dumps(data)}\n\n"


def task_logs_of(explorer: Explorer, task_id: str) -> dict[str, Any]:
    """The task's logs as its pool's scheduler keeps them."""
    from nuage.explorer.queries import check_id
    from nuage.scheduler.client import SchedulerRefused, read_task_logs

    task = check_id(task_id)
    url = explorer.urls["scheduler"]
    if not url:
        raise SourceDown("scheduler", url, "not configured")
    try:
        logs = read_task_logs(
            url, bytes.fromhex(task[2:]), timeout=explorer.settings.source_timeout * 2
        )
    except SchedulerRefused as error:
        if error.status == 404:
            raise NotFound(f"the scheduler at {url} keeps no logs of task {task}") from None
        raise SourceDown("scheduler", url, str(error)) from None
    except NuageError as error:
        raise SourceDown("scheduler", url, str(error)) from None
    return logs.model_dump(mode="json")


# -- errors ------------------------------------------------------------------------------------


def _add_error_handlers(app: FastAPI, explorer: Explorer) -> None:
    from nuage.explorer.pages import error_page

    def answer(request: Request, status: int, code: str, message: str) -> Response:
        if request.url.path.startswith("/api/") or request.url.path.startswith("/static/"):
            return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)
        return error_page(explorer, status, code, message)

    async def bad_input(request: Request, error: Exception) -> Response:
        return answer(request, 422, "invalid_request", str(error))

    async def not_found(request: Request, error: Exception) -> Response:
        return answer(request, 404, "not_found", str(error))

    async def source_down(request: Request, error: Exception) -> Response:
        assert isinstance(error, SourceDown)
        return answer(request, 503, f"{error.source}_unreachable", str(error))

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        route = f"{request.method} {request.url.path}"
        if error.status_code == 404:
            return answer(request, 404, "not_found", f"there is no {route} here")
        if error.status_code == 405:
            return answer(request, 405, "method_not_allowed", f"{route} is not allowed")
        return answer(request, error.status_code, "http_error", f"{route}: {error.detail}")

    async def internal_error(request: Request, error: Exception) -> Response:
        log.exception("%s %s failed", request.method, request.url.path)
        return answer(
            request, 500, "internal_error", "the explorer failed on this request: its log says why"
        )

    app.add_exception_handler(BadInput, bad_input)
    app.add_exception_handler(NotFound, not_found)
    app.add_exception_handler(SourceDown, source_down)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, internal_error)


# -- running -----------------------------------------------------------------------------------


def serve(settings: ExplorerSettings, *, log_level: str = "info") -> None:
    """Runs the explorer in this process until interrupted; logs go to stderr."""
    import uvicorn

    log_config = _log_config(log_level)
    logging.config.dictConfig(log_config)
    app = create_app(settings)
    explorer: Explorer = app.state.explorer
    log.info(
        "explorer serving on %s: chain %s, market %s, index in %s",
        settings.url,
        explorer.urls["chain"],
        explorer.urls["market"],
        explorer.engine.url.render_as_string(hide_password=True),
    )
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=log_config,
        log_level=log_level,
        timeout_graceful_shutdown=1,  # open event streams never end by themselves
    )


def _log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging setup, access lines on stderr, and nuage's own loggers."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    config["loggers"]["nuage"] = {
        "handlers": ["default"],
        "level": level.upper(),
        "propagate": False,
    }
    return config
