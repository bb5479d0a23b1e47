"""The worker's replicate state machine, with no network: events in, actions out."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from nuage.protocol.ids import task_id as derive_task_id
from nuage.protocol.poco import TaskStatus
from nuage.worker.state import (
    AbortAsked,
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
    Stage,
    StepFailed,
    Upload,
    UploadAsked,
    WorkerState,
)
from tests.scheduler.simulation import DEAL_ID, make_deal, worker_address

WORKER = worker_address(0)
DIGEST = keccak(text="the result")
BLOB = "cd" * 32


def assignment(trust: int = 100, index: int = 0) -> Assignment:
    return Assignment(
        task_id=derive_task_id(DEAL_ID, index),
        deal_id=DEAL_ID,
        index=index,
        deal=make_deal(trust=trust, volume=4),
        params='{"iexec_args": "10"}',
        authorization=b"\x01" * 65,
    )


def computed(state: WorkerState, trust: int = 100) -> tuple[bytes, list]:
    job = assignment(trust)
    task = job.task_id
    state.handle(ReplicateAssigned(assignment=job, now=1))
    state.handle(InputsFetched(task_id=task, now=2))
    actions = state.handle(
        ResultComputed(task_id=task, digest=DIGEST, callback_data=b"", app_error=None, now=3)
    )
    return task, actions


def test_a_replicated_task_goes_from_assignment_to_release():
    state = WorkerState(WORKER)
    job = assignment()
    task = job.task_id
    assert state.handle(ReplicateAssigned(assignment=job, now=1)) == [
        Fetch(task_id=task),
    ]
    assert state.free_slots() == 0
    assert state.handle(InputsFetched(task_id=task, now=2))[-1] == Compute(task_id=task)
    actions = state.handle(
        ResultComputed(task_id=task, digest=DIGEST, callback_data=b"", app_error=None, now=3)
    )
    assert actions[-1] == Contribute(task_id=task, vote=DIGEST)
    assert state.replicates[task].stage is Stage.CONTRIBUTING
    assert state.handle(Contributed(task_id=task, now=4)) == [
        ReportStatus(task_id=task, stage=Stage.CONTRIBUTED)
    ]
    assert state.free_slots() == 1  # waiting for consensus holds no slot
    assert state.handle(RevealAsked(task_id=task, now=5)) == [Reveal(task_id=task, vote=DIGEST)]
    assert state.handle(RevealAsked(task_id=task, now=5)) == []  # asked twice, revealed once
    state.handle(Revealed(task_id=task, now=6))
    assert state.handle(UploadAsked(task_id=task, now=7)) == [Upload(task_id=task)]
    assert state.handle(ResultStored(task_id=task, blob_id=BLOB, now=8))[-1] == HandInResult(
        task_id=task, blob_id=BLOB, callback_data=b""
    )
    assert state.handle(UploadAsked(task_id=task, now=9)) == [
        HandInResult(task_id=task, blob_id=BLOB, callback_data=b"")
    ]
    assert state.running() == [task]
    assert state.handle(ReleaseAsked(task_id=task, now=10)) == [Cleanup(task_id=task)]
    assert state.running() == []


def test_trust_1_uploads_then_contributes_and_finalizes_in_one_transaction():
    state = WorkerState(WORKER)
    task, actions = computed(state, trust=1)
    assert actions[-1] == Upload(task_id=task)
    assert state.handle(ResultStored(task_id=task, blob_id=BLOB, now=4)) == [
        ContributeAndFinalize(task_id=task, vote=DIGEST, blob_id=BLOB, callback_data=b"")
    ]
    assert state.handle(Finalized(task_id=task, now=5))[-1] == Cleanup(task_id=task)
    assert state.replicates[task].stage is Stage.DONE


def test_a_second_replicate_of_a_task_is_refused():
    state = WorkerState(WORKER)
    state.handle(ReplicateAssigned(assignment=assignment(), now=1))
    (refusal,) = state.handle(ReplicateAssigned(assignment=assignment(), now=2))
    assert isinstance(refusal, ReportFailure) and "already holds" in refusal.reason


def test_a_reveal_asked_before_the_contribution_is_mined_happens_after_it():
    state = WorkerState(WORKER)
    task, _ = computed(state)
    assert state.handle(RevealAsked(task_id=task, now=4)) == []
    assert state.handle(Contributed(task_id=task, now=5))[-1] == Reveal(task_id=task, vote=DIGEST)


@pytest.mark.parametrize("mode", ["liar", "colluding"])
def test_lying_modes_vote_another_digest_and_colluders_agree(mode: str):
    votes = set()
    for n in range(2):
        state = WorkerState(worker_address(n), mode=mode)
        task, actions = computed(state)
        (contribute,) = [a for a in actions if isinstance(a, Contribute)]
        assert contribute.vote != DIGEST
        assert state.replicates[task].computed == DIGEST
        votes.add(contribute.vote)
    assert len(votes) == (1 if mode == "colluding" else 2)


def test_silent_mode_never_reveals():
    state = WorkerState(WORKER, mode="silent")
    task, _ = computed(state)
    state.handle(Contributed(task_id=task, now=4))
    assert state.handle(RevealAsked(task_id=task, now=5)) == []


def test_crash_mode_dies_between_computing_and_contributing():
    state = WorkerState(WORKER, mode="crash")
    _, actions = computed(state)
    assert len(actions) == 1 and isinstance(actions[0], Crash)


def test_abort_stops_a_replicate_only_before_it_contributes():
    state = WorkerState(WORKER, max_parallel=2)
    job = assignment()
    state.handle(ReplicateAssigned(assignment=job, now=1))
    assert state.handle(AbortAsked(task_id=job.task_id, reason="consensus", now=2)) == [
        Cleanup(task_id=job.task_id)
    ]
    assert state.replicates[job.task_id].stage is Stage.ABORTED
    # a late result of the aborted run is ignored
    assert (
        state.handle(
            ResultComputed(
                task_id=job.task_id, digest=DIGEST, callback_data=b"", app_error=None, now=3
            )
        )
        == []
    )
    other = WorkerState(WORKER)
    task, _ = computed(other)
    assert other.handle(AbortAsked(task_id=task, reason="late", now=4)) == []


def test_a_failed_step_is_reported_and_frees_the_slot():
    state = WorkerState(WORKER)
    job = assignment()
    state.handle(ReplicateAssigned(assignment=job, now=1))
    actions = state.handle(StepFailed(task_id=job.task_id, reason="storage down", now=2))
    assert actions == [
        ReportFailure(task_id=job.task_id, reason="storage down"),
        Cleanup(task_id=job.task_id),
    ]
    assert state.free_slots() == 1


def _restarted(record: ReplicateRecord) -> WorkerState:
    """A fresh state loaded from a saved record, as after a restart."""
    state = WorkerState(WORKER)
    loaded = ReplicateRecord.from_json(record.to_json())
    state.replicates[loaded.task_id] = loaded
    return state


def test_after_a_restart_a_contribution_already_on_chain_is_not_sent_again():
    state = WorkerState(WORKER)
    task, _ = computed(state)  # CONTRIBUTING: the transaction may or may not have gone out
    restarted = _restarted(state.replicates[task])
    assert restarted.handle(AgentRestarted(now=10)) == [CheckChain(task_id=task)]
    actions = restarted.handle(
        ChainObserved(task_id=task, task_status=TaskStatus.ACTIVE, contribution_status=1, now=11)
    )
    assert actions == [ReportStatus(task_id=task, stage=Stage.CONTRIBUTED)]
    assert not any(isinstance(a, Contribute) for a in actions)


def test_after_a_restart_a_contribution_never_sent_is_sent_with_the_same_vote():
    state = WorkerState(WORKER, mode="colluding")
    task, _ = computed(state)
    vote = state.replicates[task].vote
    restarted = _restarted(state.replicates[task])
    restarted.handle(AgentRestarted(now=10))
    assert restarted.handle(
        ChainObserved(task_id=task, task_status=TaskStatus.ACTIVE, contribution_status=0, now=11)
    ) == [Contribute(task_id=task, vote=vote)]


def test_after_a_restart_unfinished_computations_start_over():
    state = WorkerState(WORKER)
    job = assignment()
    state.handle(ReplicateAssigned(assignment=job, now=1))
    state.handle(InputsFetched(task_id=job.task_id, now=2))
    restarted = _restarted(state.replicates[job.task_id])
    assert restarted.handle(AgentRestarted(now=3)) == [Fetch(task_id=job.task_id)]


def test_a_finalize_found_done_on_chain_after_a_restart_is_done():
    state = WorkerState(WORKER)
    task, _ = computed(state, trust=1)
    state.handle(ResultStored(task_id=task, blob_id=BLOB, now=4))
    restarted = _restarted(state.replicates[task])
    assert restarted.handle(AgentRestarted(now=5)) == [CheckChain(task_id=task)]
    restarted.handle(
        ChainObserved(task_id=task, task_status=TaskStatus.COMPLETED, contribution_status=0, now=6)
    )
    assert restarted.replicates[task].stage is Stage.DONE


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="unknown worker mode"):
        WorkerState(WORKER, mode="byzantine")
