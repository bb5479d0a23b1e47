"""Content-addressed blobs on disk: a blob's id is the sha256 of its bytes, in lowercase hex.

Layout under the root directory::

    blobs/ab/cdef…   a blob, sharded by the first two hex digits of its id
    tmp/             uploads in progress; each is renamed into blobs/ once complete and verified

A blob appears under its id only whole and verified: bytes go to a temp file in ``tmp/`` (same
filesystem), which is fsynced, checked against the id, then hard-linked to its final name (atomic,
never overwrites) and the directory fsynced. An interrupted upload leaves at most a temp file,
which the writer removes, or, after a crash, :meth:`BlobStore.remove_leftover_temp_files` does at
startup. Each writer holds an exclusive ``flock`` on its temp file so that this cleanup never
removes an upload still in progress in another process sharing the root.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import logging
import os
import re
import tempfile
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from nuage.exceptions import StorageError

__all__ = [
    "BlobStore",
    "BlobTooLarge",
    "BlobWriter",
    "DigestMismatch",
    "InvalidBlobId",
    "check_blob_id",
    "is_blob_id",
]

logger = logging.getLogger(__name__)

_BLOB_ID = re.compile(r"[0-9a-f]{64}")
_TEMP_SUFFIX = ".part"
_BLOB_MODE = 0o644  # blobs are public by nature: anyone who knows the id may read them


class InvalidBlobId(StorageError):
    """A string that is not 64 lowercase hex digits was given as a blob id."""


class BlobTooLarge(StorageError):
    """An upload is larger than the store accepts."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(
            f"the blob is larger than this storage accepts ({limit:,} bytes): split it, "
            "or raise the limit (`nuage storage serve --max-size`)"
        )


class DigestMismatch(StorageError):
    """The uploaded bytes do not hash to the id they were uploaded under."""

    def __init__(self, expected: str, actual: str) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"the uploaded bytes have sha256 {actual}, not the blob id {expected}: "
            "the upload was corrupted or named wrongly; upload it again under its sha256"
        )


def is_blob_id(value: str) -> bool:
    """Whether ``value`` is a well-formed blob id (64 lowercase hex digits)."""
    return _BLOB_ID.fullmatch(value) is not None


def check_blob_id(value: str) -> str:
    """``value`` if it is a well-formed blob id, else an :class:`InvalidBlobId`."""
    if not is_blob_id(value):
        shown = value if len(value) <= 80 else value[:77] + "..."
        raise InvalidBlobId(
            f"{shown!r} is not a blob id: a blob id is the sha256 of the content "
            "as 64 lowercase hex digits"
        )
    return value


class BlobStore:
    """The blobs under one root directory; safe to share between threads and processes."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.blobs_dir = self.root / "blobs"
        self.temp_dir = self.root / "tmp"
        self.blobs_dir.mkdir(parents=True, exist_ok=True)
        self.temp_dir.mkdir(parents=True, exist_ok=True)

    def path(self, blob_id: str) -> Path:
        """Where the blob ``blob_id`` lives (or would live) on disk."""
        check_blob_id(blob_id)
        return self.blobs_dir / blob_id[:2] / blob_id[2:]

    def size(self, blob_id: str) -> int | None:
        """The blob's size in bytes, or None when it is not stored."""
        try:
            return self.path(blob_id).stat().st_size
        except FileNotFoundError:
            return None

    def exists(self, blob_id: str) -> bool:
        """Whether the blob is stored."""
        return self.size(blob_id) is not None

    def open(self, blob_id: str) -> BinaryIO | None:
        """The blob opened for reading, or None when it is not stored."""
        try:
            return self.path(blob_id).open("rb")
        except FileNotFoundError:
            return None

    def writer(self, blob_id: str, *, max_bytes: int | None = None) -> BlobWriter:
        """A writer for an upload claimed to hash to ``blob_id``; see :class:`BlobWriter`."""
        return BlobWriter(self, check_blob_id(blob_id), max_bytes=max_bytes)

    def put_bytes(self, data: bytes) -> tuple[str, bool]:
        """Store ``data``; return its id and whether it was newly created."""
        blob_id = hashlib.sha256(data).hexdigest()
        with self.writer(blob_id) as writer:
            writer.write(data)
            return blob_id, writer.commit()

    def remove_leftover_temp_files(self) -> int:
        """Delete temp files that no writer holds (left by a crash); return how many."""
        removed = 0
        for candidate in self.temp_dir.iterdir():
            if candidate.is_file() and _remove_if_unlocked(candidate):
                removed += 1
        if removed:
            logger.info("removed %d temp file(s) left by interrupted uploads", removed)
        return removed


class BlobWriter:
    """One upload: write its bytes, then :meth:`commit` to verify and publish it under its id.

    Used as a context manager; leaving the block without committing (an error, a disconnected
    client) deletes the temp file, so nothing partial is ever visible. When the blob is already
    stored, the writer only hashes the bytes (to check the claim) and writes nothing.
    """

    def __init__(self, store: BlobStore, blob_id: str, *, max_bytes: int | None = None) -> None:
        self.store = store
        self.blob_id = blob_id
        self.max_bytes = max_bytes
        self.size = 0
        self._hash = hashlib.sha256()
        self._file: BinaryIO | None = None
        self._temp_path: Path | None = None
        self._done = False
        if not store.exists(blob_id):
            self._open_temp_file()

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.abort()

    def write(self, chunk: bytes) -> None:
        """Append ``chunk``; raises :class:`BlobTooLarge` past the size limit."""
        if self._done:
            raise StorageError("this upload is already committed or aborted")
        self.size += len(chunk)
        if self.max_bytes is not None and self.size > self.max_bytes:
            raise BlobTooLarge(self.max_bytes)
        self._hash.update(chunk)
        if self._file is not None:
            self._file.write(chunk)

    def commit(self) -> bool:
        """Verify the bytes against the id and publish the blob; True if it was newly stored.

        Raises :class:`DigestMismatch` (and stores nothing) when the bytes hash to another id.
        """
        if self._done:
            raise StorageError("this upload is already committed or aborted")
        actual = self._hash.hexdigest()
        if actual != self.blob_id:
            raise DigestMismatch(self.blob_id, actual)
        if self._file is None:  # already stored when the upload began
            self._done = True
            return False
        self._file.flush()
        os.fsync(self._file.fileno())
        created = _publish(self._temp_path_or_fail(), self.store.path(self.blob_id))
        self.abort()  # closes and unlinks the temp name; the blob keeps its own link
        return created

    def abort(self) -> None:
        """Drop the upload: close and delete the temp file. Safe to call more than once."""
        self._done = True
        if self._file is not None:
            self._file.close()  # also releases the flock
            self._file = None
        if self._temp_path is not None:
            with contextlib.suppress(FileNotFoundError):
                self._temp_path.unlink()
            self._temp_path = None

    def _open_temp_file(self) -> None:
        descriptor, name = tempfile.mkstemp(
            dir=self.store.temp_dir, prefix=self.blob_id[:16] + ".", suffix=_TEMP_SUFFIX
        )
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.fchmod(descriptor, _BLOB_MODE)
        except BaseException:
            os.close(descriptor)
            os.unlink(name)
            raise
        self._temp_path = Path(name)
        self._file = os.fdopen(descriptor, "wb")

    def _temp_path_or_fail(self) -> Path:
        if self._temp_path is None:
            raise StorageError("this upload has no temp file")
        return self._temp_path


def _publish(temp_path: Path, final_path: Path) -> bool:
    """Give the complete temp file its final name, atomically; False if the blob was there."""
    shard_dir = final_path.parent
    if not shard_dir.is_dir():
        shard_dir.mkdir(exist_ok=True)
        _fsync_directory(shard_dir.parent)
    try:
        # a hard link never replaces an existing blob, so "created" is exact under races
        os.link(temp_path, final_path)
    except FileExistsError:
        return False
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
            raise
        # a filesystem without hard links: rename, which is atomic too (same bytes if raced)
        if final_path.exists():
            return False
        os.replace(temp_path, final_path)
    _fsync_directory(shard_dir)
    return True


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _remove_if_unlocked(path: Path) -> bool:
    """Delete ``path`` unless a live writer holds its lock; True if it was deleted."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # an upload in progress
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            return True
        return False
    finally:
        os.close(descriptor)
