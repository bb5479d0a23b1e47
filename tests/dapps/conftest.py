"""The example dapps, built and run as a worker would: bundle, unpack, sandbox, computed.json.

Each dapp is built once per test session. Under pytest-xdist every worker process would build
it again (numpy and matplotlib vendored four times over), so the bundles are built in the
session's shared temporary directory, one process at a time per dapp, and reused by the others.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from nuage.apps import Manifest, build, unpack
from nuage.exceptions import SandboxError
from nuage.sandbox import (
    INPUT_MOUNT,
    OUTPUT_MOUNT,
    Limits,
    Runner,
    RunResult,
    RunSpec,
    default_runner,
    safe_output_files,
)

DAPPS = Path(__file__).resolve().parents[2] / "dapps"

#: What a worker would grant a task of a small category; the dapps need far less.
LIMITS = Limits(wall_clock_s=120, cpu_time_s=120, memory_bytes=1024 * 1024 * 1024)


@dataclass(frozen=True)
class Built:
    """A dapp's bundle, opened where the sandbox mounts it as /app."""

    path: Path  # the zip
    sha256: str
    app_dir: Path
    manifest: Manifest
    seconds: float  # how long `build` took (0 when another test process built it)


@dataclass(frozen=True)
class Outcome:
    """One run of a dapp: the sandbox's verdict and what the app left in /iexec_out."""

    result: RunResult
    output_dir: Path
    computed: dict[str, str]

    @property
    def output(self) -> Path:
        """The deterministic output computed.json names, as a path on the host."""
        path = self.computed["deterministic-output-path"]
        assert path.startswith(OUTPUT_MOUNT + "/"), path
        return self.output_dir / path.removeprefix(OUTPUT_MOUNT + "/")

    def files(self) -> dict[str, bytes]:
        """Every file of the output (computed.json included), by its path under /iexec_out."""
        return {
            path.relative_to(self.output_dir).as_posix(): path.read_bytes()
            for path in safe_output_files(self.output_dir)
        }

    def logs(self) -> str:
        return (self.result.stdout + self.result.stderr).decode(errors="replace")


class Dapps:
    """Builds (once) and runs the dapps of `dapps/` in the real sandbox."""

    def __init__(self, runner: Runner, shared: Path, private: Path) -> None:
        self.runner = runner
        self.shared = shared  # seen by every test process of the session
        self.private = private  # this process's own
        self._built: dict[str, Built] = {}
        self._runs = 0

    def built(self, name: str) -> Built:
        if name not in self._built:
            self._built[name] = self._build(name)
        return self._built[name]

    def run(
        self,
        name: str,
        *args: str,
        inputs: dict[str, bytes] | None = None,
        env: dict[str, str] | None = None,
    ) -> Outcome:
        """Runs the dapp as a worker does: inputs in /iexec_in, named in the iExec variables."""
        built = self.built(name)
        self._runs += 1
        work = self.private / f"run-{self._runs}"
        work.mkdir(mode=0o700)  # a private work dir keeps the inputs from the host's users
        input_dir, output_dir = work / "iexec_in", work / "iexec_out"
        input_dir.mkdir()
        output_dir.mkdir()
        variables = {
            "IEXEC_TASK_ID": "0x" + "11" * 32,
            "IEXEC_IN": INPUT_MOUNT,
            "IEXEC_OUT": OUTPUT_MOUNT,
            "IEXEC_INPUT_FILES_FOLDER": INPUT_MOUNT,
            "IEXEC_INPUT_FILES_NUMBER": str(len(inputs or {})),
            **built.manifest.environment(),
            **(env or {}),
        }
        for index, (filename, content) in enumerate((inputs or {}).items(), start=1):
            (input_dir / filename).write_bytes(content)
            variables[f"IEXEC_INPUT_FILE_NAME_{index}"] = filename
        result = self.runner.run(
            RunSpec(
                command=built.manifest.command(list(args)),
                app_dir=built.app_dir,
                input_dir=input_dir,
                output_dir=output_dir,
                env=variables,
                limits=LIMITS,
            )
        )
        computed_path = output_dir / "computed.json"
        assert computed_path.is_file(), f"{name} wrote no computed.json: {result}"
        return Outcome(result, output_dir, json.loads(computed_path.read_text()))

    def _build(self, name: str) -> Built:
        bundles = self.shared / "bundles"
        bundles.mkdir(exist_ok=True)
        target = bundles / f"{name}.zip"
        seconds = 0.0
        with open(bundles / f"{name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another test process may be building it now
            if not target.exists():
                started = time.perf_counter()
                build(DAPPS / name, target)
                seconds = time.perf_counter() - started
        app_dir = self.private / f"app-{name}"
        manifest = unpack(target, app_dir)
        sha256 = hashlib.sha256(target.read_bytes()).hexdigest()
        return Built(target, sha256, app_dir, manifest, seconds)


@pytest.fixture(scope="session")
def runner() -> Runner:
    try:
        return default_runner()
    except SandboxError as error:
        pytest.skip(f"no sandbox to run the dapps in: {error}")


@pytest.fixture(scope="session")
def dapps(runner: Runner, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dapps]:
    private = tmp_path_factory.mktemp("dapps")
    os.chmod(private, 0o700)
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    yield Dapps(runner, shared, private)
