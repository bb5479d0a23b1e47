"""The baseline: m-first voting, which accepts the first result that M replicas agree on.

Each replica is wrong with probability `phi = f * s` (a worker is a saboteur with probability
`f`, a saboteur lies with probability `s`), and every wrong result is the same one (the
saboteurs collude). The first result to gather M votes is accepted, so a task collects between
M and 2M - 1 results, and it is wrong exactly when at least M of 2M - 1 draws are wrong:

    eps(M, phi) = sum_{j=M}^{2M-1} C(2M-1, j) phi^j (1-phi)^(2M-1-j)

`simulate_m_first` draws replicas one by one and must land on that formula within sampling
error; `m_first_for` gives the smallest M whose error is at most a target, and
`m_first_replicas` the replicas such a task collects on average, which is the redundancy
credibility-based voting (`nuage.trust.simulation`) is compared with.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from math import comb

from nuage.trust.intervals import Interval, mean_interval, wilson_interval

__all__ = [
    "MFirstMatch",
    "MFirstRun",
    "m_first_error",
    "m_first_for",
    "m_first_matching",
    "m_first_replicas",
    "simulate_m_first",
]

MAX_M = 10_000


def _check(m: int, phi: float) -> None:
    if m < 1:
        raise ValueError(f"M must be >= 1, got {m}")
    if not 0.0 <= phi <= 1.0:
        raise ValueError(f"phi must be a probability, got {phi}")


def m_first_error(m: int, phi: float) -> float:
    """eps(M, phi): the probability that M wrong results come before M right ones."""
    _check(m, phi)
    n = 2 * m - 1
    return sum(comb(n, j) * phi**j * (1.0 - phi) ** (n - j) for j in range(m, n + 1))


def m_first_replicas(m: int, phi: float) -> float:
    """The expected number of results m-first voting collects before M of them agree.

    The task stops at replica M + k when that replica gives one side its M-th vote after the
    other side got k: `C(M+k-1, k)` orders, for k in 0..M-1, on either side.
    """
    _check(m, phi)
    return sum(
        (m + k) * comb(m + k - 1, k) * (p**m * q**k)
        for k in range(m)
        for p, q in ((1.0 - phi, phi), (phi, 1.0 - phi))
    )


def m_first_for(target_error: float, phi: float) -> int:
    """The smallest M whose error eps(M, phi) is at most `target_error`.

    Raises ValueError when no M up to 10,000 reaches it (phi >= 1/2 never converges: more votes
    only make the wrong side likelier to win).
    """
    _check(1, phi)
    if target_error < 0:
        raise ValueError(f"target error must be >= 0, got {target_error}")
    for m in range(1, MAX_M + 1):
        if m_first_error(m, phi) <= target_error:
            return m
        if phi >= 0.5:
            break
    raise ValueError(f"m-first voting cannot reach error {target_error:g} at phi = {phi:g}")


@dataclass(frozen=True)
class MFirstRun:
    """What `simulate_m_first` measured, and what the formulas predict for it."""

    m: int
    phi: float
    tasks: int
    wrong: int
    error_rate: Interval  # accepted wrong results / tasks, Wilson 95%
    redundancy: Interval  # results collected per task, mean and its 95% interval
    expected_error: float  # eps(M, phi)
    expected_redundancy: float

    def to_json(self) -> dict[str, object]:
        return {
            "m": self.m,
            "phi": self.phi,
            "tasks": self.tasks,
            "wrong": self.wrong,
            "error_rate": self.error_rate.to_json(),
            "redundancy": self.redundancy.to_json(),
            "expected_error": self.expected_error,
            "expected_redundancy": self.expected_redundancy,
        }


def simulate_m_first(
    *, bad_fraction: float, lie_probability: float, m: int, tasks: int, seed: int = 0
) -> MFirstRun:
    """Run `tasks` tasks through m-first voting, each replica from a worker drawn at random.

    The pool is large (draws are independent): a replica comes from a saboteur with
    probability `bad_fraction`, who returns the colluders' wrong result with probability
    `lie_probability`. Deterministic from `seed`.
    """
    if not 0.0 <= bad_fraction <= 1.0 or not 0.0 <= lie_probability <= 1.0:
        raise ValueError("bad fraction and lie probability must be probabilities")
    if tasks < 1:
        raise ValueError(f"tasks must be >= 1, got {tasks}")
    phi = bad_fraction * lie_probability
    _check(m, phi)
    rng = random.Random(seed)
    draw = rng.random
    wrong = 0
    replicas: list[int] = []
    for _ in range(tasks):
        right_votes = wrong_votes = 0
        while right_votes < m and wrong_votes < m:
            if draw() < bad_fraction and draw() < lie_probability:
                wrong_votes += 1
            else:
                right_votes += 1
        wrong += wrong_votes == m
        replicas.append(right_votes + wrong_votes)
    return MFirstRun(
        m=m,
        phi=phi,
        tasks=tasks,
        wrong=wrong,
        error_rate=wilson_interval(wrong, tasks),
        redundancy=mean_interval(replicas),
        expected_error=m_first_error(m, phi),
        expected_redundancy=m_first_replicas(m, phi),
    )


@dataclass(frozen=True)
class MFirstMatch:
    """The m-first voting that reaches an error rate measured elsewhere, and what it costs."""

    target_error: float  # the measured error, or its 95% upper bound when none was seen
    upper_bound: bool  # True when `target_error` is that bound
    phi: float
    m: int | None  # None when m-first cannot reach the target (phi >= 1/2)
    error: float | None  # eps(M, phi)
    replicas: float | None  # results an m-first task collects on average

    def to_json(self) -> dict[str, object]:
        return {
            "target_error": float(f"{self.target_error:.6g}"),
            "target_is_upper_bound": self.upper_bound,
            "phi": self.phi,
            "m": self.m,
            "error": None if self.error is None else float(f"{self.error:.6g}"),
            "replicas": None if self.replicas is None else round(self.replicas, 4),
        }


def m_first_matching(error_rate: Interval, wrong: int, phi: float) -> MFirstMatch:
    """The smallest m-first voting whose error is at most a measured one.

    When no wrong result was seen (`wrong == 0`) the measured rate is 0, which no M reaches
    for phi > 0: the target is then the rate's 95% upper bound, what the measurement shows.
    """
    upper = wrong == 0
    target = error_rate.high if upper else error_rate.value
    try:
        m = m_first_for(target, phi)
    except ValueError:
        return MFirstMatch(target, upper, phi, None, None, None)
    return MFirstMatch(target, upper, phi, m, m_first_error(m, phi), m_first_replicas(m, phi))
