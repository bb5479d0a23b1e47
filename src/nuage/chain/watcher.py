"""Following contract events: confirmed, in order, resumable, through RPC outages.

An `EventWatcher` reads the logs of a few contracts from a `LogSource` (a JSON-RPC node through
`Web3LogSource`, or a fake in tests), decodes them with the contracts' ABIs into `Event`s, and
hands them over in chain order: by block, then by log index.

How far a watcher has got is its `Cursor`, kept in a `CursorStore` under the watcher's name: the
position of the last handled event, or a whole block when every event up to its end is handled.
A restarted watcher resumes right after its stored cursor: it neither repeats what it handled
nor reads a fully scanned block again.

Guarantees:

- **Order.** Events come in chain order (block, then log index), none skipped.
- **At-least-once** with a cursor saved apart from the handler's effects (`JsonCursorStore`, or
  `ack` alone): an event is acked after its handler returns, so a crash in between hands it over
  again after a restart. Handlers should then be idempotent.
- **Exactly-once** when the handler saves ``event.cursor`` through `SqlCursorStore.save` with the
  connection of the very transaction that holds its effects: both are committed, or neither.
- **Confirmations.** Only blocks at least `confirmations` deep are read (`head - confirmations`).
  A reorganisation deeper than that is *not* detected: events from an orphaned block stay
  handled. Keep `confirmations` at 0 on a devnet (anvil never reorganises) and above the
  chain's reorganisation depth elsewhere.
- **Outages.** A node that does not answer (connection refused or reset, timeouts, HTTP 5xx or
  429) raises `ChainUnreachable` from `poll`; `run` and `arun` log it once as a warning, retry
  with capped exponential backoff, log at info when the node is back, and never stop for it.
  `healthy` and `last_error` tell a health check how the last poll went.
- **Handler failures.** An exception from the handler stops `run`/`arun` and propagates; the
  event is not acked, so a restarted watcher hands it over again.

A service follows the market, saving each cursor with the effects of its event::

    store = SqlCursorStore(engine)
    watcher = EventWatcher(
        Web3LogSource(chain.w3),
        {deployment.market: chain.artifacts["Market"].abi},
        store,
        "orderbook",
        from_block=deployment.block,
    )


    def handle(event: Event) -> None:
        with engine.begin() as connection:
            apply(event, connection)  # the service's own tables
            store.save(watcher.name, event.cursor, connection=connection)


    watcher.run(handle, stop)  # or: await watcher.arun(handle, stop) in asyncio

A watcher is used from one thread (or one task) at a time. Logs that match no event of the
contract's ABI are skipped with a debug line; logs that match one but fail to decode are skipped
with an error line (the ABI given does not describe the deployed contract).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import math
import os
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast

import requests
from eth_abi.codec import ABICodec
from eth_typing import ABIEvent
from eth_utils import to_checksum_address
from eth_utils.abi import event_abi_to_log_topic
from hexbytes import HexBytes
from sqlalchemy import BigInteger, Column, Connection, Engine, Integer, MetaData, String, Table
from web3 import Web3
from web3._utils.abi import build_strict_registry
from web3._utils.events import get_event_data
from web3.exceptions import ProviderConnectionError
from web3.types import FilterParams

from nuage.exceptions import ChainError, ChainUnreachable

__all__ = [
    "Cursor",
    "CursorStore",
    "Event",
    "EventWatcher",
    "JsonCursorStore",
    "LogSource",
    "MemoryCursorStore",
    "SqlCursorStore",
    "Web3LogSource",
    "cursor_table",
]

log = logging.getLogger(__name__)

RawLog = Mapping[str, Any]


# -- what a watcher hands over, and how far it got ---------------------------------------------


@dataclass(frozen=True)
class Event:
    """One decoded contract event, where the chain put it."""

    address: str  # the emitting contract, checksummed
    name: str  # the event's name in the contract's ABI ("Transfer", "DealCreated")
    args: dict[str, Any] = field(hash=False)  # structs are dicts, bytes are bytes
    block_number: int
    block_hash: str  # 0x-prefixed
    transaction_hash: str  # 0x-prefixed
    log_index: int  # within the block

    @property
    def position(self) -> tuple[int, int]:
        """(block number, log index): the chain's order of events."""
        return (self.block_number, self.log_index)

    @property
    def cursor(self) -> Cursor:
        """The cursor of a watcher that has handled this event and every one before it."""
        return Cursor(self.block_number, self.log_index)

    def __str__(self) -> str:
        return f"{self.name} from {self.address} at block {self.block_number} log {self.log_index}"


@dataclass(frozen=True)
class Cursor:
    """How far a watcher has handled the chain: every event at or before this point.

    `log_index` is the last handled event of `block`; None means the whole block is handled.
    """

    block: int
    log_index: int | None = None

    def covers(self, position: tuple[int, int]) -> bool:
        """Whether the event at `position` is handled already."""
        block, log_index = position
        if block != self.block:
            return block < self.block
        return self.log_index is None or log_index <= self.log_index

    @property
    def rank(self) -> tuple[int, float]:
        """Orders cursors: a whole block comes after any event in it."""
        return (self.block, math.inf if self.log_index is None else self.log_index)

    @property
    def next_block(self) -> int:
        """The first block that may hold an event not handled yet."""
        return self.block if self.log_index is not None else self.block + 1

    def __str__(self) -> str:
        if self.log_index is None:
            return f"end of block {self.block}"
        return f"block {self.block} log {self.log_index}"


# -- where logs come from ----------------------------------------------------------------------


class LogSource(Protocol):
    """Raw logs of a chain. Raises ChainUnreachable when the node does not answer."""

    @property
    def url(self) -> str:
        """Where the logs come from, for messages."""
        ...

    def head(self) -> int:
        """The latest block number."""
        ...

    def logs(self, from_block: int, to_block: int, addresses: Sequence[str]) -> Sequence[RawLog]:
        """Every log of `addresses` in blocks `from_block..to_block` (both included).

        Each log is a mapping as `eth_getLogs` returns it: address, topics, data, blockNumber,
        blockHash, transactionHash, transactionIndex, logIndex.
        """
        ...


class Web3LogSource:
    """A JSON-RPC node through web3: `eth_blockNumber` and `eth_getLogs`.

    Transport failures become ChainUnreachable; web3's own retries (if its provider has any)
    happen first.
    """

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3

    @property
    def url(self) -> str:
        return str(getattr(self.w3.provider, "endpoint_uri", None) or self.w3.provider)

    def head(self) -> int:
        with self._transport():
            return int(self.w3.eth.block_number)

    def logs(self, from_block: int, to_block: int, addresses: Sequence[str]) -> Sequence[RawLog]:
        query: FilterParams = {
            "fromBlock": from_block,
            "toBlock": to_block,
            "address": [to_checksum_address(a) for a in addresses],
        }
        with self._transport():
            return self.w3.eth.get_logs(query)

    def _transport(self) -> AbstractContextManager[None]:
        return _unreachable_as_error(self.url)


@contextmanager
def _unreachable_as_error(url: str) -> Iterator[None]:
    """Turns the ways an HTTP node fails to answer into ChainUnreachable."""
    try:
        yield
    except ChainError:
        raise
    except Exception as error:
        cause = _unreachable_cause(error)
        if cause is not None:
            raise ChainUnreachable(f"chain at {url} unreachable ({cause})") from error
        if isinstance(error, requests.HTTPError):
            raise ChainError(f"chain at {url} refused the request ({error})") from error
        raise


def _unreachable_cause(error: Exception) -> str | None:
    """Why the node did not answer, or None when the error is no transport failure."""
    if isinstance(error, requests.HTTPError):
        status = error.response.status_code if error.response is not None else None
        if status is not None and (status >= 500 or status == 429):
            return f"HTTP {status}"
        return None
    if isinstance(error, requests.Timeout | TimeoutError):
        return "timed out"
    if isinstance(error, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
        return "connection refused or reset"
    if isinstance(error, requests.RequestException):
        return None  # a malformed URL or request: no outage, retrying will not help
    if isinstance(error, OSError | ProviderConnectionError):
        return f"connection failed: {error}"
    return None


# -- where cursors are kept --------------------------------------------------------------------


class CursorStore(Protocol):
    """Cursors by watcher name."""

    def load(self, name: str) -> Cursor | None:
        """The cursor saved under `name`, or None when there is none."""
        ...

    def save(self, name: str, cursor: Cursor) -> None:
        """Durably replaces the cursor saved under `name`."""
        ...


class MemoryCursorStore:
    """Cursors in a dict: for tests, and for watchers that may start over after a restart."""

    def __init__(self) -> None:
        self._cursors: dict[str, Cursor] = {}

    def load(self, name: str) -> Cursor | None:
        return self._cursors.get(name)

    def save(self, name: str, cursor: Cursor) -> None:
        self._cursors[name] = cursor


class JsonCursorStore:
    """Cursors in one JSON file, ``{name: {"block": .., "log_index": ..}}``.

    Every save writes a new file, syncs it and renames it over the old one, so a crash leaves
    either cursor, never half a file. One process writes a given file.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def load(self, name: str) -> Cursor | None:
        raw = self._read().get(name)
        return None if raw is None else Cursor(int(raw["block"]), raw.get("log_index"))

    def save(self, name: str, cursor: Cursor) -> None:
        with self._lock:
            cursors = self._read()
            cursors[name] = {"block": cursor.block, "log_index": cursor.log_index}
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
            with partial.open("w") as file:
                json.dump(cursors, file, indent=2, sort_keys=True)
                file.flush()
                os.fsync(file.fileno())
            partial.replace(self.path)

    def _read(self) -> dict[str, Any]:
        try:
            raw = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        if not isinstance(raw, dict):
            raise ValueError(f"{self.path} does not hold watcher cursors")
        return raw


def cursor_table(metadata: MetaData, name: str = "watcher_cursors") -> Table:
    """The cursors table, in a service's own metadata (to create it with its other tables)."""
    return Table(
        name,
        metadata,
        Column("name", String(200), primary_key=True),
        Column("block", BigInteger, nullable=False),
        Column("log_index", Integer, nullable=True),  # NULL: the whole block is handled
    )


class SqlCursorStore:
    """Cursors in a SQL table, ``watcher_cursors(name, block, log_index)``.

    Pass `connection` to `save` to write the cursor in the caller's transaction, beside the
    effects of handling the event: that makes handling exactly-once. The table is created on
    first use when missing.
    """

    def __init__(self, engine: Engine, table: Table | None = None) -> None:
        self.engine = engine
        self.table = table if table is not None else cursor_table(MetaData())
        self.table.create(engine, checkfirst=True)

    def load(self, name: str, *, connection: Connection | None = None) -> Cursor | None:
        query = self.table.select().where(self.table.c.name == name)
        if connection is None:
            with self.engine.connect() as own:
                row = own.execute(query).first()
        else:
            row = connection.execute(query).first()
        return None if row is None else Cursor(int(row.block), row.log_index)

    def save(self, name: str, cursor: Cursor, *, connection: Connection | None = None) -> None:
        if connection is None:
            with self.engine.begin() as own:
                self._upsert(own, name, cursor)
        else:
            self._upsert(connection, name, cursor)

    def _upsert(self, connection: Connection, name: str, cursor: Cursor) -> None:
        values = {"block": cursor.block, "log_index": cursor.log_index}
        updated = connection.execute(
            self.table.update().where(self.table.c.name == name).values(**values)
        )
        if updated.rowcount == 0:
            connection.execute(self.table.insert().values(name=name, **values))


# -- decoding ----------------------------------------------------------------------------------


class _Decoder:
    """Raw logs to Events, with each contract's ABI; the topic lookup is built once."""

    def __init__(self, contracts: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        self._codec = ABICodec(build_strict_registry())
        self._events: dict[str, dict[bytes, ABIEvent]] = {}
        for address, abi in contracts.items():
            self._events[to_checksum_address(address)] = {
                bytes(event_abi_to_log_topic(cast(ABIEvent, entry))): cast(ABIEvent, entry)
                for entry in abi
                if entry.get("type") == "event" and not entry.get("anonymous")
            }

    @property
    def addresses(self) -> list[str]:
        return list(self._events)

    def decode(self, raw: RawLog) -> Event | None:
        address = to_checksum_address(raw["address"])
        topics = raw["topics"]
        events = self._events.get(address, {})
        abi = events.get(bytes(HexBytes(topics[0]))) if topics else None
        where = f"log {raw['logIndex']} of block {raw['blockNumber']} from {address}"
        if abi is None:
            log.debug("%s matches no event of its ABI; skipped", where)
            return None
        try:
            decoded = get_event_data(self._codec, abi, raw)
        except Exception as error:  # the ABI does not describe what the contract emits
            log.error("%s cannot be decoded as %s (%s); skipped", where, abi["name"], error)
            return None
        return Event(
            address=address,
            name=str(abi["name"]),
            args=_plain(decoded["args"]),
            block_number=int(raw["blockNumber"]),
            block_hash=HexBytes(raw["blockHash"]).to_0x_hex(),
            transaction_hash=HexBytes(raw["transactionHash"]).to_0x_hex(),
            log_index=int(raw["logIndex"]),
        )


def _plain(value: Any) -> Any:
    """web3's AttributeDicts and HexBytes as plain dicts and bytes."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return bytes(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


# -- the watcher -------------------------------------------------------------------------------


class EventWatcher:
    """Follows the events of `contracts` ({address: ABI}) from `source`, resuming at its cursor.

    The cursor is saved in `cursor_store` under `name`; without one, the watcher starts at
    `from_block` (the deployment's block, say). See the module docstring for the guarantees.
    """

    def __init__(
        self,
        source: LogSource,
        contracts: Mapping[str, Sequence[Mapping[str, Any]]],
        cursor_store: CursorStore,
        name: str,
        *,
        from_block: int = 0,
        confirmations: int = 0,
        max_range: int = 2000,
        poll_interval: float = 0.5,
        retry_delay: float = 0.5,
        max_retry_delay: float = 30.0,
    ) -> None:
        if confirmations < 0 or max_range < 1 or from_block < 0:
            raise ValueError("confirmations and from_block must be >= 0, max_range >= 1")
        self.source = source
        self.cursor_store = cursor_store
        self.name = name
        self.confirmations = confirmations
        self.max_range = max_range
        self.poll_interval = poll_interval
        self.retry_delay = retry_delay
        self.max_retry_delay = max_retry_delay
        self._decoder = _Decoder(contracts)
        stored = cursor_store.load(name)
        self._cursor = stored if stored is not None else Cursor(from_block - 1)
        if stored is not None:
            log.info("watcher %s resumes after %s", name, stored)
        self._batch: tuple[tuple[int, int], int] | None = None  # last event polled, range end
        self._failures = 0
        self._down_since: float | None = None
        self._warn_if_ahead = stored is not None  # a stored cursor past the head: wrong chain?
        self.healthy = True
        self.last_error: str | None = None

    @property
    def cursor(self) -> Cursor:
        """How far this watcher has handled the chain (as saved in its store)."""
        return self._cursor

    def poll(self) -> list[Event]:
        """The next confirmed events after the cursor, in order, without acking them.

        Reads block ranges of at most `max_range` blocks until one holds events or the
        confirmed head is reached; ranges found empty move the cursor past them (saved). Polling
        again before acking returns the same events. Raises ChainUnreachable in an outage.
        """
        scanned = self._cursor
        try:
            events = self._read_until_events()
        except ChainUnreachable as error:
            self._failed(error)
            raise
        finally:
            if self._cursor != scanned:
                self.cursor_store.save(self.name, self._cursor)
        self._answered()
        return events

    def ack(self, event: Event) -> None:
        """Marks `event`, and every event before it, handled (saved in the cursor store).

        Acking the last event of a poll also marks the rest of the range it read as handled.
        Acking an event already covered by the cursor does nothing.
        """
        if self._cursor.covers(event.position):
            return
        cursor = event.cursor
        if self._batch is not None and self._batch[0] == event.position:
            cursor = Cursor(self._batch[1])
            self._batch = None
        self._move(cursor)

    def advance(self, cursor: Cursor) -> None:
        """Moves the cursor forward to `cursor` (saved), skipping whatever lies before it."""
        if cursor.rank < self._cursor.rank:
            raise ValueError(
                f"watcher {self.name} is at {self._cursor}; cannot go back to {cursor}"
            )
        self._batch = None
        self._move(cursor)

    def run(self, handle: Callable[[Event], None], stop: threading.Event) -> None:
        """Polls, hands each event to `handle` and acks it, until `stop` is set.

        Sleeps `poll_interval` when caught up; waits out outages (see module docstring). An
        exception from `handle` stops the loop and propagates, that event unacked.
        """
        log.info("watcher %s follows %s from %s", self.name, self.source.url, self._cursor)
        while not stop.is_set():
            try:
                events = self.poll()
            except ChainUnreachable as error:
                stop.wait(self._retry_after(error))
                continue
            for event in events:
                try:
                    handle(event)
                except Exception:
                    self._handler_failed(event)
                    raise
                self.ack(event)
                if stop.is_set():
                    return
            if not events:
                stop.wait(self.poll_interval)

    async def arun(
        self, handle: Callable[[Event], Awaitable[None] | None], stop: asyncio.Event
    ) -> None:
        """`run` for asyncio: RPC and cursor saves run in a thread; `handle` may be async."""
        log.info("watcher %s follows %s from %s", self.name, self.source.url, self._cursor)
        while not stop.is_set():
            try:
                events = await asyncio.to_thread(self.poll)
            except ChainUnreachable as error:
                await _wait(stop, self._retry_after(error))
                continue
            for event in events:
                try:
                    outcome = handle(event)
                    if inspect.isawaitable(outcome):
                        await outcome
                except Exception:
                    self._handler_failed(event)
                    raise
                await asyncio.to_thread(self.ack, event)
                if stop.is_set():
                    return
            if not events:
                await _wait(stop, self.poll_interval)

    # -- internals

    def _read_until_events(self) -> list[Event]:
        self._batch = None
        head = self.source.head()
        confirmed = head - self.confirmations
        self._check_not_ahead(head)
        while self._cursor.next_block <= confirmed:
            start = self._cursor.next_block
            end = min(confirmed, start + self.max_range - 1)
            raw = self.source.logs(start, end, self._decoder.addresses)
            events = sorted(
                (event for event in self._decode(raw) if not self._cursor.covers(event.position)),
                key=lambda event: event.position,
            )
            if events:
                log.debug(
                    "watcher %s: %d events in blocks %d..%d", self.name, len(events), start, end
                )
                self._batch = (events[-1].position, end)
                return events
            self._cursor = Cursor(end)
        return []

    def _decode(self, raw: Iterable[RawLog]) -> Iterable[Event]:
        for entry in raw:
            event = self._decoder.decode(entry)
            if event is not None:
                yield event

    def _handler_failed(self, event: Event) -> None:
        log.error(
            "watcher %s: the handler failed on %s; stopping, that event not acked",
            self.name,
            event,
        )

    def _move(self, cursor: Cursor) -> None:
        self.cursor_store.save(self.name, cursor)
        self._cursor = cursor

    def _check_not_ahead(self, head: int) -> None:
        if self._warn_if_ahead and self._cursor.block > head:
            self._warn_if_ahead = False
            log.warning(
                "watcher %s is at %s but %s is at block %d: is this the chain it watched?",
                self.name,
                self._cursor,
                self.source.url,
                head,
            )

    def _failed(self, error: ChainUnreachable) -> None:
        self._failures += 1
        if self._down_since is None:
            self._down_since = time.monotonic()
        self.healthy = False
        self.last_error = str(error)

    def _answered(self) -> None:
        if self._down_since is not None:
            log.info(
                "watcher %s: %s answers again after %.1f s (%d failed polls); resuming after %s",
                self.name,
                self.source.url,
                time.monotonic() - self._down_since,
                self._failures,
                self._cursor,
            )
        self._failures = 0
        self._down_since = None
        self.healthy = True
        self.last_error = None

    def _retry_after(self, error: ChainUnreachable) -> float:
        """Seconds to wait before the next poll, doubling per failure up to the cap; logged."""
        doublings = min(self._failures - 1, 32)  # bounded: a days-long outage must not overflow
        delay = min(self.max_retry_delay, self.retry_delay * 2**doublings)
        if self._failures == 1:
            log.warning("watcher %s: %s, retrying in %g s", self.name, error, delay)
        else:
            log.debug("watcher %s: still unreachable, retrying in %g s", self.name, delay)
        return delay


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    """Sleeps `seconds`, or less when `stop` is set meanwhile."""
    with suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
