"""The app conventions: environment, computed.json, digests, error results, the result zip."""

from __future__ import annotations

import hashlib
import json
import os
import textwrap
import zipfile
from pathlib import Path

import pytest
from eth_utils import keccak

from nuage.apps import Manifest
from nuage.exceptions import SandboxError
from nuage.sandbox import Limits, Runner, RunResult, default_runner
from nuage.worker.execution import (
    ParamsError,
    TaskContext,
    directory_digest,
    error_result,
    execute,
    parse_params,
    read_result,
    task_environment,
    zip_result,
)

CONTEXT = TaskContext(
    task_id=b"\x11" * 32, deal_id=b"\x22" * 32, index=3, bot_first=2, bot_size=5, args=["7"]
)
LIMITS = Limits(wall_clock_s=5, cpu_time_s=5, memory_bytes=256 * 1024 * 1024)


def run_result(failure: str | None = None, exit_code: int | None = 0, signal: int | None = None):
    return RunResult(
        runner="fake",
        failure=failure,
        exit_code=exit_code,
        signal=signal,
        stdout=b"",
        stderr=b"Traceback: boom\n",
        stdout_truncated=False,
        stderr_truncated=False,
        wall_s=0.1,
        cpu_s=0.1,
        output_bytes=0,
    )


def write_output(directory: Path, computed: dict[str, str] | None, **files: bytes) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (directory / name).write_bytes(content)
    if computed is not None:
        (directory / "computed.json").write_text(json.dumps(computed))
    return directory


def test_params_give_arguments_and_input_files():
    assert parse_params("") == ([], [])
    assert parse_params('{"iexec_args": "10 \'two words\'"}') == (["10", "two words"], [])
    files = parse_params('{"iexec_input_files": ["' + "ab" * 32 + '"]}')[1]
    assert files == ["ab" * 32]
    for bad in ("not json", "[1]", '{"iexec_args": 3}', '{"iexec_input_files": "x"}'):
        with pytest.raises(ParamsError):
            parse_params(bad)


def test_the_environment_follows_the_iexec_names():
    context = TaskContext(
        task_id=b"\x11" * 32,
        deal_id=b"\x22" * 32,
        index=3,
        bot_first=2,
        bot_size=5,
        input_files=[("a.txt", Path("/x")), ("b.csv", Path("/y"))],
        dataset=("0x" + "33" * 20, "0x" + "33" * 20, Path("/z")),
    )
    env = task_environment(context)
    assert env["IEXEC_TASK_ID"] == "0x" + "11" * 32
    assert env["IEXEC_DEAL_ID"] == "0x" + "22" * 32
    assert (env["IEXEC_BOT_TASK_INDEX"], env["IEXEC_BOT_FIRST_INDEX"], env["IEXEC_BOT_SIZE"]) == (
        "3",
        "2",
        "5",
    )
    assert env["IEXEC_INPUT_FILES_NUMBER"] == "2"
    assert env["IEXEC_INPUT_FILE_NAME_2"] == "b.csv"
    assert env["IEXEC_DATASET_FILENAME"] == "0x" + "33" * 20
    assert (env["IEXEC_IN"], env["IEXEC_OUT"]) == ("/iexec_in", "/iexec_out")


def test_a_file_output_is_digested_with_sha256(tmp_path: Path):
    out = write_output(
        tmp_path / "out",
        {"deterministic-output-path": "/iexec_out/result.txt"},
        **{"result.txt": b"42\n"},
    )
    result = read_result(out, run_result(), tmp_path / "err")
    assert result.digest == hashlib.sha256(b"42\n").digest()
    assert result.error is None and result.callback_data == b""


def test_callback_data_is_digested_with_keccak(tmp_path: Path):
    out = write_output(
        tmp_path / "out",
        {"deterministic-output-path": "/iexec_out", "callback-data": "0x" + b"answer".hex()},
    )
    result = read_result(out, run_result(), tmp_path / "err")
    assert (result.digest, result.callback_data) == (keccak(b"answer"), b"answer")


def test_a_directory_digest_depends_on_names_and_contents_not_on_creation_order(tmp_path: Path):
    first = tmp_path / "one"
    (first / "sub").mkdir(parents=True)
    (first / "b.txt").write_bytes(b"b")
    (first / "sub" / "a.txt").write_bytes(b"a")
    second = tmp_path / "two"
    (second / "sub").mkdir(parents=True)
    (second / "sub" / "a.txt").write_bytes(b"a")
    (second / "b.txt").write_bytes(b"b")
    assert directory_digest(first) == directory_digest(second)
    (second / "b.txt").rename(second / "c.txt")
    assert directory_digest(first) != directory_digest(second)


@pytest.mark.parametrize(
    ("computed", "message"),
    [
        (None, "the app wrote no computed.json"),
        ({"deterministic-output-path": "/etc/passwd"}, "is not in /iexec_out"),
        ({"deterministic-output-path": "/iexec_out/../x"}, "leaves /iexec_out"),
        ({"deterministic-output-path": "/iexec_out/missing"}, "does not exist"),
        ({"callback-data": "0xzz"}, "callback-data in computed.json is not hex"),
        ({"other": "x"}, "computed.json names no deterministic-output-path"),
    ],
)
def test_unusable_computed_json_gives_the_same_error_result_everywhere(
    tmp_path: Path, computed: dict[str, str] | None, message: str
):
    results = [
        read_result(write_output(tmp_path / f"out{n}", computed), run_result(), tmp_path / f"e{n}")
        for n in range(2)
    ]
    assert results[0].digest == results[1].digest
    assert message in (results[0].error or "")
    body = (results[0].output_dir / "error.json").read_bytes()
    assert results[0].digest == hashlib.sha256(body).digest()
    assert json.loads(body) == {"error": results[0].error}


def test_a_symlinked_output_path_is_refused(tmp_path: Path):
    out = write_output(tmp_path / "out", {"deterministic-output-path": "/iexec_out/link"})
    (out / "link").symlink_to(out / "computed.json")
    assert "symlink" in (read_result(out, run_result(), tmp_path / "err").error or "")


def test_a_limit_hit_is_an_error_result_whatever_the_app_wrote(tmp_path: Path):
    out = write_output(
        tmp_path / "out", {"deterministic-output-path": "/iexec_out/r"}, r=b"partial"
    )
    failure = "wall-clock limit of 5 s exceeded"
    result = read_result(out, run_result(failure, None, 9), tmp_path / "err")
    assert result.error == f"the app failed: {failure}"
    assert (result.output_dir / "stderr.txt").read_bytes() == b"Traceback: boom\n"


def test_an_app_reporting_its_own_error_with_an_exit_status_keeps_its_result(tmp_path: Path):
    out = write_output(
        tmp_path / "out",
        {"deterministic-output-path": "/iexec_out/error.txt", "error-message": "N < 0"},
        **{"error.txt": b"error: N < 0\n"},
    )
    result = read_result(out, run_result("exit status 1", 1), tmp_path / "err")
    assert result.digest == hashlib.sha256(b"error: N < 0\n").digest()
    assert result.error == "N < 0"


def test_the_result_zip_is_the_same_bytes_for_the_same_output(tmp_path: Path):
    zips = []
    for n, order in enumerate((("a", "b"), ("b", "a"))):
        out = tmp_path / f"out{n}"
        out.mkdir()
        for name in order:
            (out / name).write_bytes(name.encode())
            os.utime(out / name, (n * 1000, n * 1000))
        (out / "escape").symlink_to("/etc/passwd")
        zips.append(zip_result(out, tmp_path / f"r{n}.zip").read_bytes())
    assert zips[0] == zips[1]
    with zipfile.ZipFile(tmp_path / "r0.zip") as archive:
        assert archive.namelist() == ["a", "b"]


def test_error_results_replace_a_previous_attempt(tmp_path: Path):
    first = error_result(tmp_path / "err", "one", b"x")
    second = error_result(tmp_path / "err", "two")
    assert first.digest != second.digest
    assert sorted(p.name for p in second.output_dir.iterdir()) == ["computed.json", "error.json"]


# -- in the real sandbox ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def runner() -> Runner:
    try:
        return default_runner()
    except SandboxError as error:
        pytest.skip(f"no sandbox here: {error}")


def app(tmp_path: Path, source: str) -> tuple[Path, Manifest]:
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    (app_dir / "main.py").write_text(textwrap.dedent(source))
    app_dir.chmod(0o755)
    return app_dir, Manifest(name="test", entrypoint="main.py")


def test_the_app_sees_its_environment_arguments_and_inputs(runner: Runner, tmp_path: Path):
    app_dir, manifest = app(
        tmp_path,
        """
        import json, os, sys
        out = os.environ["IEXEC_OUT"]
        name = os.environ["IEXEC_INPUT_FILE_NAME_1"]
        data = open(os.path.join(os.environ["IEXEC_IN"], name)).read()
        seen = [sys.argv[1:], os.environ["IEXEC_BOT_TASK_INDEX"], data]
        open(os.path.join(out, "seen.json"), "w").write(json.dumps(seen))
        computed = {"deterministic-output-path": out + "/seen.json"}
        json.dump(computed, open(out + "/computed.json", "w"))
        """,
    )
    source = tmp_path / "input.txt"
    source.write_text("hello")
    context = TaskContext(
        task_id=b"\x11" * 32,
        deal_id=b"\x22" * 32,
        index=3,
        bot_first=2,
        bot_size=5,
        args=["a b", "c"],
        input_files=[("input.txt", source)],
    )
    result = execute(runner, app_dir, manifest, context, tmp_path / "work", LIMITS)
    assert result.error is None
    seen = json.loads((result.output_dir / "seen.json").read_text())
    assert seen == [["a b", "c"], "3", "hello"]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "raise SystemExit(3)",
            "the app failed (exit status 3) and the app wrote no computed.json",
        ),
        ("while True: pass", "the app failed: wall-clock limit of 1 s exceeded"),
        ("pass", "the app wrote no computed.json"),
    ],
)
def test_crashes_loops_and_silence_end_in_error_results(
    runner: Runner, tmp_path: Path, source: str, message: str
):
    app_dir, manifest = app(tmp_path, source)
    limits = Limits(wall_clock_s=1, cpu_time_s=5, memory_bytes=256 * 1024 * 1024)
    result = execute(runner, app_dir, manifest, CONTEXT, tmp_path / "work", limits)
    assert result.error == message
    assert json.loads((result.output_dir / "error.json").read_text()) == {"error": message}
