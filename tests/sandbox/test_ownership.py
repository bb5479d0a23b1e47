"""Lending the run's directories to the app's uid, and taking them back."""

import os
import stat
from pathlib import Path

import pytest

from nuage.exceptions import SandboxError
from nuage.sandbox.ownership import grant_read, lent_to

APP_UID = 0x7000_0001

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="only root may chown")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_grant_read_adds_read_for_others_and_never_removes_anything(tmp_path: Path):
    tree = tmp_path / "in"
    (tree / "sub").mkdir(parents=True)
    tree.chmod(0o700)
    (tree / "sub").chmod(0o700)
    (tree / "data").write_text("x")
    (tree / "data").chmod(0o600)
    (tree / "run.sh").write_text("#!/bin/sh")
    (tree / "run.sh").chmod(0o700)
    (tree / "wide").write_text("x")
    (tree / "wide").chmod(0o666)
    outside = tmp_path / "outside"
    outside.write_text("secret")
    outside.chmod(0o600)
    os.symlink(outside, tree / "link")
    grant_read(tree)
    assert mode(tree) == mode(tree / "sub") == 0o705
    assert mode(tree / "data") == 0o604
    assert mode(tree / "run.sh") == 0o705
    assert mode(tree / "wide") == 0o666
    assert mode(outside) == 0o600  # the link was not followed


@needs_root
def test_the_output_is_lent_then_given_back_whole(tmp_path: Path):
    output = tmp_path / "out"
    output.mkdir()
    with lent_to(APP_UID, APP_UID, readable=[None], writable=output):
        assert output.stat().st_uid == APP_UID
        (output / "made").write_text("by the app")
        os.chown(output / "made", APP_UID, APP_UID)
        os.symlink("/etc/passwd", output / "link")
        os.lchown(output / "link", APP_UID, APP_UID)
    assert {p.lstat().st_uid for p in (output, output / "made", output / "link")} == {0}
    assert Path("/etc/passwd").stat().st_uid == 0


@needs_root
def test_the_output_is_given_back_even_when_the_run_fails(tmp_path: Path):
    output = tmp_path / "out"
    output.mkdir()
    with pytest.raises(RuntimeError), lent_to(APP_UID, APP_UID, readable=[], writable=output):
        raise RuntimeError("the sandbox broke")
    assert output.stat().st_uid == 0


def test_a_missing_output_cannot_be_lent(tmp_path: Path):
    with (
        pytest.raises(SandboxError, match="cannot prepare the run's directories"),
        lent_to(APP_UID, APP_UID, readable=[], writable=tmp_path / "missing"),
    ):
        pass
