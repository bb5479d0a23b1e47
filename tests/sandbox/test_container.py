"""The docker/podman runner: its command line (pure) and how it says it cannot run here.

Real container runs are in the conformance suite, which skips this runner with its reason
where no engine answers.
"""

import shutil
from pathlib import Path

import pytest

from nuage.exceptions import SandboxError
from nuage.sandbox import ContainerRunner, Limits, RunSpec
from nuage.sandbox.container import container_argv

MIB = 1024 * 1024
SPEC = RunSpec(
    command=["python3", "/app/main.py", "10"],
    app_dir=Path("/work/tasks/1/app"),
    input_dir=Path("/work/tasks/1/in,put"),
    output_dir=Path("/work/tasks/1/out"),
    env={"IEXEC_TASK_ID": "0x01"},
    limits=Limits(memory_bytes=256 * MIB, max_processes=32, cpu_time_s=3, cpus=1.5),
)


def argv_for(spec: RunSpec = SPEC) -> list[str]:
    return container_argv(
        spec, engine="docker", image="python:3.11-slim", name="nuage-sandbox-1", user="65534:65534"
    )


def values_of(argv: list[str], option: str) -> list[str]:
    return [argv[i + 1] for i, arg in enumerate(argv) if arg == option]


def test_the_container_has_no_network_no_privileges_and_a_read_only_root():
    argv = argv_for()
    assert argv[:6] == ["docker", "run", "--name", "nuage-sandbox-1", "--pull", "never"]
    assert values_of(argv, "--network") == ["none"]
    assert "--read-only" in argv
    assert values_of(argv, "--cap-drop") == ["ALL"]
    assert values_of(argv, "--security-opt") == ["no-new-privileges"]
    assert values_of(argv, "--user") == ["65534:65534"]
    assert values_of(argv, "--tmpfs") == [f"/tmp:rw,nosuid,nodev,size={256 * MIB}"]


def test_the_limits_go_to_the_engine():
    argv = argv_for()
    assert values_of(argv, "--memory") == values_of(argv, "--memory-swap") == [str(256 * MIB)]
    assert values_of(argv, "--pids-limit") == ["32"]
    assert values_of(argv, "--cpus") == ["1.5"]
    assert values_of(argv, "--ulimit") == [
        "cpu=3:4",
        f"fsize={100 * MIB + 1}:{100 * MIB + 1}",
        "core=0:0",
    ]


def test_directories_are_mounted_with_their_modes_and_paths_quoted():
    assert values_of(argv_for(), "--mount") == [
        "type=bind,source=/work/tasks/1/app,target=/app,readonly",
        'type=bind,"source=/work/tasks/1/in,put",target=/iexec_in,readonly',
        "type=bind,source=/work/tasks/1/out,target=/iexec_out",
    ]


def test_the_app_gets_only_the_runs_environment():
    argv = argv_for()
    tail = argv[argv.index("python:3.11-slim") :]
    assert tail == [
        "python:3.11-slim",
        "env",
        "-i",
        "HOME=/tmp",
        "IEXEC_TASK_ID=0x01",
        "LANG=C.UTF-8",
        "PATH=/usr/local/bin:/usr/bin:/bin",
        "--",
        "python3",
        "/app/main.py",
        "10",
    ]
    assert "-e" not in argv and "--env" not in argv


def test_a_missing_engine_makes_the_runner_unavailable(tmp_path: Path):
    runner = ContainerRunner(engine=str(tmp_path / "docker"))
    assert not runner.available()
    assert runner.why_unavailable() == f"{tmp_path / 'docker'} is not installed"
    with pytest.raises(SandboxError, match="is unavailable"):
        runner.run(RunSpec(command=["true"], input_dir=tmp_path, output_dir=tmp_path))


def test_an_engine_that_does_not_answer_makes_the_runner_unavailable(tmp_path: Path):
    engine = tmp_path / "docker"
    engine.write_text("#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n")
    engine.chmod(0o755)
    runner = ContainerRunner(engine=str(engine))
    assert (
        runner.why_unavailable()
        == "`" + str(engine) + " info` failed: Cannot connect to the Docker daemon"
    )
    assert runner.describe().endswith("unavailable (" + runner.why_unavailable() + ")")


@pytest.mark.skipif(shutil.which("docker") is None, reason="no docker client here")
def test_the_docker_client_alone_is_not_enough():
    runner = ContainerRunner()
    if runner.available():
        pytest.skip("a docker engine answers here")
    assert runner.why_unavailable().startswith("`docker info` failed")
