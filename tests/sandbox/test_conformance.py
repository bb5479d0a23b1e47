"""What every runner guarantees, tested against each one that works on this machine.

An app here is a small Python script run as ``python3 /app/main.py``; it reports what it could
do as JSON on stdout, and the test checks the sandbox stopped it.
"""

from __future__ import annotations

import json
import platform
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nuage.exceptions import SandboxError
from nuage.sandbox import Runner, RunSpec, safe_output_files
from nuage.sandbox.seccomp import AUDIT_ARCHES, DENIED
from tests.sandbox.conftest import TEST_LIMITS, Job, processes_with

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def report(stdout: bytes) -> dict:
    """The JSON object the app printed last."""
    return json.loads(stdout.strip().splitlines()[-1])


def test_app_reads_input_and_writes_computed_json(runner: Runner, job: Job):
    (job.input_dir / "x").write_text("21")
    result = job.run(
        runner,
        """
        import json, sys
        x = int(open("/iexec_in/x").read())
        open("/iexec_out/result.txt", "w").write(str(x * int(sys.argv[1])))
        with open("/iexec_out/computed.json", "w") as f:
            json.dump({"deterministic-output-path": "/iexec_out/result.txt"}, f)
        print("done")
        """,
        "2",
    )
    assert result.failure is None, result.stderr
    assert result.ok and result.exit_code == 0 and result.signal is None
    assert result.stdout == b"done\n"
    assert (job.output_dir / "result.txt").read_text() == "42"
    assert json.loads((job.output_dir / "computed.json").read_text()) == {
        "deterministic-output-path": "/iexec_out/result.txt"
    }
    assert safe_output_files(job.output_dir) == [
        job.output_dir / "computed.json",
        job.output_dir / "result.txt",
    ]
    assert result.output_bytes == len("42") + len((job.output_dir / "computed.json").read_bytes())
    assert 0 < result.wall_s < TEST_LIMITS.wall_clock_s


def test_the_worker_can_remove_the_output_afterwards(runner: Runner, job: Job):
    result = job.run(
        runner,
        """
        import os
        os.makedirs("/iexec_out/a/b")
        open("/iexec_out/a/b/c", "w").write("x")
        os.chmod("/iexec_out/a/b", 0o500)
        """,
    )
    assert result.ok, result.failure
    assert (job.output_dir / "a" / "b" / "c").stat().st_uid == job.output_dir.stat().st_uid


def test_app_sees_only_the_run_environment(
    runner: Runner, job: Job, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("NUAGE_SECRET", "worker-keystore-password")
    env = {"IEXEC_TASK_ID": "0xabc", "IEXEC_IN": "/iexec_in", "IEXEC_OUT": "/iexec_out"}
    result = job.run(runner, "import json, os; print(json.dumps(dict(os.environ)))", env=env)
    assert result.ok, result.failure
    seen = report(result.stdout)
    assert set(seen) == {*env, "PATH", "HOME", "LANG"}
    assert {k: seen[k] for k in env} == env
    assert b"worker-keystore-password" not in result.stdout


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A TCP listener on the host's loopback that the app must not reach."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        server.setblocking(False)
        yield server


def test_network_is_unreachable(runner: Runner, job: Job, listener: socket.socket):
    port = listener.getsockname()[1]
    result = job.run(
        runner,
        f"""
        import json, socket
        outcome = {{}}
        for name, address in [("host", ("127.0.0.1", {port})), ("internet", ("1.1.1.1", 53))]:
            try:
                socket.create_connection(address, timeout=2).close()
                outcome[name] = "connected"
            except OSError as error:
                outcome[name] = type(error).__name__
        try:
            socket.getaddrinfo("example.com", 443)
            outcome["dns"] = "resolved"
        except OSError as error:
            outcome["dns"] = type(error).__name__
        print(json.dumps(outcome))
        """,
    )
    assert result.ok, result.failure
    outcome = report(result.stdout)
    assert "connected" not in outcome.values() and outcome["dns"] != "resolved", outcome
    with pytest.raises(BlockingIOError):
        listener.accept()


def test_app_cannot_write_outside_its_output(runner: Runner, job: Job):
    (job.input_dir / "data").write_text("input")
    result = job.run(
        runner,
        """
        import json, os
        written = []
        for path in ["/app/x", "/iexec_in/x", "/iexec_in/data", "/usr/x", "/usr/bin/python3",
                     "/etc/x", "/etc/passwd", "/x", "/dev/x", "/proc/x"]:
            try:
                with open(path, "a") as f:
                    f.write("tampered")
                written.append(path)
            except OSError:
                pass
        for directory in ["/app/d", "/iexec_in/d", "/usr/d", "/etc/d", "/d", "/dev/d"]:
            try:
                os.mkdir(directory)
                written.append(directory)
            except OSError:
                pass
        print(json.dumps(written))
        """,
    )
    assert result.ok, result.failure
    assert report(result.stdout) == []
    assert sorted(p.name for p in job.input_dir.iterdir()) == ["data"]
    assert (job.input_dir / "data").read_text() == "input"
    assert sorted(p.name for p in job.app_dir.iterdir()) == ["main.py"]


def test_tmp_is_private_and_writable(runner: Runner, job: Job, tmp_path: Path):
    result = job.run(
        runner,
        """
        import json, os
        open("/tmp/scratch", "w").write("scratch")
        print(json.dumps(sorted(os.listdir("/tmp"))))
        """,
    )
    assert result.ok, result.failure
    assert report(result.stdout) == ["scratch"]
    assert not Path("/tmp/scratch").exists()


def test_host_secrets_are_invisible(runner: Runner, job: Job, tmp_path: Path):
    keystore = tmp_path / "home" / ".nuage" / "keystore.json"
    keystore.parent.mkdir(parents=True)
    keystore.write_text('{"crypto": "worker private key"}')
    paths = [str(keystore), str(keystore.parent), "/root", "/home", "/work", str(REPO)]
    result = job.run(
        runner,
        f"""
        import json, os
        seen = {{}}
        for path in {paths!r}:
            try:
                seen[path] = open(path).read() if path.endswith(".json") else os.listdir(path)
            except OSError as error:
                seen[path] = type(error).__name__
        print(json.dumps(seen))
        """,
    )
    assert result.ok, result.failure
    seen = report(result.stdout)
    assert seen == {path: "FileNotFoundError" for path in paths}, seen


def test_host_processes_and_paths_are_invisible(runner: Runner, job: Job, tmp_path: Path):
    result = job.run(
        runner,
        """
        import json, os
        commands = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                commands.append(open(f"/proc/{pid}/cmdline", "rb").read().decode())
            except OSError:
                pass
        print(json.dumps(commands))
        """,
    )
    assert result.ok, result.failure
    commands = report(result.stdout)
    assert len(commands) < 8, commands
    assert not any("pytest" in command for command in commands), commands
    assert not any(str(tmp_path) in command for command in commands), commands


def test_global_kernel_settings_are_not_writable(runner: Runner, job: Job):
    # Regression: an app mapped to host uid 0 in a user namespace can rewrite global sysctls
    # (kernel.core_pattern runs a program as root), for /proc/sys checks the plain uid.
    result = job.run(
        runner,
        """
        import json, os
        opened = []
        for path in ["/proc/sys/kernel/core_pattern", "/proc/sys/fs/file-max",
                     "/proc/sys/vm/drop_caches", "/proc/sysrq-trigger"]:
            try:
                os.close(os.open(path, os.O_WRONLY))
                opened.append(path)
            except OSError:
                pass
        print(json.dumps({"uid": os.getuid(), "opened": opened}))
        """,
    )
    assert result.ok, result.failure
    seen = report(result.stdout)
    assert seen["opened"] == [] and seen["uid"] != 0


def test_stdin_is_empty(runner: Runner, job: Job):
    result = job.run(runner, "import sys; print(repr(sys.stdin.read()))")
    assert result.ok, result.failure
    assert result.stdout == b"''\n"


def test_exit_status_is_reported(runner: Runner, job: Job):
    result = job.run(runner, "import sys; print('partial'); sys.exit(3)")
    assert result.failure == "exit status 3"
    assert result.exit_code == 3 and result.signal is None
    assert result.stdout == b"partial\n"


def test_death_by_signal_is_reported(runner: Runner, job: Job):
    result = job.run(runner, "import os, signal; os.kill(os.getpid(), signal.SIGTERM)")
    assert result.failure == "killed by signal 15 (SIGTERM)"
    assert result.exit_code is None and result.signal == 15


def test_missing_command_is_a_failed_run(runner: Runner, job: Job):
    spec = job.spec("")
    result = runner.run(
        RunSpec(
            command=["no-such-program"],
            input_dir=spec.input_dir,
            output_dir=spec.output_dir,
            limits=TEST_LIMITS,
        )
    )
    assert result.failure == "exit status 127"


def test_missing_input_directory_is_refused(runner: Runner, job: Job, tmp_path: Path):
    spec = job.spec("print('never')")
    with pytest.raises(SandboxError, match="does not exist"):
        runner.run(
            RunSpec(
                command=spec.command,
                input_dir=tmp_path / "missing",
                output_dir=spec.output_dir,
                limits=TEST_LIMITS,
            )
        )


def test_fork_bomb_is_contained(runner: Runner, job: Job, token: str):
    started = time.monotonic()
    result = job.run(
        runner,
        """
        import os, sys, time
        children = 0
        try:
            while True:
                if os.fork() == 0:
                    time.sleep(60)
                    os._exit(0)
                children += 1
        except OSError as error:
            print("fork refused after", children, error, flush=True)
            sys.exit(1)
        """,
        token,
        max_processes=16,
    )
    assert result.failure is not None
    assert b"fork refused after" in result.stdout
    assert int(result.stdout.split()[3]) < 16
    assert time.monotonic() - started < TEST_LIMITS.wall_clock_s
    assert processes_with(token) == []


def test_exponential_fork_bomb_ends_at_the_wall_clock(runner: Runner, job: Job, token: str):
    result = job.run(
        runner,
        """
        import os
        while True:
            try:
                os.fork()
            except OSError:
                pass
        """,
        token,
        max_processes=16,
        wall_clock_s=2,
        cpus=0.5,
    )
    assert result.failure == "wall-clock limit of 2 s exceeded"
    assert result.wall_s < 4
    assert processes_with(token) == []


def test_memory_hog_fails_with_the_memory_limit(runner: Runner, job: Job):
    result = job.run(
        runner,
        """
        hoard = []
        while True:
            hoard.append(b"x" * (8 * 1024 * 1024))
        """,
        memory_bytes=128 * 1024 * 1024,
    )
    assert result.failure == "memory limit of 128 MiB exceeded"


def test_busy_loop_fails_with_the_cpu_limit(runner: Runner, job: Job):
    result = job.run(runner, "while True: pass", cpu_time_s=1, wall_clock_s=10)
    assert result.failure == "CPU time limit of 1 s exceeded"
    assert result.wall_s < 5


def test_sleeper_fails_with_the_wall_clock(runner: Runner, job: Job, token: str):
    result = job.run(runner, "import time; time.sleep(60)", token, wall_clock_s=1.5)
    assert result.failure == "wall-clock limit of 1.5 s exceeded"
    assert 1.5 <= result.wall_s < 3.5
    assert processes_with(token) == []


def test_an_oversize_file_fails_the_output_limit(runner: Runner, job: Job):
    result = job.run(
        runner,
        """
        with open("/iexec_out/big", "wb") as f:
            f.write(b"x" * (2 * 1024 * 1024))
        """,
    )
    assert result.failure == "output exceeds 1 MiB"


def test_many_files_over_the_limit_fail_the_output_limit(runner: Runner, job: Job):
    result = job.run(
        runner,
        """
        for i in range(20):
            with open(f"/iexec_out/part{i}", "wb") as f:
                f.write(b"x" * (100 * 1024))
        """,
    )
    assert result.failure == "output exceeds 1 MiB"
    assert result.output_bytes == 20 * 100 * 1024


def test_output_flood_is_stopped_while_running(runner: Runner, job: Job):
    result = job.run(
        runner,
        """
        import itertools
        for i in itertools.count():
            with open(f"/iexec_out/part{i}", "wb") as f:
                f.write(b"x" * (64 * 1024))
        """,
        wall_clock_s=10,
        max_output_bytes=4 * 1024 * 1024,
    )
    assert result.failure == "output exceeds 4 MiB"
    assert result.wall_s < 5


def test_huge_stdout_is_captured_bounded(runner: Runner, job: Job):
    result = job.run(
        runner,
        """
        import sys
        out = sys.stdout.buffer
        out.write(b"HEAD")
        for _ in range(320):
            out.write(b"y" * 65536)
        out.write(b"TAIL")
        sys.stderr.write("small")
        """,
    )
    assert result.ok, result.failure
    assert result.stdout_truncated and not result.stderr_truncated
    assert result.stdout.startswith(b"HEAD") and result.stdout.endswith(b"TAIL")
    assert len(result.stdout) < TEST_LIMITS.max_log_bytes + 100
    assert b"bytes dropped of 20971528]" in result.stdout
    assert result.stderr == b"small"


def test_symlink_out_of_the_output_fails(runner: Runner, job: Job, tmp_path: Path):
    keystore = tmp_path / "keystore.json"
    keystore.write_text("worker private key")
    result = job.run(
        runner,
        f"""
        import os
        open("/iexec_out/computed.json", "w").write("{{}}")
        os.symlink({str(keystore)!r}, "/iexec_out/result.json")
        """,
    )
    assert result.failure == (
        f"output contains a symlink pointing outside /iexec_out: result.json -> {keystore}"
    )
    assert safe_output_files(job.output_dir) == [job.output_dir / "computed.json"]


def test_background_children_do_not_survive_the_run(runner: Runner, job: Job, token: str):
    result = job.run(
        runner,
        """
        import os, subprocess, sys
        sleeper = [sys.executable, "-c", "import time; time.sleep(60)", sys.argv[1]]
        subprocess.Popen(sleeper, start_new_session=True)
        if os.fork() == 0:  # a daemon: double fork, new session, parent gone
            os.setsid()
            if os.fork() == 0:
                os.execv(sys.executable, sleeper)
            os._exit(0)
        print("left children behind")
        """,
        token,
    )
    assert result.ok, result.failure
    assert result.stdout == b"left children behind\n"
    assert result.wall_s < 3
    assert processes_with(token) == []


def test_namespaces_and_the_kernel_keyring_are_refused(runner: Runner, job: Job):
    machine = platform.machine()
    if machine not in AUDIT_ARCHES:
        pytest.skip(f"no syscall table for {machine}")
    keyctl = DENIED["keyctl"][0 if machine == "x86_64" else 1]
    result = job.run(
        runner,
        f"""
        import ctypes, json, subprocess
        libc = ctypes.CDLL(None, use_errno=True)
        session = libc.syscall({keyctl}, 0, -3, 0)  # KEYCTL_GET_KEYRING_ID of the session
        user_namespace = subprocess.run(["unshare", "--user", "true"], capture_output=True)
        print(json.dumps([session, user_namespace.returncode]))
        """,
    )
    assert result.ok, result.failure
    session, user_namespace = report(result.stdout)
    assert session == -1 and user_namespace != 0
