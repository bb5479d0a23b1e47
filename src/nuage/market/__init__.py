"""The order book of a nuage market: a service, its client, and what they share.

``create_app(settings)`` builds the service (``nuage market serve`` or ``python -m nuage.market``
run it): orders are published (checked as the market contract checks them), queried, unpublished,
and leave the book as the chain uses, cancels or transfers them; ``POST /explain`` says why a
request matches nothing. ``MarketClient`` talks to it.
"""

from nuage.market.book import BookOrder, Filters, OrderBook, Page, make_engine
from nuage.market.client import DEFAULT_MARKET_URL, MarketClient
from nuage.market.errors import MarketError, MarketUnreachable, OrderRefused, UnknownOrder
from nuage.market.explain import Explanation, Offer, OfferVerdict, explain_request, judge
from nuage.market.follower import BookFollower, market_watcher
from nuage.market.models import ExplainAnswer, Health, OrderPage, OrderRecord
from nuage.market.reads import ChainReads, ContractReads, chain_facts
from nuage.market.service import create_app, serve
from nuage.market.settings import MarketSettings
from nuage.market.wire import (
    KINDS,
    OrderKind,
    Status,
    order_from_json,
    order_to_json,
    sign_unpublish,
    sign_unpublish_all,
)

__all__ = [
    "DEFAULT_MARKET_URL",
    "KINDS",
    "BookFollower",
    "BookOrder",
    "ChainReads",
    "ContractReads",
    "ExplainAnswer",
    "Explanation",
    "Filters",
    "Health",
    "MarketClient",
    "MarketError",
    "MarketSettings",
    "MarketUnreachable",
    "Offer",
    "OfferVerdict",
    "OrderBook",
    "OrderKind",
    "OrderPage",
    "OrderRecord",
    "OrderRefused",
    "Page",
    "Status",
    "UnknownOrder",
    "chain_facts",
    "create_app",
    "explain_request",
    "judge",
    "make_engine",
    "market_watcher",
    "order_from_json",
    "order_to_json",
    "serve",
    "sign_unpublish",
    "sign_unpublish_all",
]
