"""Runners to test and a job harness: an app, its input, its output, small limits.

Every runner is built once per session; a test asking for `runner` runs once per backend and
skips, with the runner's own reason, where that backend is unavailable.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psutil
import pytest

from nuage.sandbox import BubblewrapRunner, ContainerRunner, Limits, Runner, RunResult, RunSpec

#: Small bounds so that a misbehaving app costs a few seconds at most.
TEST_LIMITS = Limits(
    wall_clock_s=5,
    cpu_time_s=5,
    memory_bytes=256 * 1024 * 1024,
    max_processes=32,
    max_output_bytes=1024 * 1024,
    max_log_bytes=64 * 1024,
)


@pytest.fixture(scope="session")
def runners() -> dict[str, Runner]:
    """One runner of each backend for the session, so that each probes its machine once."""
    return {
        "bubblewrap": BubblewrapRunner(),
        "docker": ContainerRunner(engine="docker"),
        "podman": ContainerRunner(engine="podman"),
    }


@pytest.fixture(params=["bubblewrap", "docker", "podman"])
def runner(request: pytest.FixtureRequest, runners: dict[str, Runner]) -> Runner:
    """Each backend in turn; skipped with its reason where it cannot run here."""
    candidate = runners[request.param]
    if not candidate.available():
        pytest.skip(f"{candidate.name} unavailable: {candidate.why_unavailable()}")
    return candidate


@pytest.fixture
def bubblewrap(runners: dict[str, Runner]) -> BubblewrapRunner:
    candidate = runners["bubblewrap"]
    assert isinstance(candidate, BubblewrapRunner)
    if not candidate.available():
        pytest.skip(f"bubblewrap unavailable: {candidate.why_unavailable()}")
    return candidate


@dataclass
class Job:
    """One app with its directories under a test's tmp_path."""

    app_dir: Path
    input_dir: Path
    output_dir: Path

    def spec(
        self, source: str, *args: str, env: dict[str, str] | None = None, **limits: Any
    ) -> RunSpec:
        """A run of ``python3 /app/main.py *args`` where main.py is ``source``."""
        (self.app_dir / "main.py").write_text(textwrap.dedent(source))
        return RunSpec(
            command=["python3", "/app/main.py", *args],
            app_dir=self.app_dir,
            input_dir=self.input_dir,
            output_dir=self.output_dir,
            env=env if env is not None else {"IEXEC_TASK_ID": "0x01"},
            limits=replace(TEST_LIMITS, **limits),
        )

    def run(
        self,
        runner: Runner,
        source: str,
        *args: str,
        env: dict[str, str] | None = None,
        **limits: Any,
    ) -> RunResult:
        return runner.run(self.spec(source, *args, env=env, **limits))


@pytest.fixture
def job(tmp_path: Path) -> Job:
    directories = [tmp_path / name for name in ("app", "in", "out")]
    for directory in directories:
        directory.mkdir()
    return Job(*directories)


def processes_with(token: str) -> list[psutil.Process]:
    """Host processes whose command line mentions ``token``."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if any(token in part for part in cmdline):
            found.append(process)
    return found


@pytest.fixture
def token(request: pytest.FixtureRequest) -> Iterator[str]:
    """A unique word to find a test's processes by, checked gone (and killed) afterwards."""
    word = f"nuage-test-{request.node.name}-{id(request)}"
    yield word
    for process in processes_with(word):
        process.kill()
