"""m-first voting: the binomial formula, and the simulation that must land on it."""

from math import isclose

import pytest

from nuage.trust import (
    m_first_error,
    m_first_for,
    m_first_matching,
    m_first_replicas,
    simulate_m_first,
)
from nuage.trust.intervals import wilson_interval


@pytest.mark.parametrize("phi", [0.0, 0.05, 0.2, 0.3, 0.5, 1.0])
def test_the_formula_is_the_closed_form_for_small_m(phi: float):
    assert isclose(m_first_error(1, phi), phi, abs_tol=1e-15)
    assert isclose(m_first_error(2, phi), 3 * phi**2 - 2 * phi**3, abs_tol=1e-15)
    assert m_first_replicas(1, phi) == pytest.approx(1.0)
    # two votes when the first two agree, three otherwise
    assert m_first_replicas(2, phi) == pytest.approx(2 + 2 * phi * (1 - phi))


@pytest.mark.parametrize(
    ("bad_fraction", "lie_probability", "m"),
    [(0.2, 1.0, 1), (0.3, 1.0, 2), (0.3, 0.5, 3), (0.2, 1.0, 3), (0.3, 1.0, 5)],
)
def test_simulated_m_first_error_matches_the_binomial_formula(
    bad_fraction: float, lie_probability: float, m: int
):
    run = simulate_m_first(
        bad_fraction=bad_fraction, lie_probability=lie_probability, m=m, tasks=40_000, seed=m
    )
    phi = bad_fraction * lie_probability
    assert run.phi == phi
    assert run.expected_error == m_first_error(m, phi)
    assert run.expected_error in run.error_rate, (run.error_rate, run.expected_error)
    assert run.expected_redundancy in run.redundancy, (run.redundancy, run.expected_redundancy)


def test_a_wrong_formula_would_be_caught():
    # the check above has teeth: M - 1 instead of M is far outside the simulated interval
    run = simulate_m_first(bad_fraction=0.3, lie_probability=1.0, m=3, tasks=40_000, seed=3)
    assert m_first_error(2, 0.3) not in run.error_rate
    assert m_first_error(4, 0.3) not in run.error_rate


def test_m_first_for_is_the_smallest_m_reaching_the_target():
    for target in (0.1, 0.01, 0.001, 1e-6):
        m = m_first_for(target, 0.2)
        assert m_first_error(m, 0.2) <= target
        assert m == 1 or m_first_error(m - 1, 0.2) > target
    assert m_first_for(0.5, 0.0) == 1


def test_m_first_cannot_beat_a_majority_of_liars():
    with pytest.raises(ValueError, match="cannot reach"):
        m_first_for(0.01, 0.5)


def test_matching_an_error_never_seen_targets_its_upper_bound():
    unseen = m_first_matching(wilson_interval(0, 10_000), 0, 0.2)
    assert unseen.upper_bound
    assert unseen.target_error == pytest.approx(wilson_interval(0, 10_000).high)
    assert unseen.m is not None and unseen.error is not None
    assert unseen.error <= unseen.target_error
    seen = m_first_matching(wilson_interval(5, 10_000), 5, 0.2)
    assert not seen.upper_bound and seen.target_error == 5 / 10_000
    assert seen.m == m_first_for(5 / 10_000, 0.2)
    assert seen.replicas == pytest.approx(m_first_replicas(seen.m, 0.2))
