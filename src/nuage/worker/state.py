"""A worker's replicates, pure: `WorkerState.handle(event) -> list[Action]`.

No I/O and no clock: the agent shell (`nuage.worker.agent`) downloads, runs the sandbox, sends
transactions and talks to the scheduler, and feeds what came of it back as events. The state is
saved after every event (`ReplicateRecord.to_json`), so a restarted worker knows what it did.

A replicate's stages (`Stage`)::

    ASSIGNED ─InputsFetched─▶ FETCHED ─ResultComputed─▶ COMPUTED
      trust > 1:  COMPUTED ─▶ CONTRIBUTING ─Contributed─▶ CONTRIBUTED ─RevealAsked─▶ REVEALING
                  ─Revealed─▶ REVEALED ─UploadAsked─▶ UPLOADING ─ResultStored─▶ UPLOADED
                  ─ReleaseAsked (the task ended)─▶ DONE
      trust ≤ 1:  COMPUTED ─▶ UPLOADING ─ResultStored─▶ FINALIZING ─Finalized─▶ DONE
    any stage ─StepFailed─▶ FAILED;  before contributing ─AbortAsked─▶ ABORTED

Rules: never two replicates of one task (a second assignment is refused); a replicate whose
contribution transaction may have been sent is never contributed again without asking the chain
first (`CheckChain` after a restart, answered by `ChainObserved`). Adversary modes (devnet
only; the shell checks the chain id) change what is voted or what is done: `liar` votes a
digest of its own, `colluding` a digest every colluder shares, `silent` never reveals, `crash`
dies after computing.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_utils import keccak, to_canonical_address

from nuage.protocol.deals import Deal
from nuage.protocol.poco import TaskStatus
from nuage.scheduler.wire import deal_from_json, deal_to_json

__all__ = [
    "MODES",
    "AbortAsked",
    "Action",
    "AgentRestarted",
    "Assignment",
    "ChainObserved",
    "CheckChain",
    "Cleanup",
    "Compute",
    "Contribute",
    "ContributeAndFinalize",
    "Contributed",
    "Crash",
    "Event",
    "Fetch",
    "Finalized",
    "HandInResult",
    "InputsFetched",
    "ReleaseAsked",
    "ReplicateAssigned",
    "ReplicateRecord",
    "ReportFailure",
    "ReportStatus",
    "ResultComputed",
    "ResultStored",
    "Reveal",
    "RevealAsked",
    "Revealed",
    "Stage",
    "StepFailed",
    "Upload",
    "UploadAsked",
    "WorkerState",
]

HONEST, LIAR, COLLUDING, SILENT, CRASH = "honest", "liar", "colluding", "silent", "crash"
MODES = (HONEST, LIAR, COLLUDING, SILENT, CRASH)


class Stage(enum.StrEnum):
    ASSIGNED = "assigned"
    FETCHED = "fetched"
    COMPUTED = "computed"
    CONTRIBUTING = "contributing"
    CONTRIBUTED = "contributed"
    REVEALING = "revealing"
    REVEALED = "revealed"
    UPLOADING = "uploading"
    UPLOADED = "uploaded"
    FINALIZING = "finalizing"
    DONE = "done"
    FAILED = "failed"
    ABORTED = "aborted"

    @property
    def ended(self) -> bool:
        return self in (Stage.DONE, Stage.FAILED, Stage.ABORTED)

    @property
    def busy(self) -> bool:
        """Holding one of the worker's slots: fetching, computing or handing in its vote."""
        return self in (Stage.ASSIGNED, Stage.FETCHED, Stage.COMPUTED, Stage.CONTRIBUTING)


@dataclass(frozen=True, kw_only=True)
class Assignment:
    """A replicate as the scheduler hands it out (the shell checks it against the chain)."""

    task_id: bytes
    deal_id: bytes
    index: int
    deal: Deal
    params: str
    authorization: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "task_id": "0x" + self.task_id.hex(),
            "deal_id": "0x" + self.deal_id.hex(),
            "index": self.index,
            "deal": deal_to_json(self.deal),
            "params": self.params,
            "authorization": "0x" + self.authorization.hex(),
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Assignment:
        return cls(
            task_id=_unhex(raw["task_id"]),
            deal_id=_unhex(raw["deal_id"]),
            index=int(raw["index"]),
            deal=deal_from_json(raw["deal"]),
            params=str(raw["params"]),
            authorization=_unhex(raw["authorization"]),
        )


@dataclass
class ReplicateRecord:
    """One replicate this worker holds, and everything it must remember about it."""

    assignment: Assignment
    stage: Stage
    since: float
    vote: bytes | None = None  # the digest contributed (the computed one, unless lying)
    computed: bytes | None = None  # the digest the app's output has
    callback_data: bytes = b""
    app_error: str | None = None  # why the app failed, when its result is an error result
    blob_id: str | None = None
    reveal_asked: bool = False
    upload_asked: bool = False
    failure: str | None = None

    @property
    def task_id(self) -> bytes:
        return self.assignment.task_id

    @property
    def replicated(self) -> bool:
        return self.assignment.deal.trust > 1

    def to_json(self) -> dict[str, Any]:
        return {
            "assignment": self.assignment.to_json(),
            "stage": self.stage.value,
            "since": self.since,
            "vote": _hex(self.vote),
            "computed": _hex(self.computed),
            "callback_data": self.callback_data.hex(),
            "app_error": self.app_error,
            "blob_id": self.blob_id,
            "reveal_asked": self.reveal_asked,
            "upload_asked": self.upload_asked,
            "failure": self.failure,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ReplicateRecord:
        return cls(
            assignment=Assignment.from_json(raw["assignment"]),
            stage=Stage(raw["stage"]),
            since=float(raw["since"]),
            vote=_maybe_unhex(raw["vote"]),
            computed=_maybe_unhex(raw["computed"]),
            callback_data=bytes.fromhex(raw["callback_data"]),
            app_error=raw["app_error"],
            blob_id=raw["blob_id"],
            reveal_asked=bool(raw["reveal_asked"]),
            upload_asked=bool(raw["upload_asked"]),
            failure=raw["failure"],
        )


# -- events (past tense) -----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ReplicateAssigned:
    assignment: Assignment
    now: float


@dataclass(frozen=True, kw_only=True)
class InputsFetched:
    """The app bundle, the dataset and the input files are here, checksums verified."""

    task_id: bytes
    now: float


@dataclass(frozen=True, kw_only=True)
class ResultComputed:
    """The app ran (or failed deterministically): the digest of its result."""

    task_id: bytes
    digest: bytes
    callback_data: bytes
    app_error: str | None
    now: float


@dataclass(frozen=True, kw_only=True)
class Contributed:
    task_id: bytes
    now: float


@dataclass(frozen=True, kw_only=True)
class RevealAsked:
    task_id: bytes
    now: float


@dataclass(frozen=True, kw_only=True)
class Revealed:
    task_id: bytes
    now: float


@dataclass(frozen=True, kw_only=True)
class UploadAsked:
    task_id: bytes
    now: float


@dataclass(frozen=True, kw_only=True)
class ResultStored:
    """The zipped result is in storage as blob `blob_id`."""

    task_id: bytes
    blob_id: str
    now: float


@dataclass(frozen=True, kw_only=True)
class Finalized:
    """contributeAndFinalize went through (trust <= 1): the task is completed and paid."""

    task_id: bytes
    now: float


@dataclass(frozen=True, kw_only=True)
class AbortAsked:
    task_id: bytes
    reason: str
    now: float


@dataclass(frozen=True, kw_only=True)
class ReleaseAsked:
    """The scheduler says the task ended: nothing more will be asked of this replicate."""

    task_id: bytes
    now: float


@dataclass(frozen=True, kw_only=True)
class StepFailed:
    task_id: bytes
    reason: str
    now: float


@dataclass(frozen=True, kw_only=True)
class ChainObserved:
    """The chain's view of the task and of this worker's contribution (`CheckChain`'s answer)."""

    task_id: bytes
    task_status: int  # nuage.protocol.TaskStatus
    contribution_status: int  # 0 none, 1 contributed, 2 revealed
    now: float


@dataclass(frozen=True, kw_only=True)
class AgentRestarted:
    now: float


Event = (
    ReplicateAssigned
    | InputsFetched
    | ResultComputed
    | Contributed
    | RevealAsked
    | Revealed
    | UploadAsked
    | ResultStored
    | Finalized
    | AbortAsked
    | ReleaseAsked
    | StepFailed
    | ChainObserved
    | AgentRestarted
)


# -- actions (imperative) ----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Fetch:
    task_id: bytes


@dataclass(frozen=True, kw_only=True)
class Compute:
    task_id: bytes


@dataclass(frozen=True, kw_only=True)
class Contribute:
    task_id: bytes
    vote: bytes


@dataclass(frozen=True, kw_only=True)
class Reveal:
    task_id: bytes
    vote: bytes


@dataclass(frozen=True, kw_only=True)
class Upload:
    task_id: bytes


@dataclass(frozen=True, kw_only=True)
class HandInResult:
    task_id: bytes
    blob_id: str
    callback_data: bytes


@dataclass(frozen=True, kw_only=True)
class ContributeAndFinalize:
    task_id: bytes
    vote: bytes
    blob_id: str
    callback_data: bytes


@dataclass(frozen=True, kw_only=True)
class ReportStatus:
    task_id: bytes
    stage: Stage


@dataclass(frozen=True, kw_only=True)
class ReportFailure:
    task_id: bytes
    reason: str


@dataclass(frozen=True, kw_only=True)
class CheckChain:
    task_id: bytes


@dataclass(frozen=True, kw_only=True)
class Cleanup:
    """Delete the replicate's files (its record stays, so the task is never taken again)."""

    task_id: bytes


@dataclass(frozen=True, kw_only=True)
class Crash:
    reason: str


Action = (
    Fetch
    | Compute
    | Contribute
    | Reveal
    | Upload
    | HandInResult
    | ContributeAndFinalize
    | ReportStatus
    | ReportFailure
    | CheckChain
    | Cleanup
    | Crash
)


class WorkerState:
    """Every replicate this worker has held, by task id; see the module docstring."""

    def __init__(self, address: str, *, max_parallel: int = 1, mode: str = HONEST) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown worker mode {mode!r}: one of {', '.join(MODES)}")
        self.address = address
        self.max_parallel = max_parallel
        self.mode = mode
        self.replicates: dict[bytes, ReplicateRecord] = {}
        self.changed: set[bytes] = set()  # records changed by the last event, for the shell
        self.now = 0.0
        self._handlers: dict[type[Any], Callable[[Any], list[Action]]] = {
            ReplicateAssigned: self._handle_assigned,
            InputsFetched: self._handle_inputs_fetched,
            ResultComputed: self._handle_result_computed,
            Contributed: self._handle_contributed,
            RevealAsked: self._handle_reveal_asked,
            Revealed: self._handle_revealed,
            UploadAsked: self._handle_upload_asked,
            ResultStored: self._handle_result_stored,
            Finalized: self._handle_finalized,
            AbortAsked: self._handle_abort_asked,
            ReleaseAsked: self._handle_release_asked,
            StepFailed: self._handle_step_failed,
            ChainObserved: self._handle_chain_observed,
            AgentRestarted: self._handle_agent_restarted,
        }

    # -- the entry point and queries -------------------------------------------------------------

    def handle(self, event: Event) -> list[Action]:
        self.changed = set()
        self.now = event.now
        return self._handlers[type(event)](event)

    def free_slots(self) -> int:
        return max(0, self.max_parallel - sum(r.stage.busy for r in self.replicates.values()))

    def busy(self) -> list[bytes]:
        """Tasks holding one of the slots (fetching, computing or sending their vote)."""
        return [t for t, r in self.replicates.items() if r.stage.busy]

    def running(self) -> list[bytes]:
        """Tasks whose replicate has not ended, for the scheduler's heartbeat."""
        return [t for t, r in self.replicates.items() if not r.stage.ended]

    # -- handlers ----------------------------------------------------------------------------

    def _handle_assigned(self, event: ReplicateAssigned) -> list[Action]:
        task_id = event.assignment.task_id
        if task_id in self.replicates:
            reason = "this worker already holds a replicate of the task"
            return [ReportFailure(task_id=task_id, reason=reason)]
        self.replicates[task_id] = ReplicateRecord(event.assignment, Stage.ASSIGNED, event.now)
        self.changed.add(task_id)
        return [Fetch(task_id=task_id)]  # the scheduler knows it assigned it: nothing to report

    def _handle_inputs_fetched(self, event: InputsFetched) -> list[Action]:
        record = self._at(event.task_id, Stage.ASSIGNED)
        if record is None:
            return []
        self._move(record, Stage.FETCHED)
        return [
            ReportStatus(task_id=record.task_id, stage=Stage.FETCHED),
            Compute(task_id=record.task_id),
        ]

    def _handle_result_computed(self, event: ResultComputed) -> list[Action]:
        record = self._at(event.task_id, Stage.FETCHED)
        if record is None:
            return []
        record.computed = event.digest
        record.vote = self._vote(record.task_id, event.digest)
        record.callback_data = event.callback_data
        record.app_error = event.app_error
        self._move(record, Stage.COMPUTED)
        if self.mode == CRASH:
            return [Crash(reason="crash mode: the worker dies between computing and contributing")]
        report = ReportStatus(task_id=record.task_id, stage=Stage.COMPUTED)
        if record.replicated:
            self._move(record, Stage.CONTRIBUTING)
            return [report, Contribute(task_id=record.task_id, vote=record.vote)]
        self._move(record, Stage.UPLOADING)  # trust <= 1: the result is on chain at once
        return [report, Upload(task_id=record.task_id)]

    def _handle_contributed(self, event: Contributed) -> list[Action]:
        record = self._at(event.task_id, Stage.CONTRIBUTING)
        if record is None:
            return []
        self._move(record, Stage.CONTRIBUTED)
        actions: list[Action] = [ReportStatus(task_id=record.task_id, stage=Stage.CONTRIBUTED)]
        if record.reveal_asked:
            actions.extend(self._reveal(record))
        return actions

    def _handle_reveal_asked(self, event: RevealAsked) -> list[Action]:
        record = self.replicates.get(event.task_id)
        if record is None or record.stage.ended or not record.replicated:
            return []
        if not record.reveal_asked:
            record.reveal_asked = True
            self.changed.add(record.task_id)
        if record.stage is Stage.CONTRIBUTED:
            return self._reveal(record)
        return []

    def _handle_revealed(self, event: Revealed) -> list[Action]:
        record = self._at(event.task_id, Stage.REVEALING, Stage.CONTRIBUTED)
        if record is None:
            return []
        self._move(record, Stage.REVEALED)
        actions: list[Action] = [ReportStatus(task_id=record.task_id, stage=Stage.REVEALED)]
        if record.upload_asked:
            self._move(record, Stage.UPLOADING)
            actions.append(Upload(task_id=record.task_id))
        return actions

    def _handle_upload_asked(self, event: UploadAsked) -> list[Action]:
        record = self.replicates.get(event.task_id)
        if record is None or record.stage.ended or not record.replicated:
            return []
        if not record.upload_asked:
            record.upload_asked = True
            self.changed.add(record.task_id)
        if record.stage is Stage.REVEALED:
            self._move(record, Stage.UPLOADING)
            return [Upload(task_id=record.task_id)]
        if record.stage is Stage.UPLOADED and record.blob_id is not None:
            return [self._hand_in(record)]  # asked again: the first hand-in may have been lost
        return []

    def _handle_result_stored(self, event: ResultStored) -> list[Action]:
        record = self._at(event.task_id, Stage.UPLOADING)
        if record is None:
            return []
        record.blob_id = event.blob_id
        if record.replicated:
            self._move(record, Stage.UPLOADED)
            return [
                ReportStatus(task_id=record.task_id, stage=Stage.UPLOADED),
                self._hand_in(record),
            ]
        self._move(record, Stage.FINALIZING)
        assert record.vote is not None
        return [
            ContributeAndFinalize(
                task_id=record.task_id,
                vote=record.vote,
                blob_id=event.blob_id,
                callback_data=record.callback_data,
            )
        ]

    def _handle_finalized(self, event: Finalized) -> list[Action]:
        record = self._at(event.task_id, Stage.FINALIZING)
        if record is None:
            return []
        self._move(record, Stage.DONE)
        return [
            ReportStatus(task_id=record.task_id, stage=Stage.DONE),
            Cleanup(task_id=record.task_id),
        ]

    def _handle_abort_asked(self, event: AbortAsked) -> list[Action]:
        record = self._at(event.task_id, Stage.ASSIGNED, Stage.FETCHED, Stage.COMPUTED)
        if record is None:
            return []
        record.failure = event.reason
        self._move(record, Stage.ABORTED)
        return [Cleanup(task_id=record.task_id)]

    def _handle_release_asked(self, event: ReleaseAsked) -> list[Action]:
        record = self.replicates.get(event.task_id)
        if record is None or record.stage.ended:
            return []
        self._move(record, Stage.DONE)
        return [Cleanup(task_id=record.task_id)]

    def _handle_step_failed(self, event: StepFailed) -> list[Action]:
        record = self.replicates.get(event.task_id)
        if record is None or record.stage.ended:
            return []
        record.failure = event.reason
        self._move(record, Stage.FAILED)
        return [
            ReportFailure(task_id=record.task_id, reason=event.reason),
            Cleanup(task_id=record.task_id),
        ]

    def _handle_chain_observed(self, event: ChainObserved) -> list[Action]:
        record = self.replicates.get(event.task_id)
        if record is None or record.stage.ended:
            return []
        if event.task_status in (TaskStatus.COMPLETED, TaskStatus.FAILED):
            if record.stage is Stage.FINALIZING and event.task_status == TaskStatus.COMPLETED:
                return self._handle_finalized(Finalized(task_id=record.task_id, now=event.now))
            return self._handle_release_asked(ReleaseAsked(task_id=record.task_id, now=event.now))
        if record.stage is Stage.CONTRIBUTING:
            if event.contribution_status >= 1:
                return self._handle_contributed(Contributed(task_id=record.task_id, now=event.now))
            if event.task_status == TaskStatus.ACTIVE:
                assert record.vote is not None
                return [Contribute(task_id=record.task_id, vote=record.vote)]
            reason = f"the task is {TaskStatus.NAMES[event.task_status]} and was not contributed"
            return self._handle_step_failed(
                StepFailed(task_id=record.task_id, reason=reason, now=event.now)
            )
        if record.stage is Stage.REVEALING:
            if event.contribution_status == 2:
                return self._handle_revealed(Revealed(task_id=record.task_id, now=event.now))
            self._move(record, Stage.CONTRIBUTED)
            return self._reveal(record) if record.reveal_asked else []
        if record.stage is Stage.FINALIZING and record.blob_id is not None:
            assert record.vote is not None
            return [
                ContributeAndFinalize(
                    task_id=record.task_id,
                    vote=record.vote,
                    blob_id=record.blob_id,
                    callback_data=record.callback_data,
                )
            ]
        return []

    def _handle_agent_restarted(self, event: AgentRestarted) -> list[Action]:
        """Picks every unfinished replicate up where it can be picked up safely."""
        actions: list[Action] = []
        for record in self.replicates.values():
            if record.stage in (Stage.ASSIGNED, Stage.FETCHED, Stage.COMPUTED):
                self._move(record, Stage.ASSIGNED)  # the work dir may be gone: fetch again
                actions.append(Fetch(task_id=record.task_id))
            elif record.stage in (Stage.CONTRIBUTING, Stage.REVEALING, Stage.FINALIZING):
                actions.append(CheckChain(task_id=record.task_id))  # sent before the crash?
            elif record.stage is Stage.UPLOADING:
                actions.append(Upload(task_id=record.task_id))
        return actions

    # -- helpers -----------------------------------------------------------------------------

    def _at(self, task_id: bytes, *stages: Stage) -> ReplicateRecord | None:
        record = self.replicates.get(task_id)
        if record is None or record.stage not in stages:
            return None
        return record

    def _move(self, record: ReplicateRecord, stage: Stage) -> None:
        record.stage = stage
        record.since = self.now
        self.changed.add(record.task_id)

    def _reveal(self, record: ReplicateRecord) -> list[Action]:
        if self.mode == SILENT:
            return []  # silent mode: never reveal, lose the stake
        assert record.vote is not None
        self._move(record, Stage.REVEALING)
        return [Reveal(task_id=record.task_id, vote=record.vote)]

    @staticmethod
    def _hand_in(record: ReplicateRecord) -> HandInResult:
        assert record.blob_id is not None
        return HandInResult(
            task_id=record.task_id, blob_id=record.blob_id, callback_data=record.callback_data
        )

    def _vote(self, task_id: bytes, digest: bytes) -> bytes:
        if self.mode == LIAR:
            return keccak(b"nuage liar" + to_canonical_address(self.address) + task_id + digest)
        if self.mode == COLLUDING:
            return keccak(b"nuage colluding" + task_id)
        return digest


def _hex(value: bytes | None) -> str | None:
    return None if value is None else value.hex()


def _maybe_unhex(value: str | None) -> bytes | None:
    return None if value is None else bytes.fromhex(value)


def _unhex(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x"))
