"""Letting an unprivileged sandbox uid read the inputs and write the output, and taking it back.

When the worker is root, the app runs as a uid of its own (see ``bubblewrap.py``), not as the
worker; so before the run the input and app trees are made readable by "others" and the output
directory is lent to the app's uid, and after the run everything in the output is given back
to the output directory's owner.

@custom:security Granting "others" read access inside ``input_dir`` does not open the inputs to
the host's users as long as a directory above them is private (the worker's work directory
should be 0700): the sandbox reaches them through a bind mount, which needs no search
permission on their ancestors, while host users do.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from nuage.exceptions import SandboxError

__all__ = ["give_back", "grant_read", "lend", "lent_to"]


@contextlib.contextmanager
def lent_to(
    uid: int, gid: int, *, readable: Iterable[Path | None], writable: Path
) -> Iterator[None]:
    """For the time of a run: ``readable`` trees readable by others, ``writable`` lent to
    ``uid``:``gid``; then everything in ``writable`` given back to its owner."""
    try:
        for tree in readable:
            if tree is not None:
                grant_read(tree)
        owner = lend(writable, uid, gid)
    except OSError as error:
        raise SandboxError(f"cannot prepare the run's directories: {error}") from error
    try:
        yield
    finally:
        give_back(writable, owner)


def grant_read(top: Path) -> None:
    """Add read (and search, for directories and owner-executable files) for "others".

    Never follows a symlink and never removes a permission.
    """
    for path in _tree(top):
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode):
            continue
        wanted = st.st_mode | stat.S_IROTH
        if stat.S_ISDIR(st.st_mode) or st.st_mode & stat.S_IXUSR:
            wanted |= stat.S_IXOTH
        if wanted != st.st_mode:
            os.chmod(path, stat.S_IMODE(wanted))


def lend(directory: Path, uid: int, gid: int) -> tuple[int, int]:
    """Make ``directory`` (not its contents) owned by ``uid``:``gid``; return its old owner."""
    st = directory.lstat()
    os.chown(directory, uid, gid, follow_symlinks=False)
    return st.st_uid, st.st_gid


def give_back(directory: Path, owner: tuple[int, int]) -> None:
    """Make ``directory`` and everything under it owned by ``owner``, symlinks themselves too.

    Only once the run's processes are dead. The kernel drops setuid and setgid bits on chown.
    """
    uid, gid = owner
    for path in _tree(directory):
        with contextlib.suppress(FileNotFoundError):
            os.chown(path, uid, gid, follow_symlinks=False)


def _tree(top: Path) -> Iterator[Path]:
    """``top`` and every entry under it, not entering symlinked directories."""
    yield top
    for root, dirs, files in os.walk(top, followlinks=False):
        for name in (*dirs, *files):
            yield Path(root) / name
