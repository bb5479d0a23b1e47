"""Getting a task's files: the app bundle, the dataset, the input files, each checksum-verified.

Everything is cached by its sha256 under the worker's cache folder (`blobs/<sha256>`, and the
unpacked bundles under `apps/<sha256>/`), written atomically once verified, so a cached file is
always a verified one and a bundle is downloaded once per worker.

Where a file comes from:

- an app or dataset whose registry `multiaddr` is empty or a blob id: nuage storage, the blob
  being its checksum; an `http(s)://` multiaddr: that URL. Either way its sha256 must be the
  checksum registered on chain.
- an input file (`iexec_input_files` in the deal's params): a blob id (nuage storage), or an
  http(s) URL whose last path segment is the blob id (another storage service), or any http(s)
  URL ending in ``#sha256=<64 hex digits>``. An input without a checksum is refused.

Two kinds of failure: `InputRefused` when the deal itself is at fault (a reference without a
checksum, content that does not match it) — the same for every worker, so the task ends with an
error result — and `StorageError` when fetching failed here (storage down): the replicate is
given back and another worker may do better.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import httpx

from nuage.apps import MANIFEST, Manifest, load_manifest, unpack
from nuage.chain.bindings import AppRecord, DatasetRecord
from nuage.exceptions import StorageError
from nuage.storage.client import StorageClient

__all__ = ["Fetcher", "InputRefused"]

_BLOB_ID = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 1024 * 1024


class InputRefused(ValueError):
    """The deal names a file that cannot be used (no checksum, wrong content)."""


class Fetcher:
    """Downloads and caches the files of tasks; thread-safe."""

    def __init__(
        self,
        storage: StorageClient,
        cache_dir: Path,
        *,
        http: httpx.Client | None = None,
        max_bytes: int = 4 * 1024**3,
    ) -> None:
        self.storage = storage
        self.cache_dir = cache_dir
        self.max_bytes = max_bytes
        self._http = http or httpx.Client(timeout=60.0, follow_redirects=True)
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        for folder in ("blobs", "apps"):
            (cache_dir / folder).mkdir(parents=True, exist_ok=True)

    def close(self) -> None:
        self._http.close()

    # -- what a task needs -------------------------------------------------------------------

    def app(self, record: AppRecord) -> tuple[Path, Manifest]:
        """The app's bundle, unpacked (cached), and its manifest."""
        sha = record.checksum.hex()
        app_dir = self.cache_dir / "apps" / sha
        with self._lock(f"app {sha}"):
            if not (app_dir / MANIFEST).is_file():
                bundle = self._blob(sha, _location(record.multiaddr), f"the app {record.name}")
                scratch = Path(tempfile.mkdtemp(prefix=f".{sha}.", dir=app_dir.parent))
                try:
                    unpack(bundle, scratch)
                    scratch.chmod(0o755)
                    scratch.rename(app_dir)
                except BaseException:
                    shutil.rmtree(scratch, ignore_errors=True)
                    raise
        return app_dir, load_manifest((app_dir / MANIFEST).read_text(), f"{sha}:{MANIFEST}")

    def dataset(self, record: DatasetRecord) -> Path:
        sha = record.checksum.hex()
        return self._blob(sha, _location(record.multiaddr), f"the dataset {record.name}")

    def input_file(self, number: int, reference: str) -> tuple[str, Path]:
        """(name in /iexec_in, local copy) of the deal's input file `number` (from 1)."""
        reference = reference.strip()
        if _BLOB_ID.match(reference):
            return reference, self._blob(reference, "", f"input file {number}")
        parts = urlsplit(reference)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InputRefused(
                f"input file {number} ({reference[:200]}) is neither a blob id nor an http(s) URL"
            )
        name = PurePosixPath(parts.path).name
        fragment = parts.fragment
        if fragment.startswith("sha256=") and _BLOB_ID.match(fragment[7:].lower()):
            sha = fragment[7:].lower()
        elif _BLOB_ID.match(name):
            sha = name
        else:
            raise InputRefused(
                f"input file {number} ({reference[:200]}) carries no sha256: give a blob id, or "
                "a URL ending in #sha256=<64 hex digits>"
            )
        url = reference.split("#", 1)[0]
        return _safe_name(name, number), self._blob(sha, url, f"input file {number}")

    # -- the cache -----------------------------------------------------------------------------

    def _blob(self, sha: str, location: str, what: str) -> Path:
        path = self.cache_dir / "blobs" / sha
        with self._lock(sha):
            if path.is_file():
                return path
            if not location or _BLOB_ID.match(location):
                if location and location != sha:
                    raise InputRefused(
                        f"{what} is registered as blob {location} but checksum {sha}"
                    )
                self.storage.get_file(sha, path)  # verified against the id
            elif location.startswith(("http://", "https://")):
                self._download(location, sha, path, what)
            else:
                raise InputRefused(
                    f"{what} lives at {location[:200]}, which this worker cannot reach"
                )
            path.chmod(0o644)
        return path

    def _download(self, url: str, sha: str, path: Path, what: str) -> None:
        digest = hashlib.sha256()
        size = 0
        descriptor, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{sha}.")
        try:
            with os.fdopen(descriptor, "wb") as sink:
                try:
                    with self._http.stream("GET", url) as response:
                        if response.status_code >= 400:
                            raise StorageError(
                                f"{url} answered HTTP {response.status_code} for {what}"
                            )
                        for chunk in response.iter_bytes(_CHUNK):
                            size += len(chunk)
                            if size > self.max_bytes:
                                raise InputRefused(
                                    f"{what} at {url} is larger than {self.max_bytes} bytes"
                                )
                            digest.update(chunk)
                            sink.write(chunk)
                except httpx.HTTPError as error:
                    raise StorageError(f"downloading {what} from {url} failed: {error}") from None
            if digest.hexdigest() != sha:
                raise InputRefused(
                    f"{what} at {url} has sha256 {digest.hexdigest()}, not the {sha} the deal names"
                )
            os.replace(partial, path)
        finally:
            if os.path.exists(partial):
                os.unlink(partial)

    def _lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())


def _location(multiaddr: bytes) -> str:
    try:
        return multiaddr.decode().strip()
    except UnicodeDecodeError:
        return "0x" + multiaddr.hex()


def _safe_name(name: str, number: int) -> str:
    if not name or name in (".", "..") or "/" in name or "\0" in name or len(name) > 200:
        return f"input-{number}"
    return name
