"""Sabotage tolerance: how often the pool accepts a wrong result, and what replication costs.

`simulate` runs a pool with colluding saboteurs through the scheduler's own replication policy
and the hub's consensus; `simulate_m_first` and `m_first_error` are the baseline, m-first
voting; `plan` picks the trust a requester should ask for.
"""

from nuage.trust.intervals import Interval
from nuage.trust.planning import Costs, Plan, plan
from nuage.trust.simulation import Checkpoint, Prediction, Scenario, TrustRun, predict, simulate
from nuage.trust.voting import (
    MFirstMatch,
    MFirstRun,
    m_first_error,
    m_first_for,
    m_first_matching,
    m_first_replicas,
    simulate_m_first,
)

__all__ = [
    "Checkpoint",
    "Costs",
    "Interval",
    "MFirstMatch",
    "MFirstRun",
    "Plan",
    "Prediction",
    "Scenario",
    "TrustRun",
    "m_first_error",
    "m_first_for",
    "m_first_matching",
    "m_first_replicas",
    "plan",
    "predict",
    "simulate",
    "simulate_m_first",
]
