"""What the explorer reads besides its index: the chain now, the market, the scheduler, storage.

Every call is bounded by a short timeout (`source_timeout`, 1 s by default) and none is made to
a source the last health check found down, so that a page renders fast whatever is down. A
`HealthMonitor` checks every source in the background every few seconds; pages show a banner
naming each unreachable source. A call that fails marks its source down at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx

from nuage.chain.bindings import Contracts
from nuage.exceptions import NuageError

__all__ = [
    "SOURCES",
    "ChainReads",
    "HealthMonitor",
    "LiveAccount",
    "MarketReads",
    "SourceDown",
    "SourceHealth",
]

SOURCES = ("chain", "market", "scheduler", "storage")
_T = TypeVar("_T")


class SourceDown(NuageError):
    """A source did not answer in time; `.source` names it."""

    def __init__(self, source: str, url: str | None, reason: str) -> None:
        self.source = source
        self.url = url
        super().__init__(f"{source} unreachable at {url or '(not configured)'}: {reason}")


@dataclass(frozen=True)
class SourceHealth:
    name: str
    url: str | None
    ok: bool
    error: str | None
    checked_at: float

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "url": self.url, "error": self.error}


class HealthMonitor:
    """The last known health of each source, refreshed in the background."""

    def __init__(self, urls: dict[str, str | None], timeout: float) -> None:
        self.urls = urls
        self.timeout = timeout
        self._lock = threading.Lock()
        self._current = {
            name: SourceHealth(name, urls.get(name), False, "not checked yet", 0.0)
            for name in SOURCES
        }

    def current(self) -> dict[str, SourceHealth]:
        with self._lock:
            return dict(self._current)

    def ok(self, name: str) -> bool:
        with self._lock:
            return self._current[name].ok

    def unreachable(self) -> list[SourceHealth]:
        """The chain and the market when down: what a page's banner names."""
        current = self.current()
        return [current[name] for name in ("chain", "market") if not current[name].ok]

    def mark_down(self, name: str, error: str) -> None:
        self._set(SourceHealth(name, self.urls.get(name), False, error, time.time()))

    def check_now(self, name: str) -> SourceHealth:
        """Checks one source from a worker thread (sync), and records it."""
        return self._set(_check_sync(name, self.urls.get(name), self.timeout))

    async def refresh(self) -> dict[str, SourceHealth]:
        async with httpx.AsyncClient(timeout=self.timeout) as http:
            results = await asyncio.gather(
                *(_check(http, name, self.urls.get(name)) for name in SOURCES)
            )
        for health in results:
            self._set(health)
        return self.current()

    async def run(self, interval: float, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.refresh()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)

    def _set(self, health: SourceHealth) -> SourceHealth:
        with self._lock:
            self._current[health.name] = health
        return health


async def _check(http: httpx.AsyncClient, name: str, url: str | None) -> SourceHealth:
    if not url:
        return SourceHealth(name, url, False, "not configured", time.time())
    try:
        if name == "chain":
            response = await http.post(url, json=_BLOCK_NUMBER)
        else:
            response = await http.get(url.rstrip("/") + "/health")
        return _judged(name, url, response)
    except httpx.HTTPError as error:
        return SourceHealth(name, url, False, _reason(error), time.time())


def _check_sync(name: str, url: str | None, timeout: float) -> SourceHealth:
    if not url:
        return SourceHealth(name, url, False, "not configured", time.time())
    try:
        if name == "chain":
            response = httpx.post(url, json=_BLOCK_NUMBER, timeout=timeout)
        else:
            response = httpx.get(url.rstrip("/") + "/health", timeout=timeout)
        return _judged(name, url, response)
    except httpx.HTTPError as error:
        return SourceHealth(name, url, False, _reason(error), time.time())


_BLOCK_NUMBER = {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}


def _judged(name: str, url: str, response: httpx.Response) -> SourceHealth:
    if response.status_code != 200:
        return SourceHealth(name, url, False, f"HTTP {response.status_code}", time.time())
    if name == "chain":
        try:
            int(response.json()["result"], 16)
        except (ValueError, KeyError, TypeError):
            return SourceHealth(name, url, False, "not a JSON-RPC node", time.time())
    return SourceHealth(name, url, True, None, time.time())


def _reason(error: httpx.HTTPError) -> str:
    if isinstance(error, httpx.TimeoutException):
        return "timed out"
    if isinstance(error, httpx.ConnectError):
        return "connection refused"
    return type(error).__name__


class _TtlCache(Generic[_T]):
    """A few seconds' memory of answers, so that a burst of pages makes one call."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._entries: dict[Any, tuple[float, _T]] = {}

    def get(self, key: Any, compute: Callable[[], _T]) -> _T:
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and now - hit[0] < self.ttl:
                return hit[1]
        value = compute()
        with self._lock:
            self._entries[key] = (now, value)
            if len(self._entries) > 512:
                self._entries.clear()
        return value


class MarketReads:
    """Open orders from the market service's HTTP API (cached a second)."""

    def __init__(self, url: str | None, health: HealthMonitor, timeout: float) -> None:
        self.url = url
        self.health = health
        self.timeout = timeout
        self._cache: _TtlCache[tuple[int, list[dict[str, Any]]]] = _TtlCache(1.0)

    def orders(
        self, kind: str, limit: int = 100, **filters: Any
    ) -> tuple[int, list[dict[str, Any]]]:
        """(total, the first `limit` open `kind` orders passing `filters`, cheapest first)."""
        key = (kind, limit, tuple(sorted(filters.items())))
        return self._cache.get(key, lambda: self._query(kind, limit, filters))

    def _query(
        self, kind: str, limit: int, filters: dict[str, Any]
    ) -> tuple[int, list[dict[str, Any]]]:
        from nuage.market.client import MarketClient

        if not self.url or not self.health.ok("market"):
            raise SourceDown("market", self.url, "the last check failed")
        params = {name: value for name, value in filters.items() if value is not None}
        try:
            with MarketClient(self.url, timeout=self.timeout) as market:
                page = market.query(kind, limit=limit, **params)  # type: ignore[arg-type]
        except NuageError as error:
            self.health.mark_down("market", str(error))
            raise SourceDown("market", self.url, str(error)) from None
        return page.total, [order.model_dump(mode="json") for order in page.orders]


@dataclass(frozen=True)
class LiveAccount:
    """An account now: RLC in its wallet, free and frozen in the hub, its worker score."""

    address: str
    wallet: int
    free: int
    frozen: int
    score: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "wallet": self.wallet,
            "free": self.free,
            "frozen": self.frozen,
            "score": self.score,
        }


class ChainReads:
    """Balances and scores read from the chain now, many accounts in one batched request."""

    def __init__(self, contracts: Contracts | None, url: str | None, health: HealthMonitor) -> None:
        self.contracts = contracts
        self.url = url
        self.health = health
        self._cache: _TtlCache[dict[str, LiveAccount]] = _TtlCache(1.0)

    def accounts(self, addresses: Iterable[str]) -> dict[str, LiveAccount]:
        wanted = tuple(dict.fromkeys(addresses))
        if not wanted:
            return {}
        return self._cache.get(wanted, lambda: self._read(wanted))

    def _read(self, addresses: tuple[str, ...]) -> dict[str, LiveAccount]:
        contracts = self.contracts
        if contracts is None or not self.health.ok("chain"):
            raise SourceDown("chain", self.url, "the last check failed")
        hub, rlc = contracts.hub.functions, contracts.rlc.functions
        try:
            with contracts.chain.w3.batch_requests() as batch:
                for address in addresses:
                    batch.add(rlc.balanceOf(address))
                    batch.add(hub.balanceOf(address))
                    batch.add(hub.frozenOf(address))
                    batch.add(hub.scoreOf(address))
                values = [int(value) for value in batch.execute()]  # type: ignore[call-overload]
        except Exception as error:  # whatever the transport raised: the chain is not answering
            self.health.mark_down("chain", str(error))
            raise SourceDown("chain", self.url, str(error)) from None
        return {
            address: LiveAccount(address, *values[4 * n : 4 * n + 4])
            for n, address in enumerate(addresses)
        }
