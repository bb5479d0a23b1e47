"""The scheduler's database: a state saved change by change loads back whole."""

from __future__ import annotations

import json

from sqlalchemy import insert

from nuage.scheduler.events import RevealSeen
from nuage.scheduler.snapshot import dump_deal, dump_meta, dump_state, dump_task, load_state
from nuage.scheduler.state import SchedulerState
from nuage.scheduler.store import SchedulerStore, StateChanges, open_engine
from tests.scheduler.test_state import CONFIG, RESULT, Pool, _to_consensus


def _save(store: SchedulerStore, state: SchedulerState) -> int:
    changes = state.take_changes()
    store.save_changes(
        StateChanges(
            meta=dump_meta(state),
            tasks={t.hex(): dump_task(state.tasks[t]) for t in changes.tasks},
            deals={d.hex(): dump_deal(state.deals[d]) for d in changes.deals},
            forgotten_tasks=[t.hex() for t in changes.forgotten_tasks],
            forgotten_deals=[d.hex() for d in changes.forgotten_deals],
        )
    )
    return len(changes.tasks)


def _store(tmp_path) -> SchedulerStore:
    return SchedulerStore(open_engine(f"sqlite:///{tmp_path / 'scheduler.db'}"))


def _sorted(document: dict) -> dict:
    return {
        **document,
        "tasks": sorted(document["tasks"], key=lambda t: t["task_id"]),
        "deals": sorted(document["deals"], key=lambda d: d["deal_id"]),
    }


def test_saving_only_the_changes_keeps_the_whole_state(tmp_path):
    store = _store(tmp_path)
    pool = Pool()
    pool.saved.check = lambda state: None  # type: ignore[method-assign]  # changes taken here
    winners = _to_consensus(pool)  # a deal of 2 tasks, 7 contributions to the first
    assert _save(store, pool.state) == 2
    pool.consensus()
    assert _save(store, pool.state) == 1  # only the task that reached consensus
    pool.feed(RevealSeen(task_id=pool.task(), worker=winners[0], digest=RESULT, now=pool.now))
    _save(store, pool.state)
    saved = store.load_state()
    assert saved is not None
    assert _sorted(saved) == _sorted(json.loads(json.dumps(dump_state(pool.state))))
    restored = load_state(saved, CONFIG)
    restored.validate()
    assert restored.tasks[pool.task()].uploader == winners[0]


def test_a_state_saved_whole_by_the_first_version_still_loads(tmp_path):
    store = _store(tmp_path)
    pool = Pool()
    _to_consensus(pool)
    whole = json.loads(json.dumps(dump_state(pool.state)))
    with store.engine.begin() as connection:
        connection.execute(
            insert(store.states).values(name=store.name, snapshot=json.dumps(whole), saved_at=0.0)
        )
    assert store.load_state() == whole
    store.save_state(whole)  # what the service's first save does with such a state
    assert _sorted(store.load_state()) == _sorted(whole)
