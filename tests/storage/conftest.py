"""The storage service in-process: an app over a temp root, async and sync clients, no sockets."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio.from_thread
import httpx
import pytest
from anyio.from_thread import BlockingPortal
from fastapi import FastAPI
from pydantic import SecretStr

from nuage.storage import StorageClient, StorageSettings, create_app

WRITER_TOKEN = "writer-token"
MAX_BLOB_BYTES = 64 * 1024
STORAGE_URL = "http://storage.test"


class AppTransport(httpx.BaseTransport):
    """Serves a sync httpx client from an ASGI app in this process (no socket), via a portal."""

    def __init__(self, app: FastAPI, portal: BlockingPortal) -> None:
        self._asgi = httpx.ASGITransport(app)
        self._portal = portal

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()

        async def send() -> tuple[int, httpx.Headers, bytes]:
            async_request = httpx.Request(
                request.method, request.url, headers=request.headers, content=body
            )
            response = await self._asgi.handle_async_request(async_request)
            return response.status_code, response.headers, await response.aread()

        status, headers, content = self._portal.call(send)
        return httpx.Response(status, headers=headers, content=content)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def settings(tmp_path: Path) -> StorageSettings:
    return StorageSettings(
        root=tmp_path / "storage", token=SecretStr(WRITER_TOKEN), max_blob_bytes=MAX_BLOB_BYTES
    )


@pytest.fixture
def app(settings: StorageSettings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An async client of the app; PUTs need ``headers=WRITER``."""
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url=STORAGE_URL) as client:
        yield client


@pytest.fixture
def portal() -> Iterator[BlockingPortal]:
    with anyio.from_thread.start_blocking_portal("asyncio") as running_portal:
        yield running_portal


@pytest.fixture
def app_transport(app: FastAPI, portal: BlockingPortal) -> AppTransport:
    return AppTransport(app, portal)


@pytest.fixture
def storage(app_transport: AppTransport) -> Iterator[StorageClient]:
    """A StorageClient (with the writer's token) talking to the app in this process."""
    with StorageClient(STORAGE_URL, token=WRITER_TOKEN, transport=app_transport) as client:
        yield client


def blob_files(settings: StorageSettings) -> list[Path]:
    """Every file under ``blobs/``."""
    return sorted(path for path in (settings.root / "blobs").rglob("*") if path.is_file())


def temp_files(settings: StorageSettings) -> list[Path]:
    """Every file under ``tmp/``."""
    return sorted((settings.root / "tmp").iterdir())
