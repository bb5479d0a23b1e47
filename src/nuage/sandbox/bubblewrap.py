"""The default runner: bubblewrap (``bwrap``) namespaces, an unprivileged uid, rlimits, a cgroup.

What the app gets:

* Its own pid, network, IPC, UTS and cgroup namespaces: it sees only its own processes, has no
  network interface but a loopback of its own, and cannot reach the host's abstract sockets.
* A root filesystem built from nothing: ``/usr`` (and the ``/bin``, ``/lib*`` links into it)
  read-only, a few ``/etc`` files a dynamically linked program needs, a synthetic
  ``/etc/passwd``, ``/etc/group`` and ``/etc/hosts``, a fresh ``/proc`` and minimal ``/dev``,
  size-bounded private tmpfs at ``/tmp`` and ``/dev/shm``, ``/app`` and ``/iexec_in``
  read-only and ``/iexec_out`` writable. The host's ``/root``, ``/home``, ``/work``, ``/var``,
  ``/run``, the worker's keystore and home are simply not there. The rest of the root is
  read-only.
* An environment of only the run's variables plus PATH, HOME and LANG (``--clearenv``).
* An unprivileged uid with no capabilities and no_new_privs, a session of its own (no
  TIOCSTI on the worker's terminal), death with the worker (``--die-with-parent``), and a
  seccomp filter refusing namespaces, the keyring, eBPF, io_uring, mounts and the like.
* rlimits on each process: CPU seconds, file size (``max_output_bytes`` + 1, so a single
  oversize file shows as an oversize output), no core dumps, process count, and address
  space when no cgroup bounds memory.
* Where the worker may create cgroups, one per run bounding memory (RAM + swap), processes and
  threads, optionally CPU cores, and counting the whole tree's CPU time (see ``cgroups.py``).
* The parent enforces the wall clock and the output size while the app runs; killing the
  launcher kills the pid namespace's init and so every process of the run.

Which uid: when the worker runs as root, bubblewrap runs privileged *without* a user namespace
and the app is switched (``setpriv``) to a fresh host uid per run, from ``RUN_UID_BASE`` up.
Mapping the app to uid 65534 in a user namespace, as bubblewrap does for ordinary users, would
leave it host uid 0 for the kernel: ``/proc/sys`` checks the plain uid, so the app could
rewrite global sysctls (``kernel.core_pattern`` is a root shell), and RLIMIT_NPROC never
applies to uid 0. A fresh uid makes RLIMIT_NPROC real and keeps concurrent runs from sharing
their process budget. The price: inputs and the app must be readable by "others" (the runner
grants it, see ``ownership.py``) and the output directory is lent to the run's uid and given
back after. When the worker is not root, bubblewrap makes a user namespace as usual; the app is
uid 65534 inside and the worker's uid outside, and may not create further user namespaces
(``--disable-userns``).

@custom:security Known limits: the kernel is shared; the seccomp filter (``seccomp.py``) is a
denylist of the riskiest calls, not an allowlist, so a bug in an allowed call is an escape.
``/usr`` of the host is readable (it holds no secrets, but shows what is installed). Timing and
CPU-cache side channels are not addressed. Without a cgroup, memory is bounded per process
(address space), so a tree of processes may use up to ``max_processes`` times the limit, and
fork bombs are stopped by RLIMIT_NPROC of the app's uid only. An app exiting with status
128 + N reads as killed by signal N.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import math
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from nuage.exceptions import SandboxError
from nuage.sandbox.cgroups import CgroupSetup, RunCgroup, find_cgroups
from nuage.sandbox.outcome import Ending, conclude, looks_out_of_memory
from nuage.sandbox.ownership import lent_to
from nuage.sandbox.runner import (
    APP_MOUNT,
    INPUT_MOUNT,
    OUTPUT_MOUNT,
    Limits,
    RunResult,
    RunSpec,
    check_directories,
    sandbox_env,
)
from nuage.sandbox.seccomp import denylist_filter
from nuage.sandbox.supervisor import Supervision, supervise

__all__ = ["BubblewrapRunner", "SandboxPlan", "bwrap_argv", "rlimit_args"]

#: Root workers run each app as a fresh uid in [RUN_UID_BASE, RUN_UID_BASE + RUN_UID_SPAN): above
#: the ranges distributions, systemd and container engines hand out, below 2^31.
RUN_UID_BASE = 0x7000_0000
RUN_UID_SPAN = 1 << 24
#: The uid (and gid) the app has inside a user namespace, when the worker is not root.
NOBODY = 65534
#: Processes of the run that are bubblewrap's own (its monitor and the namespace's init).
LAUNCHER_PROCESSES = 2
#: Top-level entries of the host that are links into /usr (merged /usr) or library directories.
ROOT_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
#: /etc entries a dynamically linked program may need; globs allowed; missing ones are skipped.
DEFAULT_ETC = (
    "alternatives",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "timezone",
    "nsswitch.conf",
    "mime.types",
    "protocols",
    "services",
    "os-release",
    "debian_version",
    "python3*",
)


@dataclass(frozen=True)
class SandboxPlan:
    """How this machine's sandboxes are built: the facts `bwrap_argv` needs besides the spec."""

    bwrap: str
    privileged: bool  # the worker is root: no user namespace, the app switched to ``uid``
    uid: int  # the app's uid: a fresh host uid (privileged) or NOBODY inside a user namespace
    root_entries: tuple[tuple[str, str | None], ...]  # (name, link target or None for a dir)
    etc_entries: tuple[str, ...]  # absolute host paths under /etc to bind read-only
    cgroup_memory: bool  # a cgroup bounds memory, so no address-space rlimit
    cgroup_pids: bool = False  # a cgroup bounds processes, RLIMIT_NPROC is only a backstop
    seccomp: bytes | None = None  # the seccomp filter program, None where there is none
    setpriv: str = "/usr/bin/setpriv"
    prlimit: str = "/usr/bin/prlimit"
    env: str = "/usr/bin/env"


def rlimit_args(limits: Limits, *, address_space: bool, cgroup_pids: bool) -> list[str]:
    """prlimit options for the app's process: soft:hard pairs, in bytes and seconds.

    With a cgroup bounding processes, RLIMIT_NPROC stays one above it as a backstop, so that
    the cgroup (which says when it refused a fork) is the one that refuses.
    """
    cpu = max(1, math.ceil(limits.cpu_time_s))
    fsize = limits.max_output_bytes + 1
    nproc = limits.max_processes + 1 if cgroup_pids else limits.max_processes
    args = [
        f"--cpu={cpu}:{cpu + 1}",
        f"--fsize={fsize}:{fsize}",
        f"--nproc={nproc}:{nproc}",
        "--core=0:0",
    ]
    if address_space:
        args.append(f"--as={limits.memory_bytes}:{limits.memory_bytes}")
    return args


def bwrap_argv(
    spec: RunSpec, plan: SandboxPlan, data_fds: dict[str, int], seccomp_fd: int | None = None
) -> list[str]:
    """The whole bwrap command line for ``spec``; ``data_fds`` maps /etc files to fds, and
    ``seccomp_fd`` holds the seccomp filter program when there is one."""
    limits = spec.limits
    argv = [plan.bwrap, "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
    argv += ["--unshare-cgroup-try", "--die-with-parent", "--new-session", "--clearenv"]
    if not plan.privileged:
        argv += ["--unshare-user", "--uid", str(NOBODY), "--gid", str(NOBODY)]
        argv += ["--disable-userns", "--cap-drop", "ALL"]
    argv += ["--hostname", "sandbox", "--ro-bind", "/usr", "/usr"]
    for name, target in plan.root_entries:
        if target is None:
            argv += ["--ro-bind", f"/{name}", f"/{name}"]
        else:
            argv += ["--symlink", target, f"/{name}"]
    argv += ["--dir", "/etc"]
    for path in plan.etc_entries:
        argv += ["--ro-bind", path, path]
    for destination, fd in sorted(data_fds.items()):
        argv += ["--ro-bind-data", str(fd), destination]
    argv += ["--proc", "/proc", "--dev", "/dev"]
    scratch = str(limits.memory_bytes)
    argv += ["--perms", "1777", "--size", scratch, "--tmpfs", "/tmp"]
    argv += ["--perms", "1777", "--size", scratch, "--tmpfs", "/dev/shm"]
    if spec.app_dir is not None:
        argv += ["--ro-bind", str(spec.app_dir), APP_MOUNT]
    argv += ["--ro-bind", str(spec.input_dir), INPUT_MOUNT]
    argv += ["--bind", str(spec.output_dir), OUTPUT_MOUNT]
    argv += ["--remount-ro", "/dev", "--remount-ro", "/"]
    argv += ["--chdir", APP_MOUNT if spec.app_dir is not None else "/tmp"]
    if seccomp_fd is not None:
        argv += ["--seccomp", str(seccomp_fd)]
    for name, value in sorted(sandbox_env(spec).items()):
        argv += ["--setenv", name, value]
    argv.append("--")
    if plan.privileged:
        argv += [plan.setpriv, f"--reuid={plan.uid}", f"--regid={plan.uid}", "--clear-groups"]
        argv += ["--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
    rlimits = rlimit_args(
        limits, address_space=not plan.cgroup_memory, cgroup_pids=plan.cgroup_pids
    )
    argv += [plan.prlimit, *rlimits, "--"]
    argv += [plan.env, "-u", "PWD", "--"]  # bwrap sets PWD after --clearenv; only the run's own
    return argv + list(spec.command)


def identity_files(uid: int) -> dict[str, bytes]:
    """The sandbox's /etc/passwd, /etc/group and /etc/hosts: nothing of the host's."""
    users = [("root", 0), ("nobody", NOBODY)] + ([("app", uid)] if uid != NOBODY else [])
    passwd = "".join(f"{name}:x:{n}:{n}:{name}:/tmp:/usr/sbin/nologin\n" for name, n in users)
    group = "".join(f"{name}:x:{n}:\n" for name, n in users)
    hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost\n"
    return {
        "/etc/passwd": passwd.encode(),
        "/etc/group": group.encode(),
        "/etc/hosts": hosts.encode(),
    }


class BubblewrapRunner:
    """Runs apps under bubblewrap; see the module docstring for what is isolated and how."""

    name = "bubblewrap"

    def __init__(
        self,
        *,
        bwrap: str | None = None,
        etc: Sequence[str] = DEFAULT_ETC,
        use_cgroups: bool = True,
        use_seccomp: bool = True,
    ) -> None:
        self._bwrap = bwrap
        self._etc = tuple(etc)
        self._use_cgroups = use_cgroups
        self._use_seccomp = use_seccomp
        self._found_cgroups: tuple[CgroupSetup | None, str] | None = None
        self._probed: tuple[SandboxPlan | None, str] | None = None

    def available(self) -> bool:
        return self._probe()[0] is not None

    def why_unavailable(self) -> str:
        return self._probe()[1]

    def describe(self) -> str:
        plan, reason = self._probe()
        if plan is None:
            return f"bubblewrap: unavailable ({reason})"
        who = (
            "a fresh host uid per run (privileged bubblewrap, no user namespace)"
            if plan.privileged
            else f"uid {NOBODY} in a user namespace"
        )
        cgroups = self._cgroups()
        bounds = (
            cgroups[0].describe()
            if cgroups[0] is not None
            else f"no cgroup ({cgroups[1]}): rlimits only"
        )
        filtered = "a seccomp denylist" if plan.seccomp is not None else "no seccomp filter"
        return (
            f"{self._version()}: pid, net, ipc, uts and cgroup namespaces; app as {who}; "
            f"{filtered}; {bounds}; rlimits on CPU, file size, processes, core dumps"
        )

    def run(self, spec: RunSpec) -> RunResult:
        plan, reason = self._probe()
        if plan is None:
            raise SandboxError(f"bubblewrap is unavailable: {reason}")
        check_directories(spec)
        if plan.privileged:
            plan = dataclasses.replace(plan, uid=RUN_UID_BASE + secrets.randbelow(RUN_UID_SPAN))
        setup = self._cgroups()[0]
        cgroup = RunCgroup.create(setup, spec.limits, LAUNCHER_PROCESSES) if setup else None
        try:
            supervision, facts = self._supervise(spec, plan, cgroup)
        finally:
            if cgroup is not None:
                cgroup.kill_all()
                cgroup.remove()
        stderr = supervision.stderr.getvalue()
        if supervision.exit_code == 1 and stderr.startswith(b"bwrap: "):
            line = stderr.splitlines()[0].decode(errors="replace")
            raise SandboxError(f"bubblewrap could not set up the sandbox: {line}")
        failed = not (supervision.exit_code == 0 and supervision.signal is None)
        ending = Ending(
            exit_code=supervision.exit_code,
            signal=supervision.signal,
            wall_clock_exceeded=supervision.wall_clock_exceeded,
            cpu_time_exceeded=supervision.cpu_time_exceeded,
            output_flooded=supervision.output_flooded,
            memory_exceeded=facts.oom
            if plan.cgroup_memory
            else failed and looks_out_of_memory(stderr),
            process_limit_hit=facts.pids_hit,
        )
        cpu_s = facts.cpu_s if facts.cpu_s is not None else supervision.cpu_s
        return conclude(self.name, spec, supervision, ending, cpu_s)

    def _supervise(
        self, spec: RunSpec, plan: SandboxPlan, cgroup: RunCgroup | None
    ) -> tuple[Supervision, _CgroupFacts]:
        """Run the sandbox to its end, with the directories lent to the app's uid meanwhile."""
        lending = (
            lent_to(
                plan.uid,
                plan.uid,
                readable=(spec.input_dir, spec.app_dir),
                writable=spec.output_dir,
            )
            if plan.privileged
            else contextlib.nullcontext()
        )
        with lending, _launch(spec, plan) as (argv, fds):
            supervision = supervise(
                argv,
                limits=spec.limits,
                output_dir=spec.output_dir,
                pass_fds=fds,
                hold=cgroup.add if cgroup is not None else None,
                cpu_probe=cgroup.cpu_seconds if cgroup is not None else None,
                kill_tree=cgroup.kill_all if cgroup is not None else None,
            )
        if cgroup is None:
            return supervision, _CgroupFacts()
        facts = _CgroupFacts(cgroup.oom_killed(), cgroup.pids_limit_hit(), cgroup.cpu_seconds())
        return supervision, facts

    def _cgroups(self) -> tuple[CgroupSetup | None, str]:
        """The cgroup setup runs get (found once), or None and why not."""
        if self._found_cgroups is None:
            if not self._use_cgroups:
                self._found_cgroups = None, "cgroups turned off"
            else:
                setup, reason = find_cgroups()
                if setup is not None and not {"pids", "memory"} <= setup.controllers:
                    setup, reason = None, "the pids and memory controllers are not both there"
                self._found_cgroups = setup, reason
        return self._found_cgroups

    def _version(self) -> str:
        plan = self._probe()[0]
        if plan is None:
            return "bubblewrap"
        result = subprocess.run(
            [plan.bwrap, "--version"], capture_output=True, text=True, check=False
        )
        return result.stdout.strip() or "bubblewrap"

    def _plan(self) -> SandboxPlan | None:
        bwrap = self._bwrap or shutil.which("bwrap") or "/usr/bin/bwrap"
        if not os.access(bwrap, os.X_OK):
            return None
        privileged = os.geteuid() == 0
        setup = self._cgroups()[0]
        return SandboxPlan(
            bwrap=bwrap,
            privileged=privileged,
            uid=RUN_UID_BASE if privileged else NOBODY,
            root_entries=_root_entries(),
            etc_entries=_etc_entries(self._etc),
            cgroup_memory=setup is not None and "memory" in setup.controllers,
            cgroup_pids=setup is not None and "pids" in setup.controllers,
            seccomp=denylist_filter() if self._use_seccomp else None,
        )

    def _probe(self) -> tuple[SandboxPlan | None, str]:
        """The plan for this machine, after one trial sandbox (once); or None and the reason."""
        if self._probed is None:
            self._probed = self._try_plan()
        return self._probed

    def _try_plan(self) -> tuple[SandboxPlan | None, str]:
        plan = self._plan()
        if plan is None:
            return None, "bwrap (bubblewrap) is not installed"
        for tool in (plan.prlimit, plan.env, *([plan.setpriv] if plan.privileged else [])):
            if not os.access(tool, os.X_OK):
                return None, f"{tool} is not installed"
        with tempfile.TemporaryDirectory(prefix="nuage-sandbox-probe-") as scratch:
            inputs, outputs = Path(scratch, "in"), Path(scratch, "out")
            inputs.mkdir()
            outputs.mkdir()
            spec = RunSpec(command=["true"], input_dir=inputs, output_dir=outputs)
            with _launch(spec, plan) as (argv, fds):
                trial = subprocess.run(
                    argv,
                    capture_output=True,
                    pass_fds=fds,
                    env={},
                    timeout=30,
                    check=False,
                )
        if trial.returncode != 0:
            error = trial.stderr.decode(errors="replace").strip() or f"status {trial.returncode}"
            return None, f"bwrap cannot create a sandbox here: {error}"
        return plan, ""


@dataclass(frozen=True)
class _CgroupFacts:
    """What the run's cgroup knew at its end."""

    oom: bool = False
    pids_hit: bool = False
    cpu_s: float | None = None


def _root_entries() -> tuple[tuple[str, str | None], ...]:
    entries: list[tuple[str, str | None]] = []
    for name in ROOT_LINKS:
        path = Path("/", name)
        if path.is_symlink():
            entries.append((name, os.readlink(path)))
        elif path.is_dir():
            entries.append((name, None))
    return tuple(entries)


def _etc_entries(patterns: Sequence[str]) -> tuple[str, ...]:
    found: set[str] = set()
    for pattern in patterns:
        found.update(p for p in glob.glob(os.path.join("/etc", pattern)) if os.path.exists(p))
    return tuple(sorted(found))


@contextlib.contextmanager
def _memory_files(contents: dict[str, bytes]) -> Iterator[dict[str, int]]:
    """An in-memory file per entry, filled and rewound; yields name → fd (for bwrap to read)."""
    fds: dict[str, int] = {}
    try:
        for name, data in contents.items():
            fd = os.memfd_create(f"nuage-sandbox-{name.strip('/').replace('/', '-')}", 0)
            fds[name] = fd
            os.write(fd, data)
            os.lseek(fd, 0, os.SEEK_SET)
        yield fds
    finally:
        for fd in fds.values():
            os.close(fd)


@contextlib.contextmanager
def _launch(spec: RunSpec, plan: SandboxPlan) -> Iterator[tuple[list[str], tuple[int, ...]]]:
    """The bwrap command and the fds it reads.

    bwrap's options come from an in-memory file (``--args``), so that the sandbox's pid 1, bwrap
    itself, shows no host path nor variable in its /proc/1/cmdline; only the command follows.
    """
    filters = {"seccomp": plan.seccomp} if plan.seccomp is not None else {}
    with _memory_files(identity_files(plan.uid)) as data_fds, _memory_files(filters) as filter_fds:
        argv = bwrap_argv(spec, plan, data_fds, filter_fds.get("seccomp"))
        end = argv.index("--")
        options = b"".join(arg.encode() + b"\0" for arg in argv[1:end])
        with _memory_files({"args": options}) as args_fds:
            fd = args_fds["args"]
            fds = (fd, *data_fds.values(), *filter_fds.values())
            yield [argv[0], "--args", str(fd), *argv[end:]], fds
