"""Background processes that outlive the command that started them (the devnet's).

Each runs in its own session (so a terminal's Ctrl-C does not reach it, and
stopping it stops its whole process group), with its output appended to a log
file. A process is known by its pid and the start time the kernel recorded,
so a recycled pid is never mistaken for it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil

from nuage.exceptions import ConfigError

__all__ = ["Daemon", "spawn", "wait_until_healthy"]


@dataclass(frozen=True)
class Daemon:
    """A background process started by nuage."""

    name: str
    pid: int
    started: float  # the kernel's create time, to tell a recycled pid apart
    log: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "pid": self.pid, "started": self.started, "log": self.log}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Daemon:
        return cls(
            name=str(raw["name"]),
            pid=int(raw["pid"]),
            started=float(raw["started"]),
            log=str(raw["log"]),
        )

    def running(self) -> bool:
        try:
            process = psutil.Process(self.pid)
            return (
                abs(process.create_time() - self.started) < 0.5
                and process.status() != psutil.STATUS_ZOMBIE
            )
        except psutil.Error:
            return False

    def exit_reason(self) -> str | None:
        """None while it runs; otherwise the end of its log, to say why it stopped."""
        if self.running():
            return None
        tail = _tail(Path(self.log))
        return tail or f"{self.name} exited without a message (log: {self.log})"

    def stop(self, timeout: float = 5.0) -> bool:
        """Stops the process and its group: SIGTERM, then SIGKILL. True if it was running."""
        if not self.running():
            _reap(self.pid)
            return False
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, timeout)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, sig)
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                _reap(self.pid)
                if not self.running():
                    return True
                time.sleep(0.05)
        return not self.running()


def spawn(name: str, command: list[str], log: Path, env: dict[str, str] | None = None) -> Daemon:
    """Starts `command` in the background, in a new session, its output appended to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        pid = os.posix_spawnp(
            command[0],
            command,
            env if env is not None else dict(os.environ),
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_DUP2, fd, 1),
                (os.POSIX_SPAWN_DUP2, fd, 2),
            ],
            setsid=True,
        )
    finally:
        os.close(fd)
    try:
        started = psutil.Process(pid).create_time()
    except psutil.Error:
        started = time.time()
    return Daemon(name=name, pid=pid, started=started, log=str(log))


def wait_until_healthy(daemon: Daemon, port: int, path: str, timeout: float = 30.0) -> None:
    """Waits until `daemon` itself listens on 127.0.0.1:`port` and `path` answers 200.

    Checking who listens matters: another process on the port would answer the health check
    while ours failed to bind. Raises ConfigError with why `daemon` did not start.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reason = daemon.exit_reason()
        if reason is not None:
            raise ConfigError(f"{daemon.name} exited at start: {reason}")
        try:
            if (
                _listens(daemon.pid, port)
                and httpx.get(f"http://127.0.0.1:{port}{path}", timeout=1).status_code == 200
            ):
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise ConfigError(
        f"{daemon.name} did not answer on port {port} within {timeout:.0f} s (log: {daemon.log})"
    )


def _listens(pid: int, port: int) -> bool:
    try:
        sockets = psutil.Process(pid).net_connections(kind="tcp")
    except psutil.Error:
        return False
    return any(s.status == psutil.CONN_LISTEN and s.laddr.port == port for s in sockets)


def _reap(pid: int) -> None:
    """Collects the exit status of our own child, so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return " | ".join(line for line in text.strip().splitlines()[-lines:] if line.strip())
