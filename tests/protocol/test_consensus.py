from fractions import Fraction
from math import prod

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nuage.protocol.consensus import (
    Consensus,
    contributions_for_trust,
    effective_trust,
    log2_weight,
    replicas_needed,
    score_after,
    weight,
)

HONEST = b"\x01" * 32
LIAR = b"\x02" * 32


def agreeing(trust: int, *weights: int, result: bytes = HONEST) -> Consensus:
    consensus = Consensus(trust)
    for w in weights:
        consensus = consensus.contribute(result, w)
    return consensus


# -- the worked example of SPEC §3 ---------------------------------------------------------------


def test_spec_example_scores_12_100_300_weigh_3_32_99():
    assert [weight(s) for s in (12, 100, 300)] == [3, 32, 99]


def test_spec_example_two_agreeing_heavy_workers_reach_trust_100():
    consensus = Consensus(100).contribute(LIAR, weight(12))
    consensus = consensus.contribute(HONEST, weight(100)).contribute(HONEST, weight(300))

    credibility = consensus.credibility(HONEST)

    assert consensus.total == 3172
    assert credibility == Fraction(3168, 3172)
    assert round(float(credibility), 5) == 0.99874
    assert credibility >= Fraction(99, 100)
    assert consensus.reached() == HONEST


def test_spec_example_the_light_worker_alone_does_not_reach_trust_100():
    consensus = Consensus(100).contribute(LIAR, weight(12))
    consensus = consensus.contribute(HONEST, weight(100)).contribute(HONEST, weight(300))

    assert consensus.credibility(LIAR) == Fraction(3, 3172)
    assert consensus.without(HONEST).reached() is None


# -- weights, trust, scores ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "expected"),
    [(0, 2), (1, 2), (8, 2), (9, 2), (11, 2), (12, 3), (14, 3), (15, 4), (30, 9), (300, 99)],
)
def test_weight_table(score, expected):
    assert weight(score) == expected


@pytest.mark.parametrize(
    ("w", "expected"), [(1, 0), (2, 1), (3, 1), (4, 2), (7, 2), (8, 3), (99, 6), (1024, 10)]
)
def test_log2_weight_is_the_floor_of_log2(w, expected):
    assert log2_weight(w) == expected


@pytest.mark.parametrize(("trust", "expected"), [(0, 1), (1, 1), (2, 2), (100, 100)])
def test_effective_trust_is_at_least_1(trust, expected):
    assert effective_trust(trust) == expected
    assert Consensus(trust).trust == expected


@pytest.mark.parametrize(
    ("score", "won", "replicated", "expected"),
    [
        (10, True, True, 11),
        (0, True, True, 1),
        (10, True, False, 10),
        (10, False, True, 6),
        (10, False, False, 6),
        (2, False, True, 1),
        (1, False, True, 0),
        (0, False, True, 0),
    ],
)
def test_score_after(score, won, replicated, expected):
    assert score_after(score, won=won, replicated=replicated) == expected


@pytest.mark.parametrize(
    "call", [lambda: weight(-1), lambda: log2_weight(0), lambda: effective_trust(-1)]
)
def test_out_of_range_inputs_are_refused(call):
    with pytest.raises(ValueError):
        call()


# -- the state class -----------------------------------------------------------------------------


def test_first_contributor_sets_the_group_and_the_next_multiply_it():
    consensus = agreeing(100, 2)
    assert consensus.groups == {HONEST: 2}
    assert consensus.total == 3

    consensus = consensus.contribute(HONEST, 3).contribute(LIAR, 5)
    assert consensus.groups == {HONEST: 6, LIAR: 5}
    assert consensus.total == 12


def test_contribute_leaves_the_old_state_unchanged():
    before = agreeing(100, 2)
    after = before.contribute(HONEST, 2)

    assert before.groups == {HONEST: 2}
    assert after.groups == {HONEST: 4}
    assert before != after


def test_groups_cannot_be_mutated_through_the_state():
    source = {HONEST: 2}
    consensus = Consensus(10, source)
    source[HONEST] = 1000

    assert consensus.groups == {HONEST: 2}
    with pytest.raises(TypeError):
        consensus.groups[HONEST] = 1000  # type: ignore[index]


def test_equal_states_hash_equal():
    assert hash(agreeing(0, 2, 3)) == hash(agreeing(1, 2, 3))
    assert agreeing(0, 2, 3) == agreeing(1, 2, 3)


def test_best_breaks_ties_by_smallest_hash():
    consensus = Consensus(100).contribute(LIAR, 2).contribute(HONEST, 2)

    assert consensus.best() == (HONEST, 2)
    assert Consensus(100).best() == (None, 0)


def test_reopen_removes_the_group_and_its_weight_from_the_total():
    consensus = agreeing(100, 2, 2).contribute(LIAR, 2)

    reopened = consensus.without(HONEST)

    assert reopened.groups == {LIAR: 2}
    assert reopened.total == 3
    assert reopened.without(HONEST) == reopened
    assert reopened.contribute(HONEST, 2).groups[HONEST] == 2


def test_trust_1_reaches_on_the_first_contribution():
    assert Consensus(1).reached() is None
    assert agreeing(1, 2).reached() == HONEST
    assert agreeing(0, 2).reached() == HONEST


def test_trust_2_is_reached_by_one_fresh_worker_unless_contradicted():
    # 2 * 2 > 3 * 1, but 2 * 2 > 5 * 1 fails once a liar of weight 2 also voted
    assert agreeing(2, 2).reached() == HONEST
    assert agreeing(2, 2).contribute(LIAR, 2).reached() is None


# -- replicas_needed -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trust", "expected"),
    # fresh workers: n agreeing reach trust T when 2^n * T > (1 + 2^n) * (T - 1), i.e. 2^n > T - 1
    [(0, 1), (1, 1), (2, 1), (3, 2), (5, 3), (10, 4), (100, 7), (1000, 10)],
)
def test_contributions_for_trust_with_fresh_workers(trust, expected):
    assert contributions_for_trust(trust) == expected
    assert replicas_needed(Consensus(trust)) == expected


def test_contributions_for_trust_with_heavier_workers():
    # weight 10: 10^n > 999 -> n = 3 at trust 1000
    assert contributions_for_trust(1000, 10) == 3


def test_pending_replicas_count_as_joining_the_best_group():
    # 3 agreeing (8) then 2 pending (32): total 33; 2 more give 128 > 99 (64 does not)
    consensus = agreeing(100, 2, 2, 2)

    assert replicas_needed(consensus) == 4
    assert replicas_needed(consensus, pending=[2, 2]) == 2
    assert replicas_needed(consensus, pending=[2, 2, 2, 2]) == 0


def test_a_liar_raises_the_replicas_needed_by_exactly_two():
    # honest 8, liar 2: total 11 + growth; g * 100 > (3 + g) * 99 needs g > 297 -> 512 = 2^9,
    # 6 more replicas, against g > 99 -> 128 = 2^7, 4 more, without the liar
    honest_only = agreeing(100, 2, 2, 2)
    with_liar = honest_only.contribute(LIAR, 2)

    assert replicas_needed(honest_only) == 4
    assert replicas_needed(with_liar) == 6


def test_replicas_needed_joins_the_only_group_even_if_it_is_a_liar():
    # the scheduler cannot tell a liar apart: 2 -> 4 -> ... -> 128 > 99, 6 more
    assert replicas_needed(agreeing(100, 2, result=LIAR)) == 6


def test_replicas_needed_is_0_once_reached():
    consensus = agreeing(100, 2, 2, 2, 2, 2, 2, 2)

    assert consensus.reached() == HONEST
    assert replicas_needed(consensus) == 0
    assert replicas_needed(consensus, pending=[2, 2], next_weight=1) == 0


def test_replicas_of_weight_1_cannot_reach_consensus():
    with pytest.raises(ValueError, match="weight 1 cannot reach trust 100"):
        replicas_needed(agreeing(100, 2), next_weight=1)
    with pytest.raises(ValueError, match="weight 1 cannot reach trust 100"):
        replicas_needed(Consensus(100), next_weight=1)


def test_a_single_weight_1_replica_reaches_trust_1():
    # 1 * 1 > 2 * 0: the first replica creates the group, and trust 1 asks no more
    assert replicas_needed(Consensus(1), next_weight=1) == 1


def test_replicas_needed_beyond_the_limit_is_refused():
    assert replicas_needed(Consensus(1000), limit=10) == 10
    with pytest.raises(ValueError, match="more than 9 replicates"):
        replicas_needed(Consensus(1000), limit=9)


@pytest.mark.parametrize(("pending", "next_weight"), [([0], 2), ([], 0)])
def test_replicas_needed_refuses_weights_below_1(pending, next_weight):
    with pytest.raises(ValueError, match="weight must be >= 1"):
        replicas_needed(Consensus(10), pending=pending, next_weight=next_weight)


# -- properties ----------------------------------------------------------------------------------

results = st.sampled_from([HONEST, LIAR, b"\x03" * 32])
contributions = st.lists(st.tuples(results, st.integers(0, 400)), max_size=8)
trusts = st.integers(0, 10**6)


def contributed(trust: int, votes: list[tuple[bytes, int]]) -> Consensus:
    consensus = Consensus(trust)
    for result, score in votes:
        consensus = consensus.contribute(result, weight(score))
    return consensus


@given(trusts, contributions)
def test_reached_agrees_with_a_brute_force_evaluation_of_the_rule(trust, votes):
    t = max(trust, 1)
    groups = {
        result: prod(weight(score) for r, score in votes if r == result)
        for result in {r for r, _ in votes}
    }
    total = 1 + sum(groups.values())
    agreeing_groups = {r for r, g in groups.items() if g * t > total * (t - 1)}

    reached = contributed(trust, votes).reached()

    assert groups == contributed(trust, votes).groups
    if t >= 2:
        assert len(agreeing_groups) <= 1
    if agreeing_groups:
        assert reached in agreeing_groups
    else:
        assert reached is None


@given(trusts, contributions, st.lists(st.integers(2, 150), max_size=4), st.integers(2, 150))
def test_replicas_needed_is_minimal(trust, votes, pending, next_weight):
    consensus = contributed(trust, votes)

    needed = replicas_needed(consensus, pending, next_weight)

    def join_best(state: Consensus, w: int) -> Consensus:
        best, _ = state.best()
        return state.contribute(HONEST if best is None else best, w)

    for w in pending:
        consensus = join_best(consensus, w)
    for _ in range(needed):
        assert consensus.reached() is None
        consensus = join_best(consensus, next_weight)
    assert consensus.reached() is not None
