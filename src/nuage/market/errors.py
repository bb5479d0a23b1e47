"""The market's errors, shared by the service (which answers with them) and its client.

Every refusal has an HTTP status and a stable ``code``; the service answers
``{"error": {"code": ..., "message": ...}}`` and the client raises the same class again::

    NuageError
    ├── MarketError             the market failed, or refused a request not about one order
    │   └── MarketUnreachable   the market does not answer
    └── OrderError
        └── OrderRefused        the market refused an order or an unpublish (``.code``)
            └── UnknownOrder    no order with that hash was ever published here
"""

from __future__ import annotations

from nuage.exceptions import NuageError, OrderError

__all__ = [
    "ORDER_CODES",
    "MarketError",
    "MarketUnreachable",
    "OrderRefused",
    "UnknownOrder",
    "refusal",
]

ORDER_CODES = frozenset(
    {
        "invalid_order",
        "asset_not_registered",
        "bad_signature",
        "not_signed",
        "not_asset_owner",
        "not_requester",
        "order_consumed",
        "duplicate_order",
        "unknown_order",
        "unknown_category",
        "price_out_of_range",
        "trust_out_of_range",
        "not_order_owner",
        "not_in_book",
        "stale_message",
        "replayed_message",
    }
)
"""Error codes about an order (raised as `OrderRefused`); the others raise `MarketError`."""


class MarketError(NuageError):
    """The market failed, or refused a request that is not about one order (a bad filter)."""

    def __init__(self, message: str, *, code: str = "market_error", status: int = 500) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class MarketUnreachable(MarketError):
    """The market service does not answer."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="market_unreachable", status=503)


class OrderRefused(OrderError):
    """The market refused an order or an unpublish; ``code`` says why, for programs."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class UnknownOrder(OrderRefused):
    """No order with that hash was ever published to this market."""

    def __init__(self, message: str) -> None:
        super().__init__(404, "unknown_order", message)


def refusal(status: int, code: str, message: str) -> MarketError | OrderRefused:
    """The error a service answer stands for."""
    if code == "unknown_order":
        return UnknownOrder(message)
    if code in ORDER_CODES:
        return OrderRefused(status, code, message)
    return MarketError(message, code=code, status=status)
