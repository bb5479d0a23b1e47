"""Fetching a task's files: from storage or a URL, verified, cached by checksum."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import anyio.from_thread
import httpx
import pytest
from pydantic import SecretStr

from nuage.apps import build
from nuage.chain.bindings import AppRecord, DatasetRecord
from nuage.exceptions import StorageError
from nuage.storage import StorageClient, StorageSettings, create_app
from nuage.worker.fetch import Fetcher, InputRefused
from tests.storage.conftest import AppTransport

DAPPS = Path(__file__).resolve().parents[2] / "dapps"
TOKEN = "writer"


class Counting(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.requests: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(f"{request.method} {request.url.path}")
        return self.inner.handle_request(request)


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[tuple[StorageClient, Counting]]:
    settings = StorageSettings(root=tmp_path / "storage", token=SecretStr(TOKEN))
    with anyio.from_thread.start_blocking_portal("asyncio") as portal:
        transport = Counting(AppTransport(create_app(settings), portal))
        with StorageClient("http://storage.test", token=TOKEN, transport=transport) as client:
            yield client, transport


def web(files: dict[str, bytes]) -> httpx.Client:
    def answer(request: httpx.Request) -> httpx.Response:
        body = files.get(request.url.path)
        return httpx.Response(404) if body is None else httpx.Response(200, content=body)

    return httpx.Client(transport=httpx.MockTransport(answer))


def app_record(checksum: str, multiaddr: bytes = b"") -> AppRecord:
    return AppRecord(
        address="0x" + "aa" * 20,
        owner="0x" + "bb" * 20,
        name="factorial",
        app_type=0,
        multiaddr=multiaddr,
        checksum=bytes.fromhex(checksum),
        mrenclave=b"",
    )


def test_an_app_bundle_is_fetched_by_checksum_unpacked_and_cached(storage, tmp_path: Path):
    client, transport = storage
    bundle = build(DAPPS / "factorial", tmp_path / "factorial.zip")
    client.put_file(bundle.path)
    fetcher = Fetcher(client, tmp_path / "cache")
    app_dir, manifest = fetcher.app(app_record(bundle.sha256))
    assert manifest.name == "factorial" and (app_dir / "main.py").is_file()
    downloads = [r for r in transport.requests if r.startswith("GET")]
    assert downloads == [f"GET /blobs/{bundle.sha256}"]
    assert fetcher.app(app_record(bundle.sha256))[0] == app_dir
    assert [r for r in transport.requests if r.startswith("GET")] == downloads


def test_a_missing_bundle_fails_the_fetch_not_the_task(storage, tmp_path: Path):
    client, _ = storage
    fetcher = Fetcher(client, tmp_path / "cache")
    with pytest.raises(StorageError):
        fetcher.app(app_record("00" * 32))
    assert not list((tmp_path / "cache" / "apps").iterdir())


def test_a_dataset_at_a_url_must_have_its_checksum(storage, tmp_path: Path):
    client, _ = storage
    content = b"rows"
    sha = hashlib.sha256(content).hexdigest()
    fetcher = Fetcher(client, tmp_path / "cache", http=web({"/data.csv": content}))
    record = DatasetRecord(
        "0x" + "cc" * 20, "0x" + "dd" * 20, "rows", b"https://x.test/data.csv", bytes.fromhex(sha)
    )
    assert fetcher.dataset(record).read_bytes() == content
    liar = DatasetRecord(
        "0x" + "cc" * 20, "0x" + "dd" * 20, "rows", b"https://x.test/data.csv", b"\x01" * 32
    )
    with pytest.raises(InputRefused, match="has sha256"):
        fetcher.dataset(liar)


def test_input_files_by_blob_id_or_by_url_with_a_checksum(storage, tmp_path: Path):
    client, _ = storage
    blob = client.put_bytes(b"stored")
    content = b"served"
    sha = hashlib.sha256(content).hexdigest()
    fetcher = Fetcher(client, tmp_path / "cache", http=web({"/in/grid.txt": content}))
    name, path = fetcher.input_file(1, blob)
    assert (name, path.read_bytes()) == (blob, b"stored")
    name, path = fetcher.input_file(2, f"https://x.test/in/grid.txt#sha256={sha}")
    assert (name, path.read_bytes()) == ("grid.txt", content)
    with pytest.raises(InputRefused, match="carries no sha256"):
        fetcher.input_file(3, "https://x.test/in/grid.txt")
    with pytest.raises(InputRefused, match="neither a blob id"):
        fetcher.input_file(4, "ftp://x.test/file")
