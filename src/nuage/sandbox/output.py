"""What an app left in ``/iexec_out``, checked before the worker touches it.

The output directory is written by untrusted code, so the worker treats it as hostile: a symlink
``result -> /root/.nuage/keystore.json`` would hand the worker's key to whoever reads the
uploaded result if the worker followed it when zipping, and a FIFO would block the zipper
forever. After a run the runner fails the result when the output holds a symlink that resolves
outside the output directory, a special file (FIFO, socket, device), or more bytes than the
limit; `safe_output_files` lists what may be read: regular files only, found without following
any symlink.

@custom:security Only call these once every process of the run is dead (every runner ensures it
before returning): a live process could swap a file for a link between the check and the read.
Readers should still open the listed files with ``O_NOFOLLOW``.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from nuage.sandbox.runner import OUTPUT_MOUNT, format_bytes

__all__ = [
    "OutputReport",
    "check_output",
    "inspect_output",
    "output_size",
    "safe_output_files",
]

_MAX_SHOWN = 200


@dataclass(frozen=True)
class OutputReport:
    """The facts about an output directory that decide whether it is acceptable."""

    total_bytes: int
    files: int
    escaping_links: tuple[tuple[str, str], ...]  # (path inside the output, link target)
    special_files: tuple[tuple[str, str], ...]  # (path inside the output, kind)


def inspect_output(output_dir: Path) -> OutputReport:
    """Walk the output without following symlinks and report its size and every bad entry."""
    root = os.path.realpath(output_dir)
    total = files = 0
    escaping: list[tuple[str, str]] = []
    special: list[tuple[str, str]] = []
    for entry, st in _walk(Path(root)):
        relative = os.path.relpath(entry, root)
        if stat.S_ISREG(st.st_mode):
            total += st.st_size
            files += 1
        elif stat.S_ISLNK(st.st_mode):
            if not _resolves_inside(entry, root):
                escaping.append((relative, os.readlink(entry)))
        elif not stat.S_ISDIR(st.st_mode):
            special.append((relative, _kind(st.st_mode)))
    return OutputReport(total, files, tuple(escaping), tuple(special))


def check_output(output_dir: Path, max_bytes: int) -> str | None:
    """Why the output is unacceptable, in words, or None when it is fine."""
    report = inspect_output(output_dir)
    if report.escaping_links:
        path, target = report.escaping_links[0]
        return (
            f"output contains a symlink pointing outside {OUTPUT_MOUNT}: "
            f"{_shown(path)} -> {_shown(target)}"
        )
    if report.special_files:
        path, kind = report.special_files[0]
        return f"output contains a {kind}, which is not a regular file: {_shown(path)}"
    if report.total_bytes > max_bytes:
        return f"output exceeds {format_bytes(max_bytes)}"
    return None


def output_size(output_dir: Path, stop_above: int | None = None) -> int:
    """Total bytes of the regular files in the output; stops counting once above ``stop_above``.

    Used while the app runs to stop it early when it floods the disk, so it tolerates entries
    vanishing under it.
    """
    total = 0
    for _, st in _walk(output_dir):
        if stat.S_ISREG(st.st_mode):
            total += st.st_size
            if stop_above is not None and total > stop_above:
                break
    return total


def safe_output_files(output_dir: Path) -> list[Path]:
    """The regular files of the output, sorted, as paths under ``output_dir``.

    Symlinks are never followed nor listed, even those pointing inside the output; directories
    reached through a symlink are not entered; FIFOs, sockets and devices are left out.
    """
    return sorted(entry for entry, st in _walk(output_dir) if stat.S_ISREG(st.st_mode))


def _walk(top: Path) -> Iterator[tuple[Path, os.stat_result]]:
    """Every entry under ``top`` with its lstat, depth first, never through a symlink."""
    pending = [top]
    while pending:
        directory = pending.pop()
        try:
            with os.scandir(directory) as entries:
                listed = list(entries)
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
        for entry in listed:
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            path = Path(entry.path)
            if stat.S_ISDIR(st.st_mode):
                pending.append(path)
            yield path, st


def _resolves_inside(link: Path, root: str) -> bool:
    """Whether the symlink, resolved on the host as the kernel would, lands inside ``root``.

    Resolving for real (not lexically) matters: ``a -> .`` and ``b -> a/..`` are each harmless
    on paper, yet ``b`` resolves to the parent of the output.
    """
    resolved = os.path.realpath(link)
    return resolved == root or resolved.startswith(root + os.sep)


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "special file"


def _shown(text: str) -> str:
    """A name from the app, safe to print: control characters escaped, length bounded."""
    shown = text if text.isprintable() else ascii(text)[1:-1]
    return shown if len(shown) <= _MAX_SHOWN else shown[:_MAX_SHOWN] + "…"
