"""supervise: the host-side loop, on plain processes (no sandbox)."""

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from nuage.exceptions import SandboxError
from nuage.sandbox import Limits
from nuage.sandbox.supervisor import split_wait_status, supervise

LIMITS = Limits(wall_clock_s=5, max_output_bytes=1000, max_log_bytes=100)


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_output_and_status_are_collected(tmp_path: Path):
    seen = supervise(
        python("import sys; print('out'); print('err', file=sys.stderr); sys.exit(4)"),
        limits=LIMITS,
        output_dir=tmp_path,
    )
    assert (seen.exit_code, seen.signal) == (4, None)
    assert seen.stdout.getvalue() == b"out\n" and seen.stderr.getvalue() == b"err\n"
    assert not (seen.wall_clock_exceeded or seen.output_flooded or seen.cpu_time_exceeded)
    assert seen.cpu_s is not None and seen.wall_s < 5


def test_the_environment_is_only_what_is_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NUAGE_SECRET", "s3cret")
    seen = supervise(
        python("import os; print(sorted(os.environ))"),
        limits=LIMITS,
        output_dir=tmp_path,
        env={"ONLY": "this"},
    )
    assert seen.stdout.getvalue() == b"['LC_CTYPE', 'ONLY']\n"  # Python adds LC_CTYPE itself


def test_the_wall_clock_kills_the_whole_process_group(tmp_path: Path):
    started = time.monotonic()
    seen = supervise(
        ["/bin/sh", "-c", "sleep 30 & sleep 30"],
        limits=Limits(wall_clock_s=0.5),
        output_dir=tmp_path,
    )
    assert seen.wall_clock_exceeded and seen.signal == signal.SIGKILL
    assert seen.wall_s >= 0.5 and time.monotonic() - started < 3  # pipes closed: child died too


def test_a_flooded_output_is_stopped(tmp_path: Path):
    seen = supervise(
        python(
            "import itertools\n"
            f"for i in itertools.count(): open('{tmp_path}/f%d' % i, 'wb').write(b'x' * 100)"
        ),
        limits=LIMITS,
        output_dir=tmp_path,
    )
    assert seen.output_flooded and seen.wall_s < 2


def test_cpu_time_beyond_the_limit_kills(tmp_path: Path):
    seen = supervise(
        ["sleep", "30"],
        limits=Limits(wall_clock_s=5, cpu_time_s=1),
        output_dir=tmp_path,
        cpu_probe=lambda: 2.0,
    )
    assert seen.cpu_time_exceeded and seen.wall_s < 2


def test_long_output_is_bounded(tmp_path: Path):
    seen = supervise(
        python("import sys; sys.stdout.write('a' * 10_000_000)"), limits=LIMITS, output_dir=tmp_path
    )
    assert seen.exit_code == 0
    assert seen.stdout.truncated and seen.stdout.total == 10_000_000
    assert len(seen.stdout.getvalue()) < 200


def test_a_held_process_starts_only_once_released(tmp_path: Path):
    held = []

    def hold(pid: int) -> None:
        held.append(pid)
        time.sleep(0.2)
        assert not (tmp_path / "started").exists()

    seen = supervise(
        ["touch", str(tmp_path / "started")], limits=LIMITS, output_dir=tmp_path, hold=hold
    )
    assert seen.exit_code == 0 and len(held) == 1 and (tmp_path / "started").exists()


def test_a_failed_hold_kills_the_process_and_raises(tmp_path: Path):
    def hold(pid: int) -> None:
        raise SandboxError("cannot place it")

    with pytest.raises(SandboxError, match="cannot place it"):
        supervise(
            ["touch", str(tmp_path / "started")], limits=LIMITS, output_dir=tmp_path, hold=hold
        )
    assert not (tmp_path / "started").exists()


def test_a_missing_launcher_is_a_sandbox_error(tmp_path: Path):
    with pytest.raises(SandboxError, match="cannot start /no/such/bwrap"):
        supervise(["/no/such/bwrap"], limits=LIMITS, output_dir=tmp_path)


@pytest.mark.parametrize(
    ("status", "high_codes_are_signals", "expected"),
    [
        (0, True, (0, None)),
        (3 << 8, True, (3, None)),
        (137 << 8, True, (None, 9)),
        (137 << 8, False, (137, None)),
        (128 << 8, True, (128, None)),
        (signal.SIGTERM, True, (None, signal.SIGTERM)),
    ],
)
def test_split_wait_status(status, high_codes_are_signals, expected):
    assert split_wait_status(status, high_codes_are_signals=high_codes_are_signals) == expected


def test_no_descriptor_is_leaked(tmp_path: Path):
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(5):
        supervise(["true"], limits=LIMITS, output_dir=tmp_path)
    assert len(os.listdir("/proc/self/fd")) == before
