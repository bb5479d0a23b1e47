"""Checking what an app left in /iexec_out, without ever following its symlinks."""

import os
from pathlib import Path

import pytest

from nuage.sandbox import check_output, safe_output_files
from nuage.sandbox.output import inspect_output, output_size

LIMIT = 1000


@pytest.fixture
def output(tmp_path: Path) -> Path:
    directory = tmp_path / "out"
    (directory / "sub").mkdir(parents=True)
    (directory / "computed.json").write_text("{}")
    (directory / "sub" / "result.bin").write_bytes(b"x" * 100)
    return directory


def test_a_plain_output_is_accepted_and_listed(output: Path):
    assert check_output(output, LIMIT) is None
    assert safe_output_files(output) == [output / "computed.json", output / "sub" / "result.bin"]
    report = inspect_output(output)
    assert (report.total_bytes, report.files) == (102, 2)


def test_an_output_over_the_limit_is_refused(output: Path):
    (output / "big").write_bytes(b"x" * LIMIT)
    assert check_output(output, LIMIT) == "output exceeds 1000 bytes"
    assert output_size(output) == LIMIT + 102


def test_output_size_stops_counting_past_the_bound(output: Path):
    for i in range(10):
        (output / f"part{i}").write_bytes(b"x" * 100)
    assert 200 < output_size(output, stop_above=200) < 1102


@pytest.mark.parametrize(
    "target",
    ["/etc/passwd", "/root/.nuage/keystore.json", "../../outside", "../sub/../..", "/iexec_out"],
)
def test_a_symlink_pointing_outside_is_refused(output: Path, target: str):
    os.symlink(target, output / "sub" / "leak")
    assert check_output(output, LIMIT) == (
        f"output contains a symlink pointing outside /iexec_out: sub/leak -> {target}"
    )
    assert output / "sub" / "leak" not in safe_output_files(output)


def test_links_that_escape_only_together_are_refused(output: Path):
    # each looks harmless on paper; resolved for real, b is the output's parent
    os.symlink(".", output / "a")
    os.symlink("a/..", output / "b")
    assert check_output(output, LIMIT) == (
        "output contains a symlink pointing outside /iexec_out: b -> a/.."
    )


def test_a_symlink_inside_the_output_is_accepted_but_never_listed(output: Path):
    os.symlink("sub/result.bin", output / "alias")
    os.symlink("sub", output / "linked-dir")
    assert check_output(output, LIMIT) is None
    assert safe_output_files(output) == [output / "computed.json", output / "sub" / "result.bin"]


def test_a_symlinked_directory_outside_is_not_entered(output: Path, tmp_path: Path):
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "key").write_text("private")
    os.symlink(secrets, output / "more")
    assert check_output(output, LIMIT) is not None
    assert output_size(output) == 102
    assert all(secrets not in path.parents for path in safe_output_files(output))


def test_a_fifo_is_refused(output: Path):
    os.mkfifo(output / "sub" / "pipe")
    assert check_output(output, LIMIT) == (
        "output contains a FIFO, which is not a regular file: sub/pipe"
    )
    assert output / "sub" / "pipe" not in safe_output_files(output)


def test_names_with_control_characters_are_shown_escaped(output: Path):
    os.symlink("/etc/passwd", output / "evil\x1b[2Jname")
    reason = check_output(output, LIMIT)
    assert reason is not None and "\x1b" not in reason and "evil\\x1b[2Jname" in reason


def test_a_missing_output_is_empty(tmp_path: Path):
    assert output_size(tmp_path / "missing") == 0
    assert safe_output_files(tmp_path / "missing") == []
