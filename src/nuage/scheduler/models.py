"""The scheduler's HTTP API, as pydantic models: what workers send and what they get back.

Every worker call carries a bearer token obtained by signing a challenge (EIP-191 personal
message, `login_message`) with the worker's wallet. Byte strings travel as 0x-hex, except a
replicate's logs: base64 up (`LogsReport`), text down (`TaskLogs`, read by anyone).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = [
    "MAX_LOG_BYTES",
    "Assignment",
    "CapabilitiesBody",
    "Challenge",
    "ChallengeRequest",
    "ErrorBody",
    "Health",
    "HeartbeatAnswer",
    "HeartbeatBody",
    "Info",
    "Instruction",
    "LoginRequest",
    "LogsReport",
    "PullAnswer",
    "Registered",
    "ReplicateLogs",
    "ResultHandIn",
    "Session",
    "StatusReport",
    "TaskLogs",
    "login_message",
]

MAX_LOG_BYTES = 64 * 1024  # of stdout and of stderr, per replicate: the tail is kept

_HEX = r"^0x([0-9a-fA-F]{2})*$"
_ADDRESS = r"^0x[0-9a-fA-F]{40}$"
_BYTES32 = r"^0x[0-9a-fA-F]{64}$"
_BASE64 = r"^[A-Za-z0-9+/]*={0,2}$"
_BASE64_MAX = 4 * ((MAX_LOG_BYTES + 2) // 3)


def login_message(workerpool: str, address: str, nonce: str) -> str:
    """The text a worker signs (EIP-191 personal message) to log in to a pool's scheduler."""
    return (
        "nuage: log in to the scheduler of workerpool "
        f"{workerpool}\nworker: {address}\nnonce: {nonce}"
    )


class ErrorBody(BaseModel):
    """Every error answer: `{"error": {"code": ..., "message": ...}}`."""

    error: dict[str, str]


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    workerpool: str
    chain_id: int
    block: int | None = None
    watcher: str = Field(description="ok, or why the chain watcher is behind.")
    summary: dict[str, Any] = Field(default_factory=dict)


class Info(BaseModel):
    workerpool: str
    owner: str
    chain_id: int
    hub: str
    storage_url: str | None
    version: str


class ChallengeRequest(BaseModel):
    address: str = Field(pattern=_ADDRESS)


class Challenge(BaseModel):
    nonce: str
    message: str = Field(description="Sign this text (EIP-191 personal message).")
    expires_at: float


class LoginRequest(BaseModel):
    address: str = Field(pattern=_ADDRESS)
    nonce: str
    signature: str = Field(pattern=_HEX)


class Session(BaseModel):
    token: str
    worker: str
    expires_at: float


class CapabilitiesBody(BaseModel):
    cpus: int = Field(default=1, ge=1)
    memory_bytes: int = Field(default=0, ge=0)
    gpus: int = Field(default=0, ge=0)
    sandboxes: list[str] = Field(default_factory=list)
    tee: bool = False
    max_parallel: int = Field(default=1, ge=1, le=256)


class Registered(BaseModel):
    worker: str
    workerpool: str
    chain_id: int
    hub: str
    storage_url: str | None
    heartbeat_interval: float
    pull_interval: float


class HeartbeatBody(BaseModel):
    running: list[str] = Field(default_factory=list, description="Task ids (0x-hex).")


class PullBody(BaseModel):
    busy: list[str] | None = Field(
        default=None,
        description="Task ids (0x-hex) the worker is still fetching, computing or voting on; "
        "replicates it does not name hold none of its slots. Omitted: every replicate "
        "assigned to it and not yet seen on chain counts.",
    )


class Instruction(BaseModel):
    kind: Literal["reveal", "upload", "abort", "release"]
    task_id: str
    reason: str | None = None


class HeartbeatAnswer(BaseModel):
    instructions: list[Instruction]


class Assignment(BaseModel):
    """A replicate: the deal (check it against the chain), the task, the authorization."""

    task_id: str = Field(pattern=_BYTES32)
    deal_id: str = Field(pattern=_BYTES32)
    index: int
    deal: dict[str, Any]
    params: str
    authorization: str = Field(pattern=_HEX)


class PullAnswer(BaseModel):
    assignment: Assignment | None = None
    reason: str | None = None
    retry_after: float = 0.0


class StatusReport(BaseModel):
    stage: str = Field(max_length=40)
    reason: str | None = Field(default=None, max_length=2000)


class ResultHandIn(BaseModel):
    blob_id: str = Field(pattern=r"^[0-9a-f]{64}$")
    callback_data: str = Field(default="0x", pattern=_HEX, max_length=2 + 2 * 1024)


class LogsReport(BaseModel):
    """A replicate's stdout and stderr as its worker kept them (base64), and how the run ended."""

    stdout: str = Field(default="", pattern=_BASE64, max_length=_BASE64_MAX)
    stderr: str = Field(default="", pattern=_BASE64, max_length=_BASE64_MAX)
    exit_code: int | None = None
    failure: str | None = Field(default=None, max_length=2000)


class ReplicateLogs(BaseModel):
    """One worker's logs of a task, as text (undecodable bytes replaced)."""

    worker: str
    stdout: str
    stderr: str
    exit_code: int | None = None
    failure: str | None = Field(default=None, description="Why the run failed, or None.")
    received_at: float


class TaskLogs(BaseModel):
    task_id: str
    replicates: list[ReplicateLogs]
