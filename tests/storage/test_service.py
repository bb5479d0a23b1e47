"""The storage service in-process: every endpoint, every refusal, and what stays on disk."""

import hashlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Message

from nuage.storage import BlobWriter, StorageSettings, create_app
from tests.storage.conftest import (
    MAX_BLOB_BYTES,
    STORAGE_URL,
    WRITER_TOKEN,
    blob_files,
    temp_files,
)

pytestmark = pytest.mark.anyio

WRITER = {"authorization": f"Bearer {WRITER_TOKEN}"}
CONTENT = bytes(range(256)) * 4  # 1,024 bytes
CONTENT_ID = hashlib.sha256(CONTENT).hexdigest()
OTHER_ID = hashlib.sha256(b"other bytes").hexdigest()


async def _stored(http: httpx.AsyncClient, content: bytes = CONTENT) -> str:
    blob_id = hashlib.sha256(content).hexdigest()
    response = await http.put(f"/blobs/{blob_id}", content=content, headers=WRITER)
    assert response.status_code == 201, response.text
    return blob_id


async def _chunks(content: bytes, size: int) -> AsyncIterator[bytes]:
    for offset in range(0, len(content), size):
        yield content[offset : offset + size]


def _assert_error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    message: str = body["error"]["message"]
    assert message
    return message


async def test_health_answers_ok(http: httpx.AsyncClient) -> None:
    response = await http.get("/health")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_put_stores_a_new_blob_and_answers_201(
    http: httpx.AsyncClient, settings: StorageSettings
) -> None:
    response = await http.put(f"/blobs/{CONTENT_ID}", content=CONTENT, headers=WRITER)

    assert response.status_code == 201
    assert response.json() == {"id": CONTENT_ID, "size": len(CONTENT), "created": True}
    assert response.headers["location"] == f"/blobs/{CONTENT_ID}"
    assert blob_files(settings) == [settings.root / "blobs" / CONTENT_ID[:2] / CONTENT_ID[2:]]
    assert blob_files(settings)[0].read_bytes() == CONTENT
    assert temp_files(settings) == []


async def test_put_of_a_stored_blob_answers_200_and_changes_nothing(
    http: httpx.AsyncClient, settings: StorageSettings
) -> None:
    await _stored(http)
    before = blob_files(settings)[0].stat()

    response = await http.put(f"/blobs/{CONTENT_ID}", content=CONTENT, headers=WRITER)

    assert response.status_code == 200
    assert response.json() == {"id": CONTENT_ID, "size": len(CONTENT), "created": False}
    after = blob_files(settings)[0].stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


async def test_put_streams_a_body_larger_than_memory_buffers_in_bounded_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = StorageSettings(root=tmp_path / "storage", max_blob_bytes=8 * 1024 * 1024)
    content = hashlib.sha256(b"seed").digest() * (5 * 1024 * 1024 // 32)  # 5 MiB
    blob_id = hashlib.sha256(content).hexdigest()
    writes: list[int] = []
    write = BlobWriter.write

    def recording_write(writer: BlobWriter, chunk: bytes) -> None:
        writes.append(len(chunk))
        write(writer, chunk)

    monkeypatch.setattr(BlobWriter, "write", recording_write)
    transport = httpx.ASGITransport(create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url=STORAGE_URL) as http:
        response = await http.put(f"/blobs/{blob_id}", content=_chunks(content, 64 * 1024))

    assert response.status_code == 201, response.text
    assert sum(writes) == len(content)
    assert len(writes) > 1
    assert max(writes) <= 2 * 1024 * 1024
    assert blob_files(settings)[0].read_bytes() == content


async def test_put_of_bytes_that_hash_to_another_id_answers_422_and_stores_nothing(
    http: httpx.AsyncClient, settings: StorageSettings
) -> None:
    response = await http.put(f"/blobs/{OTHER_ID}", content=CONTENT, headers=WRITER)

    message = _assert_error(response, 422, "digest_mismatch")
    assert CONTENT_ID in message
    assert blob_files(settings) == []
    assert temp_files(settings) == []


async def test_put_declaring_more_than_the_limit_answers_413_and_stores_nothing(
    http: httpx.AsyncClient, settings: StorageSettings
) -> None:
    content = b"x" * (MAX_BLOB_BYTES + 1)
    blob_id = hashlib.sha256(content).hexdigest()

    response = await http.put(f"/blobs/{blob_id}", content=content, headers=WRITER)

    message = _assert_error(response, 413, "blob_too_large")
    assert f"{MAX_BLOB_BYTES:,}" in message
    assert blob_files(settings) == []
    assert temp_files(settings) == []


async def test_put_streaming_past_the_limit_without_a_length_answers_413_and_stores_nothing(
    http: httpx.AsyncClient, settings: StorageSettings
) -> None:
    content = b"x" * (MAX_BLOB_BYTES + 1)
    blob_id = hashlib.sha256(content).hexdigest()

    response = await http.put(f"/blobs/{blob_id}", content=_chunks(content, 4096), headers=WRITER)

    assert "content-length" not in response.request.headers
    _assert_error(response, 413, "blob_too_large")
    assert blob_files(settings) == []
    assert temp_files(settings) == []


async def test_put_of_exactly_the_limit_is_stored(http: httpx.AsyncClient) -> None:
    await _stored(http, b"x" * MAX_BLOB_BYTES)


async def test_put_without_the_token_answers_401_and_stores_nothing(
    http: httpx.AsyncClient, settings: StorageSettings
) -> None:
    response = await http.put(f"/blobs/{CONTENT_ID}", content=CONTENT)

    message = _assert_error(response, 401, "token_required")
    assert "Authorization: Bearer" in message
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert blob_files(settings) == []


@pytest.mark.parametrize(
    "authorization", [f"Bearer {WRITER_TOKEN}x", "Bearer", f"Basic {WRITER_TOKEN}", "Bearer  "]
)
async def test_put_with_a_wrong_token_answers_401_and_stores_nothing(
    http: httpx.AsyncClient, settings: StorageSettings, authorization: str
) -> None:
    response = await http.put(
        f"/blobs/{CONTENT_ID}", content=CONTENT, headers={"authorization": authorization}
    )

    assert response.status_code == 401
    assert response.json()["error"]["code"] in ("token_required", "wrong_token")
    assert blob_files(settings) == []


async def test_put_needs_no_token_when_none_is_configured(tmp_path: Path) -> None:
    app = create_app(StorageSettings(root=tmp_path / "open"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=STORAGE_URL) as http:
        response = await http.put(f"/blobs/{CONTENT_ID}", content=CONTENT)

    assert response.status_code == 201


async def test_reads_need_no_token(http: httpx.AsyncClient) -> None:
    await _stored(http)

    assert (await http.get(f"/blobs/{CONTENT_ID}")).status_code == 200
    assert (await http.head(f"/blobs/{CONTENT_ID}")).status_code == 200


async def test_get_streams_the_whole_blob(http: httpx.AsyncClient) -> None:
    await _stored(http)

    response = await http.get(f"/blobs/{CONTENT_ID}")

    assert response.status_code == 200
    assert response.content == CONTENT
    assert response.headers["content-length"] == str(len(CONTENT))
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["etag"] == f'"{CONTENT_ID}"'


async def test_get_of_an_unknown_blob_answers_404(http: httpx.AsyncClient) -> None:
    response = await http.get(f"/blobs/{CONTENT_ID}")

    message = _assert_error(response, 404, "blob_not_found")
    assert CONTENT_ID in message


async def test_head_gives_the_size_without_a_body(http: httpx.AsyncClient) -> None:
    await _stored(http)

    response = await http.head(f"/blobs/{CONTENT_ID}")

    assert response.status_code == 200
    assert response.headers["content-length"] == str(len(CONTENT))
    assert response.content == b""


async def test_head_of_an_unknown_blob_answers_404(http: httpx.AsyncClient) -> None:
    response = await http.head(f"/blobs/{CONTENT_ID}")

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("range_header", "first", "last"),
    [("bytes=10-19", 10, 19), ("bytes=1000-", 1000, 1023), ("bytes=-24", 1000, 1023)],
)
async def test_get_with_a_range_answers_206_with_those_bytes(
    http: httpx.AsyncClient, range_header: str, first: int, last: int
) -> None:
    await _stored(http)

    response = await http.get(f"/blobs/{CONTENT_ID}", headers={"range": range_header})

    assert response.status_code == 206
    assert response.content == CONTENT[first : last + 1]
    assert response.headers["content-range"] == f"bytes {first}-{last}/{len(CONTENT)}"
    assert response.headers["content-length"] == str(last - first + 1)


async def test_get_with_a_range_past_the_end_answers_416(http: httpx.AsyncClient) -> None:
    await _stored(http)

    response = await http.get(f"/blobs/{CONTENT_ID}", headers={"range": "bytes=1024-"})

    _assert_error(response, 416, "range_not_satisfiable")
    assert response.headers["content-range"] == f"bytes */{len(CONTENT)}"


@pytest.mark.parametrize("range_header", ["bytes=0-1,5-6", "lines=1-2", "bytes=9-2"])
async def test_get_ignores_a_range_it_does_not_serve(
    http: httpx.AsyncClient, range_header: str
) -> None:
    await _stored(http)

    response = await http.get(f"/blobs/{CONTENT_ID}", headers={"range": range_header})

    assert response.status_code == 200
    assert response.content == CONTENT


async def test_get_honours_a_range_only_if_range_names_this_blob(
    http: httpx.AsyncClient,
) -> None:
    await _stored(http)
    url = f"/blobs/{CONTENT_ID}"

    same = await http.get(url, headers={"range": "bytes=0-0", "if-range": f'"{CONTENT_ID}"'})
    other = await http.get(url, headers={"range": "bytes=0-0", "if-range": f'"{OTHER_ID}"'})

    assert (same.status_code, same.content) == (206, CONTENT[:1])
    assert (other.status_code, other.content) == (200, CONTENT)


@pytest.mark.parametrize("method", ["GET", "PUT"])
@pytest.mark.parametrize("blob_id", ["abc", CONTENT_ID.upper(), CONTENT_ID + "00"])
async def test_a_malformed_blob_id_answers_422(
    http: httpx.AsyncClient, settings: StorageSettings, method: str, blob_id: str
) -> None:
    response = await http.request(method, f"/blobs/{blob_id}", content=CONTENT, headers=WRITER)

    message = _assert_error(response, 422, "invalid_blob_id")
    assert "64 lowercase hex" in message
    assert blob_files(settings) == []


async def test_head_with_a_malformed_blob_id_answers_422(http: httpx.AsyncClient) -> None:
    response = await http.head("/blobs/abc")

    assert response.status_code == 422


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/nowhere", 404, "not_found"),
        ("POST", f"/blobs/{CONTENT_ID}", 405, "method_not_allowed"),
        ("DELETE", f"/blobs/{CONTENT_ID}", 405, "method_not_allowed"),
    ],
)
async def test_routing_errors_have_the_same_json_shape(
    http: httpx.AsyncClient, method: str, path: str, status: int, code: str
) -> None:
    response = await http.request(method, path)

    assert "/docs" in _assert_error(response, status, code)


async def test_an_upload_cut_off_by_the_client_stores_nothing(
    app: FastAPI, settings: StorageSettings
) -> None:
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "PUT",
        "scheme": "http",
        "path": f"/blobs/{CONTENT_ID}",
        "raw_path": f"/blobs/{CONTENT_ID}".encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"storage.test"),
            (b"content-length", str(len(CONTENT)).encode()),
            (b"authorization", WRITER["authorization"].encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("storage.test", 80),
    }
    arriving: list[Message] = [
        {"type": "http.request", "body": CONTENT[:500], "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return arriving.pop(0) if arriving else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)

    assert sent[0]["status"] == 400
    assert b"upload_interrupted" in sent[1]["body"]
    assert blob_files(settings) == []
    assert temp_files(settings) == []


async def test_starting_removes_temp_files_left_by_a_crash(settings: StorageSettings) -> None:
    (settings.root / "tmp").mkdir(parents=True, exist_ok=True)
    leftover = settings.root / "tmp" / f"{CONTENT_ID[:16]}.crashed.part"
    leftover.write_bytes(CONTENT[:100])

    create_app(settings)

    assert not leftover.exists()


async def test_uploads_and_refusals_are_logged(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="nuage.storage"):
        await _stored(http)
        await http.put(f"/blobs/{OTHER_ID}", content=CONTENT, headers=WRITER)

    assert f"stored blob {CONTENT_ID} ({len(CONTENT)} bytes)" in caplog.text
    assert f"refused blob {OTHER_ID}: the bytes hash to {CONTENT_ID}" in caplog.text


async def test_openapi_describes_the_blob_endpoints(http: httpx.AsyncClient) -> None:
    schema = (await http.get("/openapi.json")).json()

    blob_path = schema["paths"]["/blobs/{blob_id}"]
    assert set(blob_path) == {"get", "head", "put"}
    assert blob_path["put"]["security"]
    assert "413" in blob_path["put"]["responses"]
    assert "416" in blob_path["get"]["responses"]
    assert (await http.get("/docs")).status_code == 200
