"""The order book in SQL: publish, look up, query, unpublish, and the changes the chain makes.

`OrderBook` keeps every order ever published with its status; the book proper is the ``open``
ones. It does no chain reads: the service checks an order against the chain before `publish`,
and the follower reads consumed volumes and owners before `record_consumed` and
`retire_old_owners`, which take the connection of the caller's transaction (the follower saves
its cursor in it too).

Write transactions take SQLite's write lock when they begin (``BEGIN IMMEDIATE``), so two writers
wait for each other instead of failing; reads never wait.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Row,
    case,
    create_engine,
    event,
    func,
    or_,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool

from nuage.market.errors import OrderRefused, UnknownOrder
from nuage.market.tables import (
    META,
    METADATA,
    ORDERS,
    UNPUBLISH_CLOCKS,
    clamp,
    price_key,
    tag_parts,
)
from nuage.market.wire import OrderKind, Status, kind_of, order_from_json, order_to_json
from nuage.protocol.orders import (
    ZERO_ADDRESS,
    AppOrder,
    DatasetOrder,
    Order,
    RequestOrder,
    WorkerpoolOrder,
)

__all__ = ["BookOrder", "Filters", "OrderBook", "Page", "Status", "make_engine", "order_price"]


_GONE_ON_CHAIN = (Status.FILLED, Status.CANCELLED)


@dataclass(frozen=True)
class BookOrder:
    """An order as the book holds it."""

    hash: bytes
    kind: OrderKind
    status: Status
    owner: str
    document: dict[str, Any]  # the order in wire format, with its signature
    volume: int
    consumed: int
    published_at: float
    updated_at: float

    @cached_property
    def order(self) -> Order:
        return order_from_json(self.kind, self.document)

    @property
    def remaining(self) -> int:
        return max(0, self.volume - self.consumed)

    @property
    def price(self) -> int:
        return order_price(self.kind, self.document)


@dataclass(frozen=True)
class Filters:
    """What `OrderBook.query` selects; None (or 0 for `tag`) selects anything.

    `app`, `dataset`, `workerpool` and `requester` select orders that name that address
    (their own asset, a request's app, dataset or requester) or whose restriction lets it
    through (zero address or that address; a request's workerpool likewise).
    """

    app: str | None = None
    dataset: str | None = None
    workerpool: str | None = None
    requester: str | None = None
    owner: str | None = None
    category: int | None = None
    min_trust: int | None = None
    tag: int = 0  # every bit asked must be in the order's tag
    min_volume: int | None = None  # remaining volume at least this


@dataclass(frozen=True)
class Page:
    """One page of a query, and how many orders the whole query selects."""

    total: int
    limit: int
    offset: int
    orders: list[BookOrder]


# the columns an order of each kind names itself (equality); its other columns are restrictions
_NAMED: dict[OrderKind, frozenset[str]] = {
    "app": frozenset({"app"}),
    "dataset": frozenset({"dataset"}),
    "workerpool": frozenset({"workerpool"}),
    "request": frozenset({"app", "dataset", "requester"}),
}


def order_price(kind: OrderKind, document: dict[str, Any]) -> int:
    """An offer's price; a request's total maximum price."""
    if kind == "request":
        return sum(int(document[f"{k}maxprice"]) for k in ("app", "dataset", "workerpool"))
    return int(document[f"{kind}price"])


def make_engine(url: str) -> Engine:
    """An engine for the book's URL: SQLite (file created, WAL) or any other SQLAlchemy URL."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    database = parsed.database or ""
    in_memory = database in ("", ":memory:")
    if not in_memory:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"timeout": 30, "check_same_thread": False},
        poolclass=StaticPool if in_memory else None,
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy, not pysqlite, begins transactions
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        writing = connection.get_execution_options().get("nuage_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")

    return engine


class OrderBook:
    """The book in one SQL database."""

    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock

    def create_tables(self) -> None:
        METADATA.create_all(self.engine, checkfirst=True)

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """A write transaction: committed when the block ends, rolled back if it raises."""
        with self.engine.connect() as connection:
            connection.execution_options(nuage_write=True)
            with connection.begin():
                yield connection

    # -- what the database belongs to

    def bind_to(self, identity: dict[str, Any]) -> dict[str, Any] | None:
        """Records which chain and deployment this book follows; returns the one recorded before.

        The first call records `identity`; later calls return what was recorded, so a caller
        can refuse a database that follows another chain.
        """
        with self.writing() as connection:
            row = connection.execute(select(META.c.value).where(META.c.key == "deployment"))
            recorded = row.scalar_one_or_none()
            if recorded is not None:
                previous: dict[str, Any] = json.loads(recorded)
                return previous
            connection.execute(
                META.insert().values(key="deployment", value=json.dumps(identity, sort_keys=True))
            )
            return None

    # -- publishing

    def publish(self, order: Order, order_hash: bytes, owner: str, consumed: int) -> BookOrder:
        """Puts a checked order in the book; OrderRefused (409) if it is there already.

        An order that was in the book before and left it (unpublished, its asset's owner
        changed) comes back with its new consumed volume.
        """
        kind = kind_of(order)
        now = self.clock()
        document = order_to_json(order)
        values = _row_values(kind, order, document, owner, consumed) | {
            "status": Status.OPEN.value,
            "published_at": now,
            "updated_at": now,
        }
        key = _hex(order_hash)
        try:
            with self.writing() as connection:
                existing = connection.execute(
                    select(ORDERS.c.status).where(ORDERS.c.hash == key)
                ).scalar_one_or_none()
                if existing == Status.OPEN:
                    raise _duplicate(kind, key)
                if existing is None:
                    connection.execute(ORDERS.insert().values(hash=key, **values))
                else:
                    connection.execute(ORDERS.update().where(ORDERS.c.hash == key).values(values))
        except IntegrityError:  # published at the same time by another request
            raise _duplicate(kind, key) from None
        found = self.get(order_hash)
        assert found is not None
        return found

    # -- reading

    def get(self, order_hash: bytes) -> BookOrder | None:
        with self.engine.connect() as connection:
            return self._get(connection, order_hash)

    def query(
        self,
        kind: OrderKind,
        filters: Filters = Filters(),
        *,
        limit: int = 100,
        offset: int = 0,
        prefer_category: int | None = None,
    ) -> Page:
        """Open orders of `kind` that pass `filters`, cheapest first (a request: highest
        total first), then oldest; with `prefer_category`, orders of that category first."""
        conditions = [
            ORDERS.c.kind == kind,
            ORDERS.c.status == Status.OPEN.value,
            *_conditions(kind, filters),
        ]
        price = ORDERS.c.price.desc() if kind == "request" else ORDERS.c.price.asc()
        ordering = [price, ORDERS.c.published_at, ORDERS.c.id]
        if prefer_category is not None:
            ordering.insert(0, case((ORDERS.c.category == clamp(prefer_category), 0), else_=1))
        with self.engine.connect() as connection:
            total = connection.execute(
                select(func.count()).select_from(ORDERS).where(*conditions)
            ).scalar_one()
            rows = connection.execute(
                select(*_READ_COLUMNS)
                .where(*conditions)
                .order_by(*ordering)
                .limit(limit)
                .offset(offset)
            ).all()
        return Page(total=total, limit=limit, offset=offset, orders=[_book_order(r) for r in rows])

    # -- unpublishing

    def unpublish(self, order_hash: bytes, owner: str, timestamp: int) -> BookOrder:
        """Takes an open order of `owner` out of the book, once per message (see `_tick`)."""
        key = _hex(order_hash)
        with self.writing() as connection:
            found = self._get(connection, order_hash)
            if found is None:
                raise _unknown(key)
            if found.owner != owner:
                raise OrderRefused(
                    403,
                    "not_order_owner",
                    f"order {key} was published by {found.owner}, not {owner}: only its "
                    "owner may unpublish it",
                )
            if found.status != Status.OPEN:
                raise OrderRefused(
                    409, "not_in_book", f"order {key} is not in the book: it is {found.status}"
                )
            self._tick(connection, owner, timestamp)
            connection.execute(
                ORDERS.update()
                .where(ORDERS.c.hash == key)
                .values(status=Status.UNPUBLISHED.value, updated_at=self.clock())
            )
            changed = self._get(connection, order_hash)
        assert changed is not None
        return changed

    def unpublish_all(self, owner: str, timestamp: int) -> list[bytes]:
        """Takes every open order of `owner` out of the book; their hashes."""
        with self.writing() as connection:
            self._tick(connection, owner, timestamp)
            selected = (ORDERS.c.owner == owner) & (ORDERS.c.status == Status.OPEN.value)
            hashes = connection.execute(select(ORDERS.c.hash).where(selected)).scalars().all()
            connection.execute(
                ORDERS.update()
                .where(selected)
                .values(status=Status.UNPUBLISHED.value, updated_at=self.clock())
            )
        return [bytes.fromhex(h[2:]) for h in hashes]

    def _tick(self, connection: Connection, owner: str, timestamp: int) -> None:
        """Accepts an owner's message only if it is later than the last one accepted."""
        moved = connection.execute(
            UNPUBLISH_CLOCKS.update()
            .where(UNPUBLISH_CLOCKS.c.owner == owner, UNPUBLISH_CLOCKS.c.timestamp < timestamp)
            .values(timestamp=timestamp)
        )
        if moved.rowcount == 1:
            return
        last = connection.execute(
            select(UNPUBLISH_CLOCKS.c.timestamp).where(UNPUBLISH_CLOCKS.c.owner == owner)
        ).scalar_one_or_none()
        if last is None:
            connection.execute(UNPUBLISH_CLOCKS.insert().values(owner=owner, timestamp=timestamp))
            return
        raise OrderRefused(
            409,
            "replayed_message",
            f"{owner} already sent an unpublish message signed at {last} ms, not before "
            f"{timestamp}: sign a new message (its timestamp must grow)",
        )

    # -- what the chain changes (in the follower's transaction)

    def known(self, connection: Connection, hashes: Iterable[bytes]) -> list[BookOrder]:
        """The orders among `hashes` that were ever published here, whatever their status."""
        keys = [_hex(h) for h in hashes if any(h)]
        if not keys:
            return []
        rows = connection.execute(select(*_READ_COLUMNS).where(ORDERS.c.hash.in_(keys))).all()
        return [_book_order(r) for r in rows]

    def record_consumed(
        self, connection: Connection, order: BookOrder, consumed: int, gone: Status
    ) -> Status:
        """Stores what the chain says deals used of `order`; one with nothing left leaves the
        book as `gone` (FILLED or CANCELLED). Returns the order's status now."""
        status = order.status
        if order.volume - consumed <= 0 and status not in _GONE_ON_CHAIN:
            status = gone
        connection.execute(
            ORDERS.update()
            .where(ORDERS.c.hash == _hex(order.hash))
            .values(
                consumed=str(consumed),
                remaining=clamp(max(0, order.volume - consumed)),
                status=status.value,
                updated_at=self.clock(),
            )
        )
        return status

    def retire_old_owners(
        self, connection: Connection, kind: OrderKind, asset: str, owner: str
    ) -> list[bytes]:
        """Takes out of the book the open orders for `asset` not signed by `owner`, its owner
        now; their hashes."""
        selected = (
            (ORDERS.c.kind == kind)
            & (getattr(ORDERS.c, kind) == asset)
            & (ORDERS.c.status == Status.OPEN.value)
            & (ORDERS.c.owner != owner)
        )
        hashes = connection.execute(select(ORDERS.c.hash).where(selected)).scalars().all()
        if hashes:
            connection.execute(
                ORDERS.update()
                .where(selected)
                .values(status=Status.OWNER_CHANGED.value, updated_at=self.clock())
            )
        return [bytes.fromhex(h[2:]) for h in hashes]

    def _get(self, connection: Connection, order_hash: bytes) -> BookOrder | None:
        row = connection.execute(
            select(*_READ_COLUMNS).where(ORDERS.c.hash == _hex(order_hash))
        ).first()
        return None if row is None else _book_order(row)


_READ_COLUMNS = (
    ORDERS.c.hash,
    ORDERS.c.kind,
    ORDERS.c.status,
    ORDERS.c.owner,
    ORDERS.c.document,
    ORDERS.c.volume,
    ORDERS.c.consumed,
    ORDERS.c.published_at,
    ORDERS.c.updated_at,
)


def _book_order(row: Row[*tuple[Any, ...]]) -> BookOrder:
    return BookOrder(
        hash=bytes.fromhex(row.hash[2:]),
        kind=row.kind,
        status=Status(row.status),
        owner=row.owner,
        document=json.loads(row.document),
        volume=int(row.volume),
        consumed=int(row.consumed),
        published_at=float(row.published_at),
        updated_at=float(row.updated_at),
    )


def _row_values(
    kind: OrderKind, order: Order, document: dict[str, Any], owner: str, consumed: int
) -> dict[str, Any]:
    named = {"app": ZERO_ADDRESS, "dataset": ZERO_ADDRESS, "workerpool": ZERO_ADDRESS}
    if isinstance(order, AppOrder):
        named |= {
            "app": order.app,
            "dataset": order.datasetrestrict,
            "workerpool": order.workerpoolrestrict,
            "requester": order.requesterrestrict,
        }
    elif isinstance(order, DatasetOrder):
        named |= {
            "app": order.apprestrict,
            "dataset": order.dataset,
            "workerpool": order.workerpoolrestrict,
            "requester": order.requesterrestrict,
        }
    elif isinstance(order, WorkerpoolOrder):
        named |= {
            "app": order.apprestrict,
            "dataset": order.datasetrestrict,
            "workerpool": order.workerpool,
            "requester": order.requesterrestrict,
        }
    else:
        assert isinstance(order, RequestOrder)
        named |= {
            "app": order.app,
            "dataset": order.dataset,
            "workerpool": order.workerpool,
            "requester": order.requester,
        }
    tag0, tag1, tag2, tag3 = tag_parts(int(document["tag"], 16))
    volume = int(document["volume"])
    return named | {
        "kind": kind,
        "owner": owner,
        "category": clamp(document["category"]) if "category" in document else None,
        "trust": clamp(document["trust"]) if "trust" in document else None,
        "tag0": tag0,
        "tag1": tag1,
        "tag2": tag2,
        "tag3": tag3,
        "price": price_key(order_price(kind, document)),
        "volume": str(volume),
        "consumed": str(consumed),
        "remaining": clamp(max(0, volume - consumed)),
        "document": json.dumps(document),
    }


def _conditions(kind: OrderKind, filters: Filters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    for name in ("app", "dataset", "workerpool", "requester"):
        wanted = getattr(filters, name)
        if wanted is None:
            continue
        column = getattr(ORDERS.c, name)
        if name in _NAMED[kind]:
            conditions.append(column == wanted)
        else:
            conditions.append(or_(column == ZERO_ADDRESS, column == wanted))
    if filters.owner is not None:
        conditions.append(ORDERS.c.owner == filters.owner)
    if filters.category is not None:
        conditions.append(ORDERS.c.category == clamp(filters.category))
    if filters.min_trust is not None:
        conditions.append(ORDERS.c.trust >= clamp(filters.min_trust))
    if filters.min_volume is not None:
        conditions.append(ORDERS.c.remaining >= clamp(filters.min_volume))
    for index, part in enumerate(tag_parts(filters.tag)):
        if part:
            column = getattr(ORDERS.c, f"tag{index}")
            conditions.append(column.bitwise_and(part) == part)
    return conditions


def _hex(order_hash: bytes) -> str:
    return "0x" + order_hash.hex()


def _duplicate(kind: str, key: str) -> OrderRefused:
    return OrderRefused(409, "duplicate_order", f"this {kind} order ({key}) is in the book already")


def _unknown(key: str) -> OrderRefused:
    return UnknownOrder(f"no order {key} was ever published to this market")
