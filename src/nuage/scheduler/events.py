"""What happens to a scheduler: the events its state machine handles (past tense).

Events come from three places: the chain (through the event watcher: `DealSeen`,
`TaskInitialized`, `ContributionSeen`, `ConsensusReached`, `RevealSeen`, `TaskReopened`,
`TaskFinalized`, `TaskClaimed`; `TaskObserved` when the shell reads a task after a restart), the
workers (through the HTTP API: `WorkerRegistered`, `WorkerHeartbeat`, `ReplicateRequested`,
`ReplicateProgressed`, `ReplicateFailed`, `ResultUploaded`), and the shell itself (`Tick`, the
clock; `ActionFailed` when a transaction it sent was refused; `SchedulerRestarted`).

Every event carries `now`, the wall-clock time in seconds (`time.time()`): the state never reads
a clock. Deadlines on chain are in chain time, which `Tick.chain_time` carries.
"""

from __future__ import annotations

from dataclasses import dataclass

from nuage.protocol.deals import Deal
from nuage.scheduler.actions import FinalizeTasks, InitializeTasks, Reopen

__all__ = [
    "ActionFailed",
    "Capabilities",
    "ConsensusReached",
    "ContributionSeen",
    "DealSeen",
    "Event",
    "ReplicateFailed",
    "ReplicateProgressed",
    "ReplicateRequested",
    "ResultUploaded",
    "RevealSeen",
    "SchedulerRestarted",
    "TaskClaimed",
    "TaskFinalized",
    "TaskInitialized",
    "TaskObserved",
    "TaskReopened",
    "Tick",
    "WorkerHeartbeat",
    "WorkerRegistered",
]


@dataclass(frozen=True, kw_only=True)
class Capabilities:
    """What a worker offers: its machine, its sandboxes, how many replicates it runs at once."""

    cpus: int = 1
    memory_bytes: int = 0
    gpus: int = 0
    sandboxes: tuple[str, ...] = ()
    tee: bool = False
    max_parallel: int = 1

    def __post_init__(self) -> None:
        if self.max_parallel < 1:
            raise ValueError("a worker runs at least one replicate at a time")


# -- from the chain ----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class DealSeen:
    """The market made a deal for this pool (`DealCreated`)."""

    deal_id: bytes
    deal: Deal
    params: str
    now: float


@dataclass(frozen=True, kw_only=True)
class TaskInitialized:
    """The hub started a task (`TaskInitialized`): contributions are open."""

    task_id: bytes
    now: float


@dataclass(frozen=True, kw_only=True)
class ContributionSeen:
    """A worker contributed to a task (`TaskContributed`)."""

    task_id: bytes
    worker: str
    result_hash: bytes
    now: float


@dataclass(frozen=True, kw_only=True)
class ConsensusReached:
    """A result group won (`TaskConsensus`); winners reveal until `reveal_deadline` (chain time)."""

    task_id: bytes
    consensus_value: bytes
    reveal_deadline: int
    now: float


@dataclass(frozen=True, kw_only=True)
class RevealSeen:
    """A winner revealed its digest (`TaskRevealed`)."""

    task_id: bytes
    worker: str
    digest: bytes
    now: float


@dataclass(frozen=True, kw_only=True)
class TaskReopened:
    """No winner revealed in time and the task collects contributions again (`TaskReopened`)."""

    task_id: bytes
    now: float


@dataclass(frozen=True, kw_only=True)
class TaskFinalized:
    """The task completed and was paid (`TaskFinalized`, from finalize or contributeAndFinalize)."""

    task_id: bytes
    results: bytes
    digest: bytes
    now: float


@dataclass(frozen=True, kw_only=True)
class TaskClaimed:
    """Someone claimed the task after its final deadline (`TaskClaimed`): it failed."""

    task_id: bytes
    now: float


@dataclass(frozen=True, kw_only=True)
class TaskObserved:
    """The shell read a task's state on chain (`viewTask`), to reconcile after a restart."""

    task_id: bytes
    status: int  # nuage.protocol.TaskStatus
    consensus_value: bytes
    reveal_deadline: int
    reveals: int
    now: float


# -- from the workers --------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class WorkerRegistered:
    """A worker (logged in with its wallet) told what it offers."""

    worker: str
    capabilities: Capabilities
    now: float


@dataclass(frozen=True, kw_only=True)
class WorkerHeartbeat:
    """A worker is alive and runs these tasks' replicates."""

    worker: str
    running: tuple[bytes, ...]
    now: float


@dataclass(frozen=True, kw_only=True)
class ReplicateRequested:
    """A worker asks for work; the shell read its score and free balance on chain.

    `busy`: the tasks the worker says it is still working on (fetching, computing or sending
    its vote); None when it does not say. A replicate it no longer names (its vote is sent,
    the chain's event not yet seen) does not hold one of its slots.
    """

    worker: str
    score: int
    free_balance: int
    now: float
    busy: tuple[bytes, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class ReplicateProgressed:
    """A worker reports a step of its replicate (fetched, computed, contributed…)."""

    worker: str
    task_id: bytes
    stage: str
    now: float


@dataclass(frozen=True, kw_only=True)
class ReplicateFailed:
    """A worker gave up its replicate (a download, its stake, a transaction failed)."""

    worker: str
    task_id: bytes
    reason: str
    now: float


@dataclass(frozen=True, kw_only=True)
class ResultUploaded:
    """A worker asked to upload the result stored it: blob `blob_id`, with its callback data."""

    worker: str
    task_id: bytes
    blob_id: str
    callback_data: bytes
    now: float


# -- from the shell ----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Tick:
    """Time passes: `now` on the wall clock, `chain_time` the chain's (its latest block's)."""

    now: float
    chain_time: int


@dataclass(frozen=True, kw_only=True)
class ActionFailed:
    """A transaction the shell sent for `action` was refused or lost."""

    action: InitializeTasks | FinalizeTasks | Reopen
    reason: str
    now: float


@dataclass(frozen=True, kw_only=True)
class SchedulerRestarted:
    """The service started again from its saved state: workers get a fresh heartbeat grace."""

    now: float


Event = (
    DealSeen
    | TaskInitialized
    | ContributionSeen
    | ConsensusReached
    | RevealSeen
    | TaskReopened
    | TaskFinalized
    | TaskClaimed
    | TaskObserved
    | WorkerRegistered
    | WorkerHeartbeat
    | ReplicateRequested
    | ReplicateProgressed
    | ReplicateFailed
    | ResultUploaded
    | Tick
    | ActionFailed
    | SchedulerRestarted
)
