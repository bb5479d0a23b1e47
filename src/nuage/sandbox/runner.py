"""The sandbox boundary: what to run (`RunSpec`), within which bounds (`Limits`), what came of it
(`RunResult`), and the `Runner` protocol every backend implements.

A runner takes an app, a read-only input directory and a writable output directory, and runs the
app's command with nothing else of the host visible, under the given limits. It never raises for
anything the app does: a crash, a limit hit or a forbidden output is a `RunResult` whose
``failure`` says why in words. It raises `SandboxError` only when the sandbox itself cannot be set
up (the runner is unavailable, a directory is missing).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from nuage.exceptions import SandboxError

__all__ = [
    "APP_MOUNT",
    "INPUT_MOUNT",
    "OUTPUT_MOUNT",
    "Limits",
    "RunResult",
    "RunSpec",
    "Runner",
    "check_directories",
    "format_bytes",
    "sandbox_env",
]

#: Where the app, its inputs and its outputs appear inside every sandbox (the iExec conventions).
APP_MOUNT = "/app"
INPUT_MOUNT = "/iexec_in"
OUTPUT_MOUNT = "/iexec_out"

#: The environment every sandbox starts from; the run's own variables are laid over it.
BASE_ENV: Mapping[str, str] = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/tmp",
    "LANG": "C.UTF-8",
}

_MIB = 1024 * 1024
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, kw_only=True)
class Limits:
    """The bounds one run must stay within; every field is a hard limit.

    ``wall_clock_s`` is the category's time reference; ``cpu_time_s`` counts every process of the
    app together where the runner can measure it (a cgroup), else each process alone.
    ``max_output_bytes`` bounds the total size of ``/iexec_out`` after the run (and any single
    file written anywhere); ``max_log_bytes`` bounds what is kept of stdout and of stderr.
    ``cpus`` throttles the app to that many cores where the runner can (None: no throttle).
    """

    wall_clock_s: float = 300.0
    cpu_time_s: float = 300.0
    memory_bytes: int = 512 * _MIB
    max_processes: int = 64
    max_output_bytes: int = 100 * _MIB
    max_log_bytes: int = 1 * _MIB
    cpus: float | None = None

    def __post_init__(self) -> None:
        for name in ("wall_clock_s", "cpu_time_s", "memory_bytes", "max_processes"):
            if getattr(self, name) <= 0:
                raise ValueError(f"limits: {name} must be positive")
        for name in ("max_output_bytes", "max_log_bytes"):
            if getattr(self, name) < 0:
                raise ValueError(f"limits: {name} must not be negative")
        if self.cpus is not None and self.cpus <= 0:
            raise ValueError("limits: cpus must be positive (or None for no throttle)")


@dataclass(frozen=True, kw_only=True)
class RunSpec:
    """One run of an app: its command, its directories, its environment and its limits.

    ``command`` is the argv inside the sandbox (``["python3", "/app/main.py", "10"]``); the
    program is looked up on the sandbox's PATH. ``env`` holds the iExec variables; the sandbox
    sees only these plus a minimal PATH, HOME and LANG, never the host's environment.
    """

    command: list[str]
    input_dir: Path
    output_dir: Path
    app_dir: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)

    def __post_init__(self) -> None:
        if not self.command or not self.command[0]:
            raise ValueError("run spec: the command is empty")
        if any("\0" in arg for arg in self.command):
            raise ValueError("run spec: a command argument contains a NUL byte")
        for name, value in self.env.items():
            if not _ENV_NAME.fullmatch(name):
                raise ValueError(f"run spec: {name!r} is not an environment variable name")
            if "\0" in value:
                raise ValueError(f"run spec: the value of {name} contains a NUL byte")


@dataclass(frozen=True, kw_only=True)
class RunResult:
    """What came of a run.

    ``failure`` is None when the app exited with status 0 within every limit and left an
    acceptable output; otherwise it is one sentence for a person ("memory limit of 256 MiB
    exceeded"). ``exit_code`` is the app's exit status, None when a signal ended it (then
    ``signal`` names it) or when it never started. ``stdout`` and ``stderr`` are bounded; when
    they were cut, the matching ``*_truncated`` flag is set and the bytes carry a marker.
    """

    runner: str
    failure: str | None
    exit_code: int | None
    signal: int | None
    stdout: bytes
    stderr: bytes
    stdout_truncated: bool
    stderr_truncated: bool
    wall_s: float
    cpu_s: float | None
    output_bytes: int

    @property
    def ok(self) -> bool:
        """True when the app succeeded: exit status 0, within its limits, a clean output."""
        return self.failure is None


@runtime_checkable
class Runner(Protocol):
    """A way to run an untrusted app in isolation; each backend implements this."""

    @property
    def name(self) -> str:
        """Short name of the backend (``"bubblewrap"``, ``"docker"``)."""
        ...

    def available(self) -> bool:
        """Whether this runner can run apps on this machine now."""
        ...

    def why_unavailable(self) -> str:
        """Why `available` is False, for a person; empty when it is available."""
        ...

    def describe(self) -> str:
        """One line saying which isolation and which limits are in force, for the logs."""
        ...

    def run(self, spec: RunSpec) -> RunResult:
        """Run ``spec`` to its end; raise `SandboxError` only if the sandbox cannot start."""
        ...


def sandbox_env(spec: RunSpec) -> dict[str, str]:
    """The whole environment of the sandboxed app: the minimal base, then the run's variables."""
    return {**BASE_ENV, **spec.env}


def check_directories(spec: RunSpec) -> None:
    """Raise `SandboxError` unless the run's directories exist (a runner would mount them)."""
    for label, path in (
        ("input", spec.input_dir),
        ("output", spec.output_dir),
        ("app", spec.app_dir),
    ):
        if path is not None and not path.is_dir():
            raise SandboxError(f"the {label} directory {path} does not exist")


def format_bytes(size: int) -> str:
    """A size for a person: ``"256 MiB"``, ``"1.5 KiB"``, ``"12 bytes"``."""
    for unit, scale in (("GiB", 1024**3), ("MiB", _MIB), ("KiB", 1024)):
        if size >= scale:
            value = size / scale
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size} byte" if size == 1 else f"{size} bytes"
