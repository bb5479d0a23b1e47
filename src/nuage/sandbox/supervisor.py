"""Watching a sandboxed process from the host: one loop for its pipes, its clock and its output.

`supervise` starts the launcher command (bwrap, ``docker run``…), reads its stdout and stderr as
they come into bounded buffers, and kills it when the wall clock runs out, when ``/iexec_out``
grows past its limit, or when the run's total CPU time (where a cgroup counts it) passes its
limit. It is a single thread: a selector waits on both pipes and on a pidfd of the process, so
nothing blocks on a full pipe and no reader thread can outlive the run.

A launcher may ask to be held at a gate until it has been placed somewhere (a cgroup): it is
started behind ``/bin/sh -c 'read -r _; exec "$@"'``, `supervise` calls ``hold(pid)``, then
lets it go by writing one line on its stdin. The app itself gets /dev/null as stdin.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from nuage.exceptions import SandboxError
from nuage.sandbox.capture import BoundedCapture
from nuage.sandbox.output import output_size
from nuage.sandbox.runner import Limits

__all__ = ["Supervision", "split_wait_status", "supervise"]

#: How often the output size and the CPU time are looked at while the app runs.
CHECK_INTERVAL_S = 0.25
#: How long the pipes may stay open once the process tree is dead and gone.
DRAIN_GRACE_S = 2.0
_CHUNK = 65536
_GATE = ["/bin/sh", "-c", 'read -r _ || exit 125; exec "$@" </dev/null', "nuage-gate"]


@dataclass(frozen=True)
class Supervision:
    """How the launcher process ended and what it printed."""

    exit_code: int | None
    signal: int | None
    wall_s: float
    cpu_s: float | None  # from the kernel's rusage of the launcher and its reaped descendants
    stdout: BoundedCapture
    stderr: BoundedCapture
    wall_clock_exceeded: bool
    output_flooded: bool
    cpu_time_exceeded: bool


def split_wait_status(
    status: int, *, high_codes_are_signals: bool
) -> tuple[int | None, int | None]:
    """(exit code, signal) from a wait status; one of them is None.

    A launcher that is itself a process (bwrap, ``docker run``) reports the app's death by
    signal N as exit status 128 + N, as shells do; with ``high_codes_are_signals`` such codes
    are read back as the signal (an app exiting with 137 on purpose reads as SIGKILL).
    """
    if os.WIFSIGNALED(status):
        return None, os.WTERMSIG(status)
    code = os.WEXITSTATUS(status)
    if high_codes_are_signals and 128 < code < 128 + signal.NSIG:
        return None, code - 128
    return code, None


def supervise(
    argv: Sequence[str],
    *,
    limits: Limits,
    output_dir: Path,
    env: Mapping[str, str] | None = None,
    pass_fds: Sequence[int] = (),
    hold: Callable[[int], None] | None = None,
    cpu_probe: Callable[[], float | None] | None = None,
    kill_tree: Callable[[], None] | None = None,
    high_codes_are_signals: bool = True,
) -> Supervision:
    """Run ``argv`` to its end under ``limits``; kill it (and ``kill_tree``) when one is passed.

    ``hold(pid)`` runs while the process waits at the gate; if it raises, the process is killed
    and the error propagates. ``kill_tree`` is also called once the launcher has exited, so
    nothing of the run outlives it.
    """
    gated = hold is not None
    try:
        process = subprocess.Popen(
            [*_GATE, *argv] if gated else list(argv),
            stdin=subprocess.PIPE if gated else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env) if env is not None else {},
            pass_fds=tuple(pass_fds),
            start_new_session=True,
        )
    except OSError as error:
        raise SandboxError(f"cannot start {argv[0]}: {error}") from error
    assert process.stdout is not None and process.stderr is not None
    watch = _Watch(process, limits, output_dir, cpu_probe, kill_tree)
    try:
        if hold is not None:
            _release(process, hold)
        watch.run()
    finally:
        watch.finish()
    return watch.result(high_codes_are_signals)


def _release(process: subprocess.Popen[bytes], hold: Callable[[int], None]) -> None:
    assert process.stdin is not None
    try:
        hold(process.pid)
        process.stdin.write(b"go\n")
        process.stdin.flush()
    finally:
        with contextlib.suppress(OSError):
            process.stdin.close()


class _Watch:
    """The supervision loop's state: the pipes still open, the deadlines, what was seen."""

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        limits: Limits,
        output_dir: Path,
        cpu_probe: Callable[[], float | None] | None,
        kill_tree: Callable[[], None] | None,
    ) -> None:
        assert process.stdout is not None and process.stderr is not None
        self.process = process
        self.limits = limits
        self.output_dir = output_dir
        self.cpu_probe = cpu_probe
        self.kill_tree = kill_tree
        self.captures = {
            process.stdout.fileno(): BoundedCapture(limits.max_log_bytes),
            process.stderr.fileno(): BoundedCapture(limits.max_log_bytes),
        }
        self.open_fds = set(self.captures)
        for fd in self.open_fds:
            os.set_blocking(fd, False)
        self.started = time.monotonic()
        self.ended: float | None = None
        self.status: int | None = None
        self.cpu_s: float | None = None
        self.wall_clock_exceeded = self.output_flooded = self.cpu_time_exceeded = False
        self.killed = False

    def run(self) -> None:
        """Read, check and wait until the process has exited, killing it at the first breach."""
        selector = selectors.DefaultSelector()
        pidfd = _pidfd(self.process.pid)
        try:
            for fd in self.open_fds:
                selector.register(fd, selectors.EVENT_READ)
            if pidfd is not None:
                selector.register(pidfd, selectors.EVENT_READ)
            self.started = time.monotonic()
            deadline = self.started + self.limits.wall_clock_s
            next_check = self.started + CHECK_INTERVAL_S
            while self.status is None:
                now = time.monotonic()
                if now >= deadline and not self.killed:
                    self.wall_clock_exceeded = True
                    self.kill()
                if now >= next_check:
                    self.check_limits()
                    next_check = now + CHECK_INTERVAL_S
                if self.killed:
                    timeout = 0.05
                else:
                    timeout = max(0.0, min(next_check, deadline) - now)
                    if pidfd is None:
                        timeout = min(timeout, 0.05)
                for key, _ in selector.select(timeout):
                    if key.fd != pidfd:
                        self.read(key.fd, selector)
                self.reap()
        finally:
            selector.close()
            if pidfd is not None:
                os.close(pidfd)

    def check_limits(self) -> None:
        if self.killed:
            return
        limit = self.limits.max_output_bytes
        if output_size(self.output_dir, stop_above=limit) > limit:
            self.output_flooded = True
            self.kill()
            return
        if self.cpu_probe is not None:
            used = self.cpu_probe()
            if used is not None and used > self.limits.cpu_time_s:
                self.cpu_time_exceeded = True
                self.kill()

    def read(self, fd: int, selector: selectors.BaseSelector | None) -> bool:
        """Read what is there on ``fd``; False once it is at its end."""
        try:
            chunk = os.read(fd, _CHUNK)
        except BlockingIOError:
            return True
        if chunk:
            self.captures[fd].feed(chunk)
            return True
        self.open_fds.discard(fd)
        if selector is not None:
            selector.unregister(fd)
        return False

    def reap(self) -> None:
        pid, status, usage = os.wait4(self.process.pid, os.WNOHANG)
        if pid == 0:
            return
        self.ended = time.monotonic()
        self.status = status
        self.cpu_s = usage.ru_utime + usage.ru_stime
        self.process.returncode = os.waitstatus_to_exitcode(status)

    def kill(self) -> None:
        self.killed = True
        if self.kill_tree is not None:
            self.kill_tree()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def finish(self) -> None:
        """After the launcher ended (or the loop failed): kill what is left, drain, close."""
        if self.status is None:
            self.kill()
            _, status, usage = os.wait4(self.process.pid, 0)
            self.ended, self.status = time.monotonic(), status
            self.cpu_s = usage.ru_utime + usage.ru_stime
            self.process.returncode = os.waitstatus_to_exitcode(status)
        if self.kill_tree is not None:
            self.kill_tree()
        drain_until = time.monotonic() + DRAIN_GRACE_S
        with selectors.DefaultSelector() as selector:
            for fd in self.open_fds:
                selector.register(fd, selectors.EVENT_READ)
            while self.open_fds and time.monotonic() < drain_until:
                for key, _ in selector.select(max(0.0, drain_until - time.monotonic())):
                    self.read(key.fd, selector)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    def result(self, high_codes_are_signals: bool) -> Supervision:
        assert self.status is not None and self.ended is not None
        exit_code, signal_number = split_wait_status(
            self.status, high_codes_are_signals=high_codes_are_signals
        )
        stdout_fd, stderr_fd = self.captures
        return Supervision(
            exit_code=exit_code,
            signal=signal_number,
            wall_s=self.ended - self.started,
            cpu_s=self.cpu_s,
            stdout=self.captures[stdout_fd],
            stderr=self.captures[stderr_fd],
            wall_clock_exceeded=self.wall_clock_exceeded,
            output_flooded=self.output_flooded,
            cpu_time_exceeded=self.cpu_time_exceeded,
        )


def _pidfd(pid: int) -> int | None:
    """A pidfd for ``pid`` (readable once it exits), or None on kernels before 5.3."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None
