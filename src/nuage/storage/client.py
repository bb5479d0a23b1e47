"""A client for the storage service (sync httpx) that checks every blob it downloads.

::

    with StorageClient("http://127.0.0.1:8701", token=token) as storage:
        blob_id = storage.put_file(Path("bundle.zip"))
        storage.get_file(blob_id, Path("copy.zip"))  # raises StorageError if the bytes differ

Every failure is a :class:`nuage.exceptions.StorageError` whose message says what to do: the
service not answering, or its own refusal (``{"error": {"message": ...}}``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

import httpx

import nuage
from nuage.exceptions import ConfigError, StorageError
from nuage.storage.blobs import check_blob_id

__all__ = ["DEFAULT_STORAGE_URL", "Progress", "StorageClient", "sha256_file"]

DEFAULT_STORAGE_URL = "http://127.0.0.1:8701"

Progress = Callable[[int], None]
"""Called with the number of bytes just sent or received."""

_CHUNK_BYTES = 1024 * 1024


def sha256_file(path: Path) -> str:
    """The blob id of the file at ``path``: the sha256 of its bytes, in lowercase hex."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


class StorageClient:
    """Uploads and downloads blobs of one storage service; a context manager that closes it."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(
                f"the storage URL {url!r} is not an http(s) URL: "
                f"give one like {DEFAULT_STORAGE_URL}"
            )
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._token = token or None
        self._http = httpx.Client(
            base_url=self.url,
            timeout=timeout,
            transport=transport,
            headers={"user-agent": f"nuage/{nuage.__version__}"},
        )

    def __enter__(self) -> StorageClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def health(self) -> dict[str, Any]:
        """The service's ``/health`` answer; a StorageError when it does not answer."""
        with self._talking("asking for its health"):
            response = self._http.get("/health")
        self._raise_for_error(response, "answer /health")
        answer: dict[str, Any] = response.json()
        return answer

    def head(self, blob_id: str) -> int | None:
        """The size of the blob in bytes, or None when it is not stored."""
        check_blob_id(blob_id)
        with self._talking(f"asking for blob {blob_id}"):
            response = self._http.head(f"/blobs/{blob_id}")
        if response.status_code == 404:
            return None
        self._raise_for_error(response, f"describe blob {blob_id}")
        return int(response.headers["content-length"])

    def exists(self, blob_id: str) -> bool:
        """Whether the blob is stored."""
        return self.head(blob_id) is not None

    def put_bytes(self, data: bytes) -> str:
        """Upload ``data``; return its blob id."""
        blob_id = hashlib.sha256(data).hexdigest()
        self._put(blob_id, data, {"content-length": str(len(data))})
        return blob_id

    def put_file(
        self, path: Path, *, progress: Progress | None = None, skip_existing: bool = True
    ) -> str:
        """Upload the file at ``path``, streamed; return its blob id.

        The file is hashed first (the id goes in the URL). With ``skip_existing`` a blob that
        is already stored is not sent again (note that this check needs no token).
        """
        path = Path(path)
        try:
            size = path.stat().st_size
            blob_id = sha256_file(path)
        except OSError as error:
            raise StorageError(f"cannot read {path}: {error.strerror or error}") from None
        if skip_existing and self.head(blob_id) == size:
            if progress is not None:
                progress(size)
            return blob_id
        with path.open("rb") as file:
            body = _file_body(file, path, size, progress)
            self._put(blob_id, body, {"content-length": str(size)})
        return blob_id

    def get_bytes(self, blob_id: str) -> bytes:
        """The blob's bytes, checked against its id."""
        check_blob_id(blob_id)
        with self._talking(f"downloading blob {blob_id}"):
            response = self._http.get(f"/blobs/{blob_id}")
        self._raise_for_error(response, f"send blob {blob_id}")
        self._check_digest(blob_id, hashlib.sha256(response.content).hexdigest())
        return response.content

    def get_file(self, blob_id: str, dest: Path, *, progress: Progress | None = None) -> int:
        """Download the blob into ``dest``, checked against its id; return its size.

        The bytes go to a temp file beside ``dest``, renamed to ``dest`` only once their sha256
        equals the id: ``dest`` is never left partial or wrong.
        """
        check_blob_id(blob_id)
        dest = Path(dest)
        descriptor, temp_name = tempfile.mkstemp(
            dir=dest.parent, prefix=f".{dest.name}.", suffix=".part"
        )
        try:
            with os.fdopen(descriptor, "wb") as temp_file:
                digest, size = self._download(blob_id, temp_file, progress)
                temp_file.flush()
                os.fsync(temp_file.fileno())
            self._check_digest(blob_id, digest)
            os.replace(temp_name, dest)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name)
            raise
        return size

    def _download(self, blob_id: str, sink: BinaryIO, progress: Progress | None) -> tuple[str, int]:
        digest = hashlib.sha256()
        size = 0
        with (
            self._talking(f"downloading blob {blob_id}"),
            self._http.stream("GET", f"/blobs/{blob_id}") as response,
        ):
            if response.status_code >= 400:
                response.read()
                self._raise_for_error(response, f"send blob {blob_id}")
            for chunk in response.iter_bytes(_CHUNK_BYTES):
                digest.update(chunk)
                sink.write(chunk)
                size += len(chunk)
                if progress is not None:
                    progress(len(chunk))
        return digest.hexdigest(), size

    def _put(self, blob_id: str, body: bytes | Iterator[bytes], headers: dict[str, str]) -> None:
        if self._token:
            headers = {**headers, "authorization": f"Bearer {self._token}"}
        with self._talking(f"uploading blob {blob_id}"):
            response = self._http.put(f"/blobs/{blob_id}", content=body, headers=headers)
        self._raise_for_error(response, f"store blob {blob_id}")

    def _check_digest(self, blob_id: str, actual: str) -> None:
        if actual != blob_id:
            raise StorageError(
                f"storage at {self.url} sent bytes with sha256 {actual} for blob {blob_id}: "
                "its copy is corrupt or was altered on the way; nothing was kept"
            )

    def _raise_for_error(self, response: httpx.Response, action: str) -> None:
        if response.status_code < 400:
            return
        raise StorageError(f"storage at {self.url} refused to {action}: {_error_message(response)}")

    @contextlib.contextmanager
    def _talking(self, doing: str) -> Iterator[None]:
        """Turn transport failures into a StorageError that says what to check."""
        try:
            yield
        except (httpx.ConnectError, httpx.ConnectTimeout):
            raise StorageError(
                f"storage at {self.url} does not answer: is it running? (`nuage storage serve`)"
            ) from None
        except httpx.TimeoutException:
            raise StorageError(
                f"storage at {self.url} stopped answering for {self.timeout:g} s while {doing}"
            ) from None
        except httpx.TransportError as error:
            raise StorageError(
                f"the connection to storage at {self.url} broke while {doing}: "
                f"{error or type(error).__name__}"
            ) from None


def _file_body(file: BinaryIO, path: Path, size: int, progress: Progress | None) -> Iterator[bytes]:
    """The file's bytes in chunks; a StorageError if it no longer has ``size`` bytes."""
    sent = 0
    while chunk := file.read(_CHUNK_BYTES):
        sent += len(chunk)
        if sent > size:
            break
        if progress is not None:
            progress(len(chunk))
        yield chunk
    if sent != size:
        raise StorageError(f"{path} changed while it was uploaded: upload it again")


def _error_message(response: httpx.Response) -> str:
    """The service's own message from an error response, else its HTTP status."""
    try:
        message = response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = None
    if isinstance(message, str) and message:
        return message
    return f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
