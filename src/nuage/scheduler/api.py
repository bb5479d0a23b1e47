"""The scheduler's HTTP API (FastAPI) for its workers, over a `SchedulerService`.

Public: ``GET /health``, ``GET /info``, ``POST /auth/challenge``, ``POST /auth/login``, and
``GET /tasks/{task_id}/logs`` (every replicate's stdout and stderr, for the requester). Every
other call needs ``Authorization: Bearer <token>`` from a login:

=====================================  =========================================================
``POST /workers/register``             capabilities: CPUs, memory, GPUs, sandboxes, parallelism
``POST /workers/heartbeat``            the running tasks; answers with instructions (reveal,
                                       upload, abort, release)
``POST /replicates/next``              pull a replicate: an assignment, or why there is none
``POST /replicates/{task_id}/status``  a step done (fetched, computed, contributed…) or failed
``POST /replicates/{task_id}/result``  hand in the uploaded result's blob id (and callback data)
``POST /replicates/{task_id}/logs``    the run's stdout and stderr (a worker of that task only)
=====================================  =========================================================

Every error answers ``{"error": {"code": ..., "message": ...}}``.
"""

from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

import nuage
from nuage.scheduler import models
from nuage.scheduler.service import ApiError, SchedulerService

__all__ = ["create_app"]

_bearer = HTTPBearer(auto_error=False)


def _service(request: Request) -> SchedulerService:
    service: SchedulerService = request.app.state.service
    return service


def _worker(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The worker a bearer token stands for; 401 without a valid one."""
    if credentials is None:
        raise ApiError(401, "unauthenticated", "send Authorization: Bearer <token> (log in)")
    return _service(request).authenticate(credentials.credentials)


Worker = Annotated[str, Depends(_worker)]


def create_app(service: SchedulerService) -> FastAPI:
    """The API of `service` (which the caller runs beside it)."""
    app = FastAPI(
        title="nuage scheduler",
        version=nuage.__version__,
        description="The worker API of one workerpool's scheduler.",
    )

    app.state.service = service

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, error: ApiError) -> JSONResponse:
        return _error(error.status, error.code, str(error))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in problem['loc'])}: {problem['msg']}"
            for problem in error.errors()
        )
        return _error(422, "invalid_request", problems)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, error: StarletteHTTPException) -> JSONResponse:
        return _error(error.status_code, "http_error", str(error.detail))

    @app.get("/health")
    async def health() -> models.Health:
        return service.health()

    @app.get("/info")
    async def info() -> models.Info:
        return service.info()

    @app.get("/tasks/{task_id}/logs")
    async def task_logs(task_id: str) -> models.TaskLogs:
        return service.task_logs(task_id)

    @app.post("/auth/challenge")
    async def challenge(body: models.ChallengeRequest) -> models.Challenge:
        return service.challenge(body.address)

    @app.post("/auth/login")
    async def login(body: models.LoginRequest) -> models.Session:
        signature = bytes.fromhex(body.signature.removeprefix("0x"))
        return service.login(body.address, body.nonce, signature)

    @app.post("/workers/register")
    async def register(address: Worker, body: models.CapabilitiesBody) -> models.Registered:
        return service.register(address, body)

    @app.post("/workers/heartbeat")
    async def heartbeat(address: Worker, body: models.HeartbeatBody) -> models.HeartbeatAnswer:
        return service.heartbeat(address, body.running)

    @app.post("/replicates/next")
    async def pull(address: Worker, body: models.PullBody | None = None) -> models.PullAnswer:
        return await service.pull(address, None if body is None else body.busy)

    @app.post("/replicates/{task_id}/status", status_code=204)
    async def report(address: Worker, task_id: str, body: models.StatusReport) -> None:
        service.report(address, task_id, body)

    @app.post("/replicates/{task_id}/result", status_code=204)
    async def hand_in(address: Worker, task_id: str, body: models.ResultHandIn) -> None:
        await service.hand_in(address, task_id, body)

    @app.post("/replicates/{task_id}/logs", status_code=204)
    async def save_logs(address: Worker, task_id: str, body: models.LogsReport) -> None:
        service.save_logs(address, task_id, body)

    return app


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"code": code, "message": message}})
