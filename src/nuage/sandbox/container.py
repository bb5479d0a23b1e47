"""A runner on a container engine (Docker, or Podman with the same command line).

For workers that already run an engine, or apps that need an image's userland: ``docker run``
with no network, a read-only root, a size-bounded ``/tmp``, memory (swap included), process and
optional CPU limits from the engine's cgroup, every capability dropped, no_new_privs, an
unprivileged user, and ``/app`` and ``/iexec_in`` read-only, ``/iexec_out`` writable. The image
must already be on the machine (``--pull never``: a run never touches the network).

The image's own ``ENV`` would leak into the app, so the command runs behind ``env -i`` with the
run's variables only (the image must have ``env``, as every Debian- or Alpine-based one does).
The wall clock and the output size are watched from the host as for bubblewrap; on a breach,
and always at the end, the container is killed and removed by name.

@custom:security The isolation is the engine's: a rootful engine's daemon runs as root, and its
default seccomp profile and AppArmor/SELinux confinement apply. When the worker is root the app
runs as uid 65534 and the output directory is lent to it for the run; the inputs are made
readable by "others" (see ``ownership.py``). A rootless engine maps uids itself: pass ``user``
accordingly (Podman: the worker's own uid with ``--userns=keep-id``). Whether the process limit
was hit is not reported by the engine, nor the CPU time used.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import os
import shutil
import subprocess
import uuid
from pathlib import Path

from nuage.exceptions import SandboxError
from nuage.sandbox.outcome import Ending, conclude
from nuage.sandbox.ownership import lent_to
from nuage.sandbox.runner import (
    APP_MOUNT,
    INPUT_MOUNT,
    OUTPUT_MOUNT,
    RunResult,
    RunSpec,
    check_directories,
    sandbox_env,
)
from nuage.sandbox.supervisor import supervise

__all__ = ["DEFAULT_IMAGE", "ContainerRunner", "container_argv"]

DEFAULT_IMAGE = "python:3.11-slim"
#: The user apps run as when the worker is root (nobody).
NOBODY = 65534
CONTAINER_USER = f"{NOBODY}:{NOBODY}"
#: ``docker run`` exits with these when the engine, not the app, failed.
_ENGINE_FAILURE = 125
_ENGINE_TIMEOUT_S = 30


def container_argv(
    spec: RunSpec, *, engine: str, image: str, name: str, user: str, userns: str | None = None
) -> list[str]:
    """The whole ``docker run`` (or ``podman run``) command line for ``spec``."""
    limits = spec.limits
    cpu = max(1, math.ceil(limits.cpu_time_s))
    fsize = limits.max_output_bytes + 1
    argv = [engine, "run", "--name", name, "--pull", "never", "--network", "none"]
    argv += ["--read-only", "--tmpfs", f"/tmp:rw,nosuid,nodev,size={limits.memory_bytes}"]
    argv += ["--memory", str(limits.memory_bytes), "--memory-swap", str(limits.memory_bytes)]
    argv += ["--pids-limit", str(limits.max_processes)]
    argv += ["--ulimit", f"cpu={cpu}:{cpu + 1}", "--ulimit", f"fsize={fsize}:{fsize}"]
    argv += ["--ulimit", "core=0:0", "--cap-drop", "ALL"]
    argv += ["--security-opt", "no-new-privileges", "--user", user, "--hostname", "sandbox"]
    if userns is not None:
        argv += ["--userns", userns]
    if limits.cpus is not None:
        argv += ["--cpus", f"{limits.cpus:g}"]
    argv += ["--workdir", APP_MOUNT if spec.app_dir is not None else "/tmp"]
    if spec.app_dir is not None:
        argv += ["--mount", _bind(spec.app_dir, APP_MOUNT, readonly=True)]
    argv += ["--mount", _bind(spec.input_dir, INPUT_MOUNT, readonly=True)]
    argv += ["--mount", _bind(spec.output_dir, OUTPUT_MOUNT, readonly=False)]
    argv += [image, "env", "-i"]
    argv += [f"{key}={value}" for key, value in sorted(sandbox_env(spec).items())]
    return [*argv, "--", *spec.command]


class ContainerRunner:
    """Runs apps in a container of ``image`` with ``engine`` (``docker`` or ``podman``)."""

    def __init__(
        self,
        *,
        engine: str = "docker",
        image: str = DEFAULT_IMAGE,
        user: str | None = None,
        userns: str | None = None,
    ) -> None:
        self.engine = engine
        self.image = image
        self.user = user
        self.userns = userns
        self._probed: str | None = None

    @property
    def name(self) -> str:
        return self.engine

    def available(self) -> bool:
        return self.why_unavailable() == ""

    def why_unavailable(self) -> str:
        if self._probed is None:
            self._probed = self._probe()
        return self._probed

    def describe(self) -> str:
        reason = self.why_unavailable()
        if reason:
            return f"{self.engine}: unavailable ({reason})"
        return (
            f"{self.engine} ({self.image}): no network, read-only root, engine cgroup limits, "
            f"no capabilities, user {self._user()}"
        )

    def run(self, spec: RunSpec) -> RunResult:
        reason = self.why_unavailable()
        if reason:
            raise SandboxError(f"{self.engine} is unavailable: {reason}")
        check_directories(spec)
        name = f"nuage-sandbox-{uuid.uuid4().hex[:16]}"
        lending = (
            lent_to(
                NOBODY, NOBODY, readable=(spec.input_dir, spec.app_dir), writable=spec.output_dir
            )
            if os.geteuid() == 0 and self.user is None
            else contextlib.nullcontext()
        )
        argv = container_argv(
            spec,
            engine=self.engine,
            image=self.image,
            name=name,
            user=self._user(),
            userns=self.userns,
        )
        try:
            with lending:
                supervision = supervise(
                    argv,
                    limits=spec.limits,
                    output_dir=spec.output_dir,
                    env=os.environ,  # the engine client's settings (DOCKER_HOST…), not the app's
                    kill_tree=lambda: self._discard("kill", name),
                )
            oom = self._engine("inspect", "--format", "{{.State.OOMKilled}}", name) == "true"
        finally:
            self._discard("rm", "--force", name)
        stderr = supervision.stderr.getvalue()
        if supervision.exit_code == _ENGINE_FAILURE:
            line = (stderr.strip().splitlines() or [b""])[-1].decode(errors="replace")
            raise SandboxError(f"{self.engine} could not run the container: {line}")
        ending = Ending(
            exit_code=supervision.exit_code,
            signal=supervision.signal,
            wall_clock_exceeded=supervision.wall_clock_exceeded,
            output_flooded=supervision.output_flooded,
            memory_exceeded=oom,
        )
        return conclude(self.name, spec, supervision, ending, cpu_s=None)

    def _user(self) -> str:
        if self.user is not None:
            return self.user
        return CONTAINER_USER if os.geteuid() == 0 else f"{os.getuid()}:{os.getgid()}"

    def _probe(self) -> str:
        if shutil.which(self.engine) is None:
            return f"{self.engine} is not installed"
        info = self._call("info", "--format", "{{.ServerVersion}}")
        if info.returncode != 0:
            return f"`{self.engine} info` failed: {_first_line(info.stderr) or 'no engine answers'}"
        image = self._call("image", "inspect", "--format", "{{.Id}}", self.image)
        if image.returncode != 0:
            return f"the image {self.image} is not present (`{self.engine} pull {self.image}`)"
        return ""

    def _engine(self, *args: str) -> str:
        """Run an engine command for its output; errors are ignored (used to clean up)."""
        return self._call(*args).stdout.strip()

    def _discard(self, *args: str) -> None:
        self._call(*args)

    def _call(self, *args: str) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                [self.engine, *args],
                capture_output=True,
                text=True,
                timeout=_ENGINE_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            return subprocess.CompletedProcess([self.engine, *args], 1, "", str(error))


def _bind(source: Path, target: str, *, readonly: bool) -> str:
    """A ``--mount`` value, CSV-quoted so that commas or quotes in the path stay in the path."""
    fields = ["type=bind", f"source={source}", f"target={target}"]
    if readonly:
        fields.append("readonly")
    line = io.StringIO()
    csv.writer(line, lineterminator="").writerow(fields)
    return line.getvalue()


def _first_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[0].strip() if lines else ""
