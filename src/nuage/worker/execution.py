"""Running a task's app the iExec way, and what its result is (SPEC §4).

The app sees its inputs in `/iexec_in` (read-only) and writes to `/iexec_out`; the variables
IEXEC_IN, IEXEC_OUT, IEXEC_TASK_ID, IEXEC_DEAL_ID, IEXEC_BOT_SIZE, IEXEC_BOT_FIRST_INDEX,
IEXEC_BOT_TASK_INDEX, IEXEC_DATASET_ADDRESS, IEXEC_DATASET_FILENAME, IEXEC_INPUT_FILES_FOLDER,
IEXEC_INPUT_FILES_NUMBER and IEXEC_INPUT_FILE_NAME_<n> describe them, and the deal's
`iexec_args` are appended to the bundle's command. It must write `/iexec_out/computed.json`:

    {"deterministic-output-path": "/iexec_out/result.txt",  # a file or a directory
     "callback-data": "0x…",                                 # optional: the on-chain answer
     "error-message": "…"}                                   # optional: why it gave up

The **digest** workers vote on is keccak256(callback-data) when there is callback data, else the
sha256 of the deterministic output. For a directory: sha256 over its regular files in sorted
order of their paths, each contributing ``path (UTF-8) || 0x00 || sha256(content) || 0x0a``.

An app that crashes, runs out of a limit or writes no usable `computed.json` yields a
**deterministic error result**: an output holding `computed.json` and `error.json`
(``{"error": MESSAGE}``, canonical JSON, digested like any output), so every honest worker
votes the same digest and the requester reads why in the result. An app that exits with an
error status after writing a valid `computed.json` (it reported bad input itself) keeps its own
result.

The **result** uploaded to storage is a zip of the output's regular files (symlinks are never
followed nor stored), entries sorted, timestamps fixed at 1980-01-01, mode 0644: the same
output gives the same bytes, hence the same blob id, on every worker.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shlex
import shutil
import stat
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from eth_utils import keccak

from nuage.apps import Manifest
from nuage.sandbox import (
    INPUT_MOUNT,
    OUTPUT_MOUNT,
    Limits,
    Runner,
    RunResult,
    RunSpec,
    safe_output_files,
)
from nuage.sandbox.output import check_output

__all__ = [
    "COMPUTED_JSON",
    "ERROR_JSON",
    "MAX_CALLBACK_DATA",
    "ComputedResult",
    "TaskContext",
    "directory_digest",
    "error_result",
    "execute",
    "output_digest",
    "parse_params",
    "read_result",
    "task_environment",
    "zip_result",
]

COMPUTED_JSON = "computed.json"
ERROR_JSON = "error.json"
STDERR_TAIL = "stderr.txt"
MAX_COMPUTED_JSON = 64 * 1024
MAX_CALLBACK_DATA = 1024  # poco.vy: what finalize can pass to a callback
MAX_STDERR_TAIL = 16 * 1024
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


class ParamsError(ValueError):
    """The deal's params cannot be used: the same for every worker, so an error result."""


@dataclass(frozen=True)
class TaskContext:
    """What the app is told about its task, and the files it gets."""

    task_id: bytes
    deal_id: bytes
    index: int
    bot_first: int
    bot_size: int
    args: Sequence[str] = ()
    input_files: Sequence[tuple[str, Path]] = ()  # (file name in /iexec_in, local copy)
    dataset: tuple[str, str, Path] | None = None  # (address, file name, local copy)


@dataclass(frozen=True)
class ComputedResult:
    """What a run produced: the digest to vote, the callback data, the output to upload."""

    digest: bytes
    callback_data: bytes
    output_dir: Path
    error: str | None = None  # the app's error-message, or why the run failed
    logs: Mapping[str, bytes] = field(default_factory=dict)  # "stdout", "stderr" (bounded)
    exit_code: int | None = None  # the app's exit status; None: a signal, or it never ran
    failure: str | None = None  # the sandbox's words when the run failed (RunResult.failure)


def parse_params(params: str) -> tuple[list[str], list[str]]:
    """(arguments, input file references) from a deal's params (JSON, iExec's keys).

    Empty params mean no arguments. `iexec_args` is a command line (shell-quoted words);
    `iexec_input_files` a list of references. Raises ParamsError when they are unusable.
    """
    if not params.strip():
        return [], []
    try:
        raw = json.loads(params)
    except json.JSONDecodeError as error:
        raise ParamsError(f"the deal's params are not JSON: {error.msg}") from None
    if not isinstance(raw, dict):
        raise ParamsError("the deal's params must be a JSON object")
    args_text = raw.get("iexec_args", "")
    if not isinstance(args_text, str):
        raise ParamsError("iexec_args must be a string (a command line)")
    try:
        args = shlex.split(args_text)
    except ValueError as error:
        raise ParamsError(f"iexec_args is not a command line: {error}") from None
    files = raw.get("iexec_input_files", [])
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        raise ParamsError("iexec_input_files must be a list of strings")
    return args, list(files)


def task_environment(context: TaskContext) -> dict[str, str]:
    """The IEXEC_* variables of a run."""
    env = {
        "IEXEC_IN": INPUT_MOUNT,
        "IEXEC_OUT": OUTPUT_MOUNT,
        "IEXEC_TASK_ID": "0x" + context.task_id.hex(),
        "IEXEC_DEAL_ID": "0x" + context.deal_id.hex(),
        "IEXEC_BOT_SIZE": str(context.bot_size),
        "IEXEC_BOT_FIRST_INDEX": str(context.bot_first),
        "IEXEC_BOT_TASK_INDEX": str(context.index),
        "IEXEC_INPUT_FILES_FOLDER": INPUT_MOUNT,
        "IEXEC_INPUT_FILES_NUMBER": str(len(context.input_files)),
        "IEXEC_DATASET_ADDRESS": "",
        "IEXEC_DATASET_FILENAME": "",
    }
    for number, (name, _) in enumerate(context.input_files, start=1):
        env[f"IEXEC_INPUT_FILE_NAME_{number}"] = name
    if context.dataset is not None:
        address, filename, _ = context.dataset
        env["IEXEC_DATASET_ADDRESS"] = address
        env["IEXEC_DATASET_FILENAME"] = filename
    return env


def execute(
    runner: Runner,
    app_dir: Path,
    manifest: Manifest,
    context: TaskContext,
    work_dir: Path,
    limits: Limits,
) -> ComputedResult:
    """Runs the app in the sandbox for `context`, in `work_dir` (created), and reads its result.

    Never raises for what the app does: a failure becomes an error result. Raises SandboxError
    only when the sandbox cannot start.
    """
    input_dir, output_dir = work_dir / "iexec_in", work_dir / "iexec_out"
    for directory in (input_dir, output_dir):
        if directory.exists():
            shutil.rmtree(directory)
        directory.mkdir(parents=True)
    for name, source in context.input_files:
        _place(source, input_dir / name)
    if context.dataset is not None:
        _place(context.dataset[2], input_dir / context.dataset[1])
    spec = RunSpec(
        command=manifest.command(list(context.args)),
        app_dir=app_dir,
        input_dir=input_dir,
        output_dir=output_dir,
        env={**manifest.environment(), **task_environment(context)},
        limits=limits,
    )
    run = runner.run(spec)
    return read_result(output_dir, run, work_dir / "error-result")


def read_result(output_dir: Path, run: RunResult, error_dir: Path) -> ComputedResult:
    """The result of a finished run whose output is `output_dir`.

    When the run failed in a way the app did not report itself, the result is an error result
    written into `error_dir`.
    """
    result = _result_of(output_dir, run, error_dir)
    return replace(result, exit_code=run.exit_code, failure=run.failure)


def _result_of(output_dir: Path, run: RunResult, error_dir: Path) -> ComputedResult:
    logs = {"stdout": run.stdout, "stderr": run.stderr}
    exited_with_error = (
        run.failure is not None
        and run.exit_code not in (None, 0)
        and run.signal is None
        and run.failure == f"exit status {run.exit_code}"
    )
    if run.failure is not None and not exited_with_error:
        return error_result(error_dir, f"the app failed: {run.failure}", run.stderr, logs)
    problem = check_output(output_dir, max_bytes=2**63)
    if problem is not None:
        return error_result(error_dir, f"the app's output is refused: {problem}", run.stderr, logs)
    try:
        computed = _read_computed(output_dir)
        digest, callback_data = _digest_of(computed, output_dir)
    except ValueError as error:
        message = str(error)
        if exited_with_error:
            message = f"the app failed ({run.failure}) and {message}"
        return error_result(error_dir, message, run.stderr, logs)
    app_error = computed.get("error-message")
    return ComputedResult(
        digest=digest,
        callback_data=callback_data,
        output_dir=output_dir,
        error=app_error if isinstance(app_error, str) else None,
        logs=logs,
    )


def error_result(
    error_dir: Path,
    message: str,
    stderr: bytes = b"",
    logs: Mapping[str, bytes] | None = None,
) -> ComputedResult:
    """The deterministic error result for `message`, written into `error_dir` (replaced).

    Its digest depends on the message only; the app's stderr (its last bytes) rides along in
    the zip for the requester, outside what is digested.
    """
    if error_dir.exists():
        shutil.rmtree(error_dir)
    error_dir.mkdir(parents=True)
    body = _canonical_json({"error": message})
    (error_dir / ERROR_JSON).write_bytes(body)
    computed = {
        "deterministic-output-path": f"{OUTPUT_MOUNT}/{ERROR_JSON}",
        "error-message": message,
    }
    (error_dir / COMPUTED_JSON).write_bytes(_canonical_json(computed))
    if stderr:
        (error_dir / STDERR_TAIL).write_bytes(stderr[-MAX_STDERR_TAIL:])
    return ComputedResult(
        digest=hashlib.sha256(body).digest(),
        callback_data=b"",
        output_dir=error_dir,
        error=message,
        logs=dict(logs or {}),
    )


def output_digest(path: Path) -> bytes:
    """sha256 of a file, or `directory_digest` of a directory; never through a symlink."""
    st = path.lstat()
    if stat.S_ISREG(st.st_mode):
        return _file_sha256(path)
    if stat.S_ISDIR(st.st_mode):
        return directory_digest(path)
    raise ValueError(f"the deterministic output {path.name} is not a regular file or directory")


def directory_digest(directory: Path) -> bytes:
    """sha256 over the directory's regular files: sorted paths, each with its own sha256."""
    digest = hashlib.sha256()
    entries = sorted(
        (path.relative_to(directory).as_posix(), path) for path in safe_output_files(directory)
    )
    for relative, path in entries:
        digest.update(relative.encode() + b"\0" + _file_sha256(path) + b"\n")
    return digest.digest()


def zip_result(output_dir: Path, destination: Path) -> Path:
    """The output's regular files as a deterministic zip at `destination`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(safe_output_files(output_dir)):
            info = zipfile.ZipInfo(path.relative_to(output_dir).as_posix(), date_time=_FIXED_TIME)
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            archive.writestr(info, _read_no_follow(path), compresslevel=6)
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".part")
    partial.write_bytes(buffer.getvalue())
    partial.replace(destination)
    return destination


# -- internals -------------------------------------------------------------------------------


def _read_computed(output_dir: Path) -> dict[str, Any]:
    path = output_dir / COMPUTED_JSON
    try:
        st = path.lstat()
    except FileNotFoundError:
        raise ValueError(f"the app wrote no {COMPUTED_JSON}") from None
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(f"the app's {COMPUTED_JSON} is not a regular file")
    if st.st_size > MAX_COMPUTED_JSON:
        raise ValueError(f"the app's {COMPUTED_JSON} is larger than {MAX_COMPUTED_JSON} bytes")
    try:
        computed = json.loads(_read_no_follow(path))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValueError(f"the app's {COMPUTED_JSON} is not valid JSON") from None
    if not isinstance(computed, dict):
        raise ValueError(f"the app's {COMPUTED_JSON} is not a JSON object")
    return computed


def _digest_of(computed: dict[str, Any], output_dir: Path) -> tuple[bytes, bytes]:
    callback = computed.get("callback-data")
    if callback is not None:
        if not isinstance(callback, str):
            raise ValueError("callback-data in computed.json must be a 0x-prefixed hex string")
        try:
            data = bytes.fromhex(callback.removeprefix("0x"))
        except ValueError:
            raise ValueError("callback-data in computed.json is not hex") from None
        if len(data) > MAX_CALLBACK_DATA:
            raise ValueError(f"callback-data is longer than {MAX_CALLBACK_DATA} bytes")
        return keccak(data), data
    declared = computed.get("deterministic-output-path")
    if not isinstance(declared, str) or not declared:
        raise ValueError("computed.json names no deterministic-output-path")
    return output_digest(_inside_output(declared, output_dir)), b""


def _inside_output(declared: str, output_dir: Path) -> Path:
    """The host path of a /iexec_out path the app declared, refusing anything outside."""
    path = PurePosixPath(declared)
    if path.is_absolute():
        try:
            path = path.relative_to(OUTPUT_MOUNT)
        except ValueError:
            raise ValueError(
                f"the deterministic output {declared} is not in {OUTPUT_MOUNT}"
            ) from None
    if ".." in path.parts:
        raise ValueError(f"the deterministic output {declared} leaves {OUTPUT_MOUNT}")
    host = output_dir.joinpath(*path.parts) if path.parts else output_dir
    current = output_dir
    for part in path.parts:  # no component may be a symlink
        current = current / part
        if current.is_symlink():
            raise ValueError(f"the deterministic output {declared} goes through a symlink")
    if not host.exists():
        raise ValueError(f"the deterministic output {declared} does not exist")
    return host


def _file_sha256(path: Path) -> bytes:
    digest = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as file:
        while chunk := file.read(1024 * 1024):
            digest.update(chunk)
    return digest.digest()


def _read_no_follow(path: Path) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as file:
        return file.read()


def _canonical_json(value: Any) -> bytes:
    return (
        json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        + b"\n"
    )


def _place(source: Path, target: Path) -> None:
    """Puts an input where the app sees it: a hard link when it can, else a copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
    target.chmod(0o644)
