"""What the pages and the JSON API show, built once: the index joined with live sources.

Each function returns plain JSON-able dicts. Data from the index is always there; what comes
from the market or the chain now (prices, balances, scores) is None when that source is down,
and the page's banner says why. Lists are bounded (`LIMIT`): no page loops over the chain.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from eth_utils import to_checksum_address
from sqlalchemy import Engine, Integer, func, or_, select

from nuage.explorer.sources import ChainReads, LiveAccount, MarketReads, SourceDown
from nuage.explorer.tables import ASSETS, CONTRIBUTIONS, DEALS, TASKS

__all__ = [
    "LIMIT",
    "BadInput",
    "NotFound",
    "Queries",
    "avatar",
    "check_address",
    "check_id",
    "short",
]

LIMIT = 100
ORDER_KINDS = ("app", "dataset", "workerpool", "request")
STATUSES = ("UNSET", "ACTIVE", "REVEALING", "COMPLETED", "FAILED")
_ID = re.compile(r"^0x[0-9a-fA-F]{64}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


class BadInput(ValueError):
    """Malformed input (422)."""


class NotFound(LookupError):
    """Nothing known under that id (404)."""


def check_address(text: str) -> str:
    """`text` checksummed, or BadInput."""
    if not _ADDRESS.match(text):
        raise BadInput(f"{text!r} is not an address (0x and 40 hex digits)")
    return str(to_checksum_address(text))


def check_id(text: str, what: str = "task id") -> str:
    """A 32-byte id as 0x and lowercase hex, or BadInput."""
    if not _ID.match(text):
        raise BadInput(f"{text!r} is not a {what} (0x and 64 hex digits)")
    return text.lower()


def short(address: str | None) -> str:
    if not address:
        return "-"
    return f"{address[:6]}…{address[-4:]}"


def avatar(address: str, name: str) -> dict[str, str]:
    """An app's initials and the colour of their circle (from its address: stable, varied)."""
    words = [w for w in re.split(r"[-_\s.]+", name) if w]
    if len(words) >= 2:
        initials = words[0][0] + words[1][0]
    else:
        initials = (words[0][:2] if words else "?") or "?"
    hue = int(address[2:10], 16) % 360 if _ADDRESS.match(address) else 200
    return {"initials": initials.upper(), "color": f"hsl({hue} 55% 42%)"}


class Queries:
    """The explorer's reads."""

    def __init__(self, engine: Engine, market: MarketReads, chain: ChainReads) -> None:
        self.engine = engine
        self.market = market
        self.chain = chain

    # -- apps

    def apps(self, q: str | None = None) -> list[dict[str, Any]]:
        """Every app (newest first), its cheapest open order and its runs; `q` filters."""
        query = select(ASSETS).where(ASSETS.c.kind == "app").order_by(ASSETS.c.block.desc())
        if q:
            pattern = f"%{q.strip().lower()}%"
            query = query.where(
                or_(
                    func.lower(ASSETS.c.name).like(pattern),
                    func.lower(ASSETS.c.owner).like(pattern),
                    func.lower(ASSETS.c.address).like(pattern),
                    func.lower(func.coalesce(ASSETS.c.description, "")).like(pattern),
                )
            )
        with self.engine.connect() as connection:
            rows = connection.execute(query.limit(500)).all()
            runs: dict[str, int] = dict(
                connection.execute(
                    select(TASKS.c.app, func.count())
                    .where(TASKS.c.status == "COMPLETED")
                    .group_by(TASKS.c.app)
                ).all()
            )
        prices = self._cheapest_app_orders()
        return [
            _app(
                row._mapping, runs.get(row.address, 0), prices.get(row.address) if prices else None
            )
            for row in rows
        ]

    def app(self, address: str) -> dict[str, Any]:
        address = check_address(address)
        with self.engine.connect() as connection:
            row = connection.execute(
                select(ASSETS).where((ASSETS.c.address == address) & (ASSETS.c.kind == "app"))
            ).first()
            if row is None:
                raise NotFound(f"no app {address} is known on this chain")
            runs = connection.execute(
                select(func.count()).where(
                    (TASKS.c.app == address) & (TASKS.c.status == "COMPLETED")
                )
            ).scalar_one()
            tasks = connection.execute(
                select(TASKS)
                .where(TASKS.c.app == address)
                .order_by(TASKS.c.block.desc(), TASKS.c.idx.desc())
                .limit(20)
            ).all()
        orders: list[dict[str, Any]] | None
        try:
            _, orders = self.market.orders("app", limit=20, asset=address)
        except SourceDown:
            orders = None
        price = min((int(o["price"]) for o in orders), default=None) if orders else None
        result = _app(row._mapping, int(runs), price)
        result["orders"] = orders
        result["tasks"] = [_task(t._mapping) for t in tasks]
        return result

    def _cheapest_app_orders(self) -> dict[str, int] | None:
        try:
            _, orders = self.market.orders("app", limit=500)
        except SourceDown:
            return None
        cheapest: dict[str, int] = {}
        for order in orders:
            app = str(order["order"].get("app", ""))
            price = int(order["price"])
            if app not in cheapest or price < cheapest[app]:
                cheapest[app] = price
        return cheapest

    # -- orders

    def orders(self, kind: str) -> dict[str, Any]:
        if kind not in ORDER_KINDS:
            raise BadInput(f"{kind!r} is not an order kind ({', '.join(ORDER_KINDS)})")
        total, orders = self.market.orders(kind, limit=LIMIT)
        return {"kind": kind, "total": total, "orders": orders}

    def order_book(self) -> dict[str, dict[str, Any] | None]:
        book: dict[str, dict[str, Any] | None] = {}
        for kind in ORDER_KINDS:
            try:
                book[kind] = self.orders(kind)
            except SourceDown:
                book[kind] = None
        return book

    # -- deals and tasks

    def deals(self, limit: int = LIMIT) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(DEALS).order_by(DEALS.c.block.desc()).limit(limit)
            ).all()
            names = self._names(connection, {r.app for r in rows} | {r.workerpool for r in rows})
        return [_deal(r._mapping, names) for r in rows]

    def deal(self, deal_id: str) -> dict[str, Any]:
        deal_id = check_id(deal_id, "deal id")
        with self.engine.connect() as connection:
            row = connection.execute(select(DEALS).where(DEALS.c.deal_id == deal_id)).first()
            if row is None:
                raise NotFound(f"no deal {deal_id} is known on this chain")
            tasks = connection.execute(
                select(TASKS).where(TASKS.c.deal_id == deal_id).order_by(TASKS.c.idx).limit(500)
            ).all()
            names = self._names(connection, {row.app, row.workerpool})
        result = _deal(row._mapping, names)
        result["tasks"] = [_task(t._mapping) for t in tasks]
        return result

    def tasks(self, limit: int = LIMIT, status: str | None = None) -> list[dict[str, Any]]:
        query = select(TASKS).order_by(TASKS.c.block.desc(), TASKS.c.idx.desc()).limit(limit)
        if status:
            if status.upper() not in STATUSES:
                raise BadInput(f"{status!r} is not a task status ({', '.join(STATUSES)})")
            query = query.where(TASKS.c.status == status.upper())
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
            names = self._names(connection, {r.app for r in rows})
        return [_task(r._mapping, names) for r in rows]

    def task(self, task_id: str) -> dict[str, Any]:
        task_id = check_id(task_id)
        with self.engine.connect() as connection:
            row = connection.execute(select(TASKS).where(TASKS.c.task_id == task_id)).first()
            if row is None:
                raise NotFound(f"no task {task_id} is known on this chain")
            contributions = connection.execute(
                select(CONTRIBUTIONS)
                .where(CONTRIBUTIONS.c.task_id == task_id)
                .order_by(CONTRIBUTIONS.c.block, CONTRIBUTIONS.c.id)
            ).all()
            deal = connection.execute(select(DEALS).where(DEALS.c.deal_id == row.deal_id)).first()
            names = self._names(connection, {row.app, row.workerpool})
        result = _task(row._mapping, names)
        result["contributions"] = [_contribution(c._mapping) for c in contributions]
        result["params"] = deal.params if deal is not None else None
        result["trust"] = deal.trust if deal is not None else None
        return result

    # -- pools, workers, accounts

    def pools(self) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(ASSETS).where(ASSETS.c.kind == "workerpool").order_by(ASSETS.c.block)
            ).all()
            done: dict[str, int] = dict(
                connection.execute(
                    select(TASKS.c.workerpool, func.count())
                    .where(TASKS.c.status == "COMPLETED")
                    .group_by(TASKS.c.workerpool)
                ).all()
            )
        offers: dict[str, list[dict[str, Any]]] | None = defaultdict(list)
        try:
            _, orders = self.market.orders("workerpool", limit=500)
            for order in orders:
                offers[str(order["order"].get("workerpool", ""))].append(order)  # type: ignore[index]
        except SourceDown:
            offers = None
        pools = []
        for row in rows:
            mine = None if offers is None else offers.get(row.address, [])
            pools.append(
                {
                    "address": row.address,
                    "description": row.name,
                    "owner": row.owner,
                    "owner_short": short(row.owner),
                    "completed_tasks": int(done.get(row.address, 0)),
                    "open_orders": None if mine is None else len(mine),
                    "price": min((int(o["price"]) for o in mine), default=None) if mine else None,
                    "trust": max((int(o["order"]["trust"]) for o in mine), default=None)
                    if mine
                    else None,
                    "categories": sorted({int(o["order"]["category"]) for o in mine})
                    if mine
                    else [],
                }
            )
        return pools

    def workers(self) -> dict[str, Any]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(
                    CONTRIBUTIONS.c.worker,
                    func.count().label("contributions"),
                    func.sum((CONTRIBUTIONS.c.verdict == "accurate").cast(Integer)).label(
                        "accurate"
                    ),
                    func.sum((CONTRIBUTIONS.c.verdict == "faulty").cast(Integer)).label("faulty"),
                    func.sum((CONTRIBUTIONS.c.status == "FINALIZED").cast(Integer)).label("solo"),
                )
                .group_by(CONTRIBUTIONS.c.worker)
                .order_by(func.count().desc())
                .limit(LIMIT)
            ).all()
        live: dict[str, LiveAccount] | None
        try:
            live = self.chain.accounts(r.worker for r in rows)
        except SourceDown:
            live = None
        workers = []
        for r in rows:
            account = live.get(r.worker) if live is not None else None
            workers.append(
                {
                    "address": r.worker,
                    "address_short": short(r.worker),
                    "contributions": int(r.contributions),
                    "accurate": int(r.accurate or 0),
                    "faulty": int(r.faulty or 0),
                    "completed": int(r.accurate or 0) + int(r.solo or 0),
                    "score": account.score if account else None,
                    "stake": account.frozen if account else None,
                    "free": account.free if account else None,
                }
            )
        return {"workers": workers, "live": live is not None}

    def account(self, address: str) -> dict[str, Any]:
        address = check_address(address)
        live = self.chain.accounts([address])[address]
        return live.as_dict()

    # -- internals

    @staticmethod
    def _names(connection: Any, addresses: set[str]) -> dict[str, str]:
        if not addresses:
            return {}
        rows = connection.execute(
            select(ASSETS.c.address, ASSETS.c.name).where(ASSETS.c.address.in_(addresses))
        ).all()
        return {r.address: r.name for r in rows}


def _app(row: Any, runs: int, price: int | None) -> dict[str, Any]:
    address = str(row["address"])
    name = str(row["name"])
    return {
        "address": address,
        "name": name,
        "owner": row["owner"],
        "owner_short": short(row["owner"]),
        "description": row["description"],
        "checksum": row["checksum"],
        "multiaddr": row["multiaddr"],
        "created_at": row["created_at"],
        "block": row["block"],
        "price": price,
        "runs": runs,
        **avatar(address, name),
    }


def _deal(row: Any, names: dict[str, str]) -> dict[str, Any]:
    prices = [int(row[k]) for k in ("app_price", "dataset_price", "workerpool_price")]
    return {
        "deal_id": row["deal_id"],
        "app": row["app"],
        "app_name": names.get(row["app"]),
        "dataset": row["dataset"],
        "workerpool": row["workerpool"],
        "workerpool_name": names.get(row["workerpool"]),
        "requester": row["requester"],
        "requester_short": short(row["requester"]),
        "app_price": prices[0],
        "dataset_price": prices[1],
        "workerpool_price": prices[2],
        "task_price": sum(prices),
        "trust": int(row["trust"]),
        "category": row["category"],
        "volume": row["bot_size"],
        "bot_first": row["bot_first"],
        "params": row["params"],
        "block": row["block"],
        "created_at": row["created_at"],
        "transaction": row["transaction"],
        "orders": {
            kind: row[f"{kind}_order"] for kind in ("app", "dataset", "workerpool", "request")
        },
    }


def _task(row: Any, names: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "task_id": row["task_id"],
        "deal_id": row["deal_id"],
        "index": row["idx"],
        "app": row["app"],
        "app_name": (names or {}).get(row["app"]),
        "workerpool": row["workerpool"],
        "workerpool_name": (names or {}).get(row["workerpool"]),
        "requester": row["requester"],
        "status": row["status"],
        "consensus": row["consensus"],
        "result_digest": row["result_digest"],
        "results": row["results"],
        "block": row["block"],
        "updated_at": row["updated_at"],
    }


def _contribution(row: Any) -> dict[str, Any]:
    return {
        "worker": row["worker"],
        "worker_short": short(row["worker"]),
        "status": row["status"],
        "result_hash": row["result_hash"],
        "result_digest": row["result_digest"],
        "verdict": row["verdict"],
        "block": row["block"],
    }
