"""The invariants of a scheduler's state, checked by `SchedulerState.validate()`.

Tests call it after every event; a broken invariant is a bug in the state machine and raises
`InvalidState` naming it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nuage.protocol.ids import task_id as derive_task_id
from nuage.scheduler.records import (
    MAX_CONTRIBUTORS,
    InvalidState,
    ReplicateStatus,
    TaskPhase,
    TaskRecord,
)

if TYPE_CHECKING:
    from nuage.scheduler.state import SchedulerState

__all__ = ["validate_state"]


def validate_state(state: SchedulerState) -> None:
    """Raises InvalidState when an invariant of `state` does not hold."""
    for task_id, task in state.tasks.items():
        _validate_task(state, task_id, task)
    for address, worker in state.workers.items():
        _check(address == worker.address, f"worker {address} filed under another address")
        assigned = [
            task
            for task in state.tasks.values()
            if address in task.replicates
            and task.replicates[address].status is ReplicateStatus.ASSIGNED
        ]
        if worker.lost:
            _check(not assigned, f"lost worker {address} still holds assigned replicates")
        _check(
            len(assigned) <= worker.capabilities.max_parallel,
            f"worker {address} holds {len(assigned)} replicates, more than it runs at once",
        )


def _validate_task(state: SchedulerState, task_id: bytes, task: TaskRecord) -> None:
    name = f"task {task_id.hex()}"
    record = state.deals.get(task.deal_id)
    _check(record is not None, f"{name} belongs to no known deal")
    assert record is not None
    _check(task_id == derive_task_id(task.deal_id, task.index), f"{name} has a wrong id")
    _check(task_id in record.task_ids, f"{name} is not listed in its deal")
    deal = record.deal
    _check(
        deal.bot_first <= task.index < deal.bot_first + deal.bot_size,
        f"{name} index outside its deal",
    )
    for worker, replicate in task.replicates.items():
        _check(worker == replicate.worker, f"{name}: replicate filed under another worker")
        if replicate.status.on_chain:
            _check(replicate.result_hash is not None, f"{name}: contribution without a vote")
        if replicate.status is ReplicateStatus.REVEALED:
            _check(
                replicate.result_hash == task.consensus_value,
                f"{name}: {worker} revealed a result that is not the consensus",
            )
    assigned = task.with_status(ReplicateStatus.ASSIGNED)
    if task.trust <= 1:
        _check(
            task.phase in (TaskPhase.ACTIVE, *(p for p in TaskPhase if p.ended)),
            f"{name} at trust {task.trust} is {task.phase}: such tasks are never initialized",
        )
        _check(len(assigned) <= 1, f"{name} at trust 1 has {len(assigned)} pending replicates")
    _check(
        len(task.contributors) <= MAX_CONTRIBUTORS,
        f"{name} has more contributions than allowed",
    )
    if task.phase.after_consensus:
        _check(task.consensus_value is not None, f"{name} is {task.phase} without a consensus")
        _check(task.reveal_deadline is not None, f"{name} is {task.phase} without a deadline")
    if task.phase in (TaskPhase.NEW, TaskPhase.INITIALIZING, TaskPhase.ACTIVE):
        _check(task.consensus_value is None, f"{name} is {task.phase} but holds a consensus")
        _check(
            not task.with_status(ReplicateStatus.REVEALED),
            f"{name} is {task.phase} but has reveals",
        )
    if task.phase is TaskPhase.FINALIZING:
        _check(task.result_blob is not None, f"{name} is finalizing without a result")
    if task.uploader is not None and not task.phase.ended:
        uploader = task.replicates.get(task.uploader)
        _check(
            uploader is not None and uploader.status is ReplicateStatus.REVEALED,
            f"{name}: the uploader {task.uploader} has not revealed",
        )
    if task.phase in (TaskPhase.NEW, TaskPhase.INITIALIZING):
        _check(not task.replicates, f"{name} has replicates before it was initialized")
    if task.phase.ended:
        _check(not assigned, f"{name} ended with replicates still assigned")


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise InvalidState(message)
