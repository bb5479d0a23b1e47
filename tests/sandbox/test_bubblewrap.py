"""The bubblewrap runner: its command line (pure) and what only it guarantees (real runs)."""

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path

import pytest

from nuage.exceptions import SandboxError
from nuage.sandbox import BubblewrapRunner, Limits, RunSpec
from nuage.sandbox.bubblewrap import (
    NOBODY,
    RUN_UID_BASE,
    RUN_UID_SPAN,
    SandboxPlan,
    bwrap_argv,
    identity_files,
    rlimit_args,
)
from nuage.sandbox.cgroups import RunCgroup
from nuage.sandbox.runner import sandbox_env
from tests.sandbox.conftest import Job, processes_with

REPO = Path(__file__).resolve().parents[2]
MIB = 1024 * 1024
PLAN = SandboxPlan(
    bwrap="/usr/bin/bwrap",
    privileged=True,
    uid=RUN_UID_BASE + 7,
    root_entries=(("bin", "usr/bin"), ("lib", "usr/lib"), ("lib64", None)),
    etc_entries=("/etc/ld.so.cache", "/etc/localtime"),
    cgroup_memory=True,
)
SPEC = RunSpec(
    command=["python3", "/app/main.py", "--flag"],
    app_dir=Path("/work/tasks/1/app"),
    input_dir=Path("/work/tasks/1/in"),
    output_dir=Path("/work/tasks/1/out"),
    env={"IEXEC_TASK_ID": "0x01"},
    limits=Limits(cpu_time_s=2.5, max_processes=16, max_output_bytes=10 * MIB),
)


def option_pairs(argv: list[str], option: str) -> list[tuple[str, str]]:
    return [(argv[i + 1], argv[i + 2]) for i, arg in enumerate(argv) if arg == option]


def test_only_the_system_and_the_runs_directories_come_from_the_host():
    argv = bwrap_argv(SPEC, PLAN, {"/etc/passwd": 5})
    assert option_pairs(argv, "--ro-bind") == [
        ("/usr", "/usr"),
        ("/lib64", "/lib64"),
        ("/etc/ld.so.cache", "/etc/ld.so.cache"),
        ("/etc/localtime", "/etc/localtime"),
        ("/work/tasks/1/app", "/app"),
        ("/work/tasks/1/in", "/iexec_in"),
    ]
    assert option_pairs(argv, "--bind") == [("/work/tasks/1/out", "/iexec_out")]
    assert option_pairs(argv, "--symlink") == [("usr/bin", "/bin"), ("usr/lib", "/lib")]
    assert option_pairs(argv, "--ro-bind-data") == [("5", "/etc/passwd")]
    assert argv.index("--remount-ro") > argv.index("--bind")


def test_every_namespace_but_the_user_one_is_new_for_a_root_worker():
    argv = bwrap_argv(SPEC, PLAN, {})
    options = argv[: argv.index("--")]
    for flag in ("--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"):
        assert flag in options
    for flag in ("--unshare-cgroup-try", "--die-with-parent", "--new-session", "--clearenv"):
        assert flag in options
    assert "--unshare-user" not in options


def test_a_root_worker_switches_the_app_to_the_runs_uid_without_capabilities():
    argv = bwrap_argv(SPEC, PLAN, {})
    command = argv[argv.index("--") + 1 :]
    assert command[:9] == [
        "/usr/bin/setpriv",
        f"--reuid={RUN_UID_BASE + 7}",
        f"--regid={RUN_UID_BASE + 7}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--no-new-privs",
        "--",
        "/usr/bin/prlimit",
    ]
    assert command[-7:] == ["/usr/bin/env", "-u", "PWD", "--", "python3", "/app/main.py", "--flag"]


def test_another_worker_maps_the_app_to_nobody_in_a_user_namespace():
    plan = replace(PLAN, privileged=False, uid=NOBODY)
    argv = bwrap_argv(SPEC, plan, {})
    options = argv[: argv.index("--")]
    assert "--unshare-user" in options and "--disable-userns" in options
    assert options[options.index("--uid") + 1] == options[options.index("--gid") + 1] == "65534"
    assert argv[argv.index("--") + 1] == "/usr/bin/prlimit"


def test_the_environment_is_set_explicitly():
    argv = bwrap_argv(SPEC, PLAN, {})
    assert dict(option_pairs(argv, "--setenv")) == sandbox_env(SPEC)
    assert sandbox_env(SPEC) == {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp",
        "LANG": "C.UTF-8",
        "IEXEC_TASK_ID": "0x01",
    }


def test_rlimits_bound_cpu_file_size_processes_and_core_dumps():
    assert rlimit_args(SPEC.limits, address_space=False, cgroup_pids=False) == [
        "--cpu=3:4",
        f"--fsize={10 * MIB + 1}:{10 * MIB + 1}",
        "--nproc=16:16",
        "--core=0:0",
    ]
    with_cgroup = rlimit_args(SPEC.limits, address_space=True, cgroup_pids=True)
    assert with_cgroup[2] == "--nproc=17:17"
    assert with_cgroup[-1] == f"--as={512 * MIB}:{512 * MIB}"


def test_the_sandbox_knows_only_its_own_users():
    files = identity_files(RUN_UID_BASE + 7)
    assert files["/etc/passwd"].decode().splitlines() == [
        "root:x:0:0:root:/tmp:/usr/sbin/nologin",
        "nobody:x:65534:65534:nobody:/tmp:/usr/sbin/nologin",
        f"app:x:{RUN_UID_BASE + 7}:{RUN_UID_BASE + 7}:app:/tmp:/usr/sbin/nologin",
    ]
    assert b"localhost" in files["/etc/hosts"]


def test_a_missing_bwrap_makes_the_runner_unavailable(tmp_path: Path):
    runner = BubblewrapRunner(bwrap=str(tmp_path / "bwrap"))
    assert not runner.available()
    assert runner.why_unavailable() == "bwrap (bubblewrap) is not installed"
    assert "unavailable" in runner.describe()
    with pytest.raises(SandboxError, match="bubblewrap is unavailable"):
        runner.run(RunSpec(command=["true"], input_dir=tmp_path, output_dir=tmp_path))


def test_run_spec_refuses_what_cannot_be_passed_on(tmp_path: Path):
    with pytest.raises(ValueError, match="command is empty"):
        RunSpec(command=[], input_dir=tmp_path, output_dir=tmp_path)
    with pytest.raises(ValueError, match="not an environment variable name"):
        RunSpec(command=["true"], input_dir=tmp_path, output_dir=tmp_path, env={"A=B": "c"})
    with pytest.raises(ValueError, match="NUL"):
        RunSpec(command=["true", "a\0b"], input_dir=tmp_path, output_dir=tmp_path)
    with pytest.raises(ValueError, match="memory_bytes must be positive"):
        Limits(memory_bytes=0)


# Real runs


@pytest.mark.integration
def test_a_root_worker_runs_each_app_as_a_fresh_unprivileged_uid(
    bubblewrap: BubblewrapRunner, job: Job
):
    if os.geteuid() != 0:
        pytest.skip("the worker is not root here")
    source = "import os; print(os.getuid(), os.getgid(), os.getgroups())"
    first, second = (job.run(bubblewrap, source) for _ in range(2))
    uids = []
    for result in (first, second):
        uid, gid, groups = result.stdout.decode().split(maxsplit=2)
        assert RUN_UID_BASE <= int(uid) < RUN_UID_BASE + RUN_UID_SPAN
        assert gid == uid and groups.strip() == "[]"
        uids.append(uid)
    assert uids[0] != uids[1]


@pytest.mark.integration
def test_the_runs_cgroup_is_removed(
    bubblewrap: BubblewrapRunner, job: Job, monkeypatch: pytest.MonkeyPatch
):
    created: list[RunCgroup] = []
    original = RunCgroup.create.__func__  # type: ignore[attr-defined]

    def create(cls, *args, **kwargs):
        group = original(cls, *args, **kwargs)
        created.append(group)
        return group

    monkeypatch.setattr(RunCgroup, "create", classmethod(create))
    result = job.run(bubblewrap, "import time; time.sleep(0.3)")
    assert result.ok, result.failure
    if not created:
        pytest.skip(f"no cgroups here: {bubblewrap.describe()}")
    assert not any(p.parent.exists() for p in created[0].procs_files)
    assert result.cpu_s is not None


@pytest.mark.integration
def test_a_fork_bomb_hits_the_process_limit(bubblewrap: BubblewrapRunner, job: Job, token: str):
    result = job.run(
        bubblewrap,
        "import os, time\nwhile True:\n    os.fork() or time.sleep(60)",
        token,
        max_processes=16,
    )
    if "cgroup" in bubblewrap.describe() and "no cgroup" not in bubblewrap.describe():
        assert result.failure == "process limit of 16 exceeded"
    else:
        assert result.failure == "exit status 1"
    assert processes_with(token) == []


@pytest.fixture
def rlimits_only() -> BubblewrapRunner:
    runner = BubblewrapRunner(use_cgroups=False)
    if not runner.available():
        pytest.skip(f"bubblewrap unavailable: {runner.why_unavailable()}")
    return runner


@pytest.mark.integration
def test_without_a_cgroup_memory_is_bounded_per_process(rlimits_only: BubblewrapRunner, job: Job):
    assert "no cgroup (cgroups turned off): rlimits only" in rlimits_only.describe()
    result = job.run(
        rlimits_only,
        "hoard = []\nwhile True:\n    hoard.append(b'x' * (8 * 1024 * 1024))",
        memory_bytes=128 * MIB,
    )
    assert result.failure == "memory limit of 128 MiB exceeded"
    assert b"MemoryError" in result.stderr


@pytest.mark.integration
def test_without_a_cgroup_a_fork_bomb_is_still_bounded(
    rlimits_only: BubblewrapRunner, job: Job, token: str
):
    result = job.run(
        rlimits_only,
        "import os, time\nwhile True:\n    os.fork() or time.sleep(60)",
        token,
        max_processes=16,
    )
    assert result.failure == "exit status 1"
    assert b"BlockingIOError" in result.stderr or b"Resource temporarily" in result.stderr
    assert result.cpu_s is not None
    assert processes_with(token) == []


@pytest.fixture
def unprivileged_dirs() -> Iterator[Path]:
    """Directories a non-root worker (nobody) owns, outside pytest's private tmp."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root to act as another worker")
    top = Path(tempfile.mkdtemp(prefix="nuage-unprivileged-"))
    try:
        top.chmod(0o755)
        for name in ("in", "out"):
            (top / name).mkdir()
            os.chown(top / name, NOBODY, NOBODY)
        yield top
    finally:
        shutil.rmtree(top)


WORKER_SCRIPT = """
import json, sys
from pathlib import Path
from nuage.sandbox import BubblewrapRunner, Limits, RunSpec
top = Path(sys.argv[1])
runner = BubblewrapRunner()
if not runner.available():
    print(json.dumps({"unavailable": runner.why_unavailable()}))
    sys.exit(0)
code = (
    "import os\\n"
    "opened = []\\n"
    "for p in ['/proc/sys/kernel/core_pattern', '/proc/sys/fs/file-max']:\\n"
    "    try: os.close(os.open(p, os.O_WRONLY)); opened.append(p)\\n"
    "    except OSError: pass\\n"
    "open('/iexec_out/r', 'w').write('ok')\\n"
    "import subprocess\\n"
    "nested = subprocess.run(['unshare', '--user', 'true']).returncode == 0\\n"
    "print(os.getuid(), opened, nested)\\n"
)
result = runner.run(RunSpec(command=["python3", "-c", code], input_dir=top / "in",
                            output_dir=top / "out", limits=Limits(wall_clock_s=5)))
print(json.dumps({"failure": result.failure, "stdout": result.stdout.decode(),
                  "describe": runner.describe()}))
"""


@pytest.mark.integration
def test_a_worker_that_is_not_root_sandboxes_in_a_user_namespace(unprivileged_dirs: Path):
    completed = subprocess.run(
        [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "/usr/bin/python3",
            "-c",
            WORKER_SCRIPT,
            str(unprivileged_dirs),
        ],
        capture_output=True,
        env={"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin"},
        cwd="/",
        timeout=60,
        check=False,
    )
    if b"No module named" in completed.stderr or b"Permission denied" in completed.stderr:
        pytest.skip(f"nobody cannot import nuage from {REPO}: {completed.stderr[-200:]!r}")
    assert completed.returncode == 0, completed.stderr
    seen = json.loads(completed.stdout)
    if "unavailable" in seen:
        pytest.skip(f"unprivileged bubblewrap unavailable: {seen['unavailable']}")
    assert seen["failure"] is None
    assert "uid 65534 in a user namespace" in seen["describe"]
    assert seen["stdout"] == "65534 [] False\n"
    assert (unprivileged_dirs / "out" / "r").read_text() == "ok"


@pytest.mark.integration
def test_without_the_seccomp_filter_a_root_workers_app_could_make_user_namespaces(job: Job):
    # why the filter exists: the fresh uid is unprivileged, and unprivileged users may create
    # user namespaces, the first step of many kernel exploits; --disable-userns needs one itself
    if os.geteuid() != 0:
        pytest.skip("the worker is not root here")
    unfiltered = BubblewrapRunner(use_seccomp=False)
    if not unfiltered.available():
        pytest.skip(f"bubblewrap unavailable: {unfiltered.why_unavailable()}")
    assert "no seccomp filter" in unfiltered.describe()
    source = "import subprocess; print(subprocess.run(['unshare', '--user', 'true']).returncode)"
    result = job.run(unfiltered, source)
    assert result.ok, result.failure
    if result.stdout != b"0\n":
        pytest.skip("this kernel refuses unprivileged user namespaces anyway")
    assert job.run(BubblewrapRunner(), source).stdout != b"0\n"


@pytest.mark.integration
def test_a_sandbox_that_cannot_be_built_is_a_sandbox_error(
    bubblewrap: BubblewrapRunner, job: Job, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr("nuage.sandbox.bubblewrap.check_directories", lambda spec: None)
    monkeypatch.setattr("nuage.sandbox.bubblewrap.lent_to", lambda *a, **k: nullcontext())
    spec = replace(job.spec("print('never')"), input_dir=tmp_path / "vanished")
    with pytest.raises(SandboxError, match="bubblewrap could not set up the sandbox: bwrap: "):
        bubblewrap.run(spec)
