"""The indexer on hand-made events (no chain): each event's effect on the index, exactly once."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import pytest
from sqlalchemy import Engine, select

from nuage.chain.watcher import Cursor, Event, SqlCursorStore
from nuage.explorer.indexer import AssetFacts, Indexer, hex32
from nuage.explorer.tables import ASSETS, CONTRIBUTIONS, CURSORS, METADATA, TASKS
from nuage.market.book import make_engine
from nuage.protocol.deals import Deal
from nuage.protocol.ids import task_id
from nuage.protocol.orders import ZERO_ADDRESS

HUB = "0x00000000000000000000000000000000000000A1"
APP_REGISTRY = "0x00000000000000000000000000000000000000A2"
APP = "0x1111111111111111111111111111111111111111"
APP_OWNER = "0x2222222222222222222222222222222222222222"
BUYER = "0x3333333333333333333333333333333333333333"
POOL = "0x4444444444444444444444444444444444444444"
WORKER = "0x5555555555555555555555555555555555555555"
SABOTEUR = "0x6666666666666666666666666666666666666666"
DEAL_ID = bytes(range(32))


class FakeFacts:
    """What the chain would say besides events."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def asset(self, kind: str, address: str) -> AssetFacts:
        self.asked.append((kind, address))
        return AssetFacts(APP_OWNER, "factorial", "", "0x" + "ab" * 32, "n! for n")

    def block_time(self, block: int) -> int | None:
        return 1_700_000_000 + block

    def sender(self, transaction: str) -> str | None:
        return WORKER


@pytest.fixture
def engine() -> Engine:
    engine = make_engine("sqlite://")
    METADATA.create_all(engine)
    return engine


@pytest.fixture
def indexer(engine: Engine) -> Indexer:
    return Indexer(engine, FakeFacts(), {APP_REGISTRY: "app"}, SqlCursorStore(engine, CURSORS))


class Chain:
    """Events in chain order, one block each."""

    def __init__(self) -> None:
        self.block = 10

    def event(self, name: str, address: str = HUB, **args: Any) -> Event:
        self.block += 1
        return Event(address, name, args, self.block, "0x" + "00" * 32, "0x" + "ee" * 32, 0)


def _deal(trust: int = 3, size: int = 2) -> dict[str, Any]:
    deal = Deal(
        app=APP, app_owner=APP_OWNER, app_price=5, dataset=ZERO_ADDRESS,
        dataset_owner=ZERO_ADDRESS, dataset_price=0, workerpool=POOL, workerpool_owner=POOL,
        workerpool_price=7, trust=trust, category=0, time_ref=300, tag=b"\0" * 32,
        requester=BUYER, beneficiary=BUYER, callback=ZERO_ADDRESS, params_hash=b"\0" * 32,
        start_time=1, bot_first=0, bot_size=size, worker_stake=1, scheduler_reward_ratio=10,
    )  # fmt: skip
    return asdict(deal)


def _task(engine: Engine, index: int = 0) -> Any:
    with engine.connect() as connection:
        return connection.execute(
            select(TASKS).where(TASKS.c.task_id == hex32(task_id(DEAL_ID, index)))
        ).one()


def _contributions(engine: Engine) -> dict[str, tuple[str, str | None]]:
    with engine.connect() as connection:
        rows = connection.execute(select(CONTRIBUTIONS)).all()
    return {row.worker: (row.status, row.verdict) for row in rows}


def test_a_new_app_is_indexed_with_its_record(indexer: Indexer, engine: Engine) -> None:
    chain = Chain()
    token = int(APP, 16)
    indexer.apply(
        chain.event(
            "Transfer", APP_REGISTRY, sender=ZERO_ADDRESS, receiver=APP_OWNER, token_id=token
        )
    )

    with engine.connect() as connection:
        app = connection.execute(select(ASSETS)).one()
    assert (app.address, app.kind, app.name, app.owner) == (APP, "app", "factorial", APP_OWNER)
    assert app.description == "n! for n"


def test_an_app_changing_hands_keeps_its_record_with_the_new_owner(
    indexer: Indexer, engine: Engine
) -> None:
    chain = Chain()
    token = int(APP, 16)
    indexer.apply(
        chain.event(
            "Transfer", APP_REGISTRY, sender=ZERO_ADDRESS, receiver=APP_OWNER, token_id=token
        )
    )
    indexer.apply(
        chain.event("Transfer", APP_REGISTRY, sender=APP_OWNER, receiver=BUYER, token_id=token)
    )

    with engine.connect() as connection:
        app = connection.execute(select(ASSETS)).one()
    assert (app.name, app.owner) == ("factorial", BUYER)
    assert indexer.facts.asked == [("app", APP)]  # type: ignore[attr-defined]


def test_a_replicated_task_goes_through_its_lifecycle(indexer: Indexer, engine: Engine) -> None:
    chain = Chain()
    task = task_id(DEAL_ID, 0)
    changes = indexer.apply(chain.event("DealCreated", deal_id=DEAL_ID, deal=_deal(), params="{}"))
    assert [c.status for c in changes] == ["UNSET", "UNSET"]
    assert _task(engine).status == "UNSET"

    vote, lie, digest, results = b"\1" * 32, b"\2" * 32, b"\3" * 32, b"\4" * 32
    steps = [
        ("TaskInitialized", {"deal_id": DEAL_ID, "index": 0}, "ACTIVE"),
        ("TaskContributed", {"worker": WORKER, "result_hash": vote}, "ACTIVE"),
        ("TaskContributed", {"worker": SABOTEUR, "result_hash": lie}, "ACTIVE"),
        ("TaskConsensus", {"consensus_value": vote}, "REVEALING"),
        ("TaskRevealed", {"worker": WORKER, "result_digest": digest}, "REVEALING"),
        ("FaultyContribution", {"worker": SABOTEUR}, "REVEALING"),
        ("AccurateContribution", {"worker": WORKER}, "REVEALING"),
        ("TaskFinalized", {"results": results, "result_digest": digest}, "COMPLETED"),
    ]
    for name, args, status in steps:
        (change,) = indexer.apply(chain.event(name, task_id=task, **args))
        assert (change.task_id, change.status, change.event) == (hex32(task), status, name)

    row = _task(engine)
    assert (row.status, row.consensus, row.results) == (
        "COMPLETED",
        hex32(b"\1" * 32),
        hex32(b"\4" * 32),
    )
    assert _contributions(engine) == {
        WORKER: ("REVEALED", "accurate"),
        SABOTEUR: ("CONTRIBUTED", "faulty"),
    }
    assert _task(engine, 1).status == "UNSET"  # the deal's other task did not move


def test_a_trust_1_task_is_completed_by_the_worker_that_sent_it(
    indexer: Indexer, engine: Engine
) -> None:
    chain = Chain()
    task = task_id(DEAL_ID, 0)
    indexer.apply(
        chain.event("DealCreated", deal_id=DEAL_ID, deal=_deal(trust=1, size=1), params="{}")
    )
    indexer.apply(
        chain.event("TaskFinalized", task_id=task, results=b"\4" * 32, result_digest=b"\3" * 32)
    )

    assert _task(engine).status == "COMPLETED"
    assert _contributions(engine) == {WORKER: ("FINALIZED", None)}


def test_a_claimed_task_is_failed_and_a_reopened_one_active_again(
    indexer: Indexer, engine: Engine
) -> None:
    chain = Chain()
    first, second = task_id(DEAL_ID, 0), task_id(DEAL_ID, 1)
    indexer.apply(chain.event("DealCreated", deal_id=DEAL_ID, deal=_deal(), params="{}"))
    for task in (first, second):
        indexer.apply(chain.event("TaskInitialized", task_id=task, deal_id=DEAL_ID, index=0))
    indexer.apply(
        chain.event("TaskContributed", task_id=second, worker=WORKER, result_hash=b"\1" * 32)
    )
    indexer.apply(chain.event("TaskConsensus", task_id=second, consensus_value=b"\1" * 32))
    indexer.apply(chain.event("TaskClaimed", task_id=first))
    indexer.apply(chain.event("TaskReopened", task_id=second))

    assert _task(engine, 0).status == "FAILED"
    assert (_task(engine, 1).status, _task(engine, 1).consensus) == ("ACTIVE", None)
    assert _contributions(engine) == {WORKER: ("REOPENED", None)}


def test_each_event_saves_the_cursor_with_its_effects(indexer: Indexer, engine: Engine) -> None:
    chain = Chain()
    created = chain.event("DealCreated", deal_id=DEAL_ID, deal=_deal(), params="{}")
    indexer.apply(created)
    assert indexer.cursors.load(indexer.name) == Cursor(created.block_number, 0)

    unknown = chain.event("Deposit", account=BUYER, sender=BUYER, amount=1)
    assert indexer.apply(unknown) == []
    assert indexer.cursors.load(indexer.name) == Cursor(unknown.block_number, 0)


def test_an_event_about_a_task_of_no_known_deal_changes_nothing(
    indexer: Indexer, engine: Engine
) -> None:
    chain = Chain()
    assert indexer.apply(chain.event("TaskClaimed", task_id=b"\x09" * 32)) == []
    with engine.connect() as connection:
        assert connection.execute(select(TASKS)).all() == []
