"""What a scheduler's state machine asks its shell to do (imperative).

Chain transactions (`InitializeTasks`, `FinalizeTasks`, `Reopen`) are sent by the shell with the
pool owner's key, batched per deal; a refusal comes back as `ActionFailed`. Answers to a worker
(`AssignReplicate`, for which the shell signs the authorization, and `NoWork`) go back in the
HTTP response to its pull; instructions (`AskReveal`, `AskUpload`, `AbortReplicate`,
`ReleaseReplicate`) are delivered in the answers to its heartbeats, and repeated there until
the worker has done them.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AbortReplicate",
    "Action",
    "AskReveal",
    "AskUpload",
    "AssignReplicate",
    "FinalizeTask",
    "FinalizeTasks",
    "InitializeTasks",
    "NoWork",
    "ReleaseReplicate",
    "Reopen",
]


@dataclass(frozen=True, kw_only=True)
class InitializeTasks:
    """Start these tasks of one deal on chain (trust > 1), in as few transactions as possible."""

    deal_id: bytes
    indices: tuple[int, ...]


@dataclass(frozen=True, kw_only=True)
class AssignReplicate:
    """Hand `worker` a replicate of this task, with an authorization signed by the pool owner."""

    worker: str
    task_id: bytes
    deal_id: bytes
    index: int


@dataclass(frozen=True, kw_only=True)
class NoWork:
    """Tell `worker` there is nothing for it now, and why."""

    worker: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class AskReveal:
    """Tell these winners of the task's consensus to reveal their digest."""

    task_id: bytes
    workers: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class AskUpload:
    """Tell `worker` (a winner who revealed) to upload the task's result and hand in its id."""

    task_id: bytes
    worker: str


@dataclass(frozen=True, kw_only=True)
class AbortReplicate:
    """Tell `worker` to stop its replicate of the task: it is no longer needed."""

    worker: str
    task_id: bytes
    reason: str


@dataclass(frozen=True, kw_only=True)
class ReleaseReplicate:
    """Tell `worker` the task has ended (completed or failed): it may forget its replicate."""

    worker: str
    task_id: bytes


@dataclass(frozen=True, kw_only=True)
class FinalizeTask:
    """One task of a `FinalizeTasks` batch."""

    task_id: bytes
    index: int
    results: bytes  # the result's blob id, 32 bytes
    callback_data: bytes
    contributors: tuple[str, ...]  # every contributor of the task, in ascending address order


@dataclass(frozen=True, kw_only=True)
class FinalizeTasks:
    """Finalize these tasks of one deal on chain, in as few transactions as possible."""

    deal_id: bytes
    tasks: tuple[FinalizeTask, ...]


@dataclass(frozen=True, kw_only=True)
class Reopen:
    """Reopen a task whose winners all stayed silent until the reveal deadline."""

    task_id: bytes
    deal_id: bytes
    index: int


Action = (
    InitializeTasks
    | AssignReplicate
    | NoWork
    | AskReveal
    | AskUpload
    | AbortReplicate
    | ReleaseReplicate
    | FinalizeTasks
    | Reopen
)
