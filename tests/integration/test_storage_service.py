"""The storage service as a real process: big files, a cut-off upload, concurrent uploads."""

import hashlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from nuage.chain.anvil import free_port
from nuage.exceptions import StorageError
from nuage.storage import StorageClient

pytestmark = pytest.mark.integration

WRITER_TOKEN = "integration-token"
MAX_BLOB_BYTES = 16 * 1024 * 1024


@dataclass
class RunningStorage:
    url: str
    port: int
    root: Path
    log: Path

    def client(self, token: str | None = WRITER_TOKEN) -> StorageClient:
        return StorageClient(self.url, token=token, timeout=10)

    def blob_files(self) -> list[Path]:
        return sorted(path for path in (self.root / "blobs").rglob("*") if path.is_file())

    def temp_files(self) -> list[Path]:
        return sorted((self.root / "tmp").iterdir())


@pytest.fixture(scope="module")
def storage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStorage]:
    """`python -m nuage.storage` on a free loopback port, stopped (SIGTERM) at the end."""
    # one process for the module: starting one takes most of this file's time
    workdir = tmp_path_factory.mktemp("storage")
    port = free_port()
    running = RunningStorage(
        f"http://127.0.0.1:{port}", port, workdir / "root", workdir / "storage.log"
    )
    env = {
        **os.environ,
        "NUAGE_STORAGE_ROOT": str(running.root),
        "NUAGE_STORAGE_HOST": "127.0.0.1",
        "NUAGE_STORAGE_PORT": str(port),
        "NUAGE_STORAGE_TOKEN": WRITER_TOKEN,
        "NUAGE_STORAGE_MAX_BLOB_BYTES": str(MAX_BLOB_BYTES),
    }
    with running.log.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "nuage.storage"], env=env, stdout=log, stderr=log
        )
    try:
        _wait_until_up(running, process)
        yield running
    finally:
        process.terminate()
        try:
            exit_code = process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
    # uvicorn shuts down cleanly, then exits by the signal it was sent
    assert exit_code in (0, -signal.SIGTERM), running.log.read_text()
    assert "Application shutdown complete" in running.log.read_text()


def _wait_until_up(running: RunningStorage, process: "subprocess.Popen[bytes]") -> None:
    deadline = time.monotonic() + 20
    with running.client() as client:
        while True:
            if process.poll() is not None:
                pytest.fail(f"the storage process exited:\n{running.log.read_text()}")
            try:
                client.health()
                return
            except StorageError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)


def _eventually(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_a_multi_megabyte_file_goes_up_and_comes_back_identical(
    storage: RunningStorage, tmp_path: Path
) -> None:
    content = os.urandom(6 * 1024 * 1024 + 123)
    source = tmp_path / "dataset.bin"
    source.write_bytes(content)
    copy = tmp_path / "copy.bin"

    with storage.client() as client:
        blob_id = client.put_file(source)
        assert client.head(blob_id) == len(content)
        client.get_file(blob_id, copy)

    assert blob_id == hashlib.sha256(content).hexdigest()
    assert copy.read_bytes() == content
    assert (storage.root / "blobs" / blob_id[:2] / blob_id[2:]).read_bytes() == content


def test_a_range_of_a_stored_blob_comes_back(storage: RunningStorage) -> None:
    content = os.urandom(100_000)
    with storage.client() as client:
        blob_id = client.put_bytes(content)

    response = httpx.get(f"{storage.url}/blobs/{blob_id}", headers={"range": "bytes=-1000"})

    assert response.status_code == 206
    assert response.content == content[-1000:]


def test_an_upload_cut_off_halfway_leaves_no_blob_and_no_temp_file(
    storage: RunningStorage,
) -> None:
    content = os.urandom(4 * 1024 * 1024)
    blob_id = hashlib.sha256(content).hexdigest()
    head = (
        f"PUT /blobs/{blob_id} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{storage.port}\r\n"
        f"Authorization: Bearer {WRITER_TOKEN}\r\n"
        f"Content-Length: {len(content)}\r\n"
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", storage.port)) as connection:
        connection.sendall(head + content[: len(content) // 2])
        # the service has begun writing this upload to a temp file
        assert _eventually(lambda: len(storage.temp_files()) == 1)

    assert _eventually(lambda: storage.temp_files() == []), storage.temp_files()
    with storage.client() as client:
        assert not client.exists(blob_id)
    assert not (storage.root / "blobs" / blob_id[:2] / blob_id[2:]).exists()
    assert "nothing stored" in storage.log.read_text()


def test_concurrent_uploads_of_the_same_blob_all_succeed_and_store_it_once(
    storage: RunningStorage,
) -> None:
    uploaders = 6
    content = os.urandom(2 * 1024 * 1024)
    blob_id = hashlib.sha256(content).hexdigest()
    start = threading.Barrier(uploaders)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def upload() -> None:
        try:
            start.wait()
            response = httpx.put(
                f"{storage.url}/blobs/{blob_id}",
                content=content,
                headers={"authorization": f"Bearer {WRITER_TOKEN}"},
                timeout=10,
            )
            statuses.append(response.status_code)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=upload) for _ in range(uploaders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(statuses) == [200] * (uploaders - 1) + [201]
    shard = storage.root / "blobs" / blob_id[:2]
    assert list(shard.iterdir()) == [shard / blob_id[2:]]
    assert (shard / blob_id[2:]).read_bytes() == content
    assert _eventually(lambda: storage.temp_files() == [])


def test_a_blob_over_the_limit_is_refused_with_the_services_message(
    storage: RunningStorage, tmp_path: Path
) -> None:
    source = tmp_path / "too-big.bin"
    with source.open("wb") as file:
        file.truncate(MAX_BLOB_BYTES + 1)

    with (
        storage.client() as client,
        pytest.raises(StorageError, match="larger than this storage accepts"),
    ):
        client.put_file(source)

    assert storage.temp_files() == []


def test_an_upload_without_the_token_is_refused(storage: RunningStorage) -> None:
    with (
        storage.client(token=None) as client,
        pytest.raises(StorageError, match="need a token"),
    ):
        client.put_bytes(b"anonymous")
