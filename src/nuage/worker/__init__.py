"""A worker: pulls replicates from its pool's scheduler, runs them in the sandbox, contributes.

`state` is the pure replicate state machine (events in, actions out); `execution` the app
conventions (environment, computed.json, digests, error results, the result zip); `fetch` gets
and caches the app bundle, dataset and inputs. The agent shell (`agent`) is imported on demand,
so importing this package stays light.
"""

from nuage.worker.execution import ComputedResult, TaskContext, execute, zip_result
from nuage.worker.state import MODES, Assignment, ReplicateRecord, Stage, WorkerState

__all__ = [
    "MODES",
    "Assignment",
    "ComputedResult",
    "ReplicateRecord",
    "Stage",
    "TaskContext",
    "WorkerState",
    "execute",
    "zip_result",
]
