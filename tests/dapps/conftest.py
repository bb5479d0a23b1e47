"""The example dapps, built and run as a worker would: bundle, unpack, sandbox, computed.json.

Each dapp is built once per test session. Packing numpy and matplotlib takes seconds, so:

* under pytest-xdist the bundles are built in the session's shared temporary directory, each
  by one process (a file lock per dapp) and reused by the others;
* as soon as a test needs a dapp, every dapp the session's tests need starts building in a
  background thread (zlib lets go of the GIL), so the slow bundles build side by side rather
  than one after the other, and each process takes whichever bundle no one is building yet.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
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
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="dapp-build")
        self._bundles: dict[str, Future[Path]] = {}
        self._built: dict[str, Built] = {}
        self._lock = threading.Lock()
        self._runs = 0

    def prefetch(self, names: Iterable[str]) -> None:
        """Starts building these dapps in the background."""
        for name in names:
            self._bundle(name)

    def built(self, name: str) -> Built:
        """The dapp, built (or waited for) and opened in this process's directory."""
        if name not in self._built:
            zip_path = self._bundle(name).result()
            app_dir = self.private / f"app-{name}"
            manifest = unpack(zip_path, app_dir)
            sha256 = hashlib.sha256(zip_path.read_bytes()).hexdigest()
            self._built[name] = Built(zip_path, sha256, app_dir, manifest)
        return self._built[name]

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def run(
        self,
        name: str,
        *args: str,
        inputs: dict[str, bytes] | None = None,
        dataset: tuple[str, bytes] | None = None,
        env: dict[str, str] | None = None,
    ) -> Outcome:
        """Runs the dapp as a worker does: input files (and the dataset, a file name and its
        content) in /iexec_in, named in the iExec variables."""
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
        if dataset is not None:
            filename, content = dataset
            (input_dir / filename).write_bytes(content)
            variables["IEXEC_DATASET_ADDRESS"] = "0x" + "22" * 20
            variables["IEXEC_DATASET_FILENAME"] = filename
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

    def _bundle(self, name: str) -> Future[Path]:
        with self._lock:
            if name not in self._bundles:
                self._bundles[name] = self._pool.submit(self._build, name)
            return self._bundles[name]

    def _build(self, name: str) -> Path:
        bundles = self.shared / "bundles"
        bundles.mkdir(exist_ok=True)
        target = bundles / f"{name}.zip"
        with open(bundles / f"{name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another test process may be building it now
            if not target.exists():  # `build` renames a complete zip into place
                build(DAPPS / name, target)
        return target


@pytest.fixture(scope="session")
def runner() -> Runner:
    try:
        return default_runner()
    except SandboxError as error:
        pytest.skip(f"no sandbox to run the dapps in: {error}")


@pytest.fixture(scope="session")
def dapps(
    runner: Runner, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Dapps]:
    private = tmp_path_factory.mktemp("dapps")
    os.chmod(private, 0o700)
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    harness = Dapps(runner, shared, private)
    harness.prefetch(needed_dapps(request.session.items))
    yield harness
    harness.close()


def needed_dapps(items: Iterable[pytest.Item]) -> list[str]:
    """The dapps of the selected tests that run one (tests/dapps/test_<name>.py)."""
    names = {
        item.path.stem.removeprefix("test_").replace("_", "-")
        for item in items
        if "dapps" in getattr(item, "fixturenames", ())
    }
    return sorted(name for name in names if (DAPPS / name / "nuage-app.toml").is_file())
