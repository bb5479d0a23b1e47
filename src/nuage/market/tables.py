"""The book's SQL tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

``market_orders`` holds every order ever published, with its status: only ``open`` orders are in
the book. Big numbers are kept so that SQL can compare them portably:

- prices as 80-digit zero-padded decimal strings (``price``), which sort as the numbers do;
  volumes and consumed volumes as exact decimal strings, plus ``remaining`` clamped to a
  BIGINT for the ``min_volume`` filter;
- the 256-bit tag as four 64-bit two's-complement BIGINTs (``tag0`` holds bits 0-63), so
  "offers every asked bit" is ``tag_i & asked_i = asked_i`` on each part;
- category and trust clamped to a BIGINT (a trust above it still passes any filter).

The ``app``, ``dataset``, ``workerpool`` and ``requester`` columns hold what the order names:
its own asset, a restriction (zero address = anyone) or, for a request, the assets it asks for.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from nuage.chain.watcher import cursor_table

__all__ = [
    "CURSORS",
    "INT64_MAX",
    "META",
    "METADATA",
    "ORDERS",
    "PRICE_DIGITS",
    "UNPUBLISH_CLOCKS",
    "clamp",
    "price_key",
    "tag_parts",
]

INT64_MAX = 2**63 - 1
PRICE_DIGITS = 80  # 3 * (2**256 - 1), a request's total, has 78 digits

METADATA = MetaData()
_IN_ORDER = ("price", "published_at", "id")

ORDERS = Table(
    "market_orders",
    METADATA,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("hash", String(66), nullable=False, unique=True),  # 0x + 64 lowercase hex
    Column("kind", String(10), nullable=False),  # app, dataset, workerpool, request
    Column("status", String(16), nullable=False),
    Column("owner", String(42), nullable=False),  # who signed: asset owner or requester
    Column("app", String(42), nullable=False),
    Column("dataset", String(42), nullable=False),
    Column("workerpool", String(42), nullable=False),
    Column("requester", String(42), nullable=False),
    Column("category", BigInteger, nullable=True),  # workerpool and request orders
    Column("trust", BigInteger, nullable=True),
    Column("tag0", BigInteger, nullable=False),
    Column("tag1", BigInteger, nullable=False),
    Column("tag2", BigInteger, nullable=False),
    Column("tag3", BigInteger, nullable=False),
    Column("price", String(PRICE_DIGITS), nullable=False),
    Column("volume", String(PRICE_DIGITS), nullable=False),
    Column("consumed", String(PRICE_DIGITS), nullable=False),
    Column("remaining", BigInteger, nullable=False),
    Column("published_at", Float(53), nullable=False),  # Unix time
    Column("updated_at", Float(53), nullable=False),
    Column("document", Text, nullable=False),  # the order as JSON (wire format), with sign
    # each index ends with the book's order, so a filtered page is read in order, not sorted
    Index("market_orders_book", "kind", "status", *_IN_ORDER),
    Index("market_orders_category", "kind", "status", "category", *_IN_ORDER),
    Index("market_orders_app", "app", "kind", "status", *_IN_ORDER),
    Index("market_orders_dataset", "dataset", "kind", "status", *_IN_ORDER),
    Index("market_orders_workerpool", "workerpool", "kind", "status", *_IN_ORDER),
    Index("market_orders_requester", "requester", "kind", "status", *_IN_ORDER),
    Index("market_orders_owner", "owner", "status"),
)

UNPUBLISH_CLOCKS = Table(
    "market_unpublish_clocks",
    METADATA,
    Column("owner", String(42), primary_key=True),
    Column("timestamp", BigInteger, nullable=False),  # the last accepted message's, in ms
)

META = Table(
    "market_meta",
    METADATA,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

CURSORS = cursor_table(METADATA, "market_watcher_cursors")


def clamp(value: int) -> int:
    """`value` as a BIGINT, saturating (for filters that only compare)."""
    return max(-INT64_MAX - 1, min(INT64_MAX, value))


def price_key(value: int) -> str:
    """A non-negative integer as a fixed-width string that sorts as the number does."""
    return str(value).zfill(PRICE_DIGITS)


def tag_parts(tag: int) -> tuple[int, int, int, int]:
    """A 256-bit tag as four 64-bit two's-complement integers, low bits first."""
    parts = []
    for index in range(4):
        part = (tag >> (64 * index)) & (2**64 - 1)
        parts.append(part - 2**64 if part > INT64_MAX else part)
    return (parts[0], parts[1], parts[2], parts[3])
