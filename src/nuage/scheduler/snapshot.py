"""A scheduler state as JSON and back: what the service saves in its database.

The state is saved in pieces: one document per task (`dump_task`), one per deal (`dump_deal`),
and the rest (clock, workers) in `dump_meta`; after each event only the tasks and deals it
changed are written again (`SchedulerState.take_changes`), in the same database transaction as
the event watcher's cursor. After a crash the service resumes from a state and a cursor that
agree, and the chain events after the cursor are handled again. `dump_state` gives the whole
state as one document (the layout of the first version, still read).
"""

from __future__ import annotations

from typing import Any

from nuage.scheduler.events import Capabilities
from nuage.scheduler.state import (
    DealRecord,
    Replicate,
    ReplicateStatus,
    SchedulerConfig,
    SchedulerState,
    TaskPhase,
    TaskRecord,
    WorkerRecord,
)
from nuage.scheduler.wire import deal_from_json, deal_to_json

__all__ = [
    "SNAPSHOT_VERSION",
    "dump_deal",
    "dump_meta",
    "dump_state",
    "dump_task",
    "load_state",
]

SNAPSHOT_VERSION = 1


def _hex(value: bytes | None) -> str | None:
    return None if value is None else value.hex()


def _bytes(value: str | None) -> bytes | None:
    return None if value is None else bytes.fromhex(value)


def dump_state(state: SchedulerState) -> dict[str, Any]:
    """The whole state as JSON-able data (the config is not in it: it comes from settings)."""
    return {
        **dump_meta(state),
        "deals": [dump_deal(record) for record in state.deals.values()],
        "tasks": [dump_task(task) for task in state.tasks.values()],
    }


def dump_meta(state: SchedulerState) -> dict[str, Any]:
    """What is neither a task nor a deal: the clocks and the workers."""
    return {
        "version": SNAPSHOT_VERSION,
        "now": state.now,
        "chain_time": state.chain_time,
        "workers": [
            {
                "address": worker.address,
                "capabilities": {
                    "cpus": worker.capabilities.cpus,
                    "memory_bytes": worker.capabilities.memory_bytes,
                    "gpus": worker.capabilities.gpus,
                    "sandboxes": list(worker.capabilities.sandboxes),
                    "tee": worker.capabilities.tee,
                    "max_parallel": worker.capabilities.max_parallel,
                },
                "last_seen": worker.last_seen,
                "lost": worker.lost,
            }
            for worker in state.workers.values()
        ],
    }


def dump_deal(record: DealRecord) -> dict[str, Any]:
    return {
        "deal_id": record.deal_id.hex(),
        "deal": deal_to_json(record.deal),
        "params": record.params,
        "seen_at": record.seen_at,
        "task_ids": [t.hex() for t in record.task_ids],
    }


def dump_task(task: TaskRecord) -> dict[str, Any]:
    return {
        "task_id": task.task_id.hex(),
        "deal_id": task.deal_id.hex(),
        "index": task.index,
        "trust": task.trust,
        "phase": task.phase.value,
        "since": task.since,
        "retry_at": task.retry_at,
        "round": task.round,
        "consensus_value": _hex(task.consensus_value),
        "reveal_deadline": task.reveal_deadline,
        "digest": _hex(task.digest),
        "uploader": task.uploader,
        "upload_asked_at": task.upload_asked_at,
        "upload_refused": sorted(task.upload_refused),
        "result_blob": task.result_blob,
        "callback_data": task.callback_data.hex(),
        "solo": task.solo,
        "replicates": [
            {
                "worker": r.worker,
                "status": r.status.value,
                "assigned_at": r.assigned_at,
                "weight": r.weight,
                "stake": r.stake,
                "round": r.round,
                "result_hash": _hex(r.result_hash),
                "counted": r.counted,
                "stage": r.stage,
                "failure": r.failure,
            }
            for r in task.replicates.values()
        ],
    }


def load_state(raw: dict[str, Any], config: SchedulerConfig) -> SchedulerState:
    """A state from `dump_state`'s data, with `config`."""
    if raw.get("version") != SNAPSHOT_VERSION:
        raise ValueError(f"unknown scheduler snapshot version {raw.get('version')!r}")
    state = SchedulerState(config)
    state.now = float(raw["now"])
    state.chain_time = int(raw["chain_time"])
    for entry in raw["deals"]:
        deal_id = bytes.fromhex(entry["deal_id"])
        state.deals[deal_id] = DealRecord(
            deal_id=deal_id,
            deal=deal_from_json(entry["deal"]),
            params=str(entry["params"]),
            seen_at=float(entry["seen_at"]),
            task_ids=[bytes.fromhex(t) for t in entry["task_ids"]],
        )
    for entry in raw["tasks"]:
        task = _load_task(entry)
        state.tasks[task.task_id] = task
    for entry in raw["workers"]:
        capabilities = dict(entry["capabilities"])
        capabilities["sandboxes"] = tuple(capabilities["sandboxes"])
        state.workers[entry["address"]] = WorkerRecord(
            address=str(entry["address"]),
            capabilities=Capabilities(**capabilities),
            last_seen=float(entry["last_seen"]),
            lost=bool(entry["lost"]),
        )
    return state


def _load_task(entry: dict[str, Any]) -> TaskRecord:
    task = TaskRecord(
        task_id=bytes.fromhex(entry["task_id"]),
        deal_id=bytes.fromhex(entry["deal_id"]),
        index=int(entry["index"]),
        trust=int(entry["trust"]),
        phase=TaskPhase(entry["phase"]),
        since=float(entry["since"]),
        retry_at=float(entry["retry_at"]),
        round=int(entry["round"]),
        consensus_value=_bytes(entry["consensus_value"]),
        reveal_deadline=entry["reveal_deadline"],
        digest=_bytes(entry["digest"]),
        uploader=entry["uploader"],
        upload_asked_at=entry["upload_asked_at"],
        upload_refused=set(entry["upload_refused"]),
        result_blob=entry["result_blob"],
        callback_data=bytes.fromhex(entry["callback_data"]),
        solo=bool(entry["solo"]),
    )
    for r in entry["replicates"]:
        task.replicates[r["worker"]] = Replicate(
            worker=str(r["worker"]),
            status=ReplicateStatus(r["status"]),
            assigned_at=float(r["assigned_at"]),
            weight=int(r["weight"]),
            stake=int(r["stake"]),
            round=int(r["round"]),
            result_hash=_bytes(r["result_hash"]),
            counted=bool(r["counted"]),
            stage=str(r["stage"]),
            failure=r["failure"],
        )
    return task
