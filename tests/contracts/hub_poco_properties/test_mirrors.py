"""nuage.protocol's consensus and reward mirrors compute exactly what the hub does.

The scheduler plans replication with `nuage.protocol.consensus` and clients
predict payments with `nuage.protocol.rewards`; a mirror that drifts from the
contract by one unit misleads both. Scores are set through the PocoHarness
hub (the hub plus `set_score`), so weighted consensus is reachable without
finalizing hundreds of tasks.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import boa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nuage.protocol import ZERO_ADDRESS
from nuage.protocol.consensus import Consensus, log2_weight, replicas_needed, weight
from nuage.protocol.deals import Deal as DealRecord
from nuage.protocol.poco import result_hash, sign_authorization
from nuage.protocol.rewards import (
    Contributor,
    Settlement,
    kitty_bonus,
    pool_stake,
    settle,
    settle_fast,
)
from tests.contracts.harness import Actor, Protocol
from tests.contracts.hub_poco_properties._helpers import (
    TIME_REF,
    WORKERS,
    Assets,
    Roles,
    TaskStatus,
    claim,
    contribute,
    digest,
    ledger,
    open_deal,
    status,
    task_of,
)

# trust 1 is the one-transaction path (contributeAndFinalize): no task to initialize
TRUSTS = (2, 5, 10, 100, 1000)
RESULTS = ("A", "B", "C")
MAX_SCORE = 2**64 - 1  # the escrow keeps a score in 64 bits

# fresh workers (weight 2, where exact ties between group and total occur), the
# scores of SPEC §3's example, and any score up to a million
scores = st.sampled_from([0, 0, 1, 3, 12, 100, 300]) | st.integers(0, 10**6)
huge_scores = st.integers(10**6, 2**56 - 1)


def now() -> int:
    return int(boa.env.evm.patch.timestamp)


# -- weight and log2 -------------------------------------------------------------


@given(score=st.one_of(scores, huge_scores, st.sampled_from([0, 1, 2, 3, 8, 9, 11, 12, MAX_SCORE])))
def test_weight_is_the_hubs(harness: Any, score: int):
    with boa.env.anchor():
        assert weight(score) == harness.weight(score)


@given(
    w=st.one_of(
        st.integers(1, 2**20),
        st.integers(1, 2**256 - 1),
        st.integers(0, 255).map(lambda bit: 2**bit),
        st.integers(1, 255).map(lambda bit: 2**bit - 1),
    )
)
def test_log2_weight_is_the_hubs(harness: Any, w: int):
    with boa.env.anchor():
        assert log2_weight(w) == harness.log2(w)


@pytest.fixture
def tasks(
    poco: Protocol, roles: Roles, assets: Assets, funded: None
) -> dict[int, tuple[bytes, DealRecord, bytes]]:
    """For each trust, a deal and its task 0, initialized: (deal id, record, task id).

    Opened once per test; each hypothesis example plays the task in its own
    anchor, so each starts from the untouched task.
    """
    opened = {}
    for trust in TRUSTS:
        deal_id, record = open_deal(poco, roles, assets, app_price=1, pool_price=10**9, trust=trust)
        opened[trust] = (deal_id, record, poco.initialize(record, deal_id, 0))
    return opened


@given(score=st.one_of(scores, huge_scores))
def test_contribution_weighs_the_mirrors_log2_weight(
    poco: Protocol, harness: Any, roles: Roles, tasks, score: int
):
    """A contribution records log2(weight(score)) of its worker's score, as `settle` assumes."""
    deal_id, record, task = tasks[100]
    worker = WORKERS[0]
    with boa.env.anchor():
        harness.set_score(worker.address, score)

        contribute(poco, record, deal_id, 0, worker, roles.pool_owner, digest("A"))

        assert harness.viewContribution(task, worker.address).log2_weight == log2_weight(
            weight(score)
        )


# -- consensus ---------------------------------------------------------------------


@given(
    trust=st.sampled_from(TRUSTS),
    votes=st.lists(st.tuples(st.sampled_from(RESULTS), scores), min_size=2, max_size=9),
)
def test_consensus_is_reached_when_and_where_the_mirror_says(
    poco: Protocol, harness: Any, roles: Roles, tasks, trust: int, votes
):
    deal_id, record, task = tasks[trust]
    with boa.env.anchor():
        mirror = Consensus(trust)
        for worker, (result, score) in zip(WORKERS, votes, strict=False):
            harness.set_score(worker.address, score)

            contribute(poco, record, deal_id, 0, worker, roles.pool_owner, digest(result))
            mirror = mirror.contribute(result_hash(task, digest(result)), weight(score))

            assert harness.viewContribution(task, worker.address).log2_weight == log2_weight(
                weight(score)
            )
            view = harness.viewTask(task)
            reached = mirror.reached()
            if reached is None:
                assert view.status == TaskStatus.ACTIVE
                assert bytes(view.consensus_value) == bytes(32)
                continue
            assert view.status == TaskStatus.REVEALING
            assert bytes(view.consensus_value) == reached
            assert mirror.credibility(reached) > 1 - Fraction(1, trust)
            winners = [r for r, _ in votes[: view.contributors] if r == result]
            assert view.winners == len(winners)
            assert view.reveal_deadline == now() + 2 * TIME_REF
            break


@given(trust=st.sampled_from(TRUSTS), score=st.sampled_from([0, 3, 12, 30, 100, 300]))
def test_replicas_needed_is_when_agreeing_workers_reach_consensus(
    poco: Protocol, harness: Any, roles: Roles, tasks, trust: int, score: int
):
    """The scheduler hands out `replicas_needed` replicates: consensus comes with the last one."""
    w = weight(score)
    needed = replicas_needed(Consensus(trust), next_weight=w)
    assert needed <= len(WORKERS)
    deal_id, record, task = tasks[trust]
    with boa.env.anchor():
        mirror = Consensus(trust)
        for contributed, worker in enumerate(WORKERS[:needed]):
            assert status(poco, task) == TaskStatus.ACTIVE
            assert replicas_needed(mirror, next_weight=w) == needed - contributed
            pending = [w] * contributed
            assert replicas_needed(Consensus(trust), pending, next_weight=w) == needed - contributed
            harness.set_score(worker.address, score)

            contribute(poco, record, deal_id, 0, worker, roles.pool_owner, digest("A"))
            mirror = mirror.contribute(result_hash(task, digest("A")), w)

        assert status(poco, task) == TaskStatus.REVEALING
        assert replicas_needed(mirror, next_weight=w) == 0


# -- SPEC §3's worked example ---------------------------------------------------------


def test_spec_example_scores_weigh_3_32_and_99(harness: Any):
    assert [harness.weight(s) for s in (12, 100, 300)] == [3, 32, 99]
    assert [weight(s) for s in (12, 100, 300)] == [3, 32, 99]


def _spec_example(
    poco: Protocol, harness: Any, roles: Roles, tasks, votes: list[tuple[int, str]]
) -> tuple[bytes, Consensus]:
    """Workers of the given scores vote at trust 100; returns the task and the mirror's state."""
    deal_id, record, task = tasks[100]
    mirror = Consensus(100)
    for worker, (score, result) in zip(WORKERS, votes, strict=False):
        harness.set_score(worker.address, score)
        contribute(poco, record, deal_id, 0, worker, roles.pool_owner, digest(result))
        mirror = mirror.contribute(result_hash(task, digest(result)), weight(score))
    return task, mirror


def test_spec_example_workers_of_100_and_300_agreeing_reach_trust_100(poco, harness, roles, tasks):
    task, mirror = _spec_example(poco, harness, roles, tasks, [(12, "B"), (100, "A"), (300, "A")])

    agreed = result_hash(task, digest("A"))
    assert mirror.credibility(agreed) == Fraction(3168, 3172)
    assert Fraction(3168, 3172) >= Fraction(99, 100)
    view = harness.viewTask(task)
    assert (view.status, bytes(view.consensus_value), view.winners) == (
        TaskStatus.REVEALING,
        agreed,
        2,
    )


def test_spec_example_one_short_of_trust_100_before_the_worker_of_300(poco, harness, roles, tasks):
    task, mirror = _spec_example(poco, harness, roles, tasks, [(12, "B"), (100, "A")])

    assert mirror.reached() is None
    assert status(poco, task) == TaskStatus.ACTIVE


def test_spec_example_worker_of_12_alone_does_not_reach_trust_100(poco, harness, roles, tasks):
    task, mirror = _spec_example(poco, harness, roles, tasks, [(12, "A")])

    assert mirror.credibility(result_hash(task, digest("A"))) == Fraction(3, 4)
    assert status(poco, task) == TaskStatus.ACTIVE


def test_spec_example_workers_of_12_and_100_agreeing_against_300_do_not_reach_trust_100(
    poco, harness, roles, tasks
):
    task, mirror = _spec_example(poco, harness, roles, tasks, [(300, "B"), (12, "A"), (100, "A")])

    assert mirror.credibility(result_hash(task, digest("A"))) == Fraction(96, 196)
    assert status(poco, task) == TaskStatus.ACTIVE


# -- reward split ----------------------------------------------------------------------

prices = st.one_of(st.integers(0, 10**12), st.sampled_from([0, 1, 99, 100, 10**9]))
contributions = st.lists(
    # (result voted, reveals if among the winners, score)
    st.tuples(
        st.sampled_from(RESULTS),
        st.booleans(),
        st.sampled_from([0, 1, 12, 100, 300, 3000]) | st.integers(0, 3000),
    ),
    min_size=1,
    max_size=8,
)


# the pool price of a failed task whose stake (30%) fills the kitty: none, below
# 1 RLC (the whole kitty is the bonus), about 10 RLC (the 1 RLC floor), 30 RLC (10%)
kitty_prices = st.none() | st.sampled_from([3 * 10**9, 33 * 10**9, 10**11]) | st.integers(1, 10**11)


def seed_kitty(p: Protocol, roles: Roles, assets: Assets, pool_price: int) -> None:
    """Fills the kitty the way a chain does: a deal's task fails and is claimed."""
    deal_id, record = open_deal(p, roles, assets, app_price=0, pool_price=pool_price, trust=1)
    boa.env.time_travel(seconds=10 * TIME_REF)
    claim(p, record, deal_id, 0, [])


def expected_ledger(
    before: dict[str, tuple[int, int, int]],
    roles: Roles,
    record: DealRecord,
    settlement: Settlement,
    addresses: dict[str, str],
) -> dict[str, tuple[int, int, int]]:
    """Every account after finalize, from the accounts before and the mirror's settlement."""
    after = dict(before)

    def move(name: str, free: int = 0, frozen: int = 0, score: int | None = None) -> None:
        f, z, s = after[name]
        after[name] = (f + free, z + frozen, s if score is None else score)

    price = record.app_price + record.dataset_price + record.workerpool_price
    move(roles.requester.name, frozen=-price)
    move(roles.app_owner.name, free=settlement.app_reward)
    move(roles.dataset_owner.name, free=settlement.dataset_reward)
    stake = pool_stake(record.workerpool_price)
    move(
        roles.pool_owner.name,
        free=stake + settlement.scheduler_reward + settlement.kitty_bonus,
        frozen=-stake,
    )
    for name, address in addresses.items():
        score = settlement.scores[address]
        if address in settlement.worker_rewards:
            reward = settlement.worker_rewards[address]
            move(name, free=record.worker_stake + reward, frozen=-record.worker_stake, score=score)
        else:
            assert settlement.seized_stakes[address] == record.worker_stake
            move(name, frozen=-record.worker_stake, score=score)
    return after


@given(
    app_price=prices,
    dataset_price=st.none() | prices,
    pool_price=prices,
    stake_ratio=st.integers(0, 100),
    scheduler_ratio=st.integers(0, 100),
    trust=st.sampled_from([2, 5, 10, 100]),
    kitty_price=kitty_prices,
    votes=contributions,
)
def test_finalize_pays_what_settle_says(
    poco: Protocol,
    harness: Any,
    roles: Roles,
    assets: Assets,
    funded: None,
    app_price: int,
    dataset_price: int | None,
    pool_price: int,
    stake_ratio: int,
    scheduler_ratio: int,
    trust: int,
    kitty_price: int | None,
    votes: list[tuple[str, bool, int]],
):
    with boa.env.anchor():
        if kitty_price is not None:
            seed_kitty(poco, roles, assets, kitty_price)
        deal_id, record = open_deal(
            poco,
            roles,
            assets,
            app_price=app_price,
            dataset_price=dataset_price,
            pool_price=pool_price,
            trust=trust,
            stake_ratio=stake_ratio,
            scheduler_ratio=scheduler_ratio,
        )
        task = poco.initialize(record, deal_id, 0)

        # contributions in order until consensus; if none, agreeing heavy workers close it
        mirror = Consensus(trust)
        cast: list[tuple[Actor, str, bool, int]] = []
        plan = list(votes)
        while mirror.reached() is None:
            assert len(cast) < len(WORKERS), "the plan cannot reach consensus"
            if len(cast) < len(plan):
                result, reveals, score = plan[len(cast)]
            else:
                best, _ = mirror.best()
                result = next(r for r in RESULTS if result_hash(task, digest(r)) == best)
                reveals, score = True, 3000
            worker = WORKERS[len(cast)]
            harness.set_score(worker.address, score)
            contribute(poco, record, deal_id, 0, worker, roles.pool_owner, digest(result))
            mirror = mirror.contribute(result_hash(task, digest(result)), weight(score))
            cast.append((worker, result, reveals, score))

        agreed = mirror.reached()
        group = [c for c in cast if result_hash(task, digest(c[1])) == agreed]
        revealing = [c for c in group if c[2]] or group[:1]
        for worker, result, _, _ in revealing:
            poco.reveal(task, worker, digest(result))
        if len(revealing) < len(group):
            boa.env.time_travel(seconds=harness.viewTask(task).reveal_deadline - now())

        workers = [c[0] for c in cast]
        actors = [*roles.all, *workers]
        before = ledger(poco, actors)
        kitty = harness.kitty()
        held = poco.rlc.balanceOf(harness.address)
        settlement = settle(
            app_price=record.app_price,
            dataset_price=record.dataset_price,
            workerpool_price=record.workerpool_price,
            worker_stake=record.worker_stake,
            scheduler_reward_ratio=record.scheduler_reward_ratio,
            contributors=[
                Contributor(w.address, log2_weight(weight(s)), (w, r, v, s) in revealing)
                for w, r, v, s in cast
            ],
            kitty=kitty,
            scores={w.address: s for w, _, _, s in cast},
        )

        poco.finalize(record, deal_id, 0, workers)

        addresses = {w.name: w.address for w in workers}
        assert ledger(poco, actors) == expected_ledger(before, roles, record, settlement, addresses)
        assert kitty - harness.kitty() == settlement.kitty_bonus == kitty_bonus(kitty)
        assert poco.rlc.balanceOf(harness.address) == held
        assert status(poco, task) == TaskStatus.COMPLETED


@given(
    app_price=prices,
    dataset_price=st.none() | prices,
    pool_price=prices,
    scheduler_ratio=st.integers(0, 100),
    kitty_price=kitty_prices,
    score=scores,
)
def test_contribute_and_finalize_pays_what_settle_fast_says(
    poco: Protocol,
    harness: Any,
    roles: Roles,
    assets: Assets,
    funded: None,
    app_price: int,
    dataset_price: int | None,
    pool_price: int,
    scheduler_ratio: int,
    kitty_price: int | None,
    score: int,
):
    worker = WORKERS[0]
    with boa.env.anchor():
        if kitty_price is not None:
            seed_kitty(poco, roles, assets, kitty_price)
        deal_id, record = open_deal(
            poco,
            roles,
            assets,
            app_price=app_price,
            dataset_price=dataset_price,
            pool_price=pool_price,
            trust=1,
            scheduler_ratio=scheduler_ratio,
        )
        task = task_of(record, deal_id, 0)
        harness.set_score(worker.address, score)
        actors = [*roles.all, worker]
        before = ledger(poco, actors)
        kitty = harness.kitty()
        settlement = settle_fast(
            app_price=record.app_price,
            dataset_price=record.dataset_price,
            workerpool_price=record.workerpool_price,
            scheduler_reward_ratio=record.scheduler_reward_ratio,
            kitty=kitty,
            worker=worker.address,
        )
        authorization = sign_authorization(
            roles.pool_owner.key, poco.hub_domain, worker.address, task
        )

        with boa.env.prank(worker.address):
            harness.contributeAndFinalize(
                record.as_tuple(),
                deal_id,
                0,
                digest("A"),
                b"\x01" * 32,
                b"",
                ZERO_ADDRESS,
                b"",
                authorization,
            )

        after = dict(before)
        f, z, s = before[roles.requester.name]
        after[roles.requester.name] = (f, z - record.task_price(), s)
        f, z, s = before[roles.app_owner.name]
        after[roles.app_owner.name] = (f + settlement.app_reward, z, s)
        f, z, s = before[roles.dataset_owner.name]
        after[roles.dataset_owner.name] = (f + settlement.dataset_reward, z, s)
        stake = pool_stake(record.workerpool_price)
        f, z, s = before[roles.pool_owner.name]
        paid = stake + settlement.scheduler_reward + settlement.kitty_bonus
        after[roles.pool_owner.name] = (f + paid, z - stake, s)
        f, z, s = before[worker.name]
        after[worker.name] = (f + settlement.worker_rewards[worker.address], z, s)  # score kept
        assert ledger(poco, actors) == after
        assert kitty - harness.kitty() == kitty_bonus(kitty)
