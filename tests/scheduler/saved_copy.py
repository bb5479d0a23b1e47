"""What a store that is only ever given `take_changes()` holds, checked against the whole state.

The scheduler saves only the tasks and deals an event changed; a change the state forgets to
note would be lost at the next restart. `SavedCopy.check` after every event proves none is.
"""

from __future__ import annotations

from typing import Any

from nuage.scheduler.snapshot import dump_deal, dump_task
from nuage.scheduler.state import SchedulerState


class SavedCopy:
    def __init__(self) -> None:
        self.tasks: dict[bytes, dict[str, Any]] = {}
        self.deals: dict[bytes, dict[str, Any]] = {}

    def check(self, state: SchedulerState) -> None:
        changes = state.take_changes()
        for task_id in changes.forgotten_tasks:
            self.tasks.pop(task_id, None)
        for deal_id in changes.forgotten_deals:
            self.deals.pop(deal_id, None)
        self.tasks.update({t: dump_task(state.tasks[t]) for t in changes.tasks})
        self.deals.update({d: dump_deal(state.deals[d]) for d in changes.deals})
        whole = {t: dump_task(task) for t, task in state.tasks.items()}
        for task_id in whole.keys() | self.tasks.keys():
            assert self.tasks.get(task_id) == whole.get(task_id), (
                f"task {task_id.hex()} changed without take_changes() saying so"
            )
        assert self.deals == {d: dump_deal(record) for d, record in state.deals.items()}
