"""The market API's JSON shapes (pydantic): answers, query filters and errors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from nuage.market.wire import OrderKind, Status, order_from_json
from nuage.protocol.orders import Order

if TYPE_CHECKING:  # the client imports these models without the service's SQL stack
    from nuage.market.book import BookOrder
    from nuage.market.explain import Explanation, OfferVerdict

__all__ = [
    "BestCombination",
    "ErrorBody",
    "ErrorDetail",
    "ExplainAnswer",
    "FollowerState",
    "Health",
    "OfferFilters",
    "OfferJudgement",
    "OrderPage",
    "OrderRecord",
    "TaskFilters",
    "UnpublishedAll",
    "explain_answer",
    "order_record",
]

_ADDRESS = r"^0x[0-9a-fA-F]{40}$"
QueryAddress = Annotated[str | None, StringConstraints(pattern=_ADDRESS)]


class ErrorDetail(BaseModel):
    """What went wrong, for programs (``code``) and for people (``message``)."""

    code: str = Field(examples=["not_asset_owner"])
    message: str = Field(examples=["app 0x… belongs to 0x…, but the order is signed by 0x…"])


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


class FollowerState(BaseModel):
    """How far the book has followed the chain."""

    following: bool = Field(description="Whether the service follows the chain's events.")
    cursor: str | None = Field(description="The last chain position handled.")
    healthy: bool = Field(description="False while the chain does not answer or events fail.")
    last_error: str | None = None


class Health(BaseModel):
    """The answer to ``GET /health``: the service, and the market whose orders it holds."""

    status: Literal["ok"] = "ok"
    version: str = Field(description="The nuage version serving.")
    chain_id: int = Field(description="The chain of the market contract.")
    market: str = Field(description="The market contract: orders are signed in its domain.")
    follower: FollowerState


class OrderRecord(BaseModel):
    """An order as the book holds it."""

    hash: str = Field(description="The order's EIP-712 digest, its identity on chain.")
    kind: OrderKind
    status: Status = Field(description="Only `open` orders are in the book.")
    owner: str = Field(description="Who signed it: the asset's owner, or the requester.")
    price: int = Field(description="nRLC per task; for a request, its total maximum price.")
    volume: int
    consumed: int = Field(description="Volume deals used (all of it once cancelled).")
    remaining: int
    published_at: datetime
    updated_at: datetime
    order: dict[str, Any] = Field(description="The order's fields and its signature.")

    def to_order(self) -> Order:
        """The order itself, with its signature."""
        return order_from_json(self.kind, self.order)


class OrderPage(BaseModel):
    """One page of a query."""

    total: int = Field(description="How many orders the whole query selects.")
    limit: int
    offset: int
    orders: list[OrderRecord]


class UnpublishedAll(BaseModel):
    """The answer to unpublishing every order of an owner."""

    owner: str
    unpublished: list[str] = Field(description="The hashes of the orders taken out.")


class OfferFilters(BaseModel):
    """Query filters of app and dataset orders."""

    model_config = ConfigDict(extra="forbid")

    asset: QueryAddress = Field(
        default=None, description="The order's own asset (for a request: its app)."
    )
    app: QueryAddress = Field(
        default=None, description="Orders for this app, or whose app restriction allows it."
    )
    dataset: QueryAddress = Field(
        default=None, description="Orders for this dataset, or whose restriction allows it."
    )
    workerpool: QueryAddress = Field(
        default=None, description="Orders for this workerpool, or whose restriction allows it."
    )
    requester: QueryAddress = Field(
        default=None, description="Orders of this requester, or whose restriction allows it."
    )
    owner: QueryAddress = Field(default=None, description="Orders signed by this address.")
    tag: str | None = Field(
        default=None,
        description="Orders whose tag has every bit of this one: bytes32 hex, or names "
        "(`gpu`, `tee,gpu`).",
    )
    min_volume: int | None = Field(default=None, ge=0, description="Remaining volume at least.")
    limit: int = Field(default=100, ge=1, le=1000, description="Orders per page.")
    offset: int = Field(default=0, ge=0, description="Orders to skip.")


class TaskFilters(OfferFilters):
    """Query filters of workerpool and request orders."""

    category: int | None = Field(default=None, ge=0, lt=2**256)
    min_trust: int | None = Field(default=None, ge=0, lt=2**256, description="Trust at least.")


class OfferJudgement(BaseModel):
    """One offer considered by ``POST /explain``."""

    hash: str
    kind: OrderKind
    price: int
    compatible: bool = Field(description="Nothing stands between this offer and the request.")
    chosen: bool = Field(description="Part of the best combination.")
    reasons: list[str] = Field(description="The contract's refusals that concern this offer.")


class BestCombination(BaseModel):
    """The cheapest offers that pass every check together (the request aside)."""

    app: str
    dataset: str | None
    workerpool: str
    price: int = Field(description="nRLC per task: app + dataset + workerpool prices.")
    volume: int = Field(description="Tasks the deal would have.")
    cost: int = Field(description="nRLC locked from the requester.")
    stake: int = Field(description="nRLC locked from the pool owner.")
    deal_id: str


class ExplainAnswer(BaseModel):
    """Whether the request can match now, with what, and why each other offer cannot."""

    request_hash: str
    signature_checked: bool = Field(
        description="False when the request was unsigned: it is judged as if signed."
    )
    matchable: bool
    summary: str
    best: BestCombination | None
    request_reasons: list[str] = Field(description="Refusals about the request itself.")
    missing: list[OrderKind] = Field(description="Kinds the book has no offer of.")
    offers: list[OfferJudgement]


def _time(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


def order_record(order: BookOrder) -> OrderRecord:
    return OrderRecord(
        hash="0x" + order.hash.hex(),
        kind=order.kind,
        status=order.status,
        owner=order.owner,
        price=order.price,
        volume=order.volume,
        consumed=order.consumed,
        remaining=order.remaining,
        published_at=_time(order.published_at),
        updated_at=_time(order.updated_at),
        order=order.document,
    )


def _judgement(verdict: OfferVerdict) -> OfferJudgement:
    return OfferJudgement(
        hash="0x" + verdict.offer.hash.hex(),
        kind=verdict.offer.kind,
        price=verdict.offer.price,
        compatible=verdict.compatible,
        chosen=verdict.chosen,
        reasons=[reason.value for reason in verdict.reasons],
    )


def explain_answer(explanation: Explanation, request_hash: bytes, signed: bool) -> ExplainAnswer:
    best = None
    if explanation.best is not None and explanation.best_offers is not None:
        app, dataset, pool = explanation.best_offers
        best = BestCombination(
            app="0x" + app.hash.hex(),
            dataset=None if dataset is None else "0x" + dataset.hash.hex(),
            workerpool="0x" + pool.hash.hex(),
            price=app.price + (0 if dataset is None else dataset.price) + pool.price,
            volume=explanation.best.volume,
            cost=explanation.best.cost,
            stake=explanation.best.stake,
            deal_id="0x" + explanation.best.deal_id.hex(),
        )
    return ExplainAnswer(
        request_hash="0x" + request_hash.hex(),
        signature_checked=signed,
        matchable=explanation.matchable,
        summary=_summary(explanation, best),
        best=best,
        request_reasons=[reason.value for reason in explanation.request_reasons],
        missing=list(explanation.missing),
        offers=[_judgement(verdict) for verdict in explanation.offers],
    )


def _summary(explanation: Explanation, best: BestCombination | None) -> str:
    request = explanation.request
    if explanation.missing:
        return (
            f"no match: the book has no {' and no '.join(explanation.missing)} order for this "
            f"request (app {request.app})"
        )
    if best is not None and explanation.matchable:
        return (
            f"matchable: {best.volume} task(s) at {best.price} nRLC each "
            f"(app order {best.app[:10]}…, workerpool order {best.workerpool[:10]}…)"
        )
    if best is not None:
        return "no match: the best offers fit, but the request is refused: " + "; ".join(
            reason.value for reason in explanation.request_reasons
        )
    return (
        "no match: no combination of the offers considered passes every check; "
        "each offer's reasons say why"
    )
