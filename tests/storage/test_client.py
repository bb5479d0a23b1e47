"""StorageClient: round trips through the app in-process, and every failure as a StorageError."""

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from nuage.exceptions import ConfigError, StorageError
from nuage.storage import InvalidBlobId, StorageClient
from tests.storage.conftest import STORAGE_URL, AppTransport

CONTENT = b"the input file of a task\n" * 1000
CONTENT_ID = hashlib.sha256(CONTENT).hexdigest()


class _RecordingTransport(httpx.BaseTransport):
    """Passes requests on, remembering their methods."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.methods: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.methods.append(request.method)
        return self.inner.handle_request(request)


def _mock_client(handler: Callable[[httpx.Request], httpx.Response]) -> StorageClient:
    return StorageClient(STORAGE_URL, transport=httpx.MockTransport(handler))


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    """A directory of its own (the storage root is elsewhere under tmp_path)."""
    directory = tmp_path / "downloads"
    directory.mkdir()
    return directory


@pytest.fixture
def recording(app_transport: AppTransport) -> _RecordingTransport:
    return _RecordingTransport(app_transport)


@pytest.fixture
def recorded_storage(recording: _RecordingTransport) -> Iterator[StorageClient]:
    with StorageClient(STORAGE_URL, token="writer-token", transport=recording) as client:
        yield client


def test_put_bytes_then_get_bytes_returns_the_same_bytes(storage: StorageClient) -> None:
    blob_id = storage.put_bytes(CONTENT)

    assert blob_id == CONTENT_ID
    assert storage.get_bytes(blob_id) == CONTENT


def test_put_file_then_get_file_makes_an_identical_file(
    storage: StorageClient, downloads: Path
) -> None:
    source = downloads / "input.txt"
    source.write_bytes(CONTENT)
    copy = downloads / "copy.txt"
    uploaded: list[int] = []
    downloaded: list[int] = []

    blob_id = storage.put_file(source, progress=uploaded.append)
    size = storage.get_file(blob_id, copy, progress=downloaded.append)

    assert blob_id == CONTENT_ID
    assert size == sum(uploaded) == sum(downloaded) == len(CONTENT)
    assert copy.read_bytes() == CONTENT
    assert sorted(downloads.iterdir()) == [copy, source]


def test_get_file_replaces_an_existing_file(storage: StorageClient, tmp_path: Path) -> None:
    storage.put_bytes(CONTENT)
    dest = tmp_path / "dest"
    dest.write_bytes(b"old")

    storage.get_file(CONTENT_ID, dest)

    assert dest.read_bytes() == CONTENT


def test_put_file_does_not_send_a_blob_the_storage_holds(
    recorded_storage: StorageClient, recording: _RecordingTransport, tmp_path: Path
) -> None:
    source = tmp_path / "input.txt"
    source.write_bytes(CONTENT)
    recorded_storage.put_file(source)
    recording.methods.clear()

    assert recorded_storage.put_file(source) == CONTENT_ID
    assert recording.methods == ["HEAD"]


def test_put_file_can_send_a_blob_the_storage_holds(
    recorded_storage: StorageClient, recording: _RecordingTransport, tmp_path: Path
) -> None:
    source = tmp_path / "input.txt"
    source.write_bytes(CONTENT)
    recorded_storage.put_file(source)
    recording.methods.clear()

    recorded_storage.put_file(source, skip_existing=False)

    assert recording.methods == ["PUT"]


def test_put_file_streams_with_the_token_and_the_length() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "HEAD":
            return httpx.Response(404)
        seen.append(request)
        return httpx.Response(201, json={"id": CONTENT_ID, "size": 1, "created": True})

    with StorageClient(STORAGE_URL, token="t0ken", transport=httpx.MockTransport(handler)) as c:
        c.put_bytes(CONTENT)

    assert seen[0].headers["authorization"] == "Bearer t0ken"
    assert seen[0].headers["content-length"] == str(len(CONTENT))
    assert seen[0].url.path == f"/blobs/{CONTENT_ID}"


def test_head_and_exists_tell_stored_from_unknown_blobs(storage: StorageClient) -> None:
    storage.put_bytes(CONTENT)
    unknown = hashlib.sha256(b"never uploaded").hexdigest()

    assert storage.head(CONTENT_ID) == len(CONTENT)
    assert storage.exists(CONTENT_ID)
    assert storage.head(unknown) is None
    assert not storage.exists(unknown)


def test_health_answers(storage: StorageClient) -> None:
    assert storage.health()["status"] == "ok"


def test_get_of_an_unknown_blob_raises_with_the_services_message(
    storage: StorageClient, downloads: Path
) -> None:
    with pytest.raises(StorageError, match=f"no blob {CONTENT_ID} is stored here"):
        storage.get_file(CONTENT_ID, downloads / "dest")
    with pytest.raises(StorageError, match="upload it first"):
        storage.get_bytes(CONTENT_ID)
    assert list(downloads.iterdir()) == []


def test_a_refused_upload_raises_with_the_services_message(app_transport: AppTransport) -> None:
    with (
        StorageClient(STORAGE_URL, token="not-the-token", transport=app_transport) as storage,
        pytest.raises(StorageError, match=r"refused to store blob .*the token is not"),
    ):
        storage.put_bytes(CONTENT)


def test_downloaded_bytes_that_do_not_match_the_id_raise(tmp_path: Path) -> None:
    def tampered(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=CONTENT[:-1] + b"!")

    with _mock_client(tampered) as storage:
        with pytest.raises(StorageError, match="corrupt or was altered"):
            storage.get_bytes(CONTENT_ID)
        with pytest.raises(StorageError, match=f"sha256 .* for blob {CONTENT_ID}"):
            storage.get_file(CONTENT_ID, tmp_path / "dest")

    assert list(tmp_path.iterdir()) == []  # neither the file nor its temp file


def test_a_storage_that_does_not_answer_raises_saying_how_to_start_it() -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with _mock_client(refused) as storage, pytest.raises(StorageError) as failure:
        storage.head(CONTENT_ID)

    assert str(failure.value) == (
        f"storage at {STORAGE_URL} does not answer: is it running? (`nuage storage serve`)"
    )


def test_a_storage_that_stops_answering_raises() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with _mock_client(slow) as storage, pytest.raises(StorageError, match="stopped answering"):
        storage.get_bytes(CONTENT_ID)


def test_an_error_without_a_json_body_raises_with_its_status() -> None:
    def proxy(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="<html>bad gateway</html>")

    with _mock_client(proxy) as storage, pytest.raises(StorageError, match="HTTP 502 Bad Gateway"):
        storage.head(CONTENT_ID)


def test_a_malformed_blob_id_is_refused_before_any_request(tmp_path: Path) -> None:
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request expected")

    with _mock_client(unreachable) as storage:
        for call in (
            lambda: storage.head("abc"),
            lambda: storage.get_bytes(CONTENT_ID.upper()),
            lambda: storage.get_file("abc", tmp_path / "dest"),
        ):
            with pytest.raises(InvalidBlobId):
                call()


def test_a_url_that_is_not_http_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not an http"):
        StorageClient("127.0.0.1:8701")


def test_put_file_of_a_missing_file_raises(storage: StorageClient, tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="cannot read"):
        storage.put_file(tmp_path / "missing")


def test_put_file_of_a_file_that_grows_during_the_upload_raises(
    storage: StorageClient, tmp_path: Path
) -> None:
    source = tmp_path / "growing.log"
    source.write_bytes(CONTENT)

    def append_more(sent: int) -> None:
        with source.open("ab") as file:
            file.write(b"one more line\n")

    with pytest.raises(StorageError, match="changed while it was uploaded"):
        storage.put_file(source, progress=append_more, skip_existing=False)
    assert not storage.exists(CONTENT_ID)
