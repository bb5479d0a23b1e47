"""The storage HTTP service (FastAPI): PUT, GET and HEAD of content-addressed blobs.

``create_app(settings)`` builds the application; ``serve(settings)`` runs it with uvicorn. Every
error answers with one JSON shape::

    {"error": {"code": "<snake_case>", "message": "<what is wrong and what to do>"}}
"""

import copy
import hmac
import logging
import logging.config
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, BinaryIO, Literal

import anyio
from fastapi import Depends, FastAPI, Header, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

import nuage
from nuage.storage.blobs import (
    BlobStore,
    BlobTooLarge,
    BlobWriter,
    DigestMismatch,
    InvalidBlobId,
    check_blob_id,
)
from nuage.storage.ranges import ByteRange, RangeNotSatisfiable, parse_byte_range
from nuage.storage.settings import StorageSettings

__all__ = ["BlobStored", "ErrorBody", "ErrorDetail", "Health", "create_app", "serve"]

logger = logging.getLogger(__name__)

_WRITE_CHUNK_BYTES = 1024 * 1024  # request bytes are buffered up to this before a disk write
_READ_CHUNK_BYTES = 256 * 1024
_BLOB_ID_PATTERN = "^[0-9a-f]{64}$"

_DESCRIPTION = """\
Content-addressed blobs: a blob's id is the sha256 of its bytes, as 64 lowercase hex digits.
Upload with `PUT /blobs/{id}` (the body is checked against the id), download with
`GET /blobs/{id}` (single `Range` requests supported), ask for the size with `HEAD`.
Every error answers `{"error": {"code": ..., "message": ...}}`.
"""


class ErrorDetail(BaseModel):
    """What went wrong, for programs (``code``) and for people (``message``)."""

    code: str = Field(examples=["blob_not_found"])
    message: str = Field(examples=["no blob 3b5d… is stored here: upload it first"])


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


class BlobStored(BaseModel):
    """The answer to an upload."""

    id: str = Field(description="The blob id: sha256 of the bytes, lowercase hex.")
    size: int = Field(description="Size in bytes.")
    created: bool = Field(description="False when the blob was already stored.")


class Health(BaseModel):
    """The answer to ``GET /health``."""

    status: Literal["ok"] = "ok"
    version: str = Field(description="The nuage version serving.")


class _ApiError(Exception):
    """A refusal with its HTTP status, error code and message."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


_BlobIdPath = Annotated[
    str,
    Path(
        description="sha256 of the blob's bytes, 64 lowercase hex digits.",
        examples=["e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
        json_schema_extra={"pattern": _BLOB_ID_PATTERN},
    ),
]

_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in {
        400: "The upload was cut off before its end.",
        401: "A token is configured and the request lacks it or has another.",
        404: "No such blob.",
        413: "The blob is larger than this storage accepts.",
        416: "The range selects no byte of the blob.",
        422: "Malformed blob id, or the bytes do not hash to the id.",
    }.items()
}


def create_app(settings: StorageSettings) -> FastAPI:
    """The storage application over ``settings.root``; removes temp files left by a crash."""
    store = BlobStore(settings.root)
    store.remove_leftover_temp_files()
    app = FastAPI(title="nuage storage", version=nuage.__version__, description=_DESCRIPTION)
    _add_error_handlers(app)
    require_writer = _writer_check(settings)

    @app.get("/health", summary="Is the service up?")
    def health() -> Health:
        return Health(version=nuage.__version__)

    @app.head(
        "/blobs/{blob_id}",
        summary="Size of a blob",
        responses={status: _ERRORS[status] for status in (404, 422)},
    )
    def head_blob(blob_id: _BlobIdPath) -> Response:
        """Answers with the headers a GET would have (``Content-Length``), without the body."""
        size = store.size(_checked(blob_id))
        if size is None:
            raise _blob_not_found(blob_id)
        return Response(headers=_blob_headers(blob_id, size))

    @app.get(
        "/blobs/{blob_id}",
        summary="Download a blob",
        response_class=StreamingResponse,
        responses={
            200: {"content": {"application/octet-stream": {}}, "description": "The blob."},
            206: {"content": {"application/octet-stream": {}}, "description": "A range of it."},
            **{status: _ERRORS[status] for status in (404, 416, 422)},
        },
    )
    def get_blob(
        blob_id: _BlobIdPath,
        range_header: Annotated[
            str | None, Header(alias="range", description="e.g. `bytes=0-1023`, `bytes=-512`")
        ] = None,
        if_range: Annotated[str | None, Header(alias="if-range")] = None,
    ) -> Response:
        """Streams the blob, or the single byte range the ``Range`` header asks for."""
        blob = store.open(_checked(blob_id))
        if blob is None:
            raise _blob_not_found(blob_id)
        try:
            size = _file_size(blob)
            wanted = _wanted_range(blob_id, range_header, if_range, size)
        except BaseException:
            blob.close()
            raise
        headers = _blob_headers(blob_id, size)
        if wanted is None:
            return StreamingResponse(_file_chunks(blob, 0, size), headers=headers)
        headers["content-length"] = str(wanted.length)
        headers["content-range"] = wanted.content_range(size)
        return StreamingResponse(
            _file_chunks(blob, wanted.first, wanted.length), status_code=206, headers=headers
        )

    @app.put(
        "/blobs/{blob_id}",
        summary="Upload a blob",
        status_code=201,
        dependencies=[Depends(require_writer)],
        responses={
            200: {"model": BlobStored, "description": "The blob was already stored."},
            201: {"description": "The blob is now stored."},
            **{status: _ERRORS[status] for status in (400, 401, 413, 422)},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/octet-stream": {"schema": {"type": "string"}}},
            }
        },
    )
    async def put_blob(
        blob_id: _BlobIdPath,
        request: Request,
        response: Response,
    ) -> BlobStored:
        """Stores the request body under ``blob_id`` once its sha256 is checked to equal it.

        The body is streamed to disk; nothing is stored when it is too large, hashes to another
        id or is cut off. Uploading a blob that is already stored changes nothing (200).
        """
        _checked(blob_id)
        _refuse_declared_oversize(blob_id, request, settings.max_blob_bytes)
        writer = await anyio.to_thread.run_sync(
            lambda: store.writer(blob_id, max_bytes=settings.max_blob_bytes)
        )
        try:
            created = await _receive_upload(writer, request)
        finally:
            writer.abort()  # after a commit this only drops the temp name
        if created:
            logger.info("stored blob %s (%d bytes)", blob_id, writer.size)
            response.status_code = 201
            response.headers["location"] = f"/blobs/{blob_id}"
        else:
            logger.info("blob %s was already stored (%d bytes)", blob_id, writer.size)
            response.status_code = 200
        return BlobStored(id=blob_id, size=writer.size, created=created)

    return app


def serve(settings: StorageSettings, *, log_level: str = "info") -> None:
    """Run the storage service in this process until interrupted; logs go to stderr."""
    import uvicorn  # only the process that serves needs it

    log_config = _log_config(log_level)
    logging.config.dictConfig(log_config)
    app = create_app(settings)
    logger.info(
        "storage serving %s on %s (blobs up to %s bytes, %s)",
        settings.root,
        settings.url,
        f"{settings.max_blob_bytes:,}",
        "uploads need the token" if settings.token else "uploads open to anyone who can connect",
    )
    if settings.token is None and settings.host not in ("127.0.0.1", "localhost", "::1"):
        logger.warning(
            "listening on %s without a token: anyone who reaches this port can fill the disk; "
            "set NUAGE_STORAGE_TOKEN (or --token)",
            settings.host,
        )
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=log_config,
        log_level=log_level,
    )


async def _receive_upload(writer: BlobWriter, request: Request) -> bool:
    """Stream the request body through ``writer`` and commit it; True if newly stored."""
    blob_id = writer.blob_id
    buffer = bytearray()
    try:
        async for chunk in request.stream():
            buffer += chunk
            if len(buffer) >= _WRITE_CHUNK_BYTES:
                await anyio.to_thread.run_sync(writer.write, bytes(buffer))
                buffer.clear()
        await anyio.to_thread.run_sync(writer.write, bytes(buffer))
        return await anyio.to_thread.run_sync(writer.commit)
    except ClientDisconnect:
        logger.warning(
            "upload of blob %s cut off after %d bytes: nothing stored",
            blob_id,
            writer.size + len(buffer),
        )
        raise _ApiError(
            400, "upload_interrupted", "the upload ended before its last byte: send it again"
        ) from None
    except BlobTooLarge as error:
        logger.warning("refused blob %s: larger than %d bytes", blob_id, error.limit)
        raise _ApiError(413, "blob_too_large", str(error)) from None
    except DigestMismatch as error:
        logger.warning("refused blob %s: the bytes hash to %s", blob_id, error.actual)
        raise _ApiError(422, "digest_mismatch", str(error)) from None


def _refuse_declared_oversize(blob_id: str, request: Request, limit: int) -> None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        logger.warning("refused blob %s: declared %s bytes, more than %d", blob_id, declared, limit)
        raise _ApiError(413, "blob_too_large", str(BlobTooLarge(limit)))


def _writer_check(settings: StorageSettings) -> Any:
    """A dependency that lets a write through only with the configured bearer token."""
    bearer = HTTPBearer(auto_error=False, description="Needed for uploads when configured.")
    expected = settings.token.get_secret_value().encode() if settings.token else None

    def require_writer(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> None:
        if expected is None:
            return
        if credentials is None:
            logger.warning("refused an upload without a token")
            raise _ApiError(
                401,
                "token_required",
                "uploads to this storage need a token: send `Authorization: Bearer <token>` "
                "(`nuage storage put --token`, or NUAGE_STORAGE_TOKEN)",
                headers={"www-authenticate": "Bearer"},
            )
        if not hmac.compare_digest(credentials.credentials.encode(), expected):
            logger.warning("refused an upload with a wrong token")
            raise _ApiError(
                401,
                "wrong_token",
                "the token is not this storage's: check NUAGE_STORAGE_TOKEN or `--token`",
                headers={"www-authenticate": 'Bearer error="invalid_token"'},
            )

    return require_writer


def _checked(blob_id: str) -> str:
    try:
        return check_blob_id(blob_id)
    except InvalidBlobId as error:
        raise _ApiError(422, "invalid_blob_id", str(error)) from None


def _blob_not_found(blob_id: str) -> _ApiError:
    return _ApiError(
        404,
        "blob_not_found",
        f"no blob {blob_id} is stored here: upload it first (`nuage storage put FILE`)",
    )


def _wanted_range(
    blob_id: str, range_header: str | None, if_range: str | None, size: int
) -> ByteRange | None:
    if range_header is None or (if_range is not None and if_range.strip() != f'"{blob_id}"'):
        return None
    try:
        return parse_byte_range(range_header, size)
    except RangeNotSatisfiable as error:
        raise _ApiError(
            416,
            "range_not_satisfiable",
            f"{error}: ask for bytes 0 to {size - 1}" if size else f"{error}: it has no bytes",
            headers={"content-range": f"bytes */{size}"},
        ) from None


def _blob_headers(blob_id: str, size: int) -> dict[str, str]:
    return {
        "content-type": "application/octet-stream",
        "content-length": str(size),
        "accept-ranges": "bytes",
        "etag": f'"{blob_id}"',
        # a blob's bytes never change: its id is their hash
        "cache-control": "public, max-age=31536000, immutable",
    }


def _file_size(blob: BinaryIO) -> int:
    blob.seek(0, 2)
    return blob.tell()


def _file_chunks(blob: BinaryIO, first: int, length: int) -> Iterator[bytes]:
    """``length`` bytes of ``blob`` from ``first``, in chunks; closes the file at the end."""
    try:
        blob.seek(first)
        remaining = length
        while remaining > 0:
            chunk = blob.read(min(_READ_CHUNK_BYTES, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        blob.close()


def _add_error_handlers(app: FastAPI) -> None:
    async def api_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, _ApiError)
        return _error_response(error.status, error.code, error.message, error.headers)

    async def http_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        code, message = _describe_http_error(request, error)
        return _error_response(error.status_code, code, message, error.headers)

    async def invalid_request(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
            for problem in error.errors()
        )
        return _error_response(
            422, "invalid_request", f"the request is malformed ({problems}): see /docs"
        )

    async def internal_error(request: Request, error: Exception) -> JSONResponse:
        logger.exception("%s %s failed", request.method, request.url.path)
        return _error_response(
            500,
            "internal_error",
            "the storage service failed on this request: its log says why; try again later",
        )

    app.add_exception_handler(_ApiError, api_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(Exception, internal_error)


def _describe_http_error(request: Request, error: StarletteHTTPException) -> tuple[str, str]:
    route = f"{request.method} {request.url.path}"
    if error.status_code == 404:
        return "not_found", f"there is no {route} here: see /docs for what this service answers"
    if error.status_code == 405:
        return "method_not_allowed", f"{route} is not allowed: see /docs for the methods"
    return "http_error", f"{route} failed: {error.detail}"


def _error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body = ErrorBody(error=ErrorDetail(code=code, message=message))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def _log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging setup, with access lines on stderr and nuage's own loggers added."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    config["loggers"]["nuage"] = {
        "handlers": ["default"],
        "level": level.upper(),
        "propagate": False,
    }
    return config
