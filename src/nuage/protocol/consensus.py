"""Proof-of-Contribution consensus, as the hub computes it (iExec's rule).

Every function here is the contract's integer arithmetic, exactly: a worker
of score s weighs `weight(s)`; a result's group is the product of its
contributors' weights; `total = 1 + sum(groups)`; a group wins when
`group * trust > total * (trust - 1)`, i.e. its credibility `group / total`
exceeds `1 - 1/trust`. The scheduler uses `replicas_needed` to hand out as
many replicates as consensus can need, and no more.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType

__all__ = [
    "Consensus",
    "contributions_for_trust",
    "effective_trust",
    "log2_weight",
    "replicas_needed",
    "score_after",
    "weight",
]


def weight(score: int) -> int:
    """A worker's vote weight: `max(score // 3, 3) - 1`; a fresh worker (score 0) weighs 2."""
    if score < 0:
        raise ValueError(f"score must be >= 0, got {score}")
    return max(score // 3, 3) - 1


def log2_weight(w: int) -> int:
    """`floor(log2(w))`, the share by which winners split the reward (weight 2 -> 1)."""
    if w < 1:
        raise ValueError(f"weight must be >= 1, got {w}")
    return w.bit_length() - 1


def effective_trust(trust: int) -> int:
    """The trust the hub stores for a deal: `max(trust, 1)` (0 and 1 both mean no replication)."""
    if trust < 0:
        raise ValueError(f"trust must be >= 0, got {trust}")
    return max(trust, 1)


def score_after(score: int, *, won: bool, replicated: bool) -> int:
    """A contributor's score once the task completes.

    A revealed winner gains 1, but only when the task had more than one
    contributor; a loser (wrong or unrevealed) falls to `score * 2 // 3`.
    """
    if score < 0:
        raise ValueError(f"score must be >= 0, got {score}")
    if not won:
        return score * 2 // 3
    return score + 1 if replicated else score


def _joined(group: int, w: int) -> int:
    """The value of a group once a contributor of weight `w` joins it (0 = no group yet)."""
    return max(group, 1) * w


def _agrees(group: int, total: int, trust: int) -> bool:
    return group * trust > total * (trust - 1)


@dataclass(frozen=True)
class Consensus:
    """The consensus state of one task: its (effective) trust and its result groups.

    Immutable: `contribute` and `without` return a new state. `trust` is
    stored as `effective_trust(trust)`, as the hub does, so `Consensus(0)`
    and `Consensus(1)` are the same state. `groups` maps a result hash to its
    group value (the product of its contributors' weights).
    """

    trust: int
    groups: Mapping[bytes, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for result_hash, group in self.groups.items():
            if group < 1:
                raise ValueError(f"group {result_hash.hex()} must be >= 1, got {group}")
        object.__setattr__(self, "trust", effective_trust(self.trust))
        object.__setattr__(self, "groups", MappingProxyType(dict(self.groups)))

    def __hash__(self) -> int:
        return hash((self.trust, frozenset(self.groups.items())))

    @property
    def total(self) -> int:
        """`1 + sum(groups)`: the denominator of every credibility."""
        return 1 + sum(self.groups.values())

    def contribute(self, result_hash: bytes, w: int) -> Consensus:
        """The state after a contributor of weight `w` votes for `result_hash`."""
        if w < 1:
            raise ValueError(f"weight must be >= 1, got {w}")
        groups = dict(self.groups)
        groups[result_hash] = _joined(groups.get(result_hash, 0), w)
        return Consensus(self.trust, groups)

    def without(self, result_hash: bytes) -> Consensus:
        """The state after a reopen: `result_hash`'s group is gone (no-op when absent)."""
        return Consensus(self.trust, {h: g for h, g in self.groups.items() if h != result_hash})

    def credibility(self, result_hash: bytes) -> Fraction:
        """`group / total` for `result_hash` (0 when nobody voted for it)."""
        return Fraction(self.groups.get(result_hash, 0), self.total)

    def best(self) -> tuple[bytes | None, int]:
        """The largest group and its value, ties to the smallest hash; `(None, 0)` when empty."""
        if not self.groups:
            return None, 0
        result_hash, group = min(self.groups.items(), key=lambda item: (-item[1], item[0]))
        return result_hash, group

    def reached(self) -> bytes | None:
        """The result hash on which consensus is reached, or None.

        At trust >= 2 at most one group can agree (it holds more than half of
        the total), and it is the best one. At trust 1 any group agrees; the
        hub stops at the first contribution, and this returns the best group.
        """
        result_hash, group = self.best()
        if result_hash is not None and _agrees(group, self.total, self.trust):
            return result_hash
        return None


def replicas_needed(
    consensus: Consensus,
    pending: Sequence[int] = (),
    next_weight: int = 2,
    limit: int = 1000,
) -> int:
    """How many more replicates of weight `next_weight` consensus needs, at best.

    Each pending replicate (handed out, not yet contributed; weights in
    `pending`) and each new one is counted as joining the best group (a new
    group when there is none). 0 when consensus is reached already, or will
    be once the pending ones contribute. Raises ValueError when replicates of
    `next_weight` cannot reach it (weight 1 never grows a group) or when more
    than `limit` would be needed.
    """
    if next_weight < 1:
        raise ValueError(f"weight must be >= 1, got {next_weight}")
    if consensus.reached() is not None:
        return 0
    trust, total = consensus.trust, consensus.total
    group = consensus.best()[1]
    group, total = _join_all(group, total, pending)
    needed = 0
    while not _agrees(group, total, trust):
        if needed == limit:
            raise ValueError(f"consensus at trust {trust} needs more than {limit} replicates")
        grown = _joined(group, next_weight)
        if grown == group:
            raise ValueError(f"replicates of weight {next_weight} cannot reach trust {trust}")
        group, total = grown, total + grown - group
        needed += 1
    return needed


def _join_all(group: int, total: int, weights: Iterable[int]) -> tuple[int, int]:
    for w in weights:
        if w < 1:
            raise ValueError(f"weight must be >= 1, got {w}")
        grown = _joined(group, w)
        group, total = grown, total + grown - group
    return group, total


def contributions_for_trust(trust: int, w: int = 2) -> int:
    """How many agreeing workers of weight `w` a fresh task of `trust` needs (fresh ones: 2)."""
    return replicas_needed(Consensus(trust), next_weight=w)
