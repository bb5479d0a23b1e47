"""The index's SQL tables (SQLAlchemy Core): what the chain's events said, ready to query.

Amounts are nRLC; ids and hashes are 0x-prefixed lowercase hex; addresses are checksummed.
Big numbers that pages only show (prices) are kept as decimal strings, so no 256-bit value
overflows a column.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, String, Table, Text

from nuage.chain.watcher import cursor_table

__all__ = ["ASSETS", "CONTRIBUTIONS", "CURSORS", "DEALS", "META", "METADATA", "TASKS"]

METADATA = MetaData()

CURSORS = cursor_table(METADATA, "explorer_cursors")

META = Table(
    "explorer_meta",
    METADATA,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

ASSETS = Table(
    "assets",
    METADATA,
    Column("address", String(42), primary_key=True),
    Column("kind", String(10), nullable=False),  # app, dataset, workerpool
    Column("owner", String(42), nullable=False),
    Column("name", Text, nullable=False),  # a workerpool's description
    Column("multiaddr", Text, nullable=False, default=""),
    Column("checksum", String(66), nullable=False, default=""),
    Column("description", Text, nullable=True),  # an app bundle's manifest says it
    Column("block", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=True),  # block timestamp
    Index("assets_kind", "kind", "block"),
)

DEALS = Table(
    "deals",
    METADATA,
    Column("deal_id", String(66), primary_key=True),
    Column("app", String(42), nullable=False, default=""),
    Column("app_owner", String(42), nullable=False, default=""),
    Column("app_price", String(80), nullable=False, default="0"),
    Column("dataset", String(42), nullable=False, default=""),
    Column("dataset_price", String(80), nullable=False, default="0"),
    Column("workerpool", String(42), nullable=False, default=""),
    Column("workerpool_owner", String(42), nullable=False, default=""),
    Column("workerpool_price", String(80), nullable=False, default="0"),
    Column("requester", String(42), nullable=False, default=""),
    Column("beneficiary", String(42), nullable=False, default=""),
    Column("callback", String(42), nullable=False, default=""),
    Column("trust", String(80), nullable=False, default="0"),
    Column("category", BigInteger, nullable=False, default=0),
    Column("tag", String(66), nullable=False, default=""),
    Column("bot_first", BigInteger, nullable=False, default=0),
    Column("bot_size", BigInteger, nullable=False, default=0),
    Column("params", Text, nullable=False, default=""),
    Column("app_order", String(66), nullable=True),
    Column("dataset_order", String(66), nullable=True),
    Column("workerpool_order", String(66), nullable=True),
    Column("request_order", String(66), nullable=True),
    Column("block", BigInteger, nullable=False, default=0),
    Column("created_at", BigInteger, nullable=True),
    Column("transaction", String(66), nullable=False, default=""),
    Index("deals_app", "app"),
    Index("deals_block", "block"),
)

TASKS = Table(
    "tasks",
    METADATA,
    Column("task_id", String(66), primary_key=True),
    Column("deal_id", String(66), nullable=False),
    Column("idx", BigInteger, nullable=False),
    Column("app", String(42), nullable=False),
    Column("workerpool", String(42), nullable=False),
    Column("requester", String(42), nullable=False),
    Column("status", String(10), nullable=False),  # the hub's status name
    Column("consensus", String(66), nullable=True),
    Column("result_digest", String(66), nullable=True),
    Column("results", String(66), nullable=True),  # the result's blob id in storage
    Column("block", BigInteger, nullable=False),  # of its last change
    Column("updated_at", BigInteger, nullable=True),
    Index("tasks_deal", "deal_id", "idx"),
    Index("tasks_app", "app", "status"),
    Index("tasks_block", "block"),
)

CONTRIBUTIONS = Table(
    "contributions",
    METADATA,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("task_id", String(66), nullable=False),
    Column("worker", String(42), nullable=False),
    Column("result_hash", String(66), nullable=True),
    Column("result_digest", String(66), nullable=True),  # once revealed
    Column("status", String(12), nullable=False),  # CONTRIBUTED, REVEALED, FINALIZED
    Column("verdict", String(10), nullable=True),  # accurate, faulty (at finalization)
    Column("block", BigInteger, nullable=False),
    Index("contributions_task", "task_id", "worker", unique=True),
    Index("contributions_worker", "worker"),
)
