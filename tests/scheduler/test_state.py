"""The scheduler's state machine, rule by rule, with no network: events in, actions out."""

from __future__ import annotations

import json

import pytest
from eth_utils import keccak

from nuage.protocol.ids import task_id as derive_task_id
from nuage.protocol.poco import TaskStatus, result_hash
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
from nuage.scheduler.snapshot import dump_state, load_state
from nuage.scheduler.state import (
    InvalidState,
    ReplicateStatus,
    SchedulerConfig,
    SchedulerState,
    TaskPhase,
)
from tests.scheduler.saved_copy import SavedCopy
from tests.scheduler.simulation import DEAL_ID, POOL, STAKE, START, make_deal, worker_address

T = 300
CONFIG = SchedulerConfig(
    workerpool=POOL, heartbeat_timeout=30, contribution_timeout=100, upload_timeout=20
)
RESULT = keccak(text="result")
LIE = keccak(text="lie")
BLOB = "ab" * 32


class Pool:
    """A scheduler state and its workers; every event is validated."""

    def __init__(self, workers: int = 9, config: SchedulerConfig = CONFIG, **capabilities):
        self.state = SchedulerState(config)
        self.saved = SavedCopy()
        self.now = float(START)
        self.workers = [worker_address(n) for n in range(workers)]
        caps = Capabilities(**{"sandboxes": ("bubblewrap",), **capabilities})
        for worker in self.workers:
            self.feed(WorkerRegistered(worker=worker, capabilities=caps, now=self.now))

    def feed(self, event: Event) -> list[Action]:
        actions = self.state.handle(event)
        self.state.validate()
        self.saved.check(self.state)
        return actions

    def deal(self, **fields) -> list[Action]:
        return self.feed(
            DealSeen(deal_id=DEAL_ID, deal=make_deal(**fields), params="{}", now=self.now)
        )

    def task(self, index: int = 0) -> bytes:
        return derive_task_id(DEAL_ID, index)

    def pull(self, worker: str, score: int = 0, balance: int = 10 * STAKE) -> Action:
        (action,) = self.feed(
            ReplicateRequested(worker=worker, score=score, free_balance=balance, now=self.now)
        )
        return action

    def contribute(self, worker: str, digest: bytes = RESULT, index: int = 0) -> None:
        task = self.task(index)
        vote = result_hash(task, digest)
        self.feed(ContributionSeen(task_id=task, worker=worker, result_hash=vote, now=self.now))

    def consensus(self, digest: bytes = RESULT, index: int = 0, deadline: int = START + 2 * T):
        task = self.task(index)
        vote = result_hash(task, digest)
        return self.feed(
            ConsensusReached(
                task_id=task, consensus_value=vote, reveal_deadline=deadline, now=self.now
            )
        )

    def tick(self, seconds: float = 1.0, chain_time: int | None = None) -> list[Action]:
        self.now += seconds
        return self.feed(Tick(now=self.now, chain_time=chain_time or int(self.now)))

    def heartbeat(self, worker: str, running: tuple[bytes, ...] = ()) -> list[Action]:
        return self.feed(WorkerHeartbeat(worker=worker, running=running, now=self.now))

    def started(self, index: int = 0) -> None:
        self.feed(TaskInitialized(task_id=self.task(index), now=self.now))


def test_a_deal_of_another_pool_is_ignored():
    pool = Pool()
    assert pool.deal(trust=100, workerpool="0x" + "99" * 20) == []
    assert pool.state.tasks == {}


def test_a_replicated_deal_initializes_all_its_tasks_in_one_action():
    pool = Pool()
    (action,) = pool.deal(trust=100, volume=20, time_ref=T)
    assert action == InitializeTasks(deal_id=DEAL_ID, indices=tuple(range(20)))
    assert {t.phase for t in pool.state.tasks.values()} == {TaskPhase.INITIALIZING}
    assert isinstance(pool.pull(pool.workers[0]), NoWork)  # not started on chain yet


def test_a_trust_1_deal_is_never_initialized_and_takes_one_replicate_at_a_time():
    pool = Pool()
    assert pool.deal(trust=1, time_ref=T) == []
    first = pool.pull(pool.workers[0])
    assert first == AssignReplicate(
        worker=pool.workers[0], task_id=pool.task(), deal_id=DEAL_ID, index=0
    )
    assert pool.state.tasks[pool.task()].replicates[pool.workers[0]].stake == 0
    assert isinstance(pool.pull(pool.workers[1]), NoWork)


def test_trust_1_redispatches_after_the_contribution_timeout_never_to_the_same_worker():
    pool = Pool(workers=2)
    pool.deal(trust=1, time_ref=T)
    pool.pull(pool.workers[0])
    pool.tick(101)
    assert pool.state.tasks[pool.task()].replicates[pool.workers[0]].status is ReplicateStatus.LOST
    assert isinstance(pool.pull(pool.workers[0]), NoWork)
    assert isinstance(pool.pull(pool.workers[1]), AssignReplicate)


def test_seven_fresh_workers_are_exactly_what_trust_100_needs():
    pool = Pool(workers=9)
    pool.deal(trust=100, time_ref=T)
    pool.started()
    handed = [pool.pull(w) for w in pool.workers]
    assert [isinstance(a, AssignReplicate) for a in handed] == [True] * 7 + [False] * 2
    assert handed[7] == NoWork(worker=pool.workers[7], reason="no task needs a replicate")


def test_a_heavier_worker_needs_fewer_companions():
    pool = Pool(workers=4)
    pool.deal(trust=100, time_ref=T)
    pool.started()
    # weights 99 (score 300) and 32 (score 99): 3168 * 100 > 3172 * 99 with two of them
    assert isinstance(pool.pull(pool.workers[0], score=300), AssignReplicate)
    assert isinstance(pool.pull(pool.workers[1], score=99), AssignReplicate)
    assert isinstance(pool.pull(pool.workers[2], score=99), NoWork)


def test_pending_replicates_count_as_joining_the_best_group_even_a_lie():
    pool = Pool(workers=11)
    pool.deal(trust=100, time_ref=T)
    pool.started()
    for worker in pool.workers[:7]:
        pool.pull(worker)
    pool.contribute(pool.workers[0], LIE)  # the 6 pending may all join the lie: 2**7 wins
    assert isinstance(pool.pull(pool.workers[7]), NoWork)
    pool.contribute(pool.workers[1])  # two groups of 2: 5 pending reach 64, 512 is needed
    handed = [pool.pull(w) for w in pool.workers[7:]]
    assert [isinstance(a, AssignReplicate) for a in handed] == [True, True, True, False]


def test_a_worker_that_stops_heartbeating_loses_its_replicate():
    pool = Pool(workers=8)
    pool.deal(trust=100, time_ref=T)
    pool.started()
    for worker in pool.workers[:7]:
        pool.pull(worker)
    pool.tick(20)
    for worker in pool.workers[1:]:
        pool.heartbeat(worker)
    pool.tick(15)  # worker 0 silent for 35 s
    assert pool.state.workers[pool.workers[0]].lost
    replicate = pool.state.tasks[pool.task()].replicates[pool.workers[0]]
    assert replicate.status is ReplicateStatus.LOST
    assert isinstance(pool.pull(pool.workers[7]), AssignReplicate)


def test_free_balance_must_cover_the_stake():
    pool = Pool()
    pool.deal(trust=100, time_ref=T)
    pool.started()
    action = pool.pull(pool.workers[0], balance=STAKE - 1)
    assert isinstance(action, NoWork) and "cannot stake" in action.reason


def test_gpu_deals_go_to_gpu_workers_only():
    pool = Pool(workers=1)
    pool.deal(trust=1, time_ref=T, tag=1 << 8)
    assert isinstance(pool.pull(pool.workers[0]), NoWork)
    gpu = Pool(workers=1, gpus=1)
    gpu.deal(trust=1, time_ref=T, tag=1 << 8)
    assert isinstance(gpu.pull(gpu.workers[0]), AssignReplicate)


def test_a_worker_gets_no_more_than_it_runs_at_once():
    pool = Pool(workers=1, max_parallel=2)
    pool.deal(trust=1, volume=3, time_ref=T)
    assert isinstance(pool.pull(pool.workers[0]), AssignReplicate)
    assert isinstance(pool.pull(pool.workers[0]), AssignReplicate)
    assert isinstance(pool.pull(pool.workers[0]), NoWork)


def _to_consensus(pool: Pool, winners: int = 7) -> list[str]:
    pool.deal(trust=100, time_ref=T, volume=2)
    pool.started(0)
    pool.started(1)
    chosen = pool.workers[:winners]
    for worker in chosen:
        pool.pull(worker)
        pool.contribute(worker)
    return chosen


def test_consensus_asks_winners_to_reveal_first_revealer_to_upload_then_finalizes():
    pool = Pool()
    winners = _to_consensus(pool)
    (ask,) = pool.consensus()
    assert ask == AskReveal(task_id=pool.task(), workers=tuple(winners))
    assert pool.heartbeat(winners[3]) == [AskReveal(task_id=pool.task(), workers=(winners[3],))]
    for n, worker in enumerate(winners):
        actions = pool.feed(
            RevealSeen(task_id=pool.task(), worker=worker, digest=RESULT, now=pool.now)
        )
        assert actions == ([AskUpload(task_id=pool.task(), worker=worker)] if n == 0 else [])
    assert pool.tick() == []  # nothing to finalize without the result
    assert pool.heartbeat(winners[0]) == [AskUpload(task_id=pool.task(), worker=winners[0])]
    pool.feed(
        ResultUploaded(
            worker=winners[0], task_id=pool.task(), blob_id=BLOB, callback_data=b"", now=pool.now
        )
    )
    (finalize,) = pool.tick()
    assert isinstance(finalize, FinalizeTasks)
    (item,) = finalize.tasks
    assert item.results == bytes.fromhex(BLOB)
    assert list(item.contributors) == sorted(winners, key=lambda a: int(a, 16))
    pool.feed(TaskFinalized(task_id=pool.task(), results=item.results, digest=RESULT, now=pool.now))
    assert pool.state.tasks[pool.task()].phase is TaskPhase.COMPLETED
    assert pool.heartbeat(winners[0], running=(pool.task(),)) == [
        ReleaseReplicate(worker=winners[0], task_id=pool.task())
    ]


def test_after_the_reveal_deadline_one_reveal_is_enough():
    pool = Pool()
    winners = _to_consensus(pool)
    pool.consensus(deadline=int(pool.now) + 50)
    pool.feed(RevealSeen(task_id=pool.task(), worker=winners[2], digest=RESULT, now=pool.now))
    pool.feed(
        ResultUploaded(
            worker=winners[2], task_id=pool.task(), blob_id=BLOB, callback_data=b"", now=pool.now
        )
    )
    assert pool.tick(10) == []
    (finalize,) = pool.tick(41)
    assert isinstance(finalize, FinalizeTasks)


def test_no_reveal_by_the_deadline_reopens_and_the_silent_winners_no_longer_count():
    pool = Pool(workers=16)
    winners = _to_consensus(pool)
    pool.consensus(deadline=int(pool.now) + 50)
    assert pool.tick(49) == []
    assert pool.tick(2) == [Reopen(task_id=pool.task(), deal_id=DEAL_ID, index=0)]
    pool.feed(TaskReopened(task_id=pool.task(), now=pool.now))
    task = pool.state.tasks[pool.task()]
    assert task.phase is TaskPhase.ACTIVE and task.round == 1
    assert not any(r.counted for r in task.replicates.values())
    assert pool.pull(winners[0]).index == 1  # never task 0 again: it contributed to it
    handed = [pool.pull(w) for w in pool.workers[7:14]]
    assert [a.index for a in handed] == [0] * 7  # the dropped group no longer helps


def test_an_uploader_that_does_not_upload_is_replaced_by_another_winner():
    pool = Pool()
    winners = _to_consensus(pool)
    pool.consensus()
    for worker in winners[:2]:
        pool.feed(RevealSeen(task_id=pool.task(), worker=worker, digest=RESULT, now=pool.now))
    assert pool.tick(21) == [AskUpload(task_id=pool.task(), worker=winners[1])]
    pool.feed(ReplicateFailed(worker=winners[1], task_id=pool.task(), reason="x", now=pool.now))
    assert pool.tick() == [AskUpload(task_id=pool.task(), worker=winners[0])]


def test_callback_data_that_is_not_the_result_is_refused():
    pool = Pool()
    pool.deal(trust=100, time_ref=T, callback="0x" + "cc" * 20)
    pool.started()
    data = b"the answer"
    digest = keccak(data)
    for worker in pool.workers[:7]:
        pool.pull(worker)
        pool.contribute(worker, digest)
    pool.consensus(digest)
    pool.feed(RevealSeen(task_id=pool.task(), worker=pool.workers[0], digest=digest, now=pool.now))
    upload = {"worker": pool.workers[0], "task_id": pool.task(), "blob_id": BLOB, "now": pool.now}
    pool.feed(ResultUploaded(callback_data=b"another answer", **upload))
    assert pool.state.tasks[pool.task()].result_blob is None
    pool.feed(RevealSeen(task_id=pool.task(), worker=pool.workers[1], digest=digest, now=pool.now))
    pool.feed(ResultUploaded(**{**upload, "worker": pool.workers[1]}, callback_data=data))
    assert pool.state.tasks[pool.task()].callback_data == data


def test_a_refused_batch_is_retried_task_by_task_after_the_delay():
    pool = Pool(workers=14, max_parallel=2)
    pool.deal(trust=100, time_ref=T, volume=2)
    for index in (0, 1):
        pool.started(index)
        for worker in pool.workers[:7]:
            pool.pull(worker)
            pool.contribute(worker, index=index)
        pool.consensus(index=index)
        for worker in pool.workers[:7]:
            pool.feed(
                RevealSeen(task_id=pool.task(index), worker=worker, digest=RESULT, now=pool.now)
            )
        pool.feed(
            ResultUploaded(
                worker=pool.workers[0],
                task_id=pool.task(index),
                blob_id=BLOB,
                callback_data=b"",
                now=pool.now,
            )
        )
    (batch,) = pool.tick()
    assert isinstance(batch, FinalizeTasks) and len(batch.tasks) == 2
    pool.feed(ActionFailed(action=batch, reason="poco: contributor list incomplete", now=pool.now))
    assert pool.tick(30) == []
    retries = pool.tick(31)
    assert [len(a.tasks) for a in retries if isinstance(a, FinalizeTasks)] == [1, 1]


def test_an_initialize_already_done_counts_as_done():
    pool = Pool()
    (init,) = pool.deal(trust=100, time_ref=T)
    assert isinstance(init, InitializeTasks)
    pool.feed(ActionFailed(action=init, reason="poco: task already initialized", now=pool.now))
    assert pool.state.tasks[pool.task()].phase is TaskPhase.ACTIVE


def test_the_final_deadline_expires_a_task_and_a_claim_fails_it():
    pool = Pool()
    pool.deal(trust=1, time_ref=T)
    pool.pull(pool.workers[0])
    pool.tick(chain_time=START + 10 * T)
    task = pool.state.tasks[pool.task()]
    assert task.phase is TaskPhase.EXPIRED
    assert task.replicates[pool.workers[0]].status is ReplicateStatus.LOST
    pool.feed(TaskClaimed(task_id=pool.task(), now=pool.now))
    assert task.phase is TaskPhase.FAILED


def test_assigned_replicates_are_aborted_once_consensus_is_reached():
    pool = Pool(workers=10)
    pool.deal(trust=100, time_ref=T)
    pool.started()
    for worker in pool.workers[:7]:
        pool.pull(worker)
    for worker in pool.workers[1:7]:
        pool.contribute(worker)
    pool.contribute(pool.workers[7])  # an old replicate of a worker the state lost track of
    pool.consensus()
    actions = pool.heartbeat(pool.workers[0], running=(pool.task(),))
    assert actions == [
        AbortReplicate(
            worker=pool.workers[0], task_id=pool.task(), reason="aborted: the task is revealing"
        )
    ]


def test_a_restart_sends_unconfirmed_transactions_again():
    pool = Pool()
    (init,) = pool.deal(trust=100, time_ref=T)
    assert pool.feed(SchedulerRestarted(now=pool.now + 1)) == [init]


def test_reconciling_with_the_chain_after_a_restart():
    pool = Pool()
    pool.deal(trust=100, time_ref=T, volume=3)
    observed = {0: TaskStatus.ACTIVE, 1: TaskStatus.COMPLETED, 2: TaskStatus.UNSET}
    for index, status in observed.items():
        pool.feed(
            TaskObserved(
                task_id=pool.task(index),
                status=status,
                consensus_value=b"\x00" * 32,
                reveal_deadline=0,
                reveals=0,
                now=pool.now,
            )
        )
    phases = [pool.state.tasks[pool.task(i)].phase for i in range(3)]
    assert phases == [TaskPhase.ACTIVE, TaskPhase.COMPLETED, TaskPhase.NEW]
    assert pool.tick() == [InitializeTasks(deal_id=DEAL_ID, indices=(2,))]


def test_a_snapshot_restores_the_same_state():
    pool = Pool()
    winners = _to_consensus(pool)
    pool.consensus()
    pool.feed(RevealSeen(task_id=pool.task(), worker=winners[0], digest=RESULT, now=pool.now))
    saved = json.loads(json.dumps(dump_state(pool.state)))
    restored = load_state(saved, CONFIG)
    restored.validate()
    assert dump_state(restored) == dump_state(pool.state)
    assert restored.tasks[pool.task()].uploader == winners[0]


def test_validate_catches_two_pending_replicates_of_a_trust_1_task():
    pool = Pool()
    pool.deal(trust=1, time_ref=T)
    pool.pull(pool.workers[0])
    task = pool.state.tasks[pool.task()]
    replicate = task.replicates[pool.workers[0]]
    task.replicates[pool.workers[1]] = type(replicate)(
        **{**vars(replicate), "worker": pool.workers[1]}
    )
    with pytest.raises(InvalidState, match="pending replicates"):
        pool.state.validate()
