"""A worker's memory across restarts: every replicate it holds or held, in SQLite.

One row per (worker, task), the `ReplicateRecord` as JSON, written after every event that
changed it and before the actions it led to are carried out: a worker that crashes just after
sending a contribution finds it CONTRIBUTING when it starts again, and asks the chain.
"""

from __future__ import annotations

import json
import time

from sqlalchemy import Column, Engine, Float, MetaData, String, Table, Text, insert, select, update

from nuage.worker.state import ReplicateRecord

__all__ = ["WorkerStore"]


class WorkerStore:
    """The replicates of one or more workers (rows are keyed by the worker's address)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        metadata = MetaData()
        self.replicates = Table(
            "worker_replicates",
            metadata,
            Column("worker", String(42), primary_key=True),
            Column("task_id", String(64), primary_key=True),
            Column("record", Text, nullable=False),
            Column("updated_at", Float, nullable=False),
        )
        metadata.create_all(engine)

    def load(self, worker: str) -> list[ReplicateRecord]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(self.replicates.c.record).where(self.replicates.c.worker == worker)
            ).all()
        return [ReplicateRecord.from_json(json.loads(row.record)) for row in rows]

    def save(self, worker: str, records: list[ReplicateRecord]) -> None:
        """Writes `records` in one transaction."""
        if not records:
            return
        table = self.replicates
        with self.engine.begin() as connection:
            for record in records:
                document = json.dumps(record.to_json(), separators=(",", ":"))
                key = (table.c.worker == worker) & (table.c.task_id == record.task_id.hex())
                values = {"record": document, "updated_at": time.time()}
                if connection.execute(update(table).where(key).values(**values)).rowcount == 0:
                    connection.execute(
                        insert(table).values(worker=worker, task_id=record.task_id.hex(), **values)
                    )
