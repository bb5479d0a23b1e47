"""The scheduler's asyncio shell: chain events, ticks and worker requests in; transactions out.

`SchedulerService` owns a `SchedulerState` and is the only thing that touches it, always from
the event loop's thread. Three loops run beside the HTTP API (`nuage.scheduler.api`):

- the **chain watcher** follows the market's `DealCreated` for this pool and the hub's task
  events; each event is handled and the state saved with the watcher's cursor in one database
  transaction (exactly-once);
- the **clock** feeds a `Tick` every `tick_interval` seconds with the chain's time (the latest
  block's timestamp, advanced by the wall clock since it was seen);
- the **sender** sends the state's transactions (`InitializeTasks`, `FinalizeTasks`, `Reopen`)
  one at a time with the pool owner's key, batched per deal; a refusal comes back to the state
  as `ActionFailed`.

After a restart the saved state is loaded, `SchedulerRestarted` sends again whatever was not
confirmed, and the watcher replays the chain from its cursor.

Publishing the pool's orders on the market is not done here yet: pass `publisher`, a coroutine
function run beside the loops with the service, to do it (see `nuage.market.MarketClient`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Coroutine
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

import nuage
from nuage.chain.hub import FinalizeItem, Hub
from nuage.chain.watcher import Event as ChainEvent
from nuage.chain.watcher import EventWatcher, Web3LogSource
from nuage.exceptions import ConfigError, NuageError, StorageError
from nuage.protocol.deals import Deal
from nuage.scheduler import models
from nuage.scheduler.actions import (
    AbortReplicate,
    Action,
    AskReveal,
    AskUpload,
    AssignReplicate,
    FinalizeTasks,
    InitializeTasks,
    NoWork,
    ReleaseReplicate,
    Reopen,
)
from nuage.scheduler.events import (
    ActionFailed,
    Capabilities,
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
    TaskReopened,
    Tick,
    WorkerHeartbeat,
    WorkerRegistered,
)
from nuage.scheduler.snapshot import dump_deal, dump_meta, dump_task, load_state
from nuage.scheduler.state import SchedulerConfig, SchedulerState
from nuage.scheduler.store import SchedulerStore, StateChanges, TaskLog
from nuage.scheduler.wire import deal_to_json
from nuage.storage.client import StorageClient

__all__ = ["ApiError", "SchedulerService"]

log = logging.getLogger(__name__)

STANDING_TTL = 5.0  # seconds a worker's score and free balance are used before read again

Publisher = Callable[["SchedulerService", asyncio.Event], Coroutine[Any, Any, None]]


class ApiError(NuageError):
    """A refusal of the worker API: HTTP status, a code for programs, a message for people."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def _short(value: bytes | str) -> str:
    text = value.hex() if isinstance(value, bytes) else value.removeprefix("0x")
    return f"0x{text[:8]}…"


class SchedulerService:
    """One pool's scheduler: see the module docstring."""

    def __init__(
        self,
        *,
        hub: Hub,
        pool_owner: LocalAccount,
        config: SchedulerConfig,
        store: SchedulerStore,
        storage: StorageClient | None = None,
        storage_url: str | None = None,
        tick_interval: float = 1.0,
        heartbeat_interval: float = 5.0,
        pull_interval: float = 2.0,
        watcher_poll: float = 0.5,
        session_ttl: float = 24 * 3600.0,
        log_retention: float = 7 * 24 * 3600.0,
        publisher: Publisher | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.hub = hub
        self.pool_owner = pool_owner
        self.config = config
        self.workerpool = config.workerpool
        self.store = store
        self.storage = storage
        self.storage_url = storage_url or (storage.url if storage is not None else None)
        self.tick_interval = tick_interval
        self.heartbeat_interval = heartbeat_interval
        self.pull_interval = pull_interval
        self.session_ttl = session_ttl
        self.log_retention = log_retention
        self.publisher = publisher
        self.clock = clock
        saved = store.load_state()
        self.restarted = saved is not None
        self._saved_chain = None if saved is None else saved.get("chain")
        self.state = load_state(saved, config) if saved else SchedulerState(config)
        self.state.mark_all_changed()  # the first save writes it all (and in today's layout)
        self._chain_record: dict[str, Any] = {}
        self.watcher = EventWatcher(
            Web3LogSource(hub.chain.w3),
            hub.watched_contracts(),
            store.cursors,
            f"scheduler {self.workerpool}",
            from_block=hub.deployment.block,
            poll_interval=watcher_poll,
        )
        self._outbox: asyncio.Queue[InitializeTasks | FinalizeTasks | Reopen] = asyncio.Queue()
        self._block: tuple[int, int, float] | None = None  # number, timestamp, wall clock seen
        self._last_save = 0.0
        self._standings: dict[str, tuple[float, int, int]] = {}  # read at, score, free balance
        self._sessions: dict[str, tuple[str, float]] = {}  # token: worker, expires at
        self.started = asyncio.Event()

    # -- running -------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Runs until `stop` is set; an unexpected error in a loop stops the service with it."""
        await self._start()
        loops = [
            self.watcher.arun(self._on_chain_event, stop),
            self._tick_loop(stop),
            self._send_loop(stop),
        ]
        if self.publisher is not None:
            loops.append(self.publisher(self, stop))
        tasks = [asyncio.create_task(loop) for loop in loops]
        self.started.set()
        try:
            done, _ = await asyncio.wait(
                [*tasks, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED
            )
            for task in done:
                if task in tasks and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
        finally:
            stop.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._save()

    async def _start(self) -> None:
        genesis = await asyncio.to_thread(self.hub.genesis_hash)
        self._chain_record = {
            "chain_id": self.hub.chain.chain_id,
            "genesis": genesis,
            "hub": self.hub.deployment.hub,
        }
        if self.restarted and self._saved_chain not in (None, self._chain_record):
            raise ConfigError(
                f"the scheduler's database holds the state of another chain or deployment "
                f"({self._saved_chain}, not {self._chain_record}): give this one its own "
                "database (--database-url)"
            )
        owner = await asyncio.to_thread(self.hub.contracts.workerpool_owner, self.workerpool)
        if owner != self.pool_owner.address:
            raise ConfigError(
                f"workerpool {self.workerpool} is owned by {owner}, not by the signer "
                f"{self.pool_owner.address}: run the scheduler with the pool owner's key"
            )
        if self.restarted:  # first: what was in flight is sent again, once
            log.info(
                "scheduler of %s resumes: %d deals, %d tasks, %d workers known",
                self.workerpool,
                len(self.state.deals),
                len(self.state.tasks),
                len(self.state.workers),
            )
            self.feed(SchedulerRestarted(now=self.clock()))
        chain_time = await asyncio.to_thread(self._chain_time)
        self.feed(Tick(now=self.clock(), chain_time=chain_time))
        log.info(
            "scheduler of workerpool %s (owner %s) on chain %d follows %s from %s",
            self.workerpool,
            self.pool_owner.address,
            self.hub.chain.chain_id,
            self.hub.chain.url,
            self.watcher.cursor,
        )

    def feed(self, event: Event, *, save: bool = True) -> list[Action]:
        """Hands `event` to the state, queues its transactions, saves; returns its actions."""
        actions = self.state.handle(event)
        for action in actions:
            self._log_action(action)
            if isinstance(action, InitializeTasks | FinalizeTasks | Reopen):
                self._outbox.put_nowait(action)
        if save:
            self._save()
        return actions

    def _save(self, cursor: Any = None) -> None:
        """Writes what changed since the last save (with the watcher's cursor when given)."""
        state, changes = self.state, self.state.take_changes()
        self.store.save_changes(
            StateChanges(
                meta={**dump_meta(state), "chain": self._chain_record},
                tasks={t.hex(): dump_task(state.tasks[t]) for t in changes.tasks},
                deals={d.hex(): dump_deal(state.deals[d]) for d in changes.deals},
                forgotten_tasks=[t.hex() for t in changes.forgotten_tasks],
                forgotten_deals=[d.hex() for d in changes.forgotten_deals],
            ),
            cursor=None if cursor is None else (self.watcher.name, cursor),
        )
        self._last_save = self.clock()

    # -- the chain -----------------------------------------------------------------------------

    async def _on_chain_event(self, event: ChainEvent) -> None:
        if event.name == "TaskContributed" and event.args["task_id"] in self.state.tasks:
            worker = to_checksum_address(event.args["worker"])
            replicate = self.state.tasks[event.args["task_id"]].replicates.get(worker)
            if replicate is not None and replicate.stake:  # its free balance is that much less
                self._standings.pop(worker, None)
        converted = await self._convert(event)
        for item in converted:
            self.feed(item, save=False)
        self._save(cursor=event.cursor)

    async def _convert(self, event: ChainEvent) -> list[Event]:
        args, now = event.args, self.clock()
        if event.name == "DealCreated":
            deal = Deal.from_tuple(args["deal"])
            if deal.workerpool != self.workerpool:
                return []
            log.info(
                "deal %s for this pool: %d tasks at trust %d (block %d)",
                _short(args["deal_id"]),
                deal.bot_size,
                deal.trust,
                event.block_number,
            )
            return [
                DealSeen(deal_id=args["deal_id"], deal=deal, params=str(args["params"]), now=now)
            ]
        task_id = args.get("task_id")
        if not isinstance(task_id, bytes) or task_id not in self.state.tasks:
            return []
        if event.name == "TaskInitialized":
            return [TaskInitialized(task_id=task_id, now=now)]
        if event.name == "TaskContributed":
            worker = to_checksum_address(args["worker"])
            return [
                ContributionSeen(
                    task_id=task_id, worker=worker, result_hash=args["result_hash"], now=now
                )
            ]
        if event.name == "TaskConsensus":
            task = self.state.tasks[task_id]
            time_ref = self.state.deals[task.deal_id].deal.time_ref
            block = await asyncio.to_thread(self.hub.chain.w3.eth.get_block, event.block_number)
            deadline = int(block["timestamp"]) + 2 * time_ref
            log.info("consensus on task %s: winners reveal until %d", _short(task_id), deadline)
            return [
                ConsensusReached(
                    task_id=task_id,
                    consensus_value=args["consensus_value"],
                    reveal_deadline=deadline,
                    now=now,
                )
            ]
        if event.name == "TaskRevealed":
            worker = to_checksum_address(args["worker"])
            return [
                RevealSeen(task_id=task_id, worker=worker, digest=args["result_digest"], now=now)
            ]
        if event.name == "TaskReopened":
            log.warning("task %s reopened: no winner revealed in time", _short(task_id))
            return [TaskReopened(task_id=task_id, now=now)]
        if event.name == "TaskFinalized":
            log.info("task %s completed, result %s", _short(task_id), args["results"].hex())
            return [
                TaskFinalized(
                    task_id=task_id, results=args["results"], digest=args["result_digest"], now=now
                )
            ]
        if event.name == "TaskClaimed":
            log.warning("task %s failed: claimed after its final deadline", _short(task_id))
            return [TaskClaimed(task_id=task_id, now=now)]
        return []

    def _chain_time(self) -> int:
        """The chain's time now: its latest block's timestamp plus the wall time since seen."""
        latest = self.hub.chain.w3.eth.get_block("latest")
        number, timestamp = int(latest["number"]), int(latest["timestamp"])
        if self._block is None or self._block[0] != number:
            self._block = (number, timestamp, self.clock())
        return self._block[1] + int(self.clock() - self._block[2])

    async def _tick_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await _sleep(stop, self.tick_interval)
            try:
                chain_time = await asyncio.to_thread(self._chain_time)
            except NuageError as error:
                log.warning("cannot read the chain's time (%s); ticking on the wall clock", error)
                chain_time = self.state.chain_time
            actions = self.feed(Tick(now=self.clock(), chain_time=chain_time), save=False)
            if actions or self.clock() - self._last_save > 10:
                self._save()

    async def _send_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                action = await asyncio.wait_for(self._outbox.get(), timeout=0.5)
            except TimeoutError:
                continue
            try:
                await asyncio.to_thread(self._send, action)
            except NuageError as error:
                reason = getattr(error, "reason", None) or str(error)
                log.warning("%s refused: %s", type(action).__name__, reason)
                self.feed(ActionFailed(action=action, reason=reason, now=self.clock()))

    def _send(self, action: InitializeTasks | FinalizeTasks | Reopen) -> None:
        record = self.state.deals.get(action.deal_id)
        if record is None:
            return
        deal, owner = record.deal, self.pool_owner
        if isinstance(action, InitializeTasks):
            receipts = self.hub.initialize_tasks(owner, deal, action.deal_id, action.indices)
            what = f"initialized {len(action.indices)} tasks of deal {_short(action.deal_id)}"
        elif isinstance(action, FinalizeTasks):
            items = [
                FinalizeItem(t.index, t.results, t.callback_data, list(t.contributors))
                for t in action.tasks
            ]
            receipts = self.hub.finalize_tasks(owner, deal, action.deal_id, items)
            what = f"finalized {len(items)} tasks of deal {_short(action.deal_id)}"
        else:
            receipts = [self.hub.reopen(owner, deal, action.deal_id, action.index)]
            what = f"reopened task {_short(action.task_id)}"
        gas = sum(int(r["gasUsed"]) for r in receipts)
        log.info("%s (%d transactions, %s gas)", what, len(receipts), f"{gas:,}")

    # -- the worker API ------------------------------------------------------------------------

    def info(self) -> models.Info:
        return models.Info(
            workerpool=self.workerpool,
            owner=self.pool_owner.address,
            chain_id=self.hub.chain.chain_id,
            hub=self.hub.deployment.hub,
            storage_url=self.storage_url,
            version=nuage.__version__,
        )

    def health(self) -> models.Health:
        healthy = self.watcher.healthy
        return models.Health(
            status="ok" if healthy else "degraded",
            workerpool=self.workerpool,
            chain_id=self.hub.chain.chain_id,
            block=self._block[0] if self._block else None,
            watcher="ok" if healthy else (self.watcher.last_error or "behind"),
            summary=self.state.summary(),
        )

    def challenge(self, address: str, ttl: float = 300.0) -> models.Challenge:
        address = to_checksum_address(address)
        nonce = secrets.token_hex(16)
        expires_at = self.clock() + ttl
        self.store.add_challenge(nonce, address, expires_at)
        message = models.login_message(self.workerpool, address, nonce)
        return models.Challenge(nonce=nonce, message=message, expires_at=expires_at)

    def login(self, address: str, nonce: str, signature: bytes) -> models.Session:
        address = to_checksum_address(address)
        if not self.store.take_challenge(nonce, address, self.clock()):
            raise ApiError(401, "bad_challenge", "unknown or expired challenge: ask for a new one")
        message = encode_defunct(text=models.login_message(self.workerpool, address, nonce))
        try:
            signer = Account.recover_message(message, signature=signature)
        except Exception:  # malformed signatures raise various errors
            signer = None
        if signer != address:
            raise ApiError(401, "bad_signature", f"the challenge was not signed by {address}")
        token = secrets.token_urlsafe(32)
        expires_at = self.clock() + self.session_ttl
        self.store.add_session(token, address, expires_at)
        log.info("worker %s logged in", address)
        return models.Session(token=token, worker=address, expires_at=expires_at)

    def authenticate(self, token: str) -> str:
        now = self.clock()
        known = self._sessions.get(token)
        if known is not None and known[1] >= now:
            return known[0]
        address = self.store.session(token, now)
        if address is None:
            raise ApiError(401, "unauthenticated", "unknown or expired token: log in again")
        if len(self._sessions) > 10_000:
            self._sessions.clear()
        self._sessions[token] = (address, now + 60.0)  # the database is asked once a minute
        return address

    def _registered(self, worker: str) -> None:
        if worker not in self.state.workers:
            raise ApiError(409, "not_registered", "register (POST /workers/register) first")

    def register(self, worker: str, body: models.CapabilitiesBody) -> models.Registered:
        capabilities = Capabilities(
            cpus=body.cpus,
            memory_bytes=body.memory_bytes,
            gpus=body.gpus,
            sandboxes=tuple(body.sandboxes),
            tee=body.tee,
            max_parallel=body.max_parallel,
        )
        self.feed(WorkerRegistered(worker=worker, capabilities=capabilities, now=self.clock()))
        log.info(
            "worker %s registered: %d CPUs, %d GPUs, sandboxes %s, %d at a time",
            worker,
            body.cpus,
            body.gpus,
            ", ".join(body.sandboxes) or "none",
            body.max_parallel,
        )
        return models.Registered(
            worker=worker,
            workerpool=self.workerpool,
            chain_id=self.hub.chain.chain_id,
            hub=self.hub.deployment.hub,
            storage_url=self.storage_url,
            heartbeat_interval=self.heartbeat_interval,
            pull_interval=self.pull_interval,
        )

    def heartbeat(self, worker: str, running: list[str]) -> models.HeartbeatAnswer:
        self._registered(worker)
        tasks = tuple(_bytes32(t) for t in running)
        actions = self.feed(
            WorkerHeartbeat(worker=worker, running=tasks, now=self.clock()), save=False
        )
        instructions = []
        for action in actions:
            if isinstance(action, AskReveal) and worker in action.workers:
                instructions.append(models.Instruction(kind="reveal", task_id=_hex(action.task_id)))
            elif isinstance(action, AskUpload) and action.worker == worker:
                instructions.append(models.Instruction(kind="upload", task_id=_hex(action.task_id)))
            elif isinstance(action, AbortReplicate):
                instructions.append(
                    models.Instruction(
                        kind="abort", task_id=_hex(action.task_id), reason=action.reason
                    )
                )
            elif isinstance(action, ReleaseReplicate):
                instructions.append(
                    models.Instruction(kind="release", task_id=_hex(action.task_id))
                )
        if any(i.kind == "abort" for i in instructions):
            self._save()
        return models.HeartbeatAnswer(instructions=instructions)

    async def pull(self, worker: str, busy: list[str] | None = None) -> models.PullAnswer:
        self._registered(worker)
        score, balance = await self._standing(worker)
        event = ReplicateRequested(
            worker=worker,
            score=score,
            free_balance=balance,
            now=self.clock(),
            busy=None if busy is None else tuple(_bytes32(t) for t in busy),
        )
        for action in self.feed(event, save=False):  # saved only when it hands work out
            if isinstance(action, AssignReplicate):
                self._save()
                return models.PullAnswer(assignment=self._assignment(action))
            if isinstance(action, NoWork):
                return models.PullAnswer(reason=action.reason, retry_after=self.pull_interval)
        return models.PullAnswer(reason="no answer", retry_after=self.pull_interval)

    async def _standing(self, worker: str) -> tuple[int, int]:
        """The worker's score and free balance, read on chain at most every `STANDING_TTL` s,
        and again after its balance lost a stake (a contribution to a replicated task seen)."""
        cached = self._standings.get(worker)
        if cached is not None and self.clock() - cached[0] < STANDING_TTL:
            return cached[1], cached[2]
        score, balance = await asyncio.to_thread(
            lambda: (self.hub.score(worker), self.hub.free_balance(worker))
        )
        self._standings[worker] = (self.clock(), score, balance)
        return score, balance

    def _assignment(self, action: AssignReplicate) -> models.Assignment:
        record = self.state.deals[action.deal_id]
        authorization = self.hub.authorize(self.pool_owner, action.worker, action.task_id)
        return models.Assignment(
            task_id=_hex(action.task_id),
            deal_id=_hex(action.deal_id),
            index=action.index,
            deal=deal_to_json(record.deal),
            params=record.params,
            authorization=_hex(authorization),
        )

    def report(self, worker: str, task: str, body: models.StatusReport) -> None:
        self._registered(worker)
        task_id, now = _bytes32(task), self.clock()
        if body.stage == "failed":
            reason = body.reason or "no reason given"
            log.warning("worker %s gave up task %s: %s", worker, _short(task_id), reason)
            self.feed(ReplicateFailed(worker=worker, task_id=task_id, reason=reason, now=now))
        else:
            log.info("worker %s: task %s %s", worker, _short(task_id), body.stage)
            self.feed(  # a step for people to see: saved with the next change that matters
                ReplicateProgressed(worker=worker, task_id=task_id, stage=body.stage, now=now),
                save=False,
            )

    async def hand_in(self, worker: str, task: str, body: models.ResultHandIn) -> None:
        self._registered(worker)
        if self.storage is not None:
            storage = self.storage
            try:
                size = await asyncio.to_thread(storage.head, body.blob_id)
            except StorageError as error:
                raise ApiError(503, "storage_unreachable", str(error)) from None
            if size is None:
                raise ApiError(
                    409,
                    "result_not_stored",
                    f"blob {body.blob_id} is not in storage: upload it first",
                )
        task_id = _bytes32(task)
        callback_data = bytes.fromhex(body.callback_data.removeprefix("0x"))
        log.info(
            "worker %s handed in the result of task %s: blob %s",
            worker,
            _short(task_id),
            body.blob_id,
        )
        self.feed(
            ResultUploaded(
                worker=worker,
                task_id=task_id,
                blob_id=body.blob_id,
                callback_data=callback_data,
                now=self.clock(),
            )
        )

    # -- replicates' logs (kept beside the state: no consensus data) --------------------------

    def save_logs(self, worker: str, task: str, body: models.LogsReport) -> None:
        """Keeps a replicate's stdout and stderr; only a worker the task was assigned to may."""
        self._registered(worker)
        task_id = _bytes32(task)
        record = self.state.tasks.get(task_id)
        if record is None:
            raise ApiError(404, "unknown_task", f"this scheduler has no task {_hex(task_id)}")
        if worker not in record.replicates:
            raise ApiError(
                403, "not_assigned", f"task {_hex(task_id)} was not assigned to {worker}"
            )
        now = self.clock()
        logs = TaskLog(
            task_id=_hex(task_id),
            worker=worker,
            stdout=_log_bytes("stdout", body.stdout),
            stderr=_log_bytes("stderr", body.stderr),
            exit_code=body.exit_code,
            failure=body.failure,
            received_at=now,
        )
        self.store.save_logs(logs, keep_after=now - self.log_retention)
        log.info(
            "worker %s sent the logs of task %s (%d bytes of stdout, %d of stderr)",
            worker,
            _short(task_id),
            len(logs.stdout),
            len(logs.stderr),
        )

    def task_logs(self, task: str) -> models.TaskLogs:
        """Every replicate's logs of a task, as text; 404 when there are none."""
        task_id = _hex(_bytes32(task))
        found = self.store.task_logs(task_id)
        if not found:
            raise ApiError(
                404,
                "no_logs",
                f"this scheduler (workerpool {self.workerpool}) holds no logs of task "
                f"{task_id}: no worker has run it yet, or another pool ran it",
            )
        return models.TaskLogs(
            task_id=task_id,
            replicates=[
                models.ReplicateLogs(
                    worker=entry.worker,
                    stdout=entry.stdout.decode("utf-8", errors="replace"),
                    stderr=entry.stderr.decode("utf-8", errors="replace"),
                    exit_code=entry.exit_code,
                    failure=entry.failure,
                    received_at=entry.received_at,
                )
                for entry in found
            ],
        )

    # -- logs ----------------------------------------------------------------------------------

    @staticmethod
    def _log_action(action: Action) -> None:
        if isinstance(action, InitializeTasks):
            log.info(
                "initializing %d tasks of deal %s", len(action.indices), _short(action.deal_id)
            )
        elif isinstance(action, AssignReplicate):
            log.info(
                "task %s (index %d) handed to %s",
                _short(action.task_id),
                action.index,
                action.worker,
            )
        elif isinstance(action, AskReveal):
            log.info(
                "asking %d winners of task %s to reveal",
                len(action.workers),
                _short(action.task_id),
            )
        elif isinstance(action, AskUpload):
            log.info(
                "asking %s to upload the result of task %s", action.worker, _short(action.task_id)
            )
        elif isinstance(action, FinalizeTasks):
            log.info("finalizing %d tasks of deal %s", len(action.tasks), _short(action.deal_id))
        elif isinstance(action, Reopen):
            log.info("reopening task %s", _short(action.task_id))
        elif isinstance(action, AbortReplicate):
            log.info(
                "telling %s to abort task %s: %s",
                action.worker,
                _short(action.task_id),
                action.reason,
            )


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def _bytes32(text: str) -> bytes:
    try:
        raw = bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise ApiError(422, "bad_task_id", f"{text[:80]!r} is not a task id (32 bytes, 0x-hex)")
    return raw


def _log_bytes(name: str, text: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise ApiError(422, "bad_logs", f"{name} is not base64") from None
    if len(raw) > models.MAX_LOG_BYTES:
        raise ApiError(
            422, "logs_too_large", f"{name} is over {models.MAX_LOG_BYTES} bytes: send its tail"
        )
    return raw


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
