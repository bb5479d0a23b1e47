"""A control group per run: a real bound on the memory, process count and CPU of a whole tree.

rlimits bound each process alone (a fork bomb multiplies them) and RLIMIT_NPROC does nothing for
root; a cgroup bounds the app's whole process tree together, counts its CPU time, and tells
after the fact whether the kernel killed it for memory (``oom_kill``) or refused it a fork
(``pids.events``). So where the worker may create cgroups (root, with a writable cgroupfs), every
run gets its own, named ``nuage-sandbox-<random>``, next to the worker's own cgroup:

* cgroup v1 (this project's CI machines): one directory per controller hierarchy (``pids``,
  ``memory``, and ``cpu`` / ``cpuacct`` when mounted) under the worker's own cgroup there; memory
  and memory+swap are both bounded so the app cannot swap its way past the limit.
* cgroup v2: one directory, under the nearest cgroup (the worker's own, then its ancestors)
  whose children get the ``pids`` and ``memory`` controllers; ``memory.swap.max`` is 0 and
  ``memory.oom.group`` makes an out-of-memory kill take the whole run down. A worker run by
  systemd should have ``Delegate=yes``.

Elsewhere (not root, a read-only cgroupfs inside a container) `find_cgroups` says why not and the
runner falls back to rlimits alone.

@custom:security The bwrap launcher is moved into the cgroup before it starts (see
``bubblewrap.py``), so every process of the run is born inside it; the app cannot leave it
because it has no write access to any cgroupfs (none is mounted in the sandbox, and it runs as
an unprivileged uid).
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from nuage.exceptions import SandboxError
from nuage.sandbox.runner import Limits

__all__ = [
    "CgroupSetup",
    "MountedCgroup",
    "RunCgroup",
    "find_cgroups",
    "parse_mountinfo",
    "parse_proc_cgroup",
]

REQUIRED = ("pids", "memory")
_CFS_PERIOD_US = 100_000
_PREFIX = "nuage-sandbox-"


@dataclass(frozen=True)
class MountedCgroup:
    """A cgroup filesystem as /proc/self/mountinfo shows it."""

    mount_point: Path
    root: str  # the cgroup path mounted there
    version: int  # 1 or 2
    controllers: frozenset[str]  # v1: the hierarchy's controllers (from the super options)


@dataclass(frozen=True)
class CgroupSetup:
    """Where this machine lets the worker create run cgroups, and with which controllers.

    v1: ``parents`` maps each controller to the directory new run cgroups go in (one directory
    per hierarchy; ``cpu`` and ``cpuacct`` may share one). v2: a single parent under the key
    ``""``, and ``controllers`` lists what its children get.
    """

    version: int
    parents: Mapping[str, Path]
    controllers: frozenset[str]

    def describe(self) -> str:
        names = ", ".join(sorted(self.controllers))
        return f"cgroup v{self.version} ({names})"


def parse_mountinfo(text: str) -> list[MountedCgroup]:
    """The cgroup mounts listed in a /proc/<pid>/mountinfo text."""
    mounts: list[MountedCgroup] = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        fields, tail = left.split(), right.split()
        if len(fields) < 5 or len(tail) < 3:
            continue
        fstype, super_options = tail[0], tail[2].split(",")
        mount_point = Path(_unescape(fields[4]))
        if fstype == "cgroup2":
            mounts.append(MountedCgroup(mount_point, _unescape(fields[3]), 2, frozenset()))
        elif fstype == "cgroup":
            controllers = frozenset(o for o in super_options if o not in ("rw", "ro"))
            mounts.append(MountedCgroup(mount_point, _unescape(fields[3]), 1, controllers))
    return mounts


def parse_proc_cgroup(text: str) -> dict[str, str]:
    """Controller → cgroup path from a /proc/<pid>/cgroup text; the v2 entry is under ``""``."""
    paths: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if not controllers:
            paths[""] = path
        for controller in controllers.split(","):
            if controller:
                paths[controller] = path
    return paths


def find_cgroups(proc: Path = Path("/proc/self")) -> tuple[CgroupSetup | None, str]:
    """The cgroup setup run cgroups can use here, or None and the reason there is none.

    Probes for real: creates and removes an empty cgroup in each parent it picks.
    """
    if os.geteuid() != 0:
        return None, "only root may create cgroups here (the worker is not root)"
    try:
        mounts = parse_mountinfo((proc / "mountinfo").read_text())
        own = parse_proc_cgroup((proc / "cgroup").read_text())
    except OSError as error:
        return None, f"cannot read this process's cgroups: {error}"
    reasons = []
    v1 = _v1_parents(mounts, own)
    if set(REQUIRED) <= v1.keys():
        problem = _probe(set(v1.values()))
        if problem is None:
            controllers = frozenset(v1) & {"pids", "memory", "cpu", "cpuacct"}
            return CgroupSetup(1, v1, controllers), ""
        reasons.append(f"cgroup v1: {problem}")
    for mount in mounts:
        if mount.version == 2 and "" in own:
            parent, problem = _v2_parent(mount, own[""])
            if parent is not None:
                controllers = _read_words(parent / "cgroup.subtree_control")
                return CgroupSetup(2, {"": parent}, controllers & {"pids", "memory", "cpu"}), ""
            reasons.append(f"cgroup v2: {problem}")
    if not reasons:
        reasons.append("no pids and memory controllers are mounted")
    return None, "; ".join(reasons)


class RunCgroup:
    """The cgroup(s) of one run: created with its limits, removed after."""

    def __init__(self, setup: CgroupSetup, directories: Mapping[str, Path]) -> None:
        self.setup = setup
        self._dirs = dict(directories)  # controller ("" for v2) → directory

    @classmethod
    def create(cls, setup: CgroupSetup, limits: Limits, extra_processes: int) -> RunCgroup:
        """Make the run's cgroup with ``limits``; ``extra_processes`` counts the launcher's own."""
        name = _PREFIX + uuid.uuid4().hex[:16]
        made: dict[str, Path] = {}
        try:
            for controller, parent in setup.parents.items():
                directory = parent / name
                if directory not in made.values():
                    directory.mkdir()
                made[controller] = directory
            group = cls(setup, made)
            group._apply(limits, extra_processes)
        except OSError as error:
            cls(setup, made).remove()
            raise SandboxError(f"cannot set up the run's cgroup: {error}") from error
        return group

    @property
    def procs_files(self) -> list[Path]:
        """The ``cgroup.procs`` files a pid is written to so that it joins the run's cgroup."""
        return [d / "cgroup.procs" for d in dict.fromkeys(self._dirs.values())]

    def add(self, pid: int) -> None:
        """Move process ``pid`` (and the children it will have) into the run's cgroup."""
        for procs in self.procs_files:
            procs.write_text(f"{pid}\n")

    def oom_killed(self) -> bool:
        """Whether the kernel killed a process of the run for exceeding its memory."""
        if self.setup.version == 2:
            events = _read_keyed(self._dirs[""] / "memory.events")
            return events.get("oom_kill", 0) > 0 or events.get("oom_group_kill", 0) > 0
        control = _read_keyed(self._dirs["memory"] / "memory.oom_control")
        if "oom_kill" in control:
            return control["oom_kill"] > 0
        return _read_int(self._dirs["memory"] / "memory.failcnt") > 0  # before Linux 4.13

    def pids_limit_hit(self) -> bool:
        """Whether a fork or clone of the run was refused for the process limit."""
        return _read_keyed(self._dir("pids") / "pids.events").get("max", 0) > 0

    def cpu_seconds(self) -> float | None:
        """CPU time used by every process of the run together, when the kernel counts it."""
        try:
            if self.setup.version == 2:
                usage = _read_keyed(self._dirs[""] / "cpu.stat")["usage_usec"]
                return usage / 1_000_000
            if "cpuacct" in self._dirs:
                return _read_int(self._dirs["cpuacct"] / "cpuacct.usage") / 1_000_000_000
        except (OSError, KeyError, ValueError):
            pass
        return None

    def kill_all(self) -> None:
        """SIGKILL every process still in the run's cgroup, until none is left."""
        kill_file = self._dirs.get("", Path("/nonexistent")) / "cgroup.kill"
        if kill_file.exists():
            with contextlib.suppress(OSError):
                kill_file.write_text("1\n")
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            pids = self._pids()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.01)

    def remove(self) -> None:
        """Remove the run's cgroup directories (waiting briefly for dying processes)."""
        for directory in dict.fromkeys(self._dirs.values()):
            deadline = time.monotonic() + 5.0
            while True:
                try:
                    directory.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError as error:
                    if error.errno != errno.EBUSY or time.monotonic() > deadline:
                        break
                    time.sleep(0.02)

    def _apply(self, limits: Limits, extra_processes: int) -> None:
        pids = limits.max_processes + extra_processes
        memory = limits.memory_bytes
        if self.setup.version == 2:
            directory = self._dirs[""]
            (directory / "pids.max").write_text(f"{pids}\n")
            (directory / "memory.max").write_text(f"{memory}\n")
            _write_if_present(directory / "memory.swap.max", "0\n")
            _write_if_present(directory / "memory.oom.group", "1\n")
            if limits.cpus is not None and "cpu" in self.setup.controllers:
                quota = max(1000, round(limits.cpus * _CFS_PERIOD_US))
                (directory / "cpu.max").write_text(f"{quota} {_CFS_PERIOD_US}\n")
            return
        (self._dirs["pids"] / "pids.max").write_text(f"{pids}\n")
        (self._dirs["memory"] / "memory.limit_in_bytes").write_text(f"{memory}\n")
        _write_if_present(self._dirs["memory"] / "memory.memsw.limit_in_bytes", f"{memory}\n")
        if limits.cpus is not None and "cpu" in self._dirs:
            quota = max(1000, round(limits.cpus * _CFS_PERIOD_US))
            (self._dirs["cpu"] / "cpu.cfs_period_us").write_text(f"{_CFS_PERIOD_US}\n")
            (self._dirs["cpu"] / "cpu.cfs_quota_us").write_text(f"{quota}\n")

    def _dir(self, controller: str) -> Path:
        return self._dirs[""] if self.setup.version == 2 else self._dirs[controller]

    def _pids(self) -> set[int]:
        pids: set[int] = set()
        for procs in self.procs_files:
            with contextlib.suppress(OSError):
                pids.update(int(word) for word in procs.read_text().split())
        return pids


def _v1_parents(mounts: Iterable[MountedCgroup], own: Mapping[str, str]) -> dict[str, Path]:
    """For each v1 controller we use, the directory holding this process's cgroup there."""
    parents: dict[str, Path] = {}
    for mount in mounts:
        if mount.version != 1:
            continue
        for controller in mount.controllers & {"pids", "memory", "cpu", "cpuacct"}:
            path = own.get(controller)
            relative = _relative(path, mount.root) if path is not None else None
            if relative is not None:
                parents[controller] = mount.mount_point / relative
    return parents


def _v2_parent(mount: MountedCgroup, own: str) -> tuple[Path | None, str]:
    """The nearest cgroup, from ours up to the root, whose children get pids and memory."""
    relative = _relative(own, mount.root)
    if relative is None:
        return None, f"this process's cgroup {own} is outside the mount"
    candidate = mount.mount_point / relative
    while True:
        if _offers(candidate) and _probe({candidate}) is None:
            return candidate, ""
        if candidate == mount.mount_point:
            return None, "no cgroup from ours to the root gives its children pids and memory"
        candidate = candidate.parent


def _offers(parent: Path) -> bool:
    """Whether children of ``parent`` get pids and memory, enabling them if we may."""
    if not set(REQUIRED) <= _read_words(parent / "cgroup.controllers"):
        return False
    if set(REQUIRED) <= _read_words(parent / "cgroup.subtree_control"):
        return True
    try:  # refused (EBUSY) when the cgroup holds processes itself, unless it is the root
        (parent / "cgroup.subtree_control").write_text("+pids +memory\n")
    except OSError:
        return False
    return set(REQUIRED) <= _read_words(parent / "cgroup.subtree_control")


def _probe(parents: set[Path]) -> str | None:
    """Create and remove an empty cgroup in each parent; the first error, if any."""
    for parent in parents:
        probe = parent / f"{_PREFIX}probe-{uuid.uuid4().hex[:8]}"
        try:
            probe.mkdir()
            probe.rmdir()
        except OSError as error:
            return f"cannot create a cgroup in {parent}: {error.strerror or error}"
    return None


def _relative(path: str, root: str) -> str | None:
    if root == "/":
        return path.lstrip("/")
    if path == root or path.startswith(root.rstrip("/") + "/"):
        return path[len(root) :].lstrip("/")
    return None


def _unescape(field: str) -> str:
    """mountinfo escapes spaces, tabs, newlines and backslashes as octal (``\\040``)."""
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def _read_words(path: Path) -> frozenset[str]:
    try:
        return frozenset(path.read_text().split())
    except OSError:
        return frozenset()


def _read_keyed(path: Path) -> dict[str, int]:
    """A flat-keyed cgroup file (``key value`` per line) as a dict; empty when unreadable."""
    values: dict[str, int] = {}
    try:
        text = path.read_text()
    except OSError:
        return values
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        with contextlib.suppress(ValueError):
            values[key] = int(value)
    return values


def _read_int(path: Path) -> int:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return 0


def _write_if_present(path: Path, value: str) -> None:
    if path.exists():
        path.write_text(value)
