"""The scheduler's task state machine, pure: `SchedulerState.handle(event) -> list[Action]`.

No I/O and no clock: events carry the time (`now`, wall clock; `Tick.chain_time`, the chain's).
The asyncio shell (`nuage.scheduler.service`) feeds it chain events, worker requests and ticks,
and carries out the actions it returns.

A task's phases (`TaskPhase`)::

    NEW ─InitializeTasks─▶ INITIALIZING ─TaskInitialized─▶ ACTIVE ◀───── TaskReopened ─────┐
    (trust > 1; trust ≤ 1 tasks start ACTIVE: one replicate, contributeAndFinalize)  │        │
                                                               ConsensusReached      ▼        │
          COMPLETED ◀─TaskFinalized─ FINALIZING ◀─FinalizeTasks─ REVEALING ─Reopen─▶ REOPENING
                                                                                   (no reveal)
    any phase ─final deadline─▶ EXPIRED ─TaskClaimed─▶ FAILED

A replicate (one worker's share of a task, `ReplicateStatus`)::

    ASSIGNED ─ContributionSeen─▶ CONTRIBUTED ─RevealSeen─▶ REVEALED
       ├─ contribution timeout, worker lost, aborted ─▶ LOST ─┐ (a late contribution still
       └─ the worker gave up ──────────────────────────▶ FAILED ┘  counts: CONTRIBUTED)

The rules:

- **As many replicates as consensus needs, no more.** A worker pulling work gets a replicate of
  the first open task (deals in the order seen, tasks by index) for which
  `replicas_needed(groups, pending)` is positive, counting every pending replicate as joining
  the best group; never two replicates of one task for one worker, at most `max_parallel` at a
  time, and only as much stake as its free balance covers. Trust ≤ 1: one replicate at a time.
- **Re-dispatch**: a replicate not contributed within the contribution timeout, or whose worker
  stops heartbeating, is LOST and no longer pending, so the task needs another.
- **Reveal, upload, finalize**: at consensus the winners are asked to reveal; the first to reveal
  is asked to upload the result (another winner when it fails or times out); a task is finalized
  once its result is uploaded and every winner revealed, or the reveal deadline passed with one
  reveal at least. Finalizations wait for the next tick and go out batched per deal.
- **Reopen** when no winner revealed by the reveal deadline; the silent winners' contributions
  leave the hub's groups (`counted` False) and lose their stake at finalize.
- Transactions not confirmed by their event within `tx_retry_after` are sent again; a refused one
  (`ActionFailed`) is retried after that delay, a refused batch task by task.

`validate()` checks the invariants; tests call it after every event.

**What changed**: the state notes every task and deal a handler touched (or forgot), and
`take_changes()` hands the list over, so the shell saves what changed rather than everything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from eth_utils import keccak, to_checksum_address

from nuage.protocol.consensus import Consensus, replicas_needed, weight
from nuage.protocol.deals import Deal
from nuage.protocol.ids import task_id as derive_task_id
from nuage.protocol.orders import ZERO_ADDRESS
from nuage.protocol.poco import TaskStatus
from nuage.scheduler.actions import (
    AbortReplicate,
    Action,
    AskReveal,
    AskUpload,
    AssignReplicate,
    FinalizeTask,
    FinalizeTasks,
    InitializeTasks,
    NoWork,
    ReleaseReplicate,
    Reopen,
)
from nuage.scheduler.events import (
    ActionFailed,
    ConsensusReached,
    ContributionSeen,
    DealSeen,
    Event,
    ReplicateFailed,
    ReplicateProgressed,
    ReplicateRequested,
    ResultUploaded,
    RevealSeen,
    SchedulerRestarted,
    TaskClaimed,
    TaskFinalized,
    TaskInitialized,
    TaskObserved,
    TaskReopened,
    Tick,
    WorkerHeartbeat,
    WorkerRegistered,
)
from nuage.scheduler.invariants import validate_state
from nuage.scheduler.records import (
    GPU_BIT,
    MAX_CONTRIBUTORS,
    TEE_BIT,
    DealRecord,
    InvalidState,
    Replicate,
    ReplicateStatus,
    SchedulerConfig,
    TaskPhase,
    TaskRecord,
    WorkerRecord,
    is_winner,
)

__all__ = [
    "MAX_CONTRIBUTORS",
    "Changes",
    "DealRecord",
    "InvalidState",
    "Replicate",
    "ReplicateStatus",
    "SchedulerConfig",
    "SchedulerState",
    "TaskPhase",
    "TaskRecord",
    "WorkerRecord",
]


@dataclass
class Changes:
    """The tasks and deals changed or forgotten since the last `take_changes()`."""

    tasks: set[bytes] = field(default_factory=set)
    forgotten_tasks: set[bytes] = field(default_factory=set)
    deals: set[bytes] = field(default_factory=set)
    forgotten_deals: set[bytes] = field(default_factory=set)


class SchedulerState:
    """Every deal, task, replicate and worker of one pool; see the module docstring."""

    def __init__(self, config: SchedulerConfig) -> None:
        self.config = config
        self.deals: dict[bytes, DealRecord] = {}
        self.tasks: dict[bytes, TaskRecord] = {}
        self.workers: dict[str, WorkerRecord] = {}
        self.now = 0.0
        self.chain_time = 0
        self._changes = Changes()
        self._handlers: dict[type[Any], Callable[[Any], list[Action]]] = {
            DealSeen: self._handle_deal_seen,
            TaskInitialized: self._handle_task_initialized,
            ContributionSeen: self._handle_contribution_seen,
            ConsensusReached: self._handle_consensus_reached,
            RevealSeen: self._handle_reveal_seen,
            TaskReopened: self._handle_task_reopened,
            TaskFinalized: self._handle_task_finalized,
            TaskClaimed: self._handle_task_claimed,
            TaskObserved: self._handle_task_observed,
            WorkerRegistered: self._handle_worker_registered,
            WorkerHeartbeat: self._handle_worker_heartbeat,
            ReplicateRequested: self._handle_replicate_requested,
            ReplicateProgressed: self._handle_replicate_progressed,
            ReplicateFailed: self._handle_replicate_failed,
            ResultUploaded: self._handle_result_uploaded,
            Tick: self._handle_tick,
            ActionFailed: self._handle_action_failed,
            SchedulerRestarted: self._handle_scheduler_restarted,
        }

    # -- the entry point -----------------------------------------------------------------------

    def handle(self, event: Event) -> list[Action]:
        """Applies `event` and returns what the shell must do about it."""
        self.now = max(self.now, event.now)
        task_id = getattr(event, "task_id", None)
        if task_id in self.tasks:
            self._changes.tasks.add(task_id)
        return self._handlers[type(event)](event)

    def take_changes(self) -> Changes:
        """What changed since the last call (tasks and deals to save again or to delete)."""
        changes, self._changes = self._changes, Changes()
        changes.tasks &= self.tasks.keys()
        changes.deals &= self.deals.keys()
        return changes

    def mark_all_changed(self) -> None:
        """Everything counts as changed (a state loaded from another layout: save it whole)."""
        self._changes.tasks |= self.tasks.keys()
        self._changes.deals |= self.deals.keys()

    def _touch(self, task: TaskRecord) -> None:
        self._changes.tasks.add(task.task_id)

    # -- chain events --------------------------------------------------------------------------

    def _handle_deal_seen(self, event: DealSeen) -> list[Action]:
        deal = event.deal
        if deal.workerpool != self.config.workerpool or event.deal_id in self.deals:
            return []
        self.chain_time = max(self.chain_time, deal.start_time)
        record = DealRecord(event.deal_id, deal, event.params, event.now, [])
        self.deals[event.deal_id] = record
        self._changes.deals.add(event.deal_id)
        phase = TaskPhase.ACTIVE if deal.trust <= 1 else TaskPhase.NEW
        for index in range(deal.bot_first, deal.bot_first + deal.bot_size):
            task_id = derive_task_id(event.deal_id, index)
            record.task_ids.append(task_id)
            self.tasks[task_id] = TaskRecord(
                task_id, event.deal_id, index, deal.trust, phase, since=event.now
            )
            self._changes.tasks.add(task_id)
        return self._initialize_new_tasks()

    def _handle_task_initialized(self, event: TaskInitialized) -> list[Action]:
        task = self.tasks.get(event.task_id)
        if task is not None and task.phase in (TaskPhase.NEW, TaskPhase.INITIALIZING):
            self._transition(task, TaskPhase.ACTIVE)
        return []

    def _handle_contribution_seen(self, event: ContributionSeen) -> list[Action]:
        task = self.tasks.get(event.task_id)
        if task is None:
            return []
        worker = to_checksum_address(event.worker)
        replicate = task.replicates.get(worker)
        if replicate is None:  # not handed out by this state (lost after a crash): the chain wins
            stake = self.deals[task.deal_id].deal.worker_stake
            replicate = Replicate(worker, ReplicateStatus.LOST, event.now, 2, stake, task.round)
            task.replicates[worker] = replicate
        if not replicate.status.on_chain:
            replicate.result_hash = event.result_hash
            replicate.round = task.round
            replicate.counted = True
            self._transition_replicate(replicate, ReplicateStatus.CONTRIBUTED)
        return []

    def _handle_consensus_reached(self, event: ConsensusReached) -> list[Action]:
        task = self.tasks.get(event.task_id)
        if task is None or task.phase not in (
            TaskPhase.ACTIVE,
            TaskPhase.NEW,
            TaskPhase.INITIALIZING,
        ):
            return []
        task.consensus_value = event.consensus_value
        task.reveal_deadline = event.reveal_deadline
        self._transition(task, TaskPhase.REVEALING)
        winners = tuple(r.worker for r in task.winners if r.status is ReplicateStatus.CONTRIBUTED)
        return [AskReveal(task_id=task.task_id, workers=winners)] if winners else []

    def _handle_reveal_seen(self, event: RevealSeen) -> list[Action]:
        task = self.tasks.get(event.task_id)
        if task is None:
            return []
        worker = to_checksum_address(event.worker)
        replicate = task.replicates.get(worker)
        task.digest = event.digest
        if replicate is None or replicate.status is not ReplicateStatus.CONTRIBUTED:
            return []
        self._transition_replicate(replicate, ReplicateStatus.REVEALED)
        if task.uploader is None and task.result_blob is None and not task.phase.ended:
            return [self._ask_upload(task, worker)]
        return []

    def _handle_task_reopened(self, event: TaskReopened) -> list[Action]:
        task = self.tasks.get(event.task_id)
        if task is not None and task.phase.after_consensus:
            self._transition(task, TaskPhase.ACTIVE)
        return []

    def _handle_task_finalized(self, event: TaskFinalized) -> list[Action]:
        task = self.tasks.get(event.task_id)
        if task is not None and task.phase is not TaskPhase.COMPLETED:
            task.result_blob = bytes(event.results).hex()
            task.digest = event.digest
            self._transition(task, TaskPhase.COMPLETED)
        return []

    def _handle_task_claimed(self, event: TaskClaimed) -> list[Action]:
        task = self.tasks.get(event.task_id)
        if task is not None and task.phase is not TaskPhase.FAILED:
            self._transition(task, TaskPhase.FAILED)
        return []

    def _handle_task_observed(self, event: TaskObserved) -> list[Action]:
        """Brings a task in line with the chain (after a restart, when events may be missed)."""
        task = self.tasks.get(event.task_id)
        if task is None:
            return []
        if event.status == TaskStatus.COMPLETED:
            if task.phase is not TaskPhase.COMPLETED:
                self._transition(task, TaskPhase.COMPLETED)
        elif event.status == TaskStatus.FAILED:
            if task.phase is not TaskPhase.FAILED:
                self._transition(task, TaskPhase.FAILED)
        elif event.status == TaskStatus.ACTIVE:
            if task.phase in (TaskPhase.NEW, TaskPhase.INITIALIZING) or task.phase.after_consensus:
                self._transition(task, TaskPhase.ACTIVE)
        elif event.status == TaskStatus.REVEALING:
            if task.phase in (TaskPhase.NEW, TaskPhase.INITIALIZING, TaskPhase.ACTIVE):
                task.consensus_value = event.consensus_value
                task.reveal_deadline = event.reveal_deadline
                self._transition(task, TaskPhase.REVEALING)
            elif task.phase in (TaskPhase.FINALIZING, TaskPhase.REOPENING):
                self._transition(task, TaskPhase.REVEALING)
        elif event.status == TaskStatus.UNSET and task.phase is TaskPhase.INITIALIZING:
            self._transition(task, TaskPhase.NEW)
        return []

    # -- worker events -------------------------------------------------------------------------

    def _handle_worker_registered(self, event: WorkerRegistered) -> list[Action]:
        worker = to_checksum_address(event.worker)
        self.workers[worker] = WorkerRecord(worker, event.capabilities, event.now)
        return []

    def _handle_worker_heartbeat(self, event: WorkerHeartbeat) -> list[Action]:
        """Alive again; the answer repeats every instruction the worker has not carried out."""
        worker = self._seen(event.worker, event.now)
        if worker is None:
            return []
        actions: list[Action] = []
        for task in self._tasks_of(worker.address):
            replicate = task.replicates[worker.address]
            if task.phase is TaskPhase.REVEALING and is_winner(task, replicate):
                if replicate.status is ReplicateStatus.CONTRIBUTED:
                    actions.append(AskReveal(task_id=task.task_id, workers=(worker.address,)))
                elif task.uploader == worker.address and task.result_blob is None:
                    actions.append(AskUpload(task_id=task.task_id, worker=worker.address))
        for task_id in event.running:
            actions.extend(self._stop_if_unneeded(worker.address, task_id))
        return actions

    def _handle_replicate_requested(self, event: ReplicateRequested) -> list[Action]:
        worker = self._seen(event.worker, event.now)
        if worker is None:
            return [NoWork(worker=event.worker, reason="register before asking for work")]
        assigned = [
            task
            for task in self._tasks_of(worker.address)
            if task.replicates[worker.address].status is ReplicateStatus.ASSIGNED
        ]
        running = (
            len(assigned)
            if event.busy is None
            else sum(task.task_id in event.busy for task in assigned)
        )
        if running >= worker.capabilities.max_parallel:
            return [NoWork(worker=worker.address, reason=f"it runs {running} replicates")]
        committed = sum(task.replicates[worker.address].stake for task in assigned)
        vote_weight = weight(event.score)
        reason = "no task needs a replicate"
        for task, record in self._open_tasks():
            if worker.address in task.replicates or not self._can_run(worker, record.deal):
                continue
            stake = record.deal.worker_stake if task.trust > 1 else 0
            if stake and committed + stake > event.free_balance:
                reason = f"its free balance {event.free_balance} cannot stake {stake} more nRLC"
                continue
            if self._replicas_needed(task, vote_weight) == 0:
                continue
            self._touch(task)
            task.replicates[worker.address] = Replicate(
                worker.address,
                ReplicateStatus.ASSIGNED,
                assigned_at=event.now,
                weight=vote_weight,
                stake=stake,
                round=task.round,
            )
            return [
                AssignReplicate(
                    worker=worker.address,
                    task_id=task.task_id,
                    deal_id=task.deal_id,
                    index=task.index,
                )
            ]
        return [NoWork(worker=worker.address, reason=reason)]

    def _handle_replicate_progressed(self, event: ReplicateProgressed) -> list[Action]:
        worker = self._seen(event.worker, event.now)
        task = self.tasks.get(event.task_id)
        if worker is not None and task is not None and worker.address in task.replicates:
            task.replicates[worker.address].stage = event.stage
        return []

    def _handle_replicate_failed(self, event: ReplicateFailed) -> list[Action]:
        worker = self._seen(event.worker, event.now)
        task = self.tasks.get(event.task_id)
        if worker is None or task is None or worker.address not in task.replicates:
            return []
        replicate = task.replicates[worker.address]
        replicate.failure = event.reason
        if replicate.status in (ReplicateStatus.ASSIGNED, ReplicateStatus.LOST):
            self._transition_replicate(replicate, ReplicateStatus.FAILED)
        if task.uploader == worker.address and task.result_blob is None:
            task.upload_refused.add(worker.address)
            task.uploader = None
        return []

    def _handle_result_uploaded(self, event: ResultUploaded) -> list[Action]:
        worker = self._seen(event.worker, event.now)
        task = self.tasks.get(event.task_id)
        if worker is None or task is None or task.result_blob is not None:
            return []
        replicate = task.replicates.get(worker.address)
        if replicate is None or replicate.status is not ReplicateStatus.REVEALED:
            return []
        deal = self.deals[task.deal_id].deal
        has_callback = deal.callback != ZERO_ADDRESS
        callback_data = event.callback_data if has_callback else b""
        if not _is_blob_id(event.blob_id) or (
            has_callback and keccak(callback_data) != task.digest
        ):  # the hub would refuse to finalize with it
            task.upload_refused.add(worker.address)
            if task.uploader == worker.address:
                task.uploader = None
            return []
        task.result_blob = event.blob_id
        task.callback_data = callback_data
        task.uploader = worker.address
        return []

    # -- the shell's events --------------------------------------------------------------------

    def _handle_tick(self, event: Tick) -> list[Action]:
        self.chain_time = max(self.chain_time, event.chain_time)
        actions: list[Action] = []
        for worker in self.workers.values():
            if not worker.lost and self.now - worker.last_seen > self.config.heartbeat_timeout:
                worker.lost = True
                for task in self._tasks_of(worker.address):
                    replicate = task.replicates[worker.address]
                    if replicate.status is ReplicateStatus.ASSIGNED:
                        self._touch(task)
                        replicate.failure = "its worker stopped sending heartbeats"
                        self._transition_replicate(replicate, ReplicateStatus.LOST)
        ready: list[TaskRecord] = []
        for task in list(self.tasks.values()):
            if task.phase.ended:
                continue
            record = self.deals[task.deal_id]
            if self.chain_time >= record.final_deadline:
                self._transition(task, TaskPhase.EXPIRED)
                continue
            self._expire_replicates(task, record)
            actions.extend(self._advance(task, ready))
        actions.extend(self._initialize_new_tasks())
        actions.extend(self._finalize(ready))
        self._forget_old_tasks()
        return actions

    def _handle_action_failed(self, event: ActionFailed) -> list[Action]:
        action = event.action
        retry_at = event.now + self.config.tx_retry_after
        if isinstance(action, InitializeTasks):
            for index in action.indices:
                task = self.tasks.get(derive_task_id(action.deal_id, index))
                if task is None or task.phase is not TaskPhase.INITIALIZING:
                    continue
                self._touch(task)
                if "already initialized" in event.reason:
                    self._transition(task, TaskPhase.ACTIVE)
                else:
                    self._transition(task, TaskPhase.NEW)
                    task.retry_at = retry_at
            return []
        failed = (
            [t.task_id for t in action.tasks]
            if isinstance(action, FinalizeTasks)
            else [action.task_id]
        )
        for task_id in failed:
            task = self.tasks.get(task_id)
            if task is None or task.phase not in (TaskPhase.FINALIZING, TaskPhase.REOPENING):
                continue
            self._touch(task)
            self._transition(task, TaskPhase.REVEALING)
            task.retry_at = retry_at
            task.solo = task.solo or len(failed) > 1
        return []

    def _handle_scheduler_restarted(self, event: SchedulerRestarted) -> list[Action]:
        """Workers get a fresh grace; transactions that may have been lost are sent again."""
        for worker in self.workers.values():
            worker.last_seen = event.now
        for task in self.tasks.values():
            if task.phase is TaskPhase.INITIALIZING:
                self._transition(task, TaskPhase.NEW)
            elif task.phase in (TaskPhase.FINALIZING, TaskPhase.REOPENING):
                self._transition(task, TaskPhase.REVEALING)
        return self._initialize_new_tasks()

    # -- transitions ---------------------------------------------------------------------------

    def _transition(self, task: TaskRecord, phase: TaskPhase) -> None:
        method = getattr(self, f"_transition_{task.phase}_{phase}", None)
        if method is None:
            method = getattr(self, f"_transition_any_{phase}")
        method(task)
        task.phase = phase
        task.since = self.now
        self._touch(task)

    def _transition_new_initializing(self, task: TaskRecord) -> None:
        task.retry_at = 0.0

    def _transition_initializing_new(self, task: TaskRecord) -> None:
        task.retry_at = 0.0

    def _transition_new_active(self, task: TaskRecord) -> None:
        pass

    def _transition_initializing_active(self, task: TaskRecord) -> None:
        pass

    def _transition_active_revealing(self, task: TaskRecord) -> None:
        task.retry_at = 0.0

    def _transition_new_revealing(self, task: TaskRecord) -> None:
        pass

    def _transition_initializing_revealing(self, task: TaskRecord) -> None:
        pass

    def _transition_revealing_finalizing(self, task: TaskRecord) -> None:
        pass

    def _transition_finalizing_revealing(self, task: TaskRecord) -> None:
        pass

    def _transition_revealing_reopening(self, task: TaskRecord) -> None:
        pass

    def _transition_reopening_revealing(self, task: TaskRecord) -> None:
        pass

    def _transition_revealing_active(self, task: TaskRecord) -> None:
        """A reopen: the consensus group leaves the hub's groups and a new round starts."""
        for replicate in task.winners:
            replicate.counted = False
        task.round += 1
        task.consensus_value = None
        task.reveal_deadline = None
        task.uploader = None
        task.upload_asked_at = None
        task.upload_refused.clear()
        task.solo = False

    _transition_reopening_active = _transition_revealing_active
    _transition_finalizing_active = _transition_revealing_active

    def _transition_any_completed(self, task: TaskRecord) -> None:
        self._end_replicates(task, "the task completed")

    def _transition_any_expired(self, task: TaskRecord) -> None:
        self._end_replicates(task, "the task passed its final deadline")

    def _transition_any_failed(self, task: TaskRecord) -> None:
        self._end_replicates(task, "the task failed")

    def _end_replicates(self, task: TaskRecord, reason: str) -> None:
        for replicate in task.with_status(ReplicateStatus.ASSIGNED):
            replicate.failure = reason
            self._transition_replicate(replicate, ReplicateStatus.LOST)

    def _transition_replicate(self, replicate: Replicate, status: ReplicateStatus) -> None:
        getattr(self, f"_transition_{replicate.status}_{status}")(replicate)
        replicate.status = status

    def _transition_assigned_contributed(self, replicate: Replicate) -> None:
        replicate.stage = "contributed"

    _transition_lost_contributed = _transition_assigned_contributed
    _transition_failed_contributed = _transition_assigned_contributed

    def _transition_contributed_revealed(self, replicate: Replicate) -> None:
        replicate.stage = "revealed"

    def _transition_assigned_lost(self, replicate: Replicate) -> None:
        pass

    def _transition_assigned_failed(self, replicate: Replicate) -> None:
        pass

    def _transition_lost_failed(self, replicate: Replicate) -> None:
        pass

    # -- helpers -------------------------------------------------------------------------------

    def _seen(self, address: str, now: float) -> WorkerRecord | None:
        worker = self.workers.get(to_checksum_address(address))
        if worker is not None:
            worker.last_seen = max(worker.last_seen, now)
            worker.lost = False
        return worker

    def _tasks_of(self, worker: str) -> Iterator[TaskRecord]:
        for task in self.tasks.values():
            if worker in task.replicates:
                yield task

    def _open_tasks(self) -> Iterator[tuple[TaskRecord, DealRecord]]:
        """Tasks that take contributions now, deals in the order seen, tasks by index."""
        for record in self.deals.values():
            if self.chain_time >= record.contribution_deadline:
                continue
            for task_id in record.task_ids:
                task = self.tasks.get(task_id)
                if task is not None and task.phase is TaskPhase.ACTIVE:
                    yield task, record

    @staticmethod
    def _can_run(worker: WorkerRecord, deal: Deal) -> bool:
        tag = int.from_bytes(deal.tag, "big")
        capabilities = worker.capabilities
        if tag & TEE_BIT and not capabilities.tee:
            return False
        if tag & GPU_BIT and capabilities.gpus < 1:
            return False
        return bool(capabilities.sandboxes)

    @staticmethod
    def consensus_of(task: TaskRecord) -> Consensus:
        """The task's result groups as the hub holds them (contributions seen so far)."""
        groups: dict[bytes, int] = {}
        for replicate in task.replicates.values():
            if replicate.status.on_chain and replicate.counted and replicate.result_hash:
                groups[replicate.result_hash] = (
                    groups.get(replicate.result_hash, 1) * replicate.weight
                )
        return Consensus(task.trust, groups)

    def _replicas_needed(self, task: TaskRecord, next_weight: int) -> int:
        pending = [r.weight for r in task.with_status(ReplicateStatus.ASSIGNED)]
        if task.trust <= 1:
            return 0 if pending else 1
        if len(task.contributors) + len(pending) >= MAX_CONTRIBUTORS:
            return 0
        try:
            return replicas_needed(self.consensus_of(task), pending, next_weight)
        except ValueError:
            return 0

    def _contribution_timeout(self, record: DealRecord) -> float:
        if self.config.contribution_timeout is not None:
            return self.config.contribution_timeout
        return 2.0 * record.deal.time_ref + 60.0

    def _expire_replicates(self, task: TaskRecord, record: DealRecord) -> None:
        timeout = self._contribution_timeout(record)
        for replicate in task.with_status(ReplicateStatus.ASSIGNED):
            if self.now - replicate.assigned_at > timeout:
                self._touch(task)
                replicate.failure = f"not contributed within {timeout:g} s"
                self._transition_replicate(replicate, ReplicateStatus.LOST)

    def _advance(self, task: TaskRecord, ready: list[TaskRecord]) -> list[Action]:
        """A tick for one task: retries, uploads, readiness to finalize, reopening."""
        retry = self.config.tx_retry_after
        if task.phase is TaskPhase.INITIALIZING and self.now - task.since > retry:
            self._transition(task, TaskPhase.NEW)
        elif (
            task.phase in (TaskPhase.FINALIZING, TaskPhase.REOPENING)
            and self.now - task.since > retry
        ):
            self._transition(task, TaskPhase.REVEALING)
        if task.phase is not TaskPhase.REVEALING or self.now < task.retry_at:
            return []
        revealed = task.with_status(ReplicateStatus.REVEALED)
        deadline_passed = (
            task.reveal_deadline is not None and self.chain_time >= task.reveal_deadline
        )
        if not revealed:
            if deadline_passed:
                self._transition(task, TaskPhase.REOPENING)
                return [Reopen(task_id=task.task_id, deal_id=task.deal_id, index=task.index)]
            return []
        if task.result_blob is None:
            return self._chase_upload(task, revealed)
        if len(revealed) == len(task.winners) or deadline_passed:
            ready.append(task)
        return []

    def _chase_upload(self, task: TaskRecord, revealed: list[Replicate]) -> list[Action]:
        if task.uploader is not None and task.upload_asked_at is not None:
            if self.now - task.upload_asked_at <= self.config.upload_timeout:
                return []
            self._touch(task)
            task.upload_refused.add(task.uploader)
            task.uploader = None
        candidates = [r.worker for r in revealed if r.worker not in task.upload_refused]
        if not candidates:  # everyone failed once: ask them all again, in turn
            task.upload_refused.clear()
            candidates = [r.worker for r in revealed]
        return [self._ask_upload(task, candidates[0])]

    def _ask_upload(self, task: TaskRecord, worker: str) -> AskUpload:
        self._touch(task)
        task.uploader = worker
        task.upload_asked_at = self.now
        return AskUpload(task_id=task.task_id, worker=worker)

    def _stop_if_unneeded(self, worker: str, task_id: bytes) -> list[Action]:
        """What to tell a worker running a replicate of `task_id` that may be useless."""
        task = self.tasks.get(task_id)
        replicate = None if task is None else task.replicates.get(worker)
        if task is None or replicate is None or task.phase.ended:
            return [ReleaseReplicate(worker=worker, task_id=task_id)]
        if replicate.status is ReplicateStatus.ASSIGNED and task.phase is not TaskPhase.ACTIVE:
            self._touch(task)
            replicate.failure = f"aborted: the task is {task.phase}"
            self._transition_replicate(replicate, ReplicateStatus.LOST)
        if replicate.status in (ReplicateStatus.LOST, ReplicateStatus.FAILED):
            reason = replicate.failure or "no longer needed"
            return [AbortReplicate(worker=worker, task_id=task_id, reason=reason)]
        return []

    def _initialize_new_tasks(self) -> list[Action]:
        actions: list[Action] = []
        for record in self.deals.values():
            due = [
                self.tasks[t]
                for t in record.task_ids
                if t in self.tasks
                and self.tasks[t].phase is TaskPhase.NEW
                and self.tasks[t].retry_at <= self.now
                and self.chain_time < record.contribution_deadline
            ]
            for task in due:
                self._transition(task, TaskPhase.INITIALIZING)
            if due:
                indices = tuple(task.index for task in due)
                actions.append(InitializeTasks(deal_id=record.deal_id, indices=indices))
        return actions

    def _finalize(self, ready: list[TaskRecord]) -> list[Action]:
        batches: dict[bytes, list[FinalizeTask]] = {}
        actions: list[Action] = []
        for task in ready:
            self._transition(task, TaskPhase.FINALIZING)
            assert task.result_blob is not None
            item = FinalizeTask(
                task_id=task.task_id,
                index=task.index,
                results=bytes.fromhex(task.result_blob),
                callback_data=task.callback_data,
                contributors=tuple(sorted(task.contributors, key=lambda a: int(a, 16))),
            )
            if task.solo:
                actions.append(FinalizeTasks(deal_id=task.deal_id, tasks=(item,)))
            else:
                batches.setdefault(task.deal_id, []).append(item)
        for deal_id, items in batches.items():
            actions.append(FinalizeTasks(deal_id=deal_id, tasks=tuple(items)))
        return actions

    def _forget_old_tasks(self) -> None:
        for task_id, task in list(self.tasks.items()):
            if task.phase.ended and self.now - task.since > self.config.retention:
                del self.tasks[task_id]
                self._changes.forgotten_tasks.add(task_id)
        for deal_id, record in list(self.deals.items()):
            if not any(t in self.tasks for t in record.task_ids):
                del self.deals[deal_id]
                self._changes.forgotten_deals.add(deal_id)

    # -- queries -------------------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """Counts for a status page: tasks by phase, workers alive and lost."""
        phases: dict[str, int] = {}
        for task in self.tasks.values():
            phases[task.phase.value] = phases.get(task.phase.value, 0) + 1
        return {
            "deals": len(self.deals),
            "tasks": phases,
            "workers": {
                "alive": sum(not w.lost for w in self.workers.values()),
                "lost": sum(w.lost for w in self.workers.values()),
            },
        }

    # -- invariants ----------------------------------------------------------------------------

    def validate(self) -> None:
        """Raises InvalidState when an invariant does not hold (`nuage.scheduler.invariants`)."""
        validate_state(self)


def _is_blob_id(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)
