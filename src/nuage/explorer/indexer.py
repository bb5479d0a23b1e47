"""Follows the chain into the index: assets, deals, tasks, contributions.

`Indexer.apply` takes one contract event (an `EventWatcher` of the hub, the market and the three
registries hands them over in chain order) and writes what it says in one transaction, with the
watcher's cursor (`SqlCursorStore`): each event takes effect exactly once, across restarts.

- a registry's ERC-721 ``Transfer``: from the zero address, a new asset, whose record is read
  from its registry (and, for an app, the description from its bundle's manifest in storage);
  otherwise the asset changed hands;
- the market's ``OrdersMatched`` and ``DealCreated``: a deal, and its tasks (status UNSET until
  the scheduler initializes them; a trust-1 task goes straight to COMPLETED);
- the hub's task events: ``TaskInitialized`` (ACTIVE), ``TaskContributed``, ``TaskConsensus``
  (REVEALING), ``TaskRevealed``, ``TaskReopened`` (ACTIVE again), ``TaskFinalized``
  (COMPLETED), ``TaskClaimed`` (FAILED), and the verdicts ``AccurateContribution`` /
  ``FaultyContribution`` on each contribution.

What changed in a task is returned as `TaskChange`s, which the service publishes to the pages
that follow tasks live. Chain reads happen before the transaction opens, never inside it.
"""

from __future__ import annotations

import asyncio
import io
import logging
import zipfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from eth_utils import to_checksum_address
from sqlalchemy import Connection, Engine, insert, select, update

from nuage.chain.bindings import Contracts
from nuage.chain.watcher import Event, EventWatcher, SqlCursorStore, Web3LogSource
from nuage.explorer.tables import ASSETS, CONTRIBUTIONS, CURSORS, DEALS, TASKS
from nuage.protocol.deals import Deal
from nuage.protocol.ids import task_id as make_task_id
from nuage.protocol.orders import ZERO_ADDRESS

__all__ = [
    "WATCHER_NAME",
    "AssetFacts",
    "ChainFacts",
    "ContractFacts",
    "Indexer",
    "TaskChange",
    "explorer_watcher",
    "hex32",
]

log = logging.getLogger(__name__)

WATCHER_NAME = "explorer"
MAX_BUNDLE_BYTES = 16 * 1024 * 1024  # a bigger bundle is not downloaded for its description
_MANIFEST = "nuage-app.toml"


def hex32(value: bytes) -> str:
    return "0x" + bytes(value).hex()


@dataclass(frozen=True)
class AssetFacts:
    """An asset's record, as the indexer keeps it."""

    owner: str
    name: str
    multiaddr: str = ""
    checksum: str = ""
    description: str | None = None


@dataclass(frozen=True)
class TaskChange:
    """A task whose status or contributions changed: what `/api/events` sends."""

    task_id: str
    deal_id: str
    index: int
    app: str
    status: str
    event: str
    block: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "deal_id": self.deal_id,
            "index": self.index,
            "app": self.app,
            "status": self.status,
            "event": self.event,
            "block": self.block,
        }


class ChainFacts(Protocol):
    """What the indexer reads besides events (a fake in unit tests)."""

    def asset(self, kind: str, address: str) -> AssetFacts: ...

    def block_time(self, block: int) -> int | None: ...

    def sender(self, transaction: str) -> str | None: ...


class ContractFacts:
    """`ChainFacts` from the contracts, and app descriptions from storage."""

    def __init__(self, contracts: Contracts, storage_url: str | None) -> None:
        self.contracts = contracts
        self.storage_url = storage_url
        self._block_times = lru_cache(maxsize=256)(self._read_block_time)

    def asset(self, kind: str, address: str) -> AssetFacts:
        if kind == "app":
            app = self.contracts.app(address)
            checksum = app.checksum.hex()
            return AssetFacts(
                app.owner,
                app.name,
                _text(app.multiaddr),
                "0x" + checksum,
                self._description(checksum),
            )
        if kind == "dataset":
            dataset = self.contracts.dataset(address)
            return AssetFacts(
                dataset.owner, dataset.name, _text(dataset.multiaddr), hex32(dataset.checksum)
            )
        pool = self.contracts.workerpool(address)
        return AssetFacts(pool.owner, pool.description)

    def block_time(self, block: int) -> int | None:
        return self._block_times(block)

    def sender(self, transaction: str) -> str | None:
        with suppress(Exception):
            found = self.contracts.chain.w3.eth.get_transaction(transaction)  # type: ignore[arg-type]
            return str(to_checksum_address(found["from"]))
        return None

    def _read_block_time(self, block: int) -> int | None:
        with suppress(Exception):
            return int(self.contracts.chain.w3.eth.get_block(block)["timestamp"])
        return None

    def _description(self, blob_id: str) -> str | None:
        """The description in the app bundle's manifest, when storage has the bundle."""
        if not self.storage_url:
            return None
        from nuage.apps.bundle import load_manifest
        from nuage.storage.client import StorageClient

        try:
            with StorageClient(self.storage_url, timeout=3.0) as storage:
                size = storage.head(blob_id)
                if size is None or size > MAX_BUNDLE_BYTES:
                    return None
                data = storage.get_bytes(blob_id)
            with zipfile.ZipFile(io.BytesIO(data)) as bundle:
                text = bundle.read(_MANIFEST).decode()
            return load_manifest(text).description or None
        except Exception as error:  # a description is a nicety: never stop indexing for it
            log.info("no description for bundle %s (%s)", blob_id, error)
            return None


def explorer_watcher(
    contracts: Contracts, engine: Engine, *, poll_interval: float = 0.3
) -> EventWatcher:
    """A watcher of the hub, the market and the registries, its cursor in the index."""
    artifacts = contracts.chain.artifacts
    deployment = contracts.deployment
    watched = {
        deployment.hub: artifacts["Hub"].abi,
        deployment.market: artifacts["Market"].abi,
        deployment.app_registry: artifacts["AppRegistry"].abi,
        deployment.dataset_registry: artifacts["DatasetRegistry"].abi,
        deployment.workerpool_registry: artifacts["WorkerpoolRegistry"].abi,
    }
    return EventWatcher(
        Web3LogSource(contracts.chain.w3),
        watched,
        SqlCursorStore(engine, CURSORS),
        WATCHER_NAME,
        from_block=deployment.block,
        poll_interval=poll_interval,
    )


class Indexer:
    """Applies contract events to the index, each with the watcher's cursor."""

    def __init__(
        self,
        engine: Engine,
        facts: ChainFacts,
        registries: dict[str, str],  # registry address -> asset kind
        cursors: SqlCursorStore,
        *,
        name: str = WATCHER_NAME,
    ) -> None:
        self.engine = engine
        self.facts = facts
        self.registries = {str(to_checksum_address(a)): kind for a, kind in registries.items()}
        self.cursors = cursors
        self.name = name
        self.failures = 0
        self.last_error: str | None = None

    @classmethod
    def for_contracts(
        cls, engine: Engine, contracts: Contracts, storage_url: str | None
    ) -> Indexer:
        deployment = contracts.deployment
        registries = {
            deployment.app_registry: "app",
            deployment.dataset_registry: "dataset",
            deployment.workerpool_registry: "workerpool",
        }
        facts = ContractFacts(contracts, storage_url)
        return cls(engine, facts, registries, SqlCursorStore(engine, CURSORS))

    # -- one event

    def apply(self, event: Event) -> list[TaskChange]:
        """Writes what `event` says (chain reads first, then one transaction)."""
        handler = _HANDLERS.get(event.name)
        if event.name == "Transfer" and event.address in self.registries:
            return self._transfer(event, self.registries[event.address])
        if handler is None:
            with self._writing() as connection:
                self.cursors.save(self.name, event.cursor, connection=connection)
            return []
        return handler(self, event)

    def catch_up(self, watcher: EventWatcher) -> int:
        """Applies every event not handled yet; how many there were."""
        handled = 0
        while events := watcher.poll():
            for event in events:
                self.apply(event)
                watcher.ack(event)
                handled += 1
        return handled

    async def follow(
        self,
        watcher: EventWatcher,
        stop: asyncio.Event,
        publish: Callable[[list[TaskChange]], Awaitable[None] | None],
        *,
        retry_delay: float = 1.0,
        max_retry_delay: float = 30.0,
    ) -> None:
        """Follows the chain until `stop` is set; a failure is logged and retried with backoff."""

        async def handle(event: Event) -> None:
            changes = await asyncio.to_thread(self.apply, event)
            self.last_error = None
            if changes:
                outcome = publish(changes)
                if outcome is not None:
                    await outcome

        delay = retry_delay
        while not stop.is_set():
            try:
                await watcher.arun(handle, stop)
            except Exception as error:
                self.failures += 1
                self.last_error = f"{type(error).__name__}: {error}"
                log.error("the index stopped following the chain (%s); again in %g s", error, delay)
                with suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                delay = min(max_retry_delay, delay * 2)
            else:
                return

    # -- assets

    def _transfer(self, event: Event, kind: str) -> list[TaskChange]:
        address = str(to_checksum_address(int(event.args["token_id"]).to_bytes(20, "big")))
        receiver = str(to_checksum_address(event.args["receiver"]))
        facts = None
        if event.args["sender"] == ZERO_ADDRESS:
            facts = self.facts.asset(kind, address)
        created_at = self.facts.block_time(event.block_number) if facts else None
        with self._writing() as connection:
            known = connection.execute(
                select(ASSETS.c.address).where(ASSETS.c.address == address)
            ).first()
            if known is not None:
                connection.execute(
                    update(ASSETS).where(ASSETS.c.address == address).values(owner=receiver)
                )
            elif facts is not None:
                connection.execute(
                    insert(ASSETS).values(
                        address=address,
                        kind=kind,
                        owner=receiver,
                        name=facts.name,
                        multiaddr=facts.multiaddr,
                        checksum=facts.checksum,
                        description=facts.description,
                        block=event.block_number,
                        created_at=created_at,
                    )
                )
            self.cursors.save(self.name, event.cursor, connection=connection)
        return []

    # -- deals

    def _orders_matched(self, event: Event) -> list[TaskChange]:
        deal_id = hex32(event.args["deal_id"])
        hashes = {
            "app_order": hex32(event.args["app_order_hash"]),
            "dataset_order": hex32(event.args["dataset_order_hash"]),
            "workerpool_order": hex32(event.args["workerpool_order_hash"]),
            "request_order": hex32(event.args["request_order_hash"]),
        }
        with self._writing() as connection:
            if _exists(connection, DEALS.c.deal_id, deal_id):
                connection.execute(update(DEALS).where(DEALS.c.deal_id == deal_id).values(hashes))
            else:
                connection.execute(insert(DEALS).values(deal_id=deal_id, **hashes))
            self.cursors.save(self.name, event.cursor, connection=connection)
        return []

    def _deal_created(self, event: Event) -> list[TaskChange]:
        raw_id = bytes(event.args["deal_id"])
        deal_id = hex32(raw_id)
        deal = Deal.from_tuple(event.args["deal"])
        created_at = self.facts.block_time(event.block_number)
        values = {
            "app": deal.app,
            "app_owner": deal.app_owner,
            "app_price": str(deal.app_price),
            "dataset": deal.dataset,
            "dataset_price": str(deal.dataset_price),
            "workerpool": deal.workerpool,
            "workerpool_owner": deal.workerpool_owner,
            "workerpool_price": str(deal.workerpool_price),
            "requester": deal.requester,
            "beneficiary": deal.beneficiary,
            "callback": deal.callback,
            "trust": str(deal.trust),
            "category": int(deal.category),
            "tag": hex32(deal.tag),
            "bot_first": int(deal.bot_first),
            "bot_size": int(deal.bot_size),
            "params": str(event.args["params"]),
            "block": event.block_number,
            "created_at": created_at,
            "transaction": event.transaction_hash,
        }
        changes = []
        with self._writing() as connection:
            if _exists(connection, DEALS.c.deal_id, deal_id):
                connection.execute(update(DEALS).where(DEALS.c.deal_id == deal_id).values(values))
            else:
                connection.execute(insert(DEALS).values(deal_id=deal_id, **values))
            for index in range(deal.bot_first, deal.bot_first + deal.bot_size):
                task = hex32(make_task_id(raw_id, index))
                if _exists(connection, TASKS.c.task_id, task):
                    continue
                connection.execute(
                    insert(TASKS).values(
                        task_id=task,
                        deal_id=deal_id,
                        idx=index,
                        app=deal.app,
                        workerpool=deal.workerpool,
                        requester=deal.requester,
                        status="UNSET",
                        block=event.block_number,
                        updated_at=created_at,
                    )
                )
                changes.append(
                    TaskChange(
                        task, deal_id, index, deal.app, "UNSET", event.name, event.block_number
                    )
                )
            self.cursors.save(self.name, event.cursor, connection=connection)
        return changes

    # -- tasks

    def _task_status(self, event: Event, status: str, **values: Any) -> list[TaskChange]:
        """Sets a task's status (and other columns); the change, if the task is known."""
        task = hex32(event.args["task_id"])
        updated_at = self.facts.block_time(event.block_number)
        with self._writing() as connection:
            change = self._set_task(connection, task, event, status, updated_at, values)
            if event.name == "TaskReopened":
                connection.execute(
                    update(CONTRIBUTIONS)
                    .where(CONTRIBUTIONS.c.task_id == task)
                    .values(status="REOPENED")
                )
            self.cursors.save(self.name, event.cursor, connection=connection)
        return [change] if change else []

    def _set_task(
        self,
        connection: Connection,
        task: str,
        event: Event,
        status: str | None,
        updated_at: int | None,
        values: dict[str, Any],
    ) -> TaskChange | None:
        row = connection.execute(select(TASKS).where(TASKS.c.task_id == task)).first()
        if row is None:
            log.info("%s names task %s of no known deal: skipped", event, task)
            return None
        new_status = status or row.status
        connection.execute(
            update(TASKS)
            .where(TASKS.c.task_id == task)
            .values(status=new_status, block=event.block_number, updated_at=updated_at, **values)
        )
        return TaskChange(
            task, row.deal_id, row.idx, row.app, new_status, event.name, event.block_number
        )

    def _initialized(self, event: Event) -> list[TaskChange]:
        return self._task_status(event, "ACTIVE")

    def _consensus(self, event: Event) -> list[TaskChange]:
        return self._task_status(event, "REVEALING", consensus=hex32(event.args["consensus_value"]))

    def _reopened(self, event: Event) -> list[TaskChange]:
        return self._task_status(event, "ACTIVE", consensus=None)

    def _claimed(self, event: Event) -> list[TaskChange]:
        return self._task_status(event, "FAILED")

    def _finalized(self, event: Event) -> list[TaskChange]:
        task = hex32(event.args["task_id"])
        digest = hex32(event.args["result_digest"])
        with self.engine.connect() as connection:
            contributed = _exists(connection, CONTRIBUTIONS.c.task_id, task)
        # a trust-1 task has no contribution events: its worker sent the finalizing transaction
        worker = None if contributed else self.facts.sender(event.transaction_hash)
        updated_at = self.facts.block_time(event.block_number)
        with self._writing() as connection:
            change = self._set_task(
                connection,
                task,
                event,
                "COMPLETED",
                updated_at,
                {"results": hex32(event.args["results"]), "result_digest": digest},
            )
            if worker is not None and change is not None:
                connection.execute(
                    insert(CONTRIBUTIONS).values(
                        task_id=task,
                        worker=worker,
                        result_digest=digest,
                        status="FINALIZED",
                        block=event.block_number,
                    )
                )
            self.cursors.save(self.name, event.cursor, connection=connection)
        return [change] if change else []

    def _contributed(self, event: Event) -> list[TaskChange]:
        task = hex32(event.args["task_id"])
        worker = str(to_checksum_address(event.args["worker"]))
        values = {
            "result_hash": hex32(event.args["result_hash"]),
            "result_digest": None,
            "status": "CONTRIBUTED",
            "verdict": None,
            "block": event.block_number,
        }
        return self._contribution(event, task, worker, values)

    def _revealed(self, event: Event) -> list[TaskChange]:
        task = hex32(event.args["task_id"])
        worker = str(to_checksum_address(event.args["worker"]))
        values = {"result_digest": hex32(event.args["result_digest"]), "status": "REVEALED"}
        return self._contribution(event, task, worker, values)

    def _verdict(self, event: Event) -> list[TaskChange]:
        task = hex32(event.args["task_id"])
        worker = str(to_checksum_address(event.args["worker"]))
        verdict = "accurate" if event.name == "AccurateContribution" else "faulty"
        return self._contribution(event, task, worker, {"verdict": verdict})

    def _contribution(
        self, event: Event, task: str, worker: str, values: dict[str, Any]
    ) -> list[TaskChange]:
        updated_at = self.facts.block_time(event.block_number)
        with self._writing() as connection:
            where = (CONTRIBUTIONS.c.task_id == task) & (CONTRIBUTIONS.c.worker == worker)
            if connection.execute(select(CONTRIBUTIONS.c.id).where(where)).first() is None:
                connection.execute(
                    insert(CONTRIBUTIONS).values(
                        {"status": "CONTRIBUTED", "block": event.block_number}
                        | values
                        | {"task_id": task, "worker": worker}
                    )
                )
            else:
                connection.execute(update(CONTRIBUTIONS).where(where).values(values))
            change = self._set_task(connection, task, event, None, updated_at, {})
            self.cursors.save(self.name, event.cursor, connection=connection)
        return [change] if change else []

    # -- internals

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        with self.engine.connect() as connection:
            connection.execution_options(nuage_write=True)
            with connection.begin():
                yield connection


_HANDLERS: dict[str, Callable[[Indexer, Event], list[TaskChange]]] = {
    "OrdersMatched": Indexer._orders_matched,
    "DealCreated": Indexer._deal_created,
    "TaskInitialized": Indexer._initialized,
    "TaskContributed": Indexer._contributed,
    "TaskConsensus": Indexer._consensus,
    "TaskRevealed": Indexer._revealed,
    "TaskReopened": Indexer._reopened,
    "TaskFinalized": Indexer._finalized,
    "TaskClaimed": Indexer._claimed,
    "AccurateContribution": Indexer._verdict,
    "FaultyContribution": Indexer._verdict,
}


def _exists(connection: Connection, column: Any, value: str) -> bool:
    return connection.execute(select(column).where(column == value).limit(1)).first() is not None


def _text(raw: bytes) -> str:
    try:
        return bytes(raw).decode()
    except UnicodeDecodeError:
        return "0x" + bytes(raw).hex()
