"""What a scheduler knows: deals, tasks, replicates, workers, and its timeouts.

Plain records, mutated only by `SchedulerState` (`nuage.scheduler.state`), which documents the
phases and statuses they go through.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from eth_utils import to_checksum_address

from nuage.protocol.deals import Deal
from nuage.scheduler.events import Capabilities

__all__ = [
    "GPU_BIT",
    "MAX_CONTRIBUTORS",
    "TEE_BIT",
    "DealRecord",
    "InvalidState",
    "Replicate",
    "ReplicateStatus",
    "SchedulerConfig",
    "TaskPhase",
    "TaskRecord",
    "WorkerRecord",
    "is_winner",
]

MAX_CONTRIBUTORS = 64  # poco.vy: a task takes at most this many contributions
TEE_BIT = 1
GPU_BIT = 1 << 8


class TaskPhase(enum.StrEnum):
    NEW = "new"
    INITIALIZING = "initializing"
    ACTIVE = "active"
    REVEALING = "revealing"
    FINALIZING = "finalizing"
    REOPENING = "reopening"
    COMPLETED = "completed"
    EXPIRED = "expired"
    FAILED = "failed"

    @property
    def ended(self) -> bool:
        return self in (TaskPhase.COMPLETED, TaskPhase.EXPIRED, TaskPhase.FAILED)

    @property
    def after_consensus(self) -> bool:
        return self in (TaskPhase.REVEALING, TaskPhase.FINALIZING, TaskPhase.REOPENING)


class ReplicateStatus(enum.StrEnum):
    ASSIGNED = "assigned"
    CONTRIBUTED = "contributed"
    REVEALED = "revealed"
    LOST = "lost"
    FAILED = "failed"

    @property
    def on_chain(self) -> bool:
        return self in (ReplicateStatus.CONTRIBUTED, ReplicateStatus.REVEALED)


class InvalidState(AssertionError):
    """`validate()` found a broken invariant: a bug in the state machine."""


@dataclass(frozen=True)
class SchedulerConfig:
    """The pool this scheduler serves and its timeouts, in seconds."""

    workerpool: str
    heartbeat_timeout: float = 30.0  # a worker silent this long is lost
    contribution_timeout: float | None = None  # None: 2 T + 60 s of the deal's category
    upload_timeout: float = 60.0  # before another winner is asked to upload
    tx_retry_after: float = 60.0  # a transaction unconfirmed this long is sent again
    retention: float = 3600.0  # ended tasks are forgotten after this long

    def __post_init__(self) -> None:
        object.__setattr__(self, "workerpool", to_checksum_address(self.workerpool))


@dataclass
class Replicate:
    """One worker's share of a task."""

    worker: str
    status: ReplicateStatus
    assigned_at: float
    weight: int  # its vote weight, from its score when assigned
    stake: int  # what contributing locks from its free balance (0 at trust <= 1)
    round: int  # the task's round when assigned or contributed (reopens count rounds)
    result_hash: bytes | None = None
    counted: bool = True  # in the hub's result groups (False once a reopen dropped its group)
    stage: str = "assigned"  # the last step the worker reported
    failure: str | None = None


@dataclass
class TaskRecord:
    """One task of a deal this pool serves."""

    task_id: bytes
    deal_id: bytes
    index: int
    trust: int
    phase: TaskPhase
    since: float  # when it entered its phase
    retry_at: float = 0.0  # NEW or REVEALING: no transaction before this time
    round: int = 0
    consensus_value: bytes | None = None
    reveal_deadline: int | None = None
    digest: bytes | None = None
    uploader: str | None = None
    upload_asked_at: float | None = None
    upload_refused: set[str] = field(default_factory=set)
    result_blob: str | None = None
    callback_data: bytes = b""
    solo: bool = False  # finalize on its own: a batch holding it was refused
    replicates: dict[str, Replicate] = field(default_factory=dict)

    def with_status(self, *statuses: ReplicateStatus) -> list[Replicate]:
        return [r for r in self.replicates.values() if r.status in statuses]

    @property
    def winners(self) -> list[Replicate]:
        """The contributors of the consensus group (after consensus; empty before)."""
        return [r for r in self.replicates.values() if is_winner(self, r)]

    @property
    def contributors(self) -> list[str]:
        """Every worker whose contribution is on chain, any round."""
        return [r.worker for r in self.replicates.values() if r.status.on_chain]


@dataclass
class DealRecord:
    deal_id: bytes
    deal: Deal
    params: str
    seen_at: float
    task_ids: list[bytes]

    @property
    def contribution_deadline(self) -> int:
        return self.deal.start_time + 7 * self.deal.time_ref

    @property
    def final_deadline(self) -> int:
        return self.deal.start_time + 10 * self.deal.time_ref


@dataclass
class WorkerRecord:
    address: str
    capabilities: Capabilities
    last_seen: float
    lost: bool = False


def is_winner(task: TaskRecord, replicate: Replicate) -> bool:
    return (
        task.consensus_value is not None
        and replicate.status.on_chain
        and replicate.counted
        and replicate.result_hash == task.consensus_value
    )
