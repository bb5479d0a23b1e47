"""The market HTTP service (FastAPI): publish, query, unpublish and explain orders.

``create_app(settings)`` builds the application; ``serve(settings)`` runs it with uvicorn. While it
runs, a background task follows the chain (`nuage.market.follower`). Every error answers with one
JSON shape::

    {"error": {"code": "<snake_case>", "message": "<what is wrong and what to do>"}}
"""

import asyncio
import copy
import logging
import logging.config
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from typing import Annotated, Any, TypeVar

from eth_utils import to_checksum_address
from fastapi import Body, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

import nuage
from nuage.chain.bindings import Contracts
from nuage.chain.watcher import EventWatcher, SqlCursorStore
from nuage.config import Settings
from nuage.exceptions import ChainError, ConfigError, NuageError, OrderError
from nuage.market.book import BookOrder, Filters, OrderBook, make_engine
from nuage.market.errors import MarketError, OrderRefused
from nuage.market.explain import Offer, explain_request
from nuage.market.follower import BookFollower, market_watcher
from nuage.market.models import (
    ErrorBody,
    ErrorDetail,
    ExplainAnswer,
    FollowerState,
    Health,
    OfferFilters,
    OrderPage,
    OrderRecord,
    TaskFilters,
    UnpublishedAll,
    explain_answer,
    order_record,
)
from nuage.market.reads import ChainReads, ContractReads, chain_facts, order_owner
from nuage.market.settings import MarketSettings
from nuage.market.tables import CURSORS
from nuage.market.wire import (
    BODY_TYPES,
    KINDS,
    OrderKind,
    RequestOrderBody,
    UnpublishBody,
    body_to_order,
    unpublish_all_digest,
    unpublish_digest,
)
from nuage.protocol import tags
from nuage.protocol.eip712 import recover
from nuage.protocol.matching import MAX_BALANCE, MAX_TRUST
from nuage.protocol.orders import (
    ZERO_ADDRESS,
    AppOrder,
    DatasetOrder,
    Order,
    RequestOrder,
    WorkerpoolOrder,
)

__all__ = ["create_app", "serve"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

_HASH_PATTERN = r"^0x[0-9a-fA-F]{64}$"
_ADDRESS_PATTERN = r"^0x[0-9a-fA-F]{40}$"

_DESCRIPTION = """\
The order book of a nuage market. Asset owners publish signed app, dataset and workerpool
orders, requesters their request orders; anyone queries them, cheapest first, and asks why a
request matches nothing (`POST /explain`). Orders leave the book when deals use them up, when
their owner cancels them on chain or unpublishes them here, and when their asset changes hands.

Orders are checked as the market contract checks them: the EIP-712 signature in the domain
`GET /health` names (chain id, market address), the signer owning the asset now, the volume not
used up. Every error answers `{"error": {"code": ..., "message": ...}}`.
"""

_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in {
        403: "The signer is not who must sign (the asset's owner, the requester).",
        404: "No such order.",
        409: "The order is in the book already, used up or cancelled; or a replayed message.",
        422: "Malformed request, invalid order or signature, unknown category, bad filter.",
        503: "The chain does not answer.",
    }.items()
}


class _Market:
    """What the routes share: the book, the chain reads, the follower and the settings."""

    def __init__(
        self,
        settings: MarketSettings,
        book: OrderBook,
        reads: ChainReads,
        follower: BookFollower | None,
        watcher: EventWatcher | None,
    ) -> None:
        self.settings = settings
        self.book = book
        self.reads = reads
        self.follower = follower
        self.watcher = watcher

    def health(self) -> Health:
        watcher, follower = self.watcher, self.follower
        state = FollowerState(following=False, cursor=None, healthy=True)
        if watcher is not None and follower is not None:
            state = FollowerState(
                following=True,
                cursor=str(watcher.cursor),
                healthy=watcher.healthy and follower.last_error is None,
                last_error=watcher.last_error or follower.last_error,
            )
        domain = self.reads.domain
        return Health(
            version=nuage.__version__,
            chain_id=domain.chain_id,
            market=domain.verifying_contract,
            follower=state,
        )

    # -- publishing

    def publish(self, kind: OrderKind, body: BaseModel) -> BookOrder:
        order = body_to_order(kind, body)
        order_hash = order.hash(self.reads.domain)
        key = "0x" + order_hash.hex()
        existing = self.book.get(order_hash)
        if existing is not None and existing.status == "open":
            raise OrderRefused(409, "duplicate_order", f"this {kind} order ({key}) is in the book")
        self._check_terms(kind, order)
        owner = order_owner(self.reads, order)
        if owner == ZERO_ADDRESS:
            asset = _asset(order)
            raise OrderRefused(
                422,
                "asset_not_registered",
                f"{kind} {asset} is not registered: register it before publishing orders for it",
            )
        self._check_signed(kind, order, order_hash, owner)
        consumed = self.reads.consumed(order_hash)
        volume = order.message()["volume"]
        if consumed >= volume:
            raise OrderRefused(
                409,
                "order_consumed",
                f"this {kind} order ({key}) has no volume left on chain ({consumed} of {volume} "
                "used): deals used it up or its owner cancelled it; sign a new one (another salt)",
            )
        published = self.book.publish(order, order_hash, owner, consumed)
        logger.info(
            "published %s order %s of %s (%d of %d left)",
            kind,
            key,
            owner,
            volume - consumed,
            volume,
        )
        return published

    def _check_terms(self, kind: OrderKind, order: Order) -> None:
        """Refuses orders the contract could never match, whatever the other orders."""
        if kind != "request":
            price = int(getattr(order, f"{kind}price"))
            if price >= MAX_BALANCE:
                raise OrderRefused(
                    422,
                    "price_out_of_range",
                    f"a {kind} price must be below 2**96 nRLC (no escrow balance can pay more); "
                    f"got {price}",
                )
        if isinstance(order, WorkerpoolOrder | RequestOrder):
            count = self.reads.category_count()
            if order.category >= count:
                raise OrderRefused(
                    422,
                    "unknown_category",
                    f"category {order.category} does not exist: categories are 0 to {count - 1}",
                )
        if isinstance(order, RequestOrder) and order.trust >= MAX_TRUST:
            raise OrderRefused(
                422,
                "trust_out_of_range",
                f"a request's trust must be below 2**40, not {order.trust}",
            )

    def _check_signed(self, kind: OrderKind, order: Order, order_hash: bytes, owner: str) -> None:
        who = "its requester" if kind == "request" else f"the owner of {kind} {_asset(order)}"
        code = "not_requester" if kind == "request" else "not_asset_owner"
        if not order.sign:
            presigner = self.reads.presigned(order_hash)
            if presigner == owner:
                return
            if presigner == ZERO_ADDRESS:
                raise OrderRefused(
                    422,
                    "not_signed",
                    f"the {kind} order has no signature and is not presigned on chain: sign it "
                    f"as {who} ({owner}), or presign it (manage{kind.title()}Order)",
                )
            raise OrderRefused(
                403, code, f"the {kind} order was presigned by {presigner}, but {who} is {owner}"
            )
        signer = recover(order_hash, order.sign)
        if signer is None:
            raise OrderRefused(
                422,
                "bad_signature",
                f"the {kind} order's signature is not a valid secp256k1 signature (65 or 64 "
                "bytes, low s)",
            )
        if signer != owner:
            domain = self.reads.domain
            raise OrderRefused(
                403,
                code,
                f"the {kind} order is signed by {signer}, but {who} is {owner}; an order signed "
                f"in another domain than this market's (chain {domain.chain_id}, market "
                f"{domain.verifying_contract}) also recovers a stranger",
            )

    # -- unpublishing

    def unpublish(self, order_hash: bytes, body: UnpublishBody) -> BookOrder:
        self._check_fresh(body.timestamp)
        signer = _signer(unpublish_digest(self.reads.domain, order_hash, body.timestamp), body)
        changed = self.book.unpublish(order_hash, signer, body.timestamp)
        logger.info("unpublished %s order 0x%s of %s", changed.kind, order_hash.hex(), signer)
        return changed

    def unpublish_all(self, owner: str, body: UnpublishBody) -> list[bytes]:
        self._check_fresh(body.timestamp)
        signer = _signer(unpublish_all_digest(self.reads.domain, owner, body.timestamp), body)
        if signer != owner:
            raise OrderRefused(
                403,
                "not_order_owner",
                f"the message is signed by {signer}: only {owner} may unpublish its orders",
            )
        hashes = self.book.unpublish_all(owner, body.timestamp)
        logger.info("unpublished every order of %s (%d)", owner, len(hashes))
        return hashes

    def _check_fresh(self, timestamp: int) -> None:
        now = self.book.clock() * 1000
        window = self.settings.unpublish_window * 1000
        if abs(now - timestamp) > window:
            raise OrderRefused(
                422,
                "stale_message",
                f"the message was signed at {timestamp} ms, {abs(now - timestamp) / 1000:.0f} s "
                f"from this market's clock ({now:.0f} ms); sign it again now (within "
                f"{self.settings.unpublish_window:g} s)",
            )

    # -- explaining

    def explain(self, body: RequestOrderBody, limit: int) -> ExplainAnswer:
        request = body_to_order("request", body)
        assert isinstance(request, RequestOrder)
        domain = self.reads.domain
        request_hash = request.hash(domain)
        signed = bool(request.sign) or self.reads.presigned(request_hash) == request.requester
        apps = self._offers("app", Filters(app=request.app), limit)
        datasets: list[Offer] = []
        if request.dataset != ZERO_ADDRESS:
            datasets = self._offers("dataset", Filters(dataset=request.dataset), limit)
        pool_filter = Filters(
            workerpool=request.workerpool if request.workerpool != ZERO_ADDRESS else None
        )
        pools = self._offers("workerpool", pool_filter, limit, prefer_category=request.category)
        facts = chain_facts(
            self.reads,
            [_as(offer.order, AppOrder) for offer in apps],
            [_as(offer.order, DatasetOrder) for offer in datasets],
            [_as(offer.order, WorkerpoolOrder) for offer in pools],
            [request],
            assume_signed=[] if signed else [request],
        )
        explanation = explain_request(request, apps, datasets, pools, facts)
        logger.info(
            "explained request %s: %s",
            "0x" + request_hash.hex(),
            "matchable" if explanation.matchable else "no match",
        )
        return explain_answer(explanation, request_hash, signed)

    def _offers(
        self, kind: OrderKind, filters: Filters, limit: int, prefer_category: int | None = None
    ) -> list[Offer]:
        page = self.book.query(kind, filters, limit=limit, prefer_category=prefer_category)
        offers = []
        for found in page.orders:
            order = found.order
            assert isinstance(order, AppOrder | DatasetOrder | WorkerpoolOrder)
            offers.append(Offer(found.hash, kind, order, found.price))
        return offers


def _as(order: object, order_type: type[_T]) -> _T:
    assert isinstance(order, order_type)
    return order


def _asset(order: Order) -> str:
    """The asset an offer is for; a request's requester."""
    if isinstance(order, AppOrder):
        return order.app
    if isinstance(order, DatasetOrder):
        return order.dataset
    if isinstance(order, WorkerpoolOrder):
        return order.workerpool
    assert isinstance(order, RequestOrder)
    return order.requester


def _signer(digest: bytes, body: UnpublishBody) -> str:
    signer = recover(digest, bytes.fromhex(body.sign.removeprefix("0x")))
    if signer is None:
        raise OrderRefused(
            422,
            "bad_signature",
            "the message's signature is not a valid secp256k1 signature (65 or 64 bytes, low s)",
        )
    return signer


def _filters(kind: OrderKind, query: OfferFilters) -> Filters:
    def address(value: str | None) -> str | None:
        return None if value is None else to_checksum_address(value)

    named = {"app": query.app, "dataset": query.dataset, "workerpool": query.workerpool}
    own = "app" if kind == "request" else kind
    if query.asset is not None:
        if named[own] is not None and address(named[own]) != address(query.asset):
            raise MarketError(
                f"asset={query.asset} and {own}={named[own]} contradict each other: give one",
                code="invalid_filter",
                status=422,
            )
        named[own] = query.asset
    category = getattr(query, "category", None)
    min_trust = getattr(query, "min_trust", None)
    return Filters(
        app=address(named["app"]),
        dataset=address(named["dataset"]),
        workerpool=address(named["workerpool"]),
        requester=address(query.requester),
        owner=address(query.owner),
        category=category,
        min_trust=min_trust,
        tag=_tag_filter(query.tag),
        min_volume=query.min_volume,
    )


def _tag_filter(text: str | None) -> int:
    if text is None or not text.strip():
        return 0
    text = text.strip()
    if text.startswith("0x"):
        digits = text[2:]
        if 0 < len(digits) <= 64 and all(c in "0123456789abcdefABCDEF" for c in digits):
            return int(digits, 16)
    else:
        try:
            return tags.to_int(tags.tag(*(name.strip() for name in text.split(","))))
        except ValueError:
            pass
    raise MarketError(
        f"tag={text!r} is not a tag: give bytes32 hex (0x…) or names ({', '.join(tags.NAMES)})",
        code="invalid_filter",
        status=422,
    )


def _identity(reads: ChainReads, contracts: Contracts | None) -> dict[str, Any]:
    identity: dict[str, Any] = {
        "chain_id": reads.domain.chain_id,
        "market": reads.domain.verifying_contract,
    }
    if contracts is not None:
        block = contracts.chain.w3.eth.get_block(contracts.deployment.block)
        identity["block"] = contracts.deployment.block
        identity["block_hash"] = bytes(block["hash"]).hex()
    return identity


def _connect(settings: MarketSettings) -> Contracts:
    from nuage.network import connect

    config = Settings()
    if settings.deployment is not None:
        config = config.model_copy(update={"deployment": settings.deployment})
    return connect(config, settings.rpc_url)


def _open_book(
    settings: MarketSettings,
    engine: Engine,
    reads: ChainReads,
    contracts: Contracts | None,
    clock: Callable[[], float],
) -> tuple[OrderBook, BookFollower | None, EventWatcher | None]:
    """The book (its tables created, bound to this deployment) and what follows the chain."""
    book = OrderBook(engine, clock=clock)
    book.create_tables()
    identity = _identity(reads, contracts)
    recorded = book.bind_to(identity)
    if recorded is not None and recorded != identity:
        raise ConfigError(
            f"the market database ({engine.url.render_as_string(hide_password=True)}) holds "
            f"the book of another deployment ({recorded}), not of this one ({identity}): "
            "give another NUAGE_MARKET_DATABASE_URL, or delete that database to start afresh"
        )
    if not settings.follow_chain or contracts is None:
        return book, None, None
    follower = BookFollower.for_contracts(book, reads, contracts, SqlCursorStore(engine, CURSORS))
    watcher = market_watcher(
        contracts,
        engine,
        confirmations=settings.confirmations,
        poll_interval=settings.poll_interval,
    )
    return book, follower, watcher


def create_app(
    settings: MarketSettings,
    *,
    contracts: Contracts | None = None,
    reads: ChainReads | None = None,
    clock: Callable[[], float] = time.time,
) -> FastAPI:
    """The market application over ``settings.database_url``.

    The chain is `contracts` (else the one `settings` point at); `reads` replaces the chain
    reads (tests pass a fake, and then nothing follows the chain). Raises ConfigError when the
    database holds the book of another chain or deployment.
    """
    if reads is None:
        contracts = contracts or _connect(settings)
        reads = ContractReads(contracts)
    engine = make_engine(settings.database_url)
    try:
        book, follower, watcher = _open_book(settings, engine, reads, contracts, clock)
    except BaseException:
        engine.dispose()
        raise
    market = _Market(settings, book, reads, follower, watcher)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = None
        if follower is not None and watcher is not None:
            task = asyncio.create_task(follower.follow(watcher, stop))
        try:
            yield
        finally:
            stop.set()
            if task is not None:
                with suppress(TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(task, 10)
            engine.dispose()

    app = FastAPI(
        title="nuage market", version=nuage.__version__, description=_DESCRIPTION, lifespan=lifespan
    )
    app.state.market = market
    _add_error_handlers(app)
    _add_routes(app, market)
    return app


def _add_routes(app: FastAPI, market: _Market) -> None:
    @app.get("/health", summary="Is the service up, and which market is it?")
    def health() -> Health:
        return market.health()

    for kind in KINDS:
        _add_kind_routes(app, market, kind)

    hash_path = Path(
        description="The order's EIP-712 hash.", json_schema_extra={"pattern": _HASH_PATTERN}
    )

    @app.get(
        "/orders/{order_hash}",
        summary="One order, with its remaining volume and status",
        responses={s: _ERRORS[s] for s in (404, 422)},
        tags=["orders"],
    )
    def get_order(order_hash: Annotated[str, hash_path]) -> OrderRecord:
        found = market.book.get(_hash(order_hash))
        if found is None:
            raise OrderRefused(
                404, "unknown_order", f"no order {order_hash} was ever published to this market"
            )
        return order_record(found)

    @app.post(
        "/orders/{order_hash}/unpublish",
        summary="Take one order out of the book (signed by its owner)",
        responses={s: _ERRORS[s] for s in (403, 404, 409, 422)},
        tags=["orders"],
    )
    def unpublish(order_hash: Annotated[str, hash_path], body: UnpublishBody) -> OrderRecord:
        """The body is the owner's EIP-712 signature of
        `Unpublish(bytes32 order,uint256 timestamp)` in the market's domain, with the timestamp
        (Unix ms) it signed: within a few minutes of now, and later than the owner's last."""
        return order_record(market.unpublish(_hash(order_hash), body))

    owner_path = Path(
        description="The owner's address.", json_schema_extra={"pattern": _ADDRESS_PATTERN}
    )

    @app.post(
        "/owners/{owner}/unpublish",
        summary="Take every order of an owner out of the book (signed by it)",
        responses={s: _ERRORS[s] for s in (403, 409, 422)},
        tags=["orders"],
    )
    def unpublish_all(owner: Annotated[str, owner_path], body: UnpublishBody) -> UnpublishedAll:
        """The body is the owner's EIP-712 signature of
        `UnpublishAll(address owner,uint256 timestamp)` in the market's domain (see above)."""
        checked = _address(owner)
        hashes = market.unpublish_all(checked, body)
        return UnpublishedAll(owner=checked, unpublished=["0x" + h.hex() for h in hashes])

    @app.post(
        "/explain",
        summary="Why a request matches nothing: the best offers, and what is wrong with others",
        responses={s: _ERRORS[s] for s in (422, 503)},
        tags=["orders"],
    )
    def explain(
        body: Annotated[RequestOrderBody, Body()],
        limit: Annotated[
            int | None, Query(ge=1, le=200, description="Offers of each kind considered.")
        ] = None,
    ) -> ExplainAnswer:
        """Give a request order (signed or not: an unsigned one is judged as if its requester
        had signed it), or just what you would ask: app, requester, category, trust, tag,
        maximum prices. The answer names the cheapest app, dataset and workerpool orders that
        pass every check of `matchOrders` together, and for each other offer considered, the
        contract's reasons to refuse it."""
        return market.explain(body, limit or market.settings.explain_limit)


def _add_kind_routes(app: FastAPI, market: _Market, kind: OrderKind) -> None:
    body_type = BODY_TYPES[kind]
    filter_type = TaskFilters if kind in ("workerpool", "request") else OfferFilters

    def publish(body: Any) -> OrderRecord:
        return order_record(market.publish(kind, body))

    publish.__annotations__["body"] = body_type
    app.post(
        f"/orders/{kind}",
        summary=f"Publish a {kind} order",
        status_code=201,
        responses={s: _ERRORS[s] for s in (403, 409, 422, 503)},
        tags=["orders"],
        description=(
            f"Checks the {kind} order as the market contract would (signature by "
            f"{'its requester' if kind == 'request' else 'the asset owner'} or presignature, "
            "volume left on chain) and puts it in the book."
        ),
    )(publish)

    def query(filters: Any) -> OrderPage:
        page = market.book.query(
            kind, _filters(kind, filters), limit=filters.limit, offset=filters.offset
        )
        return OrderPage(
            total=page.total,
            limit=page.limit,
            offset=page.offset,
            orders=[order_record(order) for order in page.orders],
        )

    query.__annotations__["filters"] = Annotated[filter_type, Query()]
    order_by = "highest total maximum price" if kind == "request" else "cheapest"
    app.get(
        f"/orders/{kind}",
        summary=f"Query the {kind} orders of the book",
        responses={s: _ERRORS[s] for s in (422,)},
        tags=["orders"],
        description=f"Open {kind} orders passing every filter given, {order_by} first, then "
        "oldest first. Unknown filters are refused.",
    )(query)


def _hash(text: str) -> bytes:
    if len(text) != 66 or not text.startswith("0x"):
        raise MarketError(
            f"{text!r} is not an order hash (0x and 64 hex digits)",
            code="invalid_request",
            status=422,
        )
    try:
        return bytes.fromhex(text[2:])
    except ValueError:
        raise MarketError(
            f"{text!r} is not an order hash (0x and 64 hex digits)",
            code="invalid_request",
            status=422,
        ) from None


def _address(text: str) -> str:
    try:
        if len(text) != 42:
            raise ValueError(text)
        return str(to_checksum_address(text))
    except ValueError:
        raise MarketError(
            f"{text!r} is not an address (0x and 40 hex digits)",
            code="invalid_request",
            status=422,
        ) from None


def serve(settings: MarketSettings, *, log_level: str = "info") -> None:
    """Run the market service in this process until interrupted; logs go to stderr."""
    import uvicorn  # only the process that serves needs it

    log_config = _log_config(log_level)
    logging.config.dictConfig(log_config)
    app = create_app(settings)
    market: _Market = app.state.market
    logger.info(
        "market serving on %s: chain %d, market %s, book in %s",
        settings.url,
        market.reads.domain.chain_id,
        market.reads.domain.verifying_contract,
        market.book.engine.url.render_as_string(hide_password=True),
    )
    uvicorn.run(
        app, host=settings.host, port=settings.port, log_config=log_config, log_level=log_level
    )


# -- errors ------------------------------------------------------------------------------------


def _add_error_handlers(app: FastAPI) -> None:
    async def refused(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, OrderRefused | MarketError)
        logger.info("refused %s %s: %s", request.method, request.url.path, error)
        return _error_response(error.status, error.code, str(error))

    async def invalid_order(request: Request, error: Exception) -> JSONResponse:
        logger.info("refused %s %s: %s", request.method, request.url.path, error)
        return _error_response(422, "invalid_order", str(error))

    async def chain_error(request: Request, error: Exception) -> JSONResponse:
        logger.warning("%s %s: the chain failed: %s", request.method, request.url.path, error)
        return _error_response(
            503, "chain_unavailable", f"the market cannot read the chain now: {error}"
        )

    async def http_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        route = f"{request.method} {request.url.path}"
        if error.status_code == 404:
            code, message = "not_found", f"there is no {route} here: see /docs"
        elif error.status_code == 405:
            code, message = "method_not_allowed", f"{route} is not allowed: see /docs"
        else:
            code, message = "http_error", f"{route} failed: {error.detail}"
        return _error_response(error.status_code, code, message, error.headers)

    async def invalid_request(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
            for problem in error.errors()
        )
        in_query = all(problem["loc"][:1] == ("query",) for problem in error.errors())
        code = "invalid_filter" if in_query and request.method == "GET" else "invalid_request"
        logger.info("refused %s %s: %s", request.method, request.url.path, problems)
        return _error_response(422, code, f"the request is malformed ({problems}): see /docs")

    async def internal_error(request: Request, error: Exception) -> JSONResponse:
        logger.exception("%s %s failed", request.method, request.url.path)
        return _error_response(
            500,
            "internal_error",
            "the market failed on this request: its log says why; try again later",
        )

    app.add_exception_handler(OrderRefused, refused)
    app.add_exception_handler(MarketError, refused)
    app.add_exception_handler(OrderError, invalid_order)
    app.add_exception_handler(ChainError, chain_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(NuageError, internal_error)
    app.add_exception_handler(Exception, internal_error)


def _error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body = ErrorBody(error=ErrorDetail(code=code, message=message))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def _log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging setup, with access lines on stderr and nuage's own loggers added."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    config["loggers"]["nuage"] = {
        "handlers": ["default"],
        "level": level.upper(),
        "propagate": False,
    }
    return config
