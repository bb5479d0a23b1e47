"""From how a run ended to the one sentence a person reads: the failure reason of a `RunResult`.

The runners gather the facts (`Ending`), `failure_reason` decides (pure code). When several
things went wrong, the cause is named before its symptoms: a wall-clock kill before the signal
that carried it, a memory kill before the exit status it left. `conclude` assembles the result,
looking at the output directory once the run is over.
"""

from __future__ import annotations

import signal as signals
from dataclasses import dataclass

from nuage.sandbox.output import check_output, inspect_output
from nuage.sandbox.runner import Limits, RunResult, RunSpec, format_bytes
from nuage.sandbox.supervisor import Supervision

__all__ = ["Ending", "conclude", "failure_reason", "looks_out_of_memory", "signal_name"]


@dataclass(frozen=True, kw_only=True)
class Ending:
    """The facts of how a run ended, as the runner observed them."""

    exit_code: int | None
    signal: int | None
    wall_clock_exceeded: bool = False
    cpu_time_exceeded: bool = False
    output_flooded: bool = False
    memory_exceeded: bool = False
    process_limit_hit: bool = False

    @property
    def exited_cleanly(self) -> bool:
        return self.exit_code == 0 and self.signal is None


def failure_reason(ending: Ending, limits: Limits, output_problem: str | None) -> str | None:
    """Why the run failed, or None when it succeeded; the cause comes before its symptoms."""
    if ending.wall_clock_exceeded:
        return f"wall-clock limit of {_seconds(limits.wall_clock_s)} exceeded"
    if ending.output_flooded:
        return f"output exceeds {format_bytes(limits.max_output_bytes)}"
    if ending.cpu_time_exceeded or ending.signal == signals.SIGXCPU:
        return f"CPU time limit of {_seconds(limits.cpu_time_s)} exceeded"
    if ending.memory_exceeded:
        return f"memory limit of {format_bytes(limits.memory_bytes)} exceeded"
    if output_problem is not None:
        return output_problem
    if ending.exited_cleanly:
        return None
    if ending.process_limit_hit:
        return f"process limit of {limits.max_processes} exceeded"
    if ending.signal == signals.SIGXFSZ:
        return f"file size limit of {format_bytes(limits.max_output_bytes)} exceeded"
    if ending.signal is not None:
        return f"killed by signal {ending.signal} ({signal_name(ending.signal)})"
    if ending.exit_code is None:
        return "the app did not run"
    return f"exit status {ending.exit_code}"


def conclude(
    runner: str, spec: RunSpec, supervision: Supervision, ending: Ending, cpu_s: float | None
) -> RunResult:
    """The result of a finished run: the failure reason, with the output checked, and the logs."""
    problem = check_output(spec.output_dir, spec.limits.max_output_bytes)
    return RunResult(
        runner=runner,
        failure=failure_reason(ending, spec.limits, problem),
        exit_code=supervision.exit_code,
        signal=supervision.signal,
        stdout=supervision.stdout.getvalue(),
        stderr=supervision.stderr.getvalue(),
        stdout_truncated=supervision.stdout.truncated,
        stderr_truncated=supervision.stderr.truncated,
        wall_s=supervision.wall_s,
        cpu_s=cpu_s,
        output_bytes=inspect_output(spec.output_dir).total_bytes,
    )


def looks_out_of_memory(stderr: bytes) -> bool:
    """Whether the app's stderr shows it died of an allocation failure (rlimit-only runs).

    Where no cgroup bounds memory, an address-space rlimit makes allocations fail instead of
    the kernel killing the app; Python then dies with ``MemoryError``, C programs with their
    allocator's message.
    """
    return any(
        marker in stderr
        for marker in (b"MemoryError", b"Cannot allocate memory", b"std::bad_alloc")
    )


def signal_name(number: int) -> str:
    """``SIGKILL`` for 9; ``signal 77`` for a number that names no signal."""
    try:
        return signals.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _seconds(value: float) -> str:
    return f"{value:g} s"
