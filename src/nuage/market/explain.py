"""Why a request does not match: the best offer combination, and what is wrong with the others.

Every judgement here is `nuage.protocol.matching.check_match` on real orders and a `ChainFacts`
snapshot read from the chain (`nuage.market.reads.chain_facts`); this module only chooses which
combinations to judge and which of a verdict's reasons concern which order (`CONCERNS`). Each
signature is checked once (`is_signed`) and then stands as a presignature by its owner, which
`check_match` judges the same way, only faster.

`explain_request` is pure. For a request and the offers of the book for its assets (each kind
cheapest first), it:

1. judges each offer beside the cheapest offers of the other kinds, and keeps the reasons that
   concern that offer alone or with the request ("own" reasons: price, category, trust,
   signature, consumed…); an offer with own reasons cannot serve this request;
2. walks the combinations of the remaining offers by total price, cheapest first, and takes the
   first one that `check_match` refuses for no reason concerning an offer: the best
   combination (it matches unless the request itself is refused: its signature, its volume,
   the requester's funds);
3. judges every other offer beside the best combination's (or, without one, beside the
   cheapest remaining offers), and adds the reasons that concern it: restrictions, tags.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from nuage.market.reads import ChainReads, chain_facts
from nuage.market.wire import OrderKind
from nuage.protocol.matching import (
    ChainFacts,
    Incompatibility,
    MatchVerdict,
    check_match,
    is_signed,
)
from nuage.protocol.orders import (
    ZERO_ADDRESS,
    AppOrder,
    DatasetOrder,
    Order,
    RequestOrder,
    WorkerpoolOrder,
)

__all__ = [
    "CONCERNS",
    "Explanation",
    "Offer",
    "OfferVerdict",
    "explain_request",
    "judge",
]

_R = Incompatibility
_APP: OrderKind = "app"
_DATASET: OrderKind = "dataset"
_POOL: OrderKind = "workerpool"
_REQUEST: OrderKind = "request"

CONCERNS: dict[Incompatibility, frozenset[str]] = {
    reason: frozenset(kinds)
    for reason, kinds in {
        _R.CATEGORY_MISMATCH: (_POOL, _REQUEST),
        _R.UNKNOWN_CATEGORY: (_REQUEST,),
        _R.TRUST_TOO_LOW: (_POOL, _REQUEST),
        _R.TRUST_OUT_OF_RANGE: (_REQUEST,),
        _R.APP_PRICE: (_APP, _REQUEST),
        _R.DATASET_PRICE: (_DATASET, _REQUEST),
        _R.WORKERPOOL_PRICE: (_POOL, _REQUEST),
        _R.TAG_NOT_OFFERED: (_POOL, _APP, _DATASET, _REQUEST),
        _R.TEE_MISMATCH: (_APP, _DATASET, _REQUEST),
        _R.APP_MISMATCH: (_APP, _REQUEST),
        _R.DATASET_MISMATCH: (_DATASET, _REQUEST),
        _R.WORKERPOOL_MISMATCH: (_POOL, _REQUEST),
        _R.APP_RESTRICTS_DATASET: (_APP, _DATASET),
        _R.APP_RESTRICTS_WORKERPOOL: (_APP, _POOL),
        _R.APP_RESTRICTS_REQUESTER: (_APP, _REQUEST),
        _R.DATASET_RESTRICTS_APP: (_DATASET, _APP),
        _R.DATASET_RESTRICTS_WORKERPOOL: (_DATASET, _POOL),
        _R.DATASET_RESTRICTS_REQUESTER: (_DATASET, _REQUEST),
        _R.WORKERPOOL_RESTRICTS_APP: (_POOL, _APP),
        _R.WORKERPOOL_RESTRICTS_DATASET: (_POOL, _DATASET),
        _R.WORKERPOOL_RESTRICTS_REQUESTER: (_POOL, _REQUEST),
        _R.APP_NOT_REGISTERED: (_APP,),
        _R.APP_SIGNATURE: (_APP,),
        _R.DATASET_NOT_REGISTERED: (_DATASET,),
        _R.DATASET_SIGNATURE: (_DATASET,),
        _R.WORKERPOOL_NOT_REGISTERED: (_POOL,),
        _R.WORKERPOOL_SIGNATURE: (_POOL,),
        _R.REQUEST_SIGNATURE: (_REQUEST,),
        _R.APP_CONSUMED: (_APP,),
        _R.DATASET_CONSUMED: (_DATASET,),
        _R.WORKERPOOL_CONSUMED: (_POOL,),
        _R.REQUEST_CONSUMED: (_REQUEST,),
        _R.PRICE_OUT_OF_RANGE: (_APP, _DATASET, _POOL),
        _R.REQUESTER_FUNDS: (_REQUEST,),
        _R.WORKERPOOL_OWNER_FUNDS: (_POOL,),
    }.items()
}
"""Which orders each refusal is about (the request counts as one)."""

MAX_COMBINATIONS = 2000  # combinations judged when looking for the best one


@dataclass(frozen=True)
class Offer:
    """An app, dataset or workerpool order of the book."""

    hash: bytes
    kind: OrderKind
    order: AppOrder | DatasetOrder | WorkerpoolOrder
    price: int


@dataclass(frozen=True)
class OfferVerdict:
    """What stands between one offer and the request (nothing when `compatible`)."""

    offer: Offer
    compatible: bool
    chosen: bool  # part of the best combination
    reasons: tuple[Incompatibility, ...]


@dataclass(frozen=True)
class Explanation:
    """The best combination for a request (if any) and a verdict on every offer considered."""

    request: RequestOrder
    best: MatchVerdict | None  # check_match on the best combination
    best_offers: tuple[Offer, Offer | None, Offer] | None  # app, dataset (None: no dataset), pool
    request_reasons: tuple[Incompatibility, ...]  # refusals about the request alone
    missing: tuple[OrderKind, ...]  # kinds the request needs and the book has no offer of
    offers: list[OfferVerdict] = field(default_factory=list)

    @property
    def matchable(self) -> bool:
        return self.best is not None and self.best.ok


def judge(
    reads: ChainReads,
    app: AppOrder,
    dataset: DatasetOrder,
    workerpool: WorkerpoolOrder,
    request: RequestOrder,
) -> MatchVerdict:
    """What `matchOrders` would say about these four orders now: check_match on chain facts."""
    facts = chain_facts(reads, [app], [dataset], [workerpool], [request])
    return check_match(app, dataset, workerpool, request, facts)


def explain_request(
    request: RequestOrder,
    apps: Sequence[Offer],
    datasets: Sequence[Offer],
    workerpools: Sequence[Offer],
    facts: ChainFacts,
    *,
    max_combinations: int = MAX_COMBINATIONS,
) -> Explanation:
    """The best combination of these offers for `request`, and why the others do not serve.

    Each sequence is one kind's offers, cheapest first; `datasets` is ignored when the request
    names no dataset. `facts` must cover every order given (see `chain_facts`).
    """
    with_dataset = request.dataset != ZERO_ADDRESS
    fixed = frozenset({_REQUEST} if with_dataset else {_REQUEST, _DATASET})
    offers: dict[OrderKind, list[Offer]] = {"app": list(apps), "workerpool": list(workerpools)}
    if with_dataset:
        offers["dataset"] = list(datasets)
    missing = tuple(kind for kind, found in offers.items() if not found)
    placeholders = _placeholders(request)
    settled, facts = _signatures_settled(
        [offer for found in offers.values() for offer in found], request, facts
    )
    unsigned_request = dataclasses.replace(request, sign=b"")

    def verdict(picked: dict[OrderKind, Offer]) -> MatchVerdict:
        def order(kind: OrderKind) -> AppOrder | DatasetOrder | WorkerpoolOrder:
            return settled[picked[kind].hash] if kind in picked else placeholders[kind]

        app, dataset, pool = order(_APP), order(_DATASET), order(_POOL)
        assert isinstance(app, AppOrder) and isinstance(dataset, DatasetOrder)
        assert isinstance(pool, WorkerpoolOrder)
        return check_match(app, dataset, pool, unsigned_request, facts)

    cheapest = {kind: found[0] for kind, found in offers.items() if found}
    own: dict[bytes, tuple[Incompatibility, ...]] = {}
    for kind, found in offers.items():
        for offer in found:
            own[offer.hash] = _own(verdict(cheapest | {kind: offer}).reasons, kind, fixed)
    usable = {kind: [o for o in found if not own[o.hash]] for kind, found in offers.items()}

    best: MatchVerdict | None = None
    best_pick: dict[OrderKind, Offer] = {}
    first_judged: MatchVerdict | None = None
    if not missing and all(usable.values()):
        for pick in itertools.islice(_by_total_price(usable), max_combinations):
            judged = verdict(pick)
            first_judged = first_judged or judged
            if all(CONCERNS[r] <= fixed for r in judged.reasons):
                best, best_pick = judged, pick
                break

    partners = best_pick or {kind: found[0] for kind, found in usable.items() if found}
    verdicts: list[OfferVerdict] = []
    for kind, found in offers.items():
        for offer in found:
            chosen = best_pick.get(kind) == offer
            reasons = set(own[offer.hash])
            if not chosen and all(k in partners for k in offers if k != kind):
                judged = verdict(partners | {kind: offer})
                reasons.update(r for r in judged.reasons if kind in CONCERNS[r])
            ordered = tuple(r for r in Incompatibility if r in reasons)  # the contract's order
            verdicts.append(OfferVerdict(offer, not ordered, chosen, ordered))

    about_request = best or first_judged or verdict(cheapest)
    best_offers = None
    if best is not None:
        best_offers = (best_pick[_APP], best_pick.get(_DATASET), best_pick[_POOL])
    return Explanation(
        request=request,
        best=best,
        best_offers=best_offers,
        request_reasons=tuple(r for r in about_request.reasons if CONCERNS[r] == {_REQUEST}),
        missing=missing,
        offers=verdicts,
    )


def _signatures_settled(
    offers: Sequence[Offer], request: RequestOrder, facts: ChainFacts
) -> tuple[dict[bytes, AppOrder | DatasetOrder | WorkerpoolOrder], ChainFacts]:
    """The offers without their signatures, and facts where exactly the orders whose signature
    (or presignature) is their owner's count as presigned by it.

    `check_match` then gives the same verdicts, and each signature is recovered once rather
    than once per combination judged (recovering is most of the cost of a judgement).
    """
    presigned = dict(facts.presigned)
    settled: dict[bytes, AppOrder | DatasetOrder | WorkerpoolOrder] = {}

    def settle(order: Order, order_hash: bytes, owner: str) -> None:
        if is_signed(owner, order_hash, order.sign, facts.presigned):
            presigned[order_hash] = owner
        else:
            presigned.pop(order_hash, None)

    for offer in offers:
        order = offer.order
        if isinstance(order, AppOrder):
            owner = facts.app_owners.get(order.app, ZERO_ADDRESS)
        elif isinstance(order, DatasetOrder):
            owner = facts.dataset_owners.get(order.dataset, ZERO_ADDRESS)
        else:
            policy = facts.workerpools.get(order.workerpool)
            owner = ZERO_ADDRESS if policy is None else policy.owner
        settle(order, offer.hash, owner)
        settled[offer.hash] = dataclasses.replace(order, sign=b"")
    settle(request, request.hash(facts.domain), request.requester)
    return settled, dataclasses.replace(facts, presigned=presigned)


def _own(
    reasons: Sequence[Incompatibility], kind: str, fixed: frozenset[str]
) -> tuple[Incompatibility, ...]:
    """The reasons about this offer and nothing but the fixed orders (the request…)."""
    return tuple(r for r in reasons if kind in CONCERNS[r] and CONCERNS[r] <= fixed | {kind})


def _placeholders(request: RequestOrder) -> dict[str, AppOrder | DatasetOrder | WorkerpoolOrder]:
    """Stand-ins for a kind the book has no offer of; their own reasons are never reported."""
    return {
        _APP: AppOrder(app=request.app),
        _DATASET: DatasetOrder(dataset=request.dataset, volume=1)
        if request.dataset != ZERO_ADDRESS
        else DatasetOrder.none(),
        _POOL: WorkerpoolOrder(
            workerpool=request.workerpool,
            category=request.category,
            trust=request.trust,
            tag=request.tag,
        ),
    }


def _by_total_price(usable: dict[OrderKind, list[Offer]]) -> Iterator[dict[OrderKind, Offer]]:
    """Combinations of one offer per kind, by increasing total price (each list sorted)."""
    kinds = list(usable)
    lists = [sorted(usable[kind], key=lambda offer: offer.price) for kind in kinds]
    start = (0,) * len(lists)
    heap = [(sum(found[0].price for found in lists), start)]
    seen = {start}
    while heap:
        _, indexes = heapq.heappop(heap)
        yield {kind: lists[k][i] for k, (kind, i) in enumerate(zip(kinds, indexes, strict=True))}
        for k in range(len(lists)):
            if indexes[k] + 1 < len(lists[k]):
                following = (*indexes[:k], indexes[k] + 1, *indexes[k + 1 :])
                if following not in seen:
                    seen.add(following)
                    total = sum(lists[j][i].price for j, i in enumerate(following))
                    heapq.heappush(heap, (total, following))
