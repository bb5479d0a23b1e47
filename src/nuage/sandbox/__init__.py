"""Running an untrusted app in isolation: the sandbox boundary and its backends.

One small interface (`Runner`: ``available``, ``why_unavailable``, ``describe``, ``run``) with
several backends that pass the same conformance suite (``tests/sandbox``):

* `BubblewrapRunner` (the default): namespaces, an unprivileged uid, rlimits and, where the
  worker may create them, a cgroup per run. What is isolated, how, and the known limits are in
  its module's docstring.
* `ContainerRunner`: ``docker run`` or ``podman run`` with the same guarantees from the engine.

A run is described by a `RunSpec` (command, ``/app``, ``/iexec_in``, ``/iexec_out``, the iExec
environment, `Limits`) and ends as a `RunResult` whose ``failure`` says in words why it failed,
or is None. After a run, read the output through `safe_output_files` only: it never follows a
symlink the app may have planted.

Usage::

    runner = default_runner()  # raises SandboxError when no backend works here
    result = runner.run(
        RunSpec(
            command=["python3", "/app/main.py", "10"],
            app_dir=app,
            input_dir=inputs,
            output_dir=outputs,
            env={"IEXEC_TASK_ID": task_id, "IEXEC_IN": "/iexec_in", "IEXEC_OUT": "/iexec_out"},
            limits=Limits(wall_clock_s=300),
        )
    )
    if result.ok:
        files = safe_output_files(outputs)
"""

from nuage.sandbox.backends import all_runners, available_runners, default_runner
from nuage.sandbox.bubblewrap import BubblewrapRunner
from nuage.sandbox.container import ContainerRunner
from nuage.sandbox.output import check_output, safe_output_files
from nuage.sandbox.runner import (
    APP_MOUNT,
    INPUT_MOUNT,
    OUTPUT_MOUNT,
    Limits,
    Runner,
    RunResult,
    RunSpec,
)

__all__ = [
    "APP_MOUNT",
    "INPUT_MOUNT",
    "OUTPUT_MOUNT",
    "BubblewrapRunner",
    "ContainerRunner",
    "Limits",
    "RunResult",
    "RunSpec",
    "Runner",
    "all_runners",
    "available_runners",
    "check_output",
    "default_runner",
    "safe_output_files",
]
