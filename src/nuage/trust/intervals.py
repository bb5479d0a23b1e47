"""95% confidence intervals: Wilson's for a rate, the normal one for a mean."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from math import sqrt

__all__ = ["Z95", "Interval", "mean_interval", "percentile_interval", "wilson_interval"]

Z95 = 1.959964


@dataclass(frozen=True)
class Interval:
    """A measured value and its 95% interval, `low <= value <= high`."""

    value: float
    low: float
    high: float

    def __contains__(self, x: float) -> bool:
        return self.low <= x <= self.high

    def to_json(self) -> dict[str, float]:
        return {"value": _round(self.value), "low": _round(self.low), "high": _round(self.high)}


def _round(x: float) -> float:
    return float(f"{x:.6g}")


def wilson_interval(successes: int, trials: int) -> Interval:
    """The rate `successes / trials` and Wilson's 95% score interval (sound near 0 and 1)."""
    if trials < 1 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials, trials >= 1: {successes}/{trials}")
    p = successes / trials
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = Z95 * sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / (1 + z2 / trials)
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return Interval(p, low, high)


def mean_interval(values: Sequence[float]) -> Interval:
    """The mean of `values` and its normal 95% interval (mean ± 1.96 standard errors)."""
    if not values:
        raise ValueError("no values")
    mean = statistics.fmean(values)
    if len(values) == 1:
        return Interval(mean, mean, mean)
    half = Z95 * statistics.stdev(values, mean) / sqrt(len(values))
    return Interval(mean, mean - half, mean + half)


def percentile_interval(values: Sequence[float]) -> Interval:
    """The mean of `values` and the range holding their middle 95% (2.5th to 97.5th percentile).

    Where one run is compared with many simulated ones, this is the interval it should fall in.
    """
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)

    def at(q: float) -> float:
        position = q * (len(ordered) - 1)
        below = int(position)
        above = min(below + 1, len(ordered) - 1)
        return ordered[below] + (ordered[above] - ordered[below]) * (position - below)

    return Interval(statistics.fmean(ordered), at(0.025), at(0.975))
