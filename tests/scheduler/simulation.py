"""A pool without network: the scheduler's state, a fake hub and simulated workers.

`FakeHub` keeps tasks as `contracts/modules/poco.vy` does (consensus groups, rounds, reveals,
deadlines, the finalize checks, scores) and answers every call with the chain events the
scheduler would see. `Simulation` drives a `SchedulerState` one second at a time: ticks, worker
heartbeats carrying its instructions, pulls, contributions, reveals and uploads, each worker
acting as its behaviour says. Every event goes through `Simulation.feed`, which calls
`validate()` after it and checks each assignment was needed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from eth_account import Account
from eth_utils import keccak

from nuage.protocol.consensus import Consensus, replicas_needed, weight
from nuage.protocol.deals import Deal
from nuage.protocol.ids import task_id as derive_task_id
from nuage.protocol.poco import result_hash
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
    ReplicateRequested,
    ResultUploaded,
    RevealSeen,
    TaskFinalized,
    TaskInitialized,
    TaskReopened,
    Tick,
    WorkerHeartbeat,
    WorkerRegistered,
)
from nuage.scheduler.state import ReplicateStatus, SchedulerConfig, SchedulerState
from tests.scheduler.saved_copy import SavedCopy

POOL = "0x00000000000000000000000000000000000000a1"
POOL_OWNER = "0x00000000000000000000000000000000000000b2"
REQUESTER = "0x00000000000000000000000000000000000000c3"
APP = "0x00000000000000000000000000000000000000d4"
ZERO = "0x0000000000000000000000000000000000000000"
DEAL_ID = keccak(text="deal 1")
START = 1_000_000
STAKE = 3 * 10**8

HONEST = "honest"
LIAR = "liar"
COLLUDING = "colluding"
SILENT = "silent"
CRASH = "crash"
BEHAVIOURS = (HONEST, LIAR, COLLUDING, SILENT, CRASH)


def worker_address(n: int) -> str:
    return str(Account.from_key(keccak(text=f"scheduler test worker {n}")).address)


def make_deal(
    *,
    trust: int = 1,
    volume: int = 1,
    time_ref: int = 300,
    bot_first: int = 0,
    callback: str = ZERO,
    tag: int = 0,
    workerpool: str = POOL,
    worker_stake: int = STAKE,
    start_time: int = START,
) -> Deal:
    return Deal(
        app=APP,
        app_owner=APP,
        app_price=10**9,
        dataset=ZERO,
        dataset_owner=ZERO,
        dataset_price=0,
        workerpool=workerpool,
        workerpool_owner=POOL_OWNER,
        workerpool_price=10**9,
        trust=max(trust, 1),
        category=0,
        time_ref=time_ref,
        tag=tag.to_bytes(32, "big"),
        requester=REQUESTER,
        beneficiary=REQUESTER,
        callback=callback,
        params_hash=keccak(text="{}"),
        start_time=start_time,
        bot_first=bot_first,
        bot_size=volume,
        worker_stake=worker_stake,
        scheduler_reward_ratio=1,
    )


def honest_digest(task: bytes) -> bytes:
    return keccak(b"honest" + task)


def digest_of(behaviour: str, worker: str, task: bytes) -> bytes:
    if behaviour == LIAR:
        return keccak(b"lie" + worker.encode() + task)
    if behaviour == COLLUDING:
        return keccak(b"colluding" + task)
    return honest_digest(task)


class Refused(Exception):
    """The fake hub refused a call, as the real one reverts."""


@dataclass
class HubTask:
    trust: int
    time_ref: int
    status: str = "unset"
    consensus: Consensus = field(default_factory=lambda: Consensus(1))
    votes: dict[str, bytes] = field(default_factory=dict)  # worker -> result hash
    counted: dict[str, bool] = field(default_factory=dict)
    revealed: set[str] = field(default_factory=set)
    weights: dict[str, int] = field(default_factory=dict)
    consensus_value: bytes | None = None
    reveal_deadline: int = 0
    winners: int = 0
    round: int = 0
    digest: bytes | None = None


class FakeHub:
    """The hub's task lifecycle, in memory; each call returns the events it emits."""

    def __init__(self) -> None:
        self.tasks: dict[bytes, HubTask] = {}
        self.deals: dict[bytes, Deal] = {}
        self.scores: dict[str, int] = {}
        self.chain_time = START
        self.finalized: list[bytes] = []

    def open_deal(self, deal_id: bytes, deal: Deal) -> None:
        self.deals[deal_id] = deal
        for index in range(deal.bot_first, deal.bot_first + deal.bot_size):
            self.tasks[derive_task_id(deal_id, index)] = HubTask(deal.trust, deal.time_ref)

    def _deal_of(self, task: bytes) -> Deal:
        for deal_id, deal in self.deals.items():
            if task in deal.task_ids(deal_id):
                return deal
        raise KeyError(task)

    def initialize(self, deal_id: bytes, indices: tuple[int, ...], now: float) -> list[Event]:
        events: list[Event] = []
        for index in indices:
            task = derive_task_id(deal_id, index)
            hub_task = self.tasks[task]
            if hub_task.status != "unset":
                raise Refused("poco: task already initialized")
            hub_task.status = "active"
            hub_task.consensus = Consensus(hub_task.trust)
            events.append(TaskInitialized(task_id=task, now=now))
        return events

    def contribute(self, worker: str, task: bytes, digest: bytes, now: float) -> list[Event]:
        hub_task = self.tasks[task]
        deal = self._deal_of(task)
        if hub_task.status != "active":
            raise Refused("poco: task not active")
        if self.chain_time >= deal.start_time + 7 * deal.time_ref:
            raise Refused("poco: contribution deadline passed")
        if worker in hub_task.votes:
            raise Refused("poco: already contributed")
        vote = result_hash(task, digest)
        w = weight(self.scores.get(worker, 0))
        hub_task.votes[worker] = vote
        hub_task.counted[worker] = True
        hub_task.weights[worker] = w
        hub_task.consensus = hub_task.consensus.contribute(vote, w)
        events: list[Event] = [
            ContributionSeen(task_id=task, worker=worker, result_hash=vote, now=now)
        ]
        if hub_task.consensus.reached() == vote:
            hub_task.status = "revealing"
            hub_task.consensus_value = vote
            hub_task.reveal_deadline = self.chain_time + 2 * hub_task.time_ref
            hub_task.winners = sum(
                1 for w_, v in hub_task.votes.items() if v == vote and hub_task.counted[w_]
            )
            events.append(
                ConsensusReached(
                    task_id=task,
                    consensus_value=vote,
                    reveal_deadline=hub_task.reveal_deadline,
                    now=now,
                )
            )
        return events

    def reveal(self, worker: str, task: bytes, digest: bytes, now: float) -> list[Event]:
        hub_task = self.tasks[task]
        if hub_task.status != "revealing":
            raise Refused("poco: task not revealing")
        if self.chain_time >= hub_task.reveal_deadline:
            raise Refused("poco: reveal deadline passed")
        if worker not in hub_task.votes or worker in hub_task.revealed:
            raise Refused("poco: no contribution to reveal")
        if not hub_task.counted[worker] or result_hash(task, digest) != hub_task.consensus_value:
            raise Refused("poco: result is not the consensus")
        hub_task.revealed.add(worker)
        hub_task.digest = digest
        return [RevealSeen(task_id=task, worker=worker, digest=digest, now=now)]

    def reopen(self, task: bytes, now: float) -> list[Event]:
        hub_task = self.tasks[task]
        if hub_task.status != "revealing":
            raise Refused("poco: task not revealing")
        if self.chain_time < hub_task.reveal_deadline:
            raise Refused("poco: reveal deadline not reached")
        if hub_task.revealed:
            raise Refused("poco: results were revealed")
        assert hub_task.consensus_value is not None
        for worker, vote in hub_task.votes.items():
            if vote == hub_task.consensus_value:
                hub_task.counted[worker] = False
        hub_task.consensus = hub_task.consensus.without(hub_task.consensus_value)
        hub_task.consensus_value = None
        hub_task.status = "active"
        hub_task.round += 1
        return [TaskReopened(task_id=task, now=now)]

    def finalize(self, action: FinalizeTasks, now: float) -> list[Event]:
        events: list[Event] = []
        for item in action.tasks:  # all or nothing, as one transaction
            hub_task = self.tasks[item.task_id]
            if hub_task.status != "revealing":
                raise Refused("poco: task not revealing")
            passed = self.chain_time >= hub_task.reveal_deadline
            if len(hub_task.revealed) != hub_task.winners and not (hub_task.revealed and passed):
                raise Refused("poco: reveals still expected")
            ordered = sorted(hub_task.votes, key=lambda a: int(a, 16))
            if list(item.contributors) != ordered:
                raise Refused("poco: contributor list incomplete")
        for item in action.tasks:
            hub_task = self.tasks[item.task_id]
            hub_task.status = "completed"
            replicated = len(hub_task.votes) > 1
            for worker in hub_task.votes:
                score = self.scores.get(worker, 0)
                if worker in hub_task.revealed:
                    self.scores[worker] = score + 1 if replicated else score
                else:
                    self.scores[worker] = score * 2 // 3
            assert hub_task.digest is not None
            self.finalized.append(item.task_id)
            events.append(
                TaskFinalized(
                    task_id=item.task_id, results=item.results, digest=hub_task.digest, now=now
                )
            )
        return events

    def contribute_and_finalize(
        self, worker: str, task: bytes, digest: bytes, now: float
    ) -> list[Event]:
        hub_task = self.tasks[task]
        if hub_task.trust > 1:
            raise Refused("poco: trust above 1")
        if hub_task.status == "completed":
            raise Refused("poco: task already completed")
        hub_task.status = "completed"
        hub_task.digest = digest
        hub_task.votes[worker] = result_hash(task, digest)
        self.finalized.append(task)
        return [TaskFinalized(task_id=task, results=keccak(digest), digest=digest, now=now)]


@dataclass
class Job:
    task: bytes
    due: float
    contributed: bool = False


@dataclass
class SimWorker:
    address: str
    behaviour: str
    max_parallel: int = 1
    alive: bool = True
    jobs: dict[bytes, Job] = field(default_factory=dict)
    done: set[bytes] = field(default_factory=set)


class Simulation:
    """One pool: a state, a hub, workers; `run` steps the clock until every task ended."""

    def __init__(
        self,
        behaviours: list[str],
        *,
        seed: int = 0,
        config: SchedulerConfig | None = None,
        max_parallel: int = 1,
    ) -> None:
        self.rng = random.Random(seed)
        self.state = SchedulerState(
            config
            or SchedulerConfig(
                workerpool=POOL,
                heartbeat_timeout=10,
                contribution_timeout=5,
                upload_timeout=5,
                tx_retry_after=5,
            )
        )
        self.saved = SavedCopy()
        self.hub = FakeHub()
        self.now = float(START)
        self.workers = [
            SimWorker(worker_address(n), behaviour, max_parallel)
            for n, behaviour in enumerate(behaviours)
        ]
        self.by_address = {w.address: w for w in self.workers}
        self.assigned: set[tuple[str, bytes]] = set()
        self.assignments: list[AssignReplicate] = []
        self.refused: list[tuple[Any, str]] = []
        for worker in self.workers:
            self.feed(
                WorkerRegistered(
                    worker=worker.address,
                    capabilities=Capabilities(sandboxes=("bubblewrap",), max_parallel=max_parallel),
                    now=self.now,
                )
            )

    # -- feeding the state ---------------------------------------------------------------------

    def feed(self, event: Event) -> list[Action]:
        before = self._pending_snapshot(event)
        actions = self.state.handle(event)
        self.state.validate()
        self.saved.check(self.state)
        for action in actions:
            if isinstance(action, AssignReplicate):
                self._check_needed(action, before)
        self.execute([a for a in actions if not isinstance(a, AssignReplicate | NoWork)])
        return actions

    def _pending_snapshot(self, event: Event) -> dict[bytes, tuple[Consensus, list[int]]]:
        if not isinstance(event, ReplicateRequested):
            return {}
        return {
            task_id: (
                self.state.consensus_of(task),
                [r.weight for r in task.with_status(ReplicateStatus.ASSIGNED)],
            )
            for task_id, task in self.state.tasks.items()
        }

    def _check_needed(self, action: AssignReplicate, before: dict[bytes, Any]) -> None:
        """An assignment is never more than the consensus prediction asked for."""
        key = (action.worker, action.task_id)
        assert key not in self.assigned, f"{action.worker} got task {action.task_id.hex()} twice"
        self.assigned.add(key)
        self.assignments.append(action)
        task = self.state.tasks[action.task_id]
        if task.trust <= 1:
            assert len(task.with_status(ReplicateStatus.ASSIGNED)) == 1
            return
        consensus, pending = before[action.task_id]
        w = task.replicates[action.worker].weight
        assert replicas_needed(consensus, pending, w) > 0, "a replicate nobody needed"

    def execute(self, actions: list[Action]) -> None:
        for action in actions:
            try:
                events = self._chain_call(action)
            except Refused as refusal:
                self.refused.append((action, str(refusal)))
                assert isinstance(action, InitializeTasks | FinalizeTasks | Reopen)
                self.feed(ActionFailed(action=action, reason=str(refusal), now=self.now))
                continue
            for event in events:
                self.feed(event)

    def _chain_call(self, action: Action) -> list[Event]:
        if isinstance(action, InitializeTasks):
            return self.hub.initialize(action.deal_id, action.indices, self.now)
        if isinstance(action, FinalizeTasks):
            return self.hub.finalize(action, self.now)
        if isinstance(action, Reopen):
            return self.hub.reopen(action.task_id, self.now)
        return []  # instructions to workers travel with heartbeats

    # -- the world -----------------------------------------------------------------------------

    def open_deal(self, deal: Deal, deal_id: bytes = DEAL_ID) -> None:
        self.hub.open_deal(deal_id, deal)
        self.feed(DealSeen(deal_id=deal_id, deal=deal, params="{}", now=self.now))

    def step(self) -> None:
        self.now += 1
        self.hub.chain_time += 1
        self.feed(Tick(now=self.now, chain_time=self.hub.chain_time))
        workers = [w for w in self.workers if w.alive]
        self.rng.shuffle(workers)
        for worker in workers:
            self._heartbeat(worker)
            self._work(worker)
            self._pull(worker)

    def _heartbeat(self, worker: SimWorker) -> None:
        running = tuple(worker.jobs)
        for action in self.feed(
            WorkerHeartbeat(worker=worker.address, running=running, now=self.now)
        ):
            if isinstance(action, AbortReplicate | ReleaseReplicate):
                worker.jobs.pop(action.task_id, None)
            elif isinstance(action, AskReveal) and worker.behaviour != SILENT:
                self._reveal(worker, action.task_id)
            elif isinstance(action, AskUpload):
                self.feed(
                    ResultUploaded(
                        worker=worker.address,
                        task_id=action.task_id,
                        blob_id=keccak(action.task_id).hex(),
                        callback_data=b"",
                        now=self.now,
                    )
                )

    def _reveal(self, worker: SimWorker, task: bytes) -> None:
        digest = digest_of(worker.behaviour, worker.address, task)
        try:
            events = self.hub.reveal(worker.address, task, digest, self.now)
        except Refused as refusal:
            self.feed(
                ReplicateFailed(
                    worker=worker.address, task_id=task, reason=str(refusal), now=self.now
                )
            )
            return
        for event in events:
            self.feed(event)

    def _work(self, worker: SimWorker) -> None:
        for job in list(worker.jobs.values()):
            if job.contributed or job.due > self.now:
                continue
            if worker.behaviour == CRASH:
                worker.alive = False
                return
            digest = digest_of(worker.behaviour, worker.address, job.task)
            try:
                if self.hub.tasks[job.task].trust <= 1:
                    events = self.hub.contribute_and_finalize(
                        worker.address, job.task, digest, self.now
                    )
                else:
                    events = self.hub.contribute(worker.address, job.task, digest, self.now)
            except Refused as refusal:
                worker.jobs.pop(job.task)
                self.feed(
                    ReplicateFailed(
                        worker=worker.address, task_id=job.task, reason=str(refusal), now=self.now
                    )
                )
                continue
            job.contributed = True
            for event in events:
                self.feed(event)

    def _pull(self, worker: SimWorker) -> None:
        busy = sum(1 for job in worker.jobs.values() if not job.contributed)
        if busy >= worker.max_parallel:
            return
        request = ReplicateRequested(
            worker=worker.address,
            score=self.hub.scores.get(worker.address, 0),
            free_balance=10 * STAKE,
            now=self.now,
        )
        for action in self.feed(request):
            if isinstance(action, AssignReplicate):
                delay = self.rng.randint(0, 3)
                worker.jobs[action.task_id] = Job(action.task_id, self.now + delay)

    def run(self, max_steps: int = 10_000) -> None:
        for _ in range(max_steps):
            if all(task.phase.ended for task in self.state.tasks.values()):
                return
            self.step()

    def contributions(self, task: bytes) -> int:
        return len(self.hub.tasks[task].votes)
