"""A workerpool's scheduler: a pure task state machine (`SchedulerState`) and its service.

`state` holds the rules (events in, actions out, no I/O); `events` and `actions` name what goes
in and out; `snapshot` saves a state as JSON. The HTTP service that runs it (`service`, `api`)
is imported on demand, so importing this package stays light.
"""

from nuage.scheduler.actions import (
    AbortReplicate,
    Action,
    AskReveal,
    AskUpload,
    AssignReplicate,
    FinalizeTask,
    FinalizeTasks,
    InitializeTasks,
    NoWork,
    ReleaseReplicate,
    Reopen,
)
from nuage.scheduler.events import Capabilities, Event
from nuage.scheduler.state import (
    InvalidState,
    ReplicateStatus,
    SchedulerConfig,
    SchedulerState,
    TaskPhase,
)

__all__ = [
    "AbortReplicate",
    "Action",
    "AskReveal",
    "AskUpload",
    "AssignReplicate",
    "Capabilities",
    "Event",
    "FinalizeTask",
    "FinalizeTasks",
    "InitializeTasks",
    "InvalidState",
    "NoWork",
    "ReleaseReplicate",
    "Reopen",
    "ReplicateStatus",
    "SchedulerConfig",
    "SchedulerState",
    "TaskPhase",
]
