"""failure_reason: one sentence per way a run can end, the cause before its symptoms."""

import signal

import pytest

from nuage.sandbox import Limits
from nuage.sandbox.outcome import Ending, failure_reason, looks_out_of_memory, signal_name

LIMITS = Limits(
    wall_clock_s=5,
    cpu_time_s=2.5,
    memory_bytes=256 * 1024 * 1024,
    max_processes=32,
    max_output_bytes=10 * 1024 * 1024,
)
KILLED = {"exit_code": None, "signal": signal.SIGKILL}


@pytest.mark.parametrize(
    ("ending", "problem", "reason"),
    [
        (Ending(exit_code=0, signal=None), None, None),
        (Ending(exit_code=3, signal=None), None, "exit status 3"),
        (Ending(**KILLED), None, "killed by signal 9 (SIGKILL)"),
        (Ending(exit_code=None, signal=77), None, "killed by signal 77 (signal 77)"),
        (Ending(exit_code=None, signal=None), None, "the app did not run"),
        (
            Ending(**KILLED, wall_clock_exceeded=True, memory_exceeded=True),
            "output exceeds 10 MiB",
            "wall-clock limit of 5 s exceeded",
        ),
        (Ending(**KILLED, output_flooded=True), None, "output exceeds 10 MiB"),
        (Ending(**KILLED, cpu_time_exceeded=True), None, "CPU time limit of 2.5 s exceeded"),
        (
            Ending(exit_code=None, signal=signal.SIGXCPU),
            None,
            "CPU time limit of 2.5 s exceeded",
        ),
        (Ending(**KILLED, memory_exceeded=True), None, "memory limit of 256 MiB exceeded"),
        (Ending(exit_code=0, signal=None), "output exceeds 10 MiB", "output exceeds 10 MiB"),
        (Ending(exit_code=1, signal=None), "output exceeds 10 MiB", "output exceeds 10 MiB"),
        (
            Ending(exit_code=1, signal=None, process_limit_hit=True),
            None,
            "process limit of 32 exceeded",
        ),
        (Ending(exit_code=0, signal=None, process_limit_hit=True), None, None),
        (
            Ending(exit_code=None, signal=signal.SIGXFSZ),
            None,
            "file size limit of 10 MiB exceeded",
        ),
    ],
)
def test_failure_reason(ending, problem, reason):
    assert failure_reason(ending, LIMITS, problem) == reason


def test_allocation_failures_are_recognised_in_stderr():
    assert looks_out_of_memory(b'Traceback...\n  File "x"\nMemoryError\n')
    assert looks_out_of_memory(b"malloc: Cannot allocate memory")
    assert not looks_out_of_memory(b"ValueError: bad input")


def test_signal_names():
    assert signal_name(15) == "SIGTERM"
    assert signal_name(200) == "signal 200"
