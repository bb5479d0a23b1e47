"""Hub.contribute: an authorised worker stakes and votes; consensus as iExec computes it."""

import dataclasses
from fractions import Fraction

import boa
import pytest
from eth_utils import keccak

from nuage.protocol.consensus import (
    Consensus,
    contributions_for_trust,
    log2_weight,
    replicas_needed,
    weight,
)
from nuage.protocol.poco import (
    TaskStatus,
    result_hash,
    result_seal,
    sign_authorization,
    sign_enclave_result,
)
from tests.contracts.harness import Actor
from tests.contracts.hub_poco._helpers import (
    CONTRIBUTION_DELAY,
    LIE,
    MAX_CONTRIBUTORS,
    RESULT,
    REVEAL_DELAY,
    WORKER_FUNDS,
    ZERO_BYTES32,
    assert_refused,
    commitment_of,
    events,
    funded_workers,
    reach_consensus,
    set_score,
)


@pytest.fixture
def enclave() -> Actor:
    """The key of an attested enclave the pool runs tasks in."""
    return Actor.named("enclave")


@pytest.fixture
def tee_deal(open_deal):
    deal = open_deal(trust=3, tags=("tee",))
    deal.initialize()
    return deal


def now() -> int:
    return boa.env.evm.patch.timestamp


# -- success -------------------------------------------------------------------


def test_contribution_locks_the_stake_and_records_the_vote(protocol, deal, workers):
    worker = workers[0]
    task = deal.initialize()
    stake = deal.record.worker_stake
    vote, seal = result_hash(task, RESULT), result_seal(worker.address, task, RESULT)

    deal.contribute(worker, RESULT)
    [contributed] = events(deal.hub, "TaskContributed")
    [lock] = events(deal.hub, "Lock")

    assert stake == deal.record.workerpool_price * 30 // 100 > 0
    assert protocol.account(worker) == (WORKER_FUNDS - stake, stake)
    assert (lock.account, lock.amount, lock.ref) == (worker.address, stake, task)
    assert deal.contribution(worker) == {
        "status": 1,
        "log2_weight": 1,
        "commitment": commitment_of(vote, seal),
        "round": 0,
    }
    assert deal.contribution(worker)["commitment"][:30] == keccak(vote + seal)[:30]
    assert (contributed.task_id, contributed.worker, contributed.result_hash) == (
        task,
        worker.address,
        vote,
    )
    view = deal.task()
    assert (view["status"], view["contributors"], view["winners"]) == (TaskStatus.ACTIVE, 1, 0)
    assert view["consensus_value"] == ZERO_BYTES32


def test_contributors_are_counted(deal, workers):
    deal.initialize()

    for count, worker in enumerate(workers[:4], start=1):
        deal.contribute(worker, keccak(text=f"result {count}"))  # disagreeing: no consensus
        assert deal.task()["contributors"] == count


def test_consensus_at_trust_100_needs_seven_fresh_workers(open_deal, workers):
    """Seven fresh workers (2**7 = 128 > 99 * 129 / 100) agree at trust 100; six do not."""
    deal = open_deal(trust=100)
    task = deal.initialize()
    assert contributions_for_trust(100) == 7

    for worker in workers[:6]:
        deal.contribute(worker, RESULT)
    assert deal.task()["status"] == TaskStatus.ACTIVE
    assert deal.task()["consensus_value"] == ZERO_BYTES32

    deal.contribute(workers[6], RESULT)
    [consensus] = events(deal.hub, "TaskConsensus")

    vote = result_hash(task, RESULT)
    view = deal.task()
    assert (view["status"], view["contributors"], view["winners"], view["reveals"]) == (
        TaskStatus.REVEALING,
        7,
        7,
        0,
    )
    assert view["consensus_value"] == vote
    assert view["reveal_deadline"] == now() + REVEAL_DELAY
    assert (consensus.task_id, consensus.consensus_value) == (task, vote)


@pytest.mark.parametrize("trust", [5, 100])
def test_a_liar_delays_consensus_exactly_as_the_mirror_says(protocol, open_deal, trust):
    """Two honest votes, a lie, then as many honest ones as `replicas_needed` says."""
    deal = open_deal(trust=trust)
    task = deal.initialize()
    first, second, liar, *honest = funded_workers(protocol, 12)
    deal.contribute(first, RESULT)
    deal.contribute(second, RESULT)
    deal.contribute(liar, LIE)
    state = (
        Consensus(trust)
        .contribute(result_hash(task, RESULT), weight(0))
        .contribute(result_hash(task, RESULT), weight(0))
        .contribute(result_hash(task, LIE), weight(0))
    )
    assert deal.status() == TaskStatus.ACTIVE
    needed = replicas_needed(state)
    assert 2 + needed > contributions_for_trust(trust)  # the liar costs more honest workers

    late = reach_consensus(deal, honest, RESULT, state=state)

    assert len(late) == needed
    view = deal.task()
    assert (view["contributors"], view["winners"]) == (3 + needed, 2 + needed)
    assert view["consensus_value"] == result_hash(task, RESULT)


def test_agreeing_after_a_split_reaches_consensus_on_the_larger_group(protocol, open_deal):
    """Votes for two results: the hub follows the mirror at every step."""
    deal = open_deal(trust=5)
    task = deal.initialize()
    workers = funded_workers(protocol, 8)
    state = Consensus(5)
    for worker, digest in zip(workers[:4], [LIE, RESULT, LIE, RESULT], strict=True):
        deal.contribute(worker, digest)
        state = state.contribute(result_hash(task, digest), weight(0))
        assert state.reached() is None
        assert deal.status() == TaskStatus.ACTIVE

    reach_consensus(deal, workers[4:], RESULT, state=state)

    assert deal.task()["consensus_value"] == result_hash(task, RESULT)


def test_trust_two_agrees_on_a_single_fresh_contribution(open_deal, workers):
    """A fresh worker weighs 2: 2 * 2 > (1 + 2) * 1, so trust 2 replicates nothing."""
    deal = open_deal(trust=2)
    deal.initialize()

    deal.contribute(workers[0], RESULT)

    assert deal.task()["status"] == TaskStatus.REVEALING
    assert deal.task()["winners"] == 1


@pytest.mark.parametrize(("score", "log2"), [(0, 1), (11, 1), (12, 1), (15, 2), (100, 5), (300, 6)])
def test_contribution_records_log2_of_the_worker_weight(protocol, deal, workers, score, log2):
    """weight = max(score // 3, 3) - 1; the reward is later split by floor(log2(weight))."""
    deal.initialize()
    set_score(protocol, workers[0], score)
    assert log2_weight(weight(score)) == log2

    deal.contribute(workers[0], LIE)

    assert deal.contribution(workers[0])["log2_weight"] == log2


def test_published_example_reaches_consensus_at_trust_100(protocol, open_deal, workers):
    """SPEC: scores 12, 100, 300 weigh 3, 32, 99; the last two agreeing give Cr = 3168/3172."""
    deal = open_deal(trust=100)
    task = deal.initialize()
    doubter, seasoned, veteran = workers[:3]
    for worker, score in ((doubter, 12), (seasoned, 100), (veteran, 300)):
        set_score(protocol, worker, score)

    deal.contribute(doubter, LIE)
    deal.contribute(seasoned, RESULT)
    assert deal.status() == TaskStatus.ACTIVE  # 32 / 36 is short of 0.99
    deal.contribute(veteran, RESULT)

    assert deal.status() == TaskStatus.REVEALING
    assert deal.task()["winners"] == 2
    assert deal.task()["consensus_value"] == result_hash(task, RESULT)
    mirror = Consensus(100).contribute(result_hash(task, LIE), 3)
    mirror = mirror.contribute(result_hash(task, RESULT), 32).contribute(
        result_hash(task, RESULT), 99
    )
    assert mirror.credibility(result_hash(task, RESULT)) == Fraction(3168, 3172)
    assert mirror.reached() == result_hash(task, RESULT)


def test_one_heavy_worker_outweighs_fresh_ones(protocol, deal, workers):
    """At trust 3 a worker of weight 4 (score 15) is a consensus alone: 4 * 3 > 5 * 2."""
    deal.initialize()
    set_score(protocol, workers[0], 15)

    deal.contribute(workers[0], RESULT)

    assert deal.status() == TaskStatus.REVEALING
    assert deal.task()["winners"] == 1


# -- refusals: the deal and the task ---------------------------------------------------------


def test_unknown_deal_reverts(protocol, deal, workers):
    deal.initialize()
    unknown = dataclasses.replace(deal, deal_id=keccak(text="no deal"))

    assert_refused(protocol, "poco: unknown deal", unknown.contribute, workers[0])


def test_deal_not_matching_its_commitment_reverts(protocol, deal, workers):
    """A worker cannot lower its stake by handing in a deal with another stake."""
    deal.initialize()
    forged = dataclasses.replace(deal.record, worker_stake=0)

    assert_refused(
        protocol,
        "poco: deal does not match its commitment",
        deal.contribute,
        workers[0],
        record=forged,
    )


def test_index_outside_the_deal_reverts(protocol, deal, workers):
    deal.initialize()
    index = deal.record.bot_first + deal.record.bot_size

    assert_refused(
        protocol, "poco: task index outside the deal", deal.contribute, workers[0], index=index
    )


def test_task_not_initialized_reverts(protocol, deal, workers):
    assert_refused(protocol, "poco: task not active", deal.contribute, workers[0])


def test_trust_one_task_takes_no_contribution(protocol, open_deal, workers):
    """Trust-1 tasks are never initialized: they complete through contributeAndFinalize."""
    deal = open_deal(trust=1)

    assert_refused(protocol, "poco: task not active", deal.contribute, workers[0])


def test_contribution_after_consensus_is_refused(protocol, deal, workers):
    """A late worker must not join (and dilute) the winners once the vote is closed."""
    deal.initialize()
    winners = reach_consensus(deal, workers)

    assert_refused(protocol, "poco: task not active", deal.contribute, workers[len(winners)])
    assert deal.task()["winners"] == len(winners)


def test_contribution_at_the_deadline_reverts(protocol, deal, workers):
    deal.initialize()
    deadline = deal.record.start_time + CONTRIBUTION_DELAY
    boa.env.time_travel(seconds=deadline - 1 - now())
    deal.contribute(workers[0], LIE)  # the last second still counts
    boa.env.time_travel(seconds=1)

    assert_refused(protocol, "poco: contribution deadline passed", deal.contribute, workers[1])


def test_second_contribution_of_a_worker_reverts(protocol, deal, workers):
    """One worker, one vote: a second one would double its weight."""
    deal.initialize()
    deal.contribute(workers[0], LIE)

    assert_refused(protocol, "poco: already contributed", deal.contribute, workers[0], RESULT)
    assert_refused(protocol, "poco: already contributed", deal.contribute, workers[0], LIE)


def test_sixty_fifth_contributor_reverts(protocol, open_deal):
    """At trust 2**39 and every vote different, no consensus stops the count at 64."""
    deal = open_deal(trust=2**39)
    deal.initialize()
    workers = funded_workers(protocol, MAX_CONTRIBUTORS + 1)

    for i, worker in enumerate(workers[:MAX_CONTRIBUTORS]):
        deal.contribute(worker, keccak(text=f"result {i}"))
    assert deal.task()["contributors"] == MAX_CONTRIBUTORS
    assert deal.status() == TaskStatus.ACTIVE

    assert_refused(
        protocol, "poco: task has its maximum of contributors", deal.contribute, workers[-1]
    )


def test_worker_without_free_balance_reverts(protocol, deal):
    deal.initialize()
    penniless = Actor.named("penniless worker")

    assert_refused(protocol, "poco: stake above free balance", deal.contribute, penniless)


def test_worker_one_short_of_its_stake_reverts(protocol, deal):
    deal.initialize()
    short = Actor.named("short worker")
    protocol.deposit(short, deal.record.worker_stake - 1)

    assert_refused(protocol, "poco: stake above free balance", deal.contribute, short)


# -- refusals: authorization ---------------------------------------------------------------


def test_authorization_signed_by_the_attacker_reverts(protocol, deal, workers, attacker):
    task = deal.initialize()
    forged = sign_authorization(attacker.key, protocol.hub_domain, workers[0].address, task)

    assert_refused(
        protocol, "poco: bad authorization", deal.contribute, workers[0], authorization=forged
    )


def test_authorization_replayed_for_another_worker(protocol, deal, workers):
    """A worker the scheduler did not pick cannot reuse another worker's authorization."""
    deal.initialize()
    picked, intruder = workers[0], workers[1]
    authorization = deal.authorize(picked)

    assert_refused(
        protocol, "poco: bad authorization", deal.contribute, intruder, authorization=authorization
    )


def test_authorization_replayed_for_another_task(protocol, open_deal, workers):
    deal = open_deal(volume=2)
    deal.initialize(0)
    deal.initialize(1)
    authorization = deal.authorize(workers[0], index=0)

    assert_refused(
        protocol,
        "poco: bad authorization",
        deal.contribute,
        workers[0],
        index=1,
        authorization=authorization,
    )


def test_authorization_signed_in_the_market_domain_reverts(protocol, deal, workers, pool_owner):
    """Authorizations live in the hub's EIP-712 domain: a market-domain signature is not one."""
    task = deal.initialize()
    elsewhere = sign_authorization(pool_owner.key, protocol.domain, workers[0].address, task)

    assert_refused(
        protocol, "poco: bad authorization", deal.contribute, workers[0], authorization=elsewhere
    )


def test_empty_authorization_reverts(protocol, deal, workers):
    deal.initialize()

    assert_refused(
        protocol, "poco: bad authorization", deal.contribute, workers[0], authorization=b""
    )


# -- enclaves (TEE deals) ----------------------------------------------------------------


def test_contribution_from_an_enclave(protocol, tee_deal, workers, enclave):
    task = tee_deal.task_id()
    worker = workers[0]

    tee_deal.contribute_in_enclave(worker, enclave, RESULT)

    vote, seal = result_hash(task, RESULT), result_seal(worker.address, task, RESULT)
    assert tee_deal.contribution(worker) == {
        "status": 1,
        "log2_weight": 1,
        "commitment": commitment_of(vote, seal),
        "round": 0,
    }
    assert protocol.account(worker)[1] == tee_deal.record.worker_stake


def test_tee_deal_without_an_enclave_reverts(protocol, tee_deal, workers):
    assert_refused(protocol, "poco: enclave required", tee_deal.contribute, workers[0])


def test_enclave_signature_by_another_key_reverts(protocol, tee_deal, workers, enclave):
    impostor = Actor.named("impostor enclave")
    task = tee_deal.task_id()
    worker = workers[0]
    vote, seal = result_hash(task, RESULT), result_seal(worker.address, task, RESULT)
    signed = sign_enclave_result(impostor.key, protocol.hub_domain, vote, seal)

    assert_refused(
        protocol,
        "poco: bad enclave signature",
        tee_deal.contribute,
        worker,
        enclave=enclave.address,
        enclave_sign=signed,
    )


def test_enclave_signature_over_another_result_reverts(protocol, tee_deal, workers, enclave):
    """The enclave vouches for one result: the worker cannot hand in another with it."""
    task = tee_deal.task_id()
    worker = workers[0]
    signed = sign_enclave_result(
        enclave.key,
        protocol.hub_domain,
        result_hash(task, LIE),
        result_seal(worker.address, task, LIE),
    )

    assert_refused(
        protocol,
        "poco: bad enclave signature",
        tee_deal.contribute,
        worker,
        RESULT,
        enclave=enclave.address,
        enclave_sign=signed,
    )


def test_enclave_swapped_for_one_the_scheduler_did_not_name(protocol, tee_deal, workers, enclave):
    """The authorization names the enclave: a worker's own key cannot stand in for it."""
    worker = workers[0]
    fake_enclave = Actor.named("worker's own enclave key")
    authorization = tee_deal.authorize(worker, enclave=enclave.address)

    assert_refused(
        protocol,
        "poco: bad authorization",
        tee_deal.contribute_in_enclave,
        worker,
        fake_enclave,
        authorization=authorization,
    )
