"""A worker's client of its scheduler (async httpx): log in with the wallet, then every call.

::

    async with SchedulerClient("http://127.0.0.1:8703", account) as scheduler:
        await scheduler.register(models.CapabilitiesBody(cpus=4, sandboxes=["bubblewrap"]))
        answer = await scheduler.pull()

It logs in on first use (a challenge signed as an EIP-191 personal message) and again when the
token is refused. Failures raise `SchedulerUnreachable` (no answer) or `SchedulerRefused` (an
error answer, with the scheduler's message).

Anyone may read a task's logs, without a wallet: ``read_task_logs(url, task_id)``.
"""

from __future__ import annotations

import base64
from types import TracebackType
from typing import Any, TypeVar

import httpx
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from pydantic import BaseModel

import nuage
from nuage.exceptions import ConfigError, NuageError
from nuage.scheduler import models

__all__ = [
    "DEFAULT_SCHEDULER_URL",
    "SchedulerClient",
    "SchedulerRefused",
    "SchedulerUnreachable",
    "log_tail",
    "read_task_logs",
]

DEFAULT_SCHEDULER_URL = "http://127.0.0.1:8703"

_Model = TypeVar("_Model", bound=BaseModel)


class SchedulerUnreachable(NuageError):
    """The scheduler does not answer."""


class SchedulerRefused(NuageError):
    """The scheduler answered with an error; `status` and `code` say which."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class SchedulerClient:
    """One worker's session with one scheduler."""

    def __init__(
        self,
        url: str,
        account: LocalAccount,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = _checked(url)
        self.account = account
        self._token: str | None = None
        self._http = httpx.AsyncClient(
            base_url=self.url,
            timeout=timeout,
            transport=transport,
            headers={"user-agent": f"nuage-worker/{nuage.__version__}"},
        )

    async def __aenter__(self) -> SchedulerClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    # -- public calls -------------------------------------------------------------------------

    async def info(self) -> models.Info:
        return models.Info.model_validate(await self._call("GET", "/info", auth=False))

    async def health(self) -> models.Health:
        return models.Health.model_validate(await self._call("GET", "/health", auth=False))

    async def login(self) -> models.Session:
        challenge = models.Challenge.model_validate(
            await self._call(
                "POST", "/auth/challenge", {"address": self.account.address}, auth=False
            )
        )
        signed = self.account.sign_message(encode_defunct(text=challenge.message))
        session = models.Session.model_validate(
            await self._call(
                "POST",
                "/auth/login",
                {
                    "address": self.account.address,
                    "nonce": challenge.nonce,
                    "signature": "0x" + bytes(signed.signature).hex(),
                },
                auth=False,
            )
        )
        self._token = session.token
        return session

    # -- worker calls -------------------------------------------------------------------------

    async def register(self, capabilities: models.CapabilitiesBody) -> models.Registered:
        answer = await self._call("POST", "/workers/register", capabilities.model_dump())
        return models.Registered.model_validate(answer)

    async def heartbeat(self, running: list[bytes]) -> list[models.Instruction]:
        body = {"running": ["0x" + task.hex() for task in running]}
        answer = models.HeartbeatAnswer.model_validate(
            await self._call("POST", "/workers/heartbeat", body)
        )
        return answer.instructions

    async def pull(self, busy: list[bytes] | None = None) -> models.PullAnswer:
        """Asks for a replicate; `busy`: the tasks still holding one of the worker's slots."""
        body = None if busy is None else {"busy": ["0x" + task.hex() for task in busy]}
        return models.PullAnswer.model_validate(await self._call("POST", "/replicates/next", body))

    async def report(self, task_id: bytes, stage: str, reason: str | None = None) -> None:
        body = {"stage": stage, "reason": None if reason is None else reason[:2000]}
        await self._call("POST", f"/replicates/0x{task_id.hex()}/status", body)

    async def hand_in(self, task_id: bytes, blob_id: str, callback_data: bytes) -> None:
        body = {"blob_id": blob_id, "callback_data": "0x" + callback_data.hex()}
        await self._call("POST", f"/replicates/0x{task_id.hex()}/result", body)

    async def report_logs(
        self,
        task_id: bytes,
        stdout: bytes,
        stderr: bytes,
        *,
        exit_code: int | None = None,
        failure: str | None = None,
    ) -> None:
        """Sends a run's stdout and stderr (their last `MAX_LOG_BYTES` each) for the requester."""
        body = {
            "stdout": base64.b64encode(log_tail(stdout)).decode(),
            "stderr": base64.b64encode(log_tail(stderr)).decode(),
            "exit_code": exit_code,
            "failure": None if failure is None else failure[:2000],
        }
        await self._call("POST", f"/replicates/0x{task_id.hex()}/logs", body)

    # -- plumbing -----------------------------------------------------------------------------

    async def _call(
        self, method: str, path: str, body: dict[str, Any] | None = None, *, auth: bool = True
    ) -> Any:
        for attempt in range(2):
            if auth and self._token is None:
                await self.login()
            headers = {"authorization": f"Bearer {self._token}"} if auth else {}
            try:
                response = await self._http.request(method, path, json=body, headers=headers)
            except httpx.TransportError as error:
                raise SchedulerUnreachable(
                    f"the scheduler at {self.url} does not answer ({type(error).__name__}): "
                    "is it running? (`nuage scheduler serve`)"
                ) from None
            if response.status_code == 401 and auth and attempt == 0:
                self._token = None  # expired or the scheduler restarted afresh: log in again
                continue
            if response.status_code >= 400:
                raise _refusal(response)
            return None if response.status_code == 204 else response.json()
        raise AssertionError("unreachable")


def read_task_logs(
    url: str,
    task_id: bytes,
    *,
    timeout: float = 30.0,
    transport: httpx.BaseTransport | None = None,
) -> models.TaskLogs:
    """Every replicate's logs of a task, as the scheduler at `url` keeps them (a public call)."""
    base = _checked(url)
    headers = {"user-agent": f"nuage/{nuage.__version__}"}
    with httpx.Client(base_url=base, timeout=timeout, transport=transport, headers=headers) as http:
        try:
            response = http.get(f"/tasks/0x{task_id.hex()}/logs")
        except httpx.TransportError as error:
            raise SchedulerUnreachable(
                f"the scheduler at {base} does not answer ({type(error).__name__})"
            ) from None
    if response.status_code >= 400:
        raise _refusal(response)
    try:
        return models.TaskLogs.model_validate(response.json())
    except ValueError:
        raise SchedulerRefused(
            response.status_code, "bad_answer", f"{base} does not answer as a nuage scheduler"
        ) from None


def log_tail(data: bytes, limit: int = models.MAX_LOG_BYTES) -> bytes:
    """At most `limit` bytes of a log: its tail, after a marker when the head was dropped."""
    if len(data) <= limit:
        return data
    marker = f"[nuage: only the tail of {len(data)} bytes is kept]\n".encode()
    return marker + data[len(data) - (limit - len(marker)) :]


def _checked(url: str) -> str:
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"the scheduler URL {url!r} is not an http(s) URL")
    return url.rstrip("/")


def _refusal(response: httpx.Response) -> SchedulerRefused:
    try:
        error = response.json()["error"]
        code, message = str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        code, message = "http_error", f"HTTP {response.status_code}"
    return SchedulerRefused(response.status_code, code, f"the scheduler refused: {message}")
