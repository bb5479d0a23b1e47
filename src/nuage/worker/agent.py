"""The worker's asyncio shell: talks to the scheduler, the chain, storage and the sandbox.

`WorkerAgent` owns a `WorkerState` and feeds it what happened; each action the state returns
runs as its own task (downloads, sandbox runs and transactions in threads) and ends in the next
event. Every change to a replicate is saved (`WorkerStore`) before its actions run.

Two loops: the **heartbeat** (its answer carries the scheduler's instructions: reveal, upload,
abort, release) and the **pull** (a replicate whenever a slot is free). Before running anything
an assignment is checked against the chain: the deal's commitment, its params' hash, the task
id, and the authorization's signer (the pool owner).

After a run, its stdout and stderr go to the scheduler (their tails), for the requester to read
(`nuage task logs`); they are no consensus data and stay out of the state: a failure to send
them is logged, nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from nuage.apps import Manifest
from nuage.chain.bindings import AppRecord
from nuage.chain.hub import ContributionView, Hub, blob_results
from nuage.exceptions import ChainError, ConfigError, ContractRevert, NuageError, SandboxError
from nuage.protocol.eip712 import recover
from nuage.protocol.ids import task_id as derive_task_id
from nuage.protocol.orders import ZERO_ADDRESS
from nuage.protocol.poco import authorization_digest
from nuage.sandbox import Limits, Runner
from nuage.scheduler.client import SchedulerClient, SchedulerRefused, SchedulerUnreachable
from nuage.scheduler.models import Assignment as AssignmentBody
from nuage.scheduler.models import CapabilitiesBody, Instruction
from nuage.storage.client import StorageClient
from nuage.worker.execution import (
    ComputedResult,
    ParamsError,
    TaskContext,
    error_result,
    execute,
    parse_params,
    zip_result,
)
from nuage.worker.fetch import Fetcher, InputRefused
from nuage.worker.state import (
    HONEST,
    AbortAsked,
    Action,
    AgentRestarted,
    Assignment,
    ChainObserved,
    CheckChain,
    Cleanup,
    Compute,
    Contribute,
    ContributeAndFinalize,
    Contributed,
    Crash,
    Event,
    Fetch,
    Finalized,
    HandInResult,
    InputsFetched,
    ReleaseAsked,
    ReplicateAssigned,
    ReplicateRecord,
    ReportFailure,
    ReportStatus,
    ResultComputed,
    ResultStored,
    Reveal,
    RevealAsked,
    Revealed,
    StepFailed,
    Upload,
    UploadAsked,
    WorkerState,
)
from nuage.worker.store import WorkerStore

__all__ = ["DEVNET_CHAIN_ID", "AgentSettings", "WorkerAgent"]

log = logging.getLogger(__name__)

DEVNET_CHAIN_ID = 31337  # adversary modes only run here


@dataclass(frozen=True)
class AgentSettings:
    """How a worker runs: where it works, how much at once, within which limits."""

    work_dir: Path
    max_parallel: int = 1
    mode: str = HONEST
    memory_bytes: int = 1024**3
    max_wall_clock: float | None = None  # caps the category's time reference (tests, small boxes)
    pull_interval: float | None = None  # None: what the scheduler says
    heartbeat_interval: float | None = None


@dataclass(frozen=True)
class _Prepared:
    app_dir: Path
    manifest: Manifest
    context: TaskContext


def _die(reason: str) -> None:
    log.critical("crashing on purpose: %s", reason)
    os._exit(70)


def _short(task: bytes) -> str:
    return f"0x{task.hex()[:8]}…"


class WorkerAgent:
    """One worker: see the module docstring."""

    def __init__(
        self,
        *,
        account: LocalAccount,
        scheduler: SchedulerClient,
        hub: Hub,
        storage: StorageClient,
        runner: Runner,
        store: WorkerStore,
        settings: AgentSettings,
        capabilities: CapabilitiesBody,
        crash: Callable[[str], None] = _die,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.account = account
        self.address = account.address
        self.scheduler = scheduler
        self.hub = hub
        self.storage = storage
        self.runner = runner
        self.store = store
        self.settings = settings
        self.capabilities = capabilities.model_copy(update={"max_parallel": settings.max_parallel})
        self.crash = crash
        self.clock = clock
        self.state = WorkerState(
            self.address, max_parallel=settings.max_parallel, mode=settings.mode
        )
        self.fetcher = Fetcher(storage, settings.work_dir / "cache")
        self.workerpool: str | None = None
        self._prepared: dict[bytes, _Prepared | str] = {}
        self._deals_checked: dict[bytes, bytes] = {}  # deal id: its commitment, seen on chain
        self._apps: dict[str, AppRecord] = {}  # address: record, read on chain once
        self._slot_freed = asyncio.Event()  # the pull loop waits on it while every slot is busy
        self._running: set[asyncio.Task[None]] = set()
        self._pull_interval = settings.pull_interval or 2.0
        self._heartbeat_interval = settings.heartbeat_interval or 5.0
        self.ready = asyncio.Event()

    # -- running -------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        if self.settings.mode != HONEST and self.hub.chain.chain_id != DEVNET_CHAIN_ID:
            raise ConfigError(
                f"mode {self.settings.mode} is for tests on the devnet (chain {DEVNET_CHAIN_ID}) "
                f"only; this chain is {self.hub.chain.chain_id}"
            )
        await self._join(stop)
        saved = await asyncio.to_thread(self.store.load, self.address)
        if saved:
            self.state.replicates = {record.task_id: record for record in saved}
            log.info("worker %s resumes with %d replicates on record", self.address, len(saved))
            self.feed(AgentRestarted(now=self.clock()))
        self.ready.set()
        loops = [
            asyncio.create_task(self._heartbeat_loop(stop)),
            asyncio.create_task(self._pull_loop(stop)),
        ]
        try:
            await stop.wait()
        finally:
            for task in [*loops, *self._running]:
                task.cancel()
            await asyncio.gather(*loops, *self._running, return_exceptions=True)
            self.fetcher.close()

    async def _join(self, stop: asyncio.Event) -> None:
        delay = 0.5
        while not stop.is_set():
            try:
                info = await self.scheduler.info()
                if info.chain_id != self.hub.chain.chain_id:
                    raise ConfigError(
                        f"the scheduler runs on chain {info.chain_id}, this worker on "
                        f"{self.hub.chain.chain_id}: point both at the same chain"
                    )
                registered = await self.scheduler.register(self.capabilities)
            except SchedulerUnreachable as error:
                log.warning("%s; retrying in %.1f s", error, delay)
                await _sleep(stop, delay)
                delay = min(delay * 2, 30.0)
                continue
            self.workerpool = registered.workerpool
            self._pull_interval = self.settings.pull_interval or registered.pull_interval
            self._heartbeat_interval = (
                self.settings.heartbeat_interval or registered.heartbeat_interval
            )
            log.info(
                "worker %s joined workerpool %s (%d at a time, sandboxes %s, mode %s)",
                self.address,
                registered.workerpool,
                self.settings.max_parallel,
                ", ".join(self.capabilities.sandboxes) or "none",
                self.settings.mode,
            )
            return

    def feed(self, event: Event) -> None:
        """Hands `event` to the state, saves what changed, starts the actions it returned."""
        actions = self.state.handle(event)
        if self.state.free_slots() > 0:
            self._slot_freed.set()
        changed = [self.state.replicates[t] for t in self.state.changed]
        self.store.save(self.address, changed)
        for action in actions:
            self._spawn(self._perform(action))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _heartbeat_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                instructions = await self.scheduler.heartbeat(self.state.running())
            except (SchedulerUnreachable, SchedulerRefused) as error:
                log.warning("heartbeat failed: %s", error)
                instructions = []
            for instruction in instructions:
                self._follow(instruction)
            await _sleep(stop, self._heartbeat_interval)

    def _follow(self, instruction: Instruction) -> None:
        task_id, now = bytes.fromhex(instruction.task_id.removeprefix("0x")), self.clock()
        if instruction.kind == "reveal":
            self.feed(RevealAsked(task_id=task_id, now=now))
        elif instruction.kind == "upload":
            self.feed(UploadAsked(task_id=task_id, now=now))
        elif instruction.kind == "abort":
            self.feed(AbortAsked(task_id=task_id, reason=instruction.reason or "", now=now))
        elif instruction.kind == "release":
            self.feed(ReleaseAsked(task_id=task_id, now=now))

    async def _pull_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if self.state.free_slots() == 0:
                self._slot_freed.clear()
                await _wait_any(stop, self._slot_freed, timeout=1.0)
                continue
            try:
                answer = await self.scheduler.pull(self.state.busy())
            except (SchedulerUnreachable, SchedulerRefused) as error:
                log.warning("asking for work failed: %s", error)
                await _sleep(stop, self._pull_interval)
                continue
            if answer.assignment is None:
                await _sleep(stop, answer.retry_after or self._pull_interval)
                continue
            assignment = _assignment(answer.assignment)
            log.info(
                "task %s assigned (deal %s, index %d, trust %d)",
                _short(assignment.task_id),
                _short(assignment.deal_id),
                assignment.index,
                assignment.deal.trust,
            )
            self.feed(ReplicateAssigned(assignment=assignment, now=self.clock()))

    # -- actions -------------------------------------------------------------------------------

    async def _perform(self, action: Action) -> None:
        try:
            event = await self._outcome(action)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a bug or an unforeseen failure must not wedge the replicate
            task_id = getattr(action, "task_id", None)
            log.exception("%s failed", type(action).__name__)
            if task_id is None:
                return
            event = StepFailed(
                task_id=task_id, reason=f"{type(error).__name__}: {error}", now=self.clock()
            )
        if event is not None:
            self.feed(event)

    async def _outcome(self, action: Action) -> Event | None:
        if isinstance(action, ReportStatus | ReportFailure | HandInResult):
            await self._tell_scheduler(action)
            return None
        if isinstance(action, Cleanup):
            self._prepared.pop(action.task_id, None)
            await asyncio.to_thread(shutil.rmtree, self._work(action.task_id), True)
            return None
        if isinstance(action, Crash):
            self.crash(action.reason)
            return None
        record = self.state.replicates[action.task_id]
        if isinstance(action, Fetch):
            return await asyncio.to_thread(self._fetch, record)
        if isinstance(action, Compute):
            event, result = await asyncio.to_thread(self._compute, record)
            if result is not None and result.logs:
                self._spawn(self._send_logs(record.task_id, result))
            return event
        if isinstance(action, Contribute):
            return await asyncio.to_thread(self._contribute, record, action.vote)
        if isinstance(action, Reveal):
            return await asyncio.to_thread(self._reveal, record, action.vote)
        if isinstance(action, Upload):
            return await asyncio.to_thread(self._upload, record)
        if isinstance(action, ContributeAndFinalize):
            return await asyncio.to_thread(self._contribute_and_finalize, record, action)
        assert isinstance(action, CheckChain), action
        return await asyncio.to_thread(self._observe, record)

    async def _tell_scheduler(self, action: ReportStatus | ReportFailure | HandInResult) -> None:
        try:
            if isinstance(action, ReportStatus):
                await self.scheduler.report(action.task_id, action.stage.value)
            elif isinstance(action, ReportFailure):
                await self.scheduler.report(action.task_id, "failed", action.reason)
            else:
                await self.scheduler.hand_in(action.task_id, action.blob_id, action.callback_data)
        except (SchedulerUnreachable, SchedulerRefused) as error:
            log.warning(
                "telling the scheduler about task %s failed: %s", _short(action.task_id), error
            )

    async def _send_logs(self, task_id: bytes, result: ComputedResult) -> None:
        try:
            await self.scheduler.report_logs(
                task_id,
                result.logs.get("stdout", b""),
                result.logs.get("stderr", b""),
                exit_code=result.exit_code,
                failure=result.failure,
            )
        except (SchedulerUnreachable, SchedulerRefused) as error:
            log.warning("sending the logs of task %s failed: %s", _short(task_id), error)

    # -- the steps, in threads -----------------------------------------------------------------

    def _fetch(self, record: ReplicateRecord) -> Event:
        a, now = record.assignment, self.clock()
        problem = self._check_assignment(a)
        if problem is not None:
            return StepFailed(task_id=a.task_id, reason=problem, now=now)
        deal = a.deal
        try:
            app = self._apps.get(deal.app) or self.hub.contracts.app(deal.app)
            self._apps[deal.app] = app  # an app's address is the hash of its record: it is fixed
            app_dir, manifest = self.fetcher.app(app)
            args, references = parse_params(a.params)
            inputs = [self.fetcher.input_file(n, ref) for n, ref in enumerate(references, 1)]
            dataset = None
            if deal.dataset != ZERO_ADDRESS:
                path = self.fetcher.dataset(self.hub.contracts.dataset(deal.dataset))
                dataset = (deal.dataset, deal.dataset, path)
            context = TaskContext(
                task_id=a.task_id,
                deal_id=a.deal_id,
                index=a.index,
                bot_first=deal.bot_first,
                bot_size=deal.bot_size,
                args=args,
                input_files=inputs,
                dataset=dataset,
            )
            self._prepared[a.task_id] = _Prepared(app_dir, manifest, context)
            log.info(
                "task %s: app %s and %d inputs ready", _short(a.task_id), manifest.name, len(inputs)
            )
        except (ParamsError, InputRefused) as error:  # the deal's fault: the same everywhere
            log.warning("task %s cannot run as asked: %s", _short(a.task_id), error)
            self._prepared[a.task_id] = str(error)
        except NuageError as error:
            return StepFailed(task_id=a.task_id, reason=f"fetching failed: {error}", now=now)
        return InputsFetched(task_id=a.task_id, now=now)

    def _check_assignment(self, a: Assignment) -> str | None:
        """Why the assignment cannot be trusted, or None: the chain judges, not the scheduler."""
        deal = a.deal
        if self.workerpool is not None and deal.workerpool != self.workerpool:
            return f"the deal is for workerpool {deal.workerpool}, not this pool"
        if derive_task_id(a.deal_id, a.index) != a.task_id:
            return "the task id is not keccak256(deal id, index)"
        if keccak(text=a.params) != deal.params_hash:
            return "the params do not hash to the deal's params hash"
        signer = recover(
            authorization_digest(self.hub.domain, self.address, a.task_id), a.authorization
        )
        if signer != deal.workerpool_owner:
            return "the authorization is not signed by the pool owner"
        commitment = deal.commitment()
        if self._deals_checked.get(a.deal_id) == commitment:  # a deal never changes on chain
            return None
        try:
            on_chain = self.hub.deal_commitment(a.deal_id)
        except ChainError as error:
            return f"cannot read the deal on chain: {error}"
        if on_chain != commitment:
            return "the deal does not match its commitment on chain"
        self._deals_checked[a.deal_id] = commitment
        return None

    def _compute(self, record: ReplicateRecord) -> tuple[Event, ComputedResult | None]:
        """The run's outcome, and the result when there is one (its logs empty if no app ran)."""
        task_id, now = record.task_id, self.clock()
        prepared = self._prepared.get(task_id)
        work = self._work(task_id)
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True, mode=0o700)
        if prepared is None:
            failed = StepFailed(task_id=task_id, reason="computing before fetching", now=now)
            return failed, None
        if isinstance(prepared, str):
            result = error_result(work / "error-result", prepared)
        else:
            wall = float(record.assignment.deal.time_ref)
            if self.settings.max_wall_clock is not None:
                wall = min(wall, self.settings.max_wall_clock)
            limits = Limits(
                wall_clock_s=wall, cpu_time_s=wall, memory_bytes=self.settings.memory_bytes
            )
            try:
                result = execute(
                    self.runner, prepared.app_dir, prepared.manifest, prepared.context, work, limits
                )
            except SandboxError as error:
                reason = f"the sandbox failed: {error}"
                return StepFailed(task_id=task_id, reason=reason, now=now), None
        (work / "result-dir").write_text(str(result.output_dir))
        outcome = f"error result ({result.error})" if result.error else "result"
        log.info("task %s computed: %s, digest 0x%s", _short(task_id), outcome, result.digest.hex())
        computed = ResultComputed(
            task_id=task_id,
            digest=result.digest,
            callback_data=result.callback_data,
            app_error=result.error,
            now=now,
        )
        return computed, result

    def _contribute(self, record: ReplicateRecord, vote: bytes) -> Event:
        a, now = record.assignment, self.clock()
        stake = a.deal.worker_stake
        try:
            free = self.hub.free_balance(self.address)
            if free < stake:
                reason = f"free balance {free} nRLC is below the stake {stake}: deposit RLC"
                return StepFailed(task_id=a.task_id, reason=reason, now=now)
            receipt = self.hub.contribute(
                self.account, a.deal, a.deal_id, a.index, vote, a.authorization
            )
        except ContractRevert as error:
            if "already contributed" in error.reason:
                return Contributed(task_id=a.task_id, now=now)
            return StepFailed(
                task_id=a.task_id, reason=f"contribute refused: {error.reason}", now=now
            )
        except ChainError as error:
            log.warning(
                "task %s: contributing failed (%s); asking the chain", _short(a.task_id), error
            )
            return self._observe(record)
        log.info("task %s contributed (%s gas)", _short(a.task_id), f"{receipt['gasUsed']:,}")
        return Contributed(task_id=a.task_id, now=now)

    def _reveal(self, record: ReplicateRecord, vote: bytes) -> Event:
        task_id, now = record.task_id, self.clock()
        try:
            self.hub.reveal(self.account, task_id, vote)
        except ChainError as error:
            try:
                status = self.hub.contribution(task_id, self.address).status
            except ChainError:
                status = -1
            if status == ContributionView.PROVED:
                return Revealed(task_id=task_id, now=now)
            reason = getattr(error, "reason", str(error))
            return StepFailed(task_id=task_id, reason=f"reveal refused: {reason}", now=now)
        log.info("task %s revealed", _short(task_id))
        return Revealed(task_id=task_id, now=now)

    def _upload(self, record: ReplicateRecord) -> Event:
        task_id, now = record.task_id, self.clock()
        work = self._work(task_id)
        try:
            output = Path((work / "result-dir").read_text())
        except OSError:
            return StepFailed(
                task_id=task_id, reason="the result is gone from this worker", now=now
            )
        try:
            archive = zip_result(output, work / "result.zip")
            blob_id = self.storage.put_file(archive)
        except (OSError, NuageError) as error:
            return StepFailed(
                task_id=task_id, reason=f"uploading the result failed: {error}", now=now
            )
        log.info("task %s: result uploaded as blob %s", _short(task_id), blob_id)
        return ResultStored(task_id=task_id, blob_id=blob_id, now=now)

    def _contribute_and_finalize(
        self, record: ReplicateRecord, action: ContributeAndFinalize
    ) -> Event:
        a, now = record.assignment, self.clock()
        try:
            receipt = self.hub.contribute_and_finalize(
                self.account,
                a.deal,
                a.deal_id,
                a.index,
                action.vote,
                blob_results(action.blob_id),
                action.callback_data,
                a.authorization,
            )
        except ContractRevert as error:
            if "already completed" in error.reason:
                log.info("task %s was completed already", _short(a.task_id))
                return Finalized(task_id=a.task_id, now=now)
            return StepFailed(
                task_id=a.task_id, reason=f"finalize refused: {error.reason}", now=now
            )
        except ChainError as error:
            log.warning(
                "task %s: finalizing failed (%s); asking the chain", _short(a.task_id), error
            )
            return self._observe(record)
        log.info(
            "task %s completed in one transaction (%s gas)",
            _short(a.task_id),
            f"{receipt['gasUsed']:,}",
        )
        return Finalized(task_id=a.task_id, now=now)

    def _observe(self, record: ReplicateRecord) -> Event:
        task_id = record.task_id
        try:
            task = self.hub.task(task_id)
            mine = self.hub.contribution(task_id, self.address)
        except ChainError as error:
            return StepFailed(
                task_id=task_id, reason=f"cannot read the task on chain: {error}", now=self.clock()
            )
        return ChainObserved(
            task_id=task_id,
            task_status=task.status,
            contribution_status=mine.status,
            now=self.clock(),
        )

    def _work(self, task_id: bytes) -> Path:
        return self.settings.work_dir / "tasks" / task_id.hex()


def _assignment(body: AssignmentBody) -> Assignment:
    return Assignment.from_json(body.model_dump())


async def _wait_any(stop: asyncio.Event, event: asyncio.Event, *, timeout: float) -> None:
    """Returns when `stop` or `event` is set, or after `timeout` seconds."""
    waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(event.wait())]
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
