"""The scheduler's database: its state, the event watcher's cursor, logins, replicates' logs.

SQLite by default (a file), PostgreSQL by URL, through SQLAlchemy. The state is saved in
pieces (`nuage.scheduler.snapshot`): one JSON document per task and per deal, and one for the
rest; `save_changes` writes only what an event changed, and a chain event's handling saves it in
the same transaction as the watcher's cursor, so after a crash the state and the position in the
chain agree. Login challenges and session tokens live beside it; tokens
are stored as their sha256 only. The logs workers send (stdout, stderr) are kept per task and
worker, outside the state: they are no consensus data, and are pruned after a retention time.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    insert,
    select,
    update,
)

from nuage.chain.watcher import Cursor, SqlCursorStore, cursor_table

__all__ = ["SchedulerStore", "StateChanges", "TaskLog", "open_engine"]

_CHUNK = 500  # ids per IN (...) list


def open_engine(url: str) -> Engine:
    """An engine for `url`; SQLite files get WAL and a busy timeout, for readers beside it."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


class SchedulerStore:
    """One scheduler's tables, in its own database (or schema)."""

    def __init__(self, engine: Engine, name: str = "scheduler") -> None:
        self.engine = engine
        self.name = name
        metadata = MetaData()
        self.states = Table(
            "scheduler_states",
            metadata,
            Column("name", String(200), primary_key=True),
            Column("snapshot", Text, nullable=False),
            Column("saved_at", Float, nullable=False),
        )
        self.task_documents = Table(
            "scheduler_tasks",
            metadata,
            Column("name", String(200), primary_key=True),
            Column("task_id", String(64), primary_key=True),
            Column("document", Text, nullable=False),
        )
        self.deal_documents = Table(
            "scheduler_deals",
            metadata,
            Column("name", String(200), primary_key=True),
            Column("deal_id", String(64), primary_key=True),
            Column("document", Text, nullable=False),
        )
        self.challenges = Table(
            "scheduler_challenges",
            metadata,
            Column("nonce", String(100), primary_key=True),
            Column("address", String(42), nullable=False),
            Column("expires_at", Float, nullable=False),
        )
        self.sessions = Table(
            "scheduler_sessions",
            metadata,
            Column("token_sha256", String(64), primary_key=True),
            Column("address", String(42), nullable=False),
            Column("expires_at", Float, nullable=False),
            Column("created_at", Float, nullable=False),
        )
        self.logs = Table(
            "scheduler_task_logs",
            metadata,
            Column("task_id", String(66), primary_key=True),
            Column("worker", String(42), primary_key=True),
            Column("stdout", LargeBinary, nullable=False),
            Column("stderr", LargeBinary, nullable=False),
            Column("exit_code", Integer, nullable=True),
            Column("failure", Text, nullable=True),
            Column("received_at", Float, nullable=False, index=True),
        )
        self.cursor_table = cursor_table(metadata)
        metadata.create_all(engine)
        self.cursors = SqlCursorStore(engine, self.cursor_table)

    # -- the state ----------------------------------------------------------------------------

    def load_state(self) -> dict[str, Any] | None:
        """The saved state as one document (`snapshot.dump_state`'s layout), or None."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(self.states.c.snapshot).where(self.states.c.name == self.name)
            ).first()
            if row is None:
                return None
            state = dict(json.loads(row.snapshot))
            if "tasks" in state:  # saved whole, by the first version
                return state
            deals = connection.execute(
                select(self.deal_documents.c.document).where(
                    self.deal_documents.c.name == self.name
                )
            ).scalars()
            state["deals"] = [json.loads(document) for document in deals]
            tasks = connection.execute(
                select(self.task_documents.c.document).where(
                    self.task_documents.c.name == self.name
                )
            ).scalars()
            state["tasks"] = [json.loads(document) for document in tasks]
        return state

    def save_state(
        self, snapshot: dict[str, Any], *, cursor: tuple[str, Cursor] | None = None
    ) -> None:
        """Saves a whole state (`snapshot.dump_state`'s layout), replacing what was saved."""
        tasks = {entry["task_id"]: entry for entry in snapshot.get("tasks", [])}
        deals = {entry["deal_id"]: entry for entry in snapshot.get("deals", [])}
        meta = {k: v for k, v in snapshot.items() if k not in ("tasks", "deals")}
        self.save_changes(
            StateChanges(meta=meta, tasks=tasks, deals=deals, replace=True), cursor=cursor
        )

    def save_changes(
        self, changes: StateChanges, *, cursor: tuple[str, Cursor] | None = None
    ) -> None:
        """Writes what changed, and with `cursor` (watcher name, cursor) the cursor, atomically."""
        meta = json.dumps(changes.meta, separators=(",", ":"))
        with self.engine.begin() as connection:
            updated = connection.execute(
                update(self.states)
                .where(self.states.c.name == self.name)
                .values(snapshot=meta, saved_at=time.time())
            )
            if updated.rowcount == 0:
                connection.execute(
                    insert(self.states).values(name=self.name, snapshot=meta, saved_at=time.time())
                )
            for table, key, documents, forgotten in (
                (self.task_documents, "task_id", changes.tasks, changes.forgotten_tasks),
                (self.deal_documents, "deal_id", changes.deals, changes.forgotten_deals),
            ):
                column = table.c[key]
                if changes.replace:
                    connection.execute(delete(table).where(table.c.name == self.name))
                else:
                    stale = [*documents, *forgotten]
                    for start in range(0, len(stale), _CHUNK):
                        connection.execute(
                            delete(table).where(
                                (table.c.name == self.name)
                                & column.in_(stale[start : start + _CHUNK])
                            )
                        )
                if documents:
                    connection.execute(
                        insert(table),
                        [
                            {
                                "name": self.name,
                                key: ident,
                                "document": json.dumps(document, separators=(",", ":")),
                            }
                            for ident, document in documents.items()
                        ],
                    )
            if cursor is not None:
                self.cursors.save(cursor[0], cursor[1], connection=connection)

    # -- logins -------------------------------------------------------------------------------

    def add_challenge(self, nonce: str, address: str, expires_at: float) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                delete(self.challenges).where(self.challenges.c.expires_at < time.time())
            )
            connection.execute(
                insert(self.challenges).values(nonce=nonce, address=address, expires_at=expires_at)
            )

    def take_challenge(self, nonce: str, address: str, now: float) -> bool:
        """Consumes the challenge; True when it was issued to `address` and has not expired."""
        with self.engine.begin() as connection:
            row = connection.execute(
                select(self.challenges).where(self.challenges.c.nonce == nonce)
            ).first()
            connection.execute(delete(self.challenges).where(self.challenges.c.nonce == nonce))
        return row is not None and row.address == address and row.expires_at >= now

    def add_session(self, token: str, address: str, expires_at: float) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                delete(self.sessions).where(self.sessions.c.expires_at < time.time())
            )
            connection.execute(
                insert(self.sessions).values(
                    token_sha256=_sha256(token),
                    address=address,
                    expires_at=expires_at,
                    created_at=time.time(),
                )
            )

    def session(self, token: str, now: float) -> str | None:
        """The address a bearer token stands for, or None (unknown or expired)."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(self.sessions).where(self.sessions.c.token_sha256 == _sha256(token))
            ).first()
        if row is None or row.expires_at < now:
            return None
        return str(row.address)

    # -- replicates' logs ---------------------------------------------------------------------

    def save_logs(self, logs: TaskLog, *, keep_after: float) -> None:
        """Keeps `logs` (replacing what that worker sent before for that task); forgets the logs
        received before `keep_after`."""
        key = (self.logs.c.task_id == logs.task_id) & (self.logs.c.worker == logs.worker)
        with self.engine.begin() as connection:
            connection.execute(delete(self.logs).where(self.logs.c.received_at < keep_after))
            connection.execute(delete(self.logs).where(key))
            connection.execute(insert(self.logs).values(**asdict(logs)))

    def task_logs(self, task_id: str) -> list[TaskLog]:
        """Every worker's logs of a task (0x-hex id), in the order they came."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(self.logs)
                .where(self.logs.c.task_id == task_id)
                .order_by(self.logs.c.received_at, self.logs.c.worker)
            ).all()
        return [
            TaskLog(
                task_id=row.task_id,
                worker=row.worker,
                stdout=bytes(row.stdout),
                stderr=bytes(row.stderr),
                exit_code=row.exit_code,
                failure=row.failure,
                received_at=row.received_at,
            )
            for row in rows
        ]


@dataclass(frozen=True)
class StateChanges:
    """What to write: the non-task part whole, the tasks and deals changed (JSON documents by
    hex id) and the ids of those forgotten; `replace` drops every task and deal saved before."""

    meta: dict[str, Any]
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    deals: dict[str, dict[str, Any]] = field(default_factory=dict)
    forgotten_tasks: list[str] = field(default_factory=list)
    forgotten_deals: list[str] = field(default_factory=list)
    replace: bool = False


@dataclass(frozen=True)
class TaskLog:
    """What one worker's run of a task wrote to stdout and stderr, and how it ended."""

    task_id: str  # 0x-hex
    worker: str
    stdout: bytes
    stderr: bytes
    exit_code: int | None
    failure: str | None
    received_at: float


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
