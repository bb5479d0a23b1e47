"""A client for the market service (sync httpx).

::

    with MarketClient("http://127.0.0.1:8702") as market:
        record = market.publish(order.signed(key, market.domain()))
        page = market.query("workerpool", category=0, min_volume=1)
        answer = market.explain(request)  # why no match?
        market.unpublish(record.hash, account)

A refusal raises the error the service answered with (`OrderRefused`, `UnknownOrder`,
`MarketError`), with its message; a market that does not answer raises `MarketUnreachable`.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType
from typing import Any, TypeVar

import httpx
from eth_account.signers.local import LocalAccount
from pydantic import BaseModel, ValidationError

import nuage
from nuage.exceptions import ConfigError
from nuage.market.errors import MarketError, MarketUnreachable, refusal
from nuage.market.models import ExplainAnswer, Health, OrderPage, OrderRecord, UnpublishedAll
from nuage.market.wire import (
    OrderKind,
    kind_of,
    order_to_json,
    sign_unpublish,
    sign_unpublish_all,
)
from nuage.protocol.eip712 import Domain
from nuage.protocol.orders import Order, RequestOrder

__all__ = ["DEFAULT_MARKET_URL", "MarketClient"]

DEFAULT_MARKET_URL = "http://127.0.0.1:8702"

_Model = TypeVar("_Model", bound=BaseModel)


class MarketClient:
    """Publishes, queries, unpublishes and explains orders of one market service."""

    def __init__(
        self,
        url: str = DEFAULT_MARKET_URL,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(
                f"the market URL {url!r} is not an http(s) URL: give one like {DEFAULT_MARKET_URL}"
            )
        self.url = url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.url,
            timeout=timeout,
            transport=transport,
            headers={"user-agent": f"nuage/{nuage.__version__}"},
        )
        self._domain: Domain | None = None

    def __enter__(self) -> MarketClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- the service

    def health(self) -> Health:
        return self._call("GET", "/health", Health)

    def domain(self) -> Domain:
        """The EIP-712 domain orders are signed in here (the market contract's)."""
        if self._domain is None:
            health = self.health()
            self._domain = Domain(chain_id=health.chain_id, verifying_contract=health.market)
        return self._domain

    # -- orders

    def publish(self, order: Order) -> OrderRecord:
        """Puts a signed (or presigned) order in the book."""
        kind = kind_of(order)
        return self._call("POST", f"/orders/{kind}", OrderRecord, json=order_to_json(order))

    def get(self, order_hash: bytes | str) -> OrderRecord:
        """One order, in the book or not; `UnknownOrder` when it was never published here."""
        return self._call("GET", f"/orders/{_hex(order_hash)}", OrderRecord)

    def query(
        self, kind: OrderKind, *, limit: int = 100, offset: int = 0, **filters: Any
    ) -> OrderPage:
        """One page of the book's open `kind` orders, cheapest first.

        Filters: asset, app, dataset, workerpool, requester, owner, category, min_trust, tag
        (bytes32 hex or names such as "gpu"), min_volume.
        """
        params = {name: _param(value) for name, value in filters.items() if value is not None}
        params |= {"limit": limit, "offset": offset}
        return self._call("GET", f"/orders/{kind}", OrderPage, params=params)

    def orders(
        self, kind: OrderKind, *, page_size: int = 500, **filters: Any
    ) -> Iterator[OrderRecord]:
        """Every open `kind` order passing `filters`, page after page."""
        offset = 0
        while True:
            page = self.query(kind, limit=page_size, offset=offset, **filters)
            yield from page.orders
            offset += len(page.orders)
            if not page.orders or offset >= page.total:
                return

    def unpublish(self, order_hash: bytes | str, owner: LocalAccount) -> OrderRecord:
        """Takes one of `owner`'s orders out of the book (signs the message with its key)."""
        key = _hex(order_hash)
        body = sign_unpublish(owner.key, self.domain(), bytes.fromhex(key[2:]))
        return self._call("POST", f"/orders/{key}/unpublish", OrderRecord, json=body.model_dump())

    def unpublish_all(self, owner: LocalAccount) -> list[str]:
        """Takes every order of `owner` out of the book; their hashes."""
        body = sign_unpublish_all(owner.key, self.domain(), owner.address)
        answer = self._call(
            "POST", f"/owners/{owner.address}/unpublish", UnpublishedAll, json=body.model_dump()
        )
        return answer.unpublished

    def explain(
        self, request: RequestOrder | dict[str, Any], *, limit: int | None = None
    ) -> ExplainAnswer:
        """Whether `request` can match now, the best offers for it, and what is wrong with
        the others. `request` may be unsigned, or a dict of what you would ask (app,
        requester, category, trust, tag, maximum prices…)."""
        document = order_to_json(request) if isinstance(request, RequestOrder) else request
        params = {} if limit is None else {"limit": limit}
        return self._call("POST", "/explain", ExplainAnswer, json=document, params=params)

    # -- internals

    def _call(self, method: str, path: str, model: type[_Model], **kwargs: Any) -> _Model:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as error:
            raise MarketUnreachable(
                f"the market at {self.url} does not answer ({type(error).__name__}: {error}): "
                "start it with `nuage market serve` (the devnet starts one: `nuage devnet "
                "status` says where), or point --market / $NUAGE_MARKET_URL at a running one"
            ) from None
        if response.is_error:
            raise _refusal(response)
        try:
            return model.model_validate(response.json())
        except (ValueError, ValidationError) as error:
            raise MarketError(
                f"the market at {self.url} answered {method} {path} with something that is not "
                f"a nuage market's answer ({error})",
                code="bad_answer",
                status=response.status_code,
            ) from None


def _refusal(response: httpx.Response) -> Exception:
    try:
        detail = response.json()["error"]
        return refusal(response.status_code, str(detail["code"]), str(detail["message"]))
    except (ValueError, KeyError, TypeError):
        return MarketError(
            f"the market answered HTTP {response.status_code}: {response.text[:200]}",
            code="http_error",
            status=response.status_code,
        )


def _hex(order_hash: bytes | str) -> str:
    if isinstance(order_hash, bytes):
        return "0x" + order_hash.hex()
    return order_hash if order_hash.startswith("0x") else "0x" + order_hash


def _param(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value
