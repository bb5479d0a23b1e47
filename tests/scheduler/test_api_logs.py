"""A replicate's logs through the scheduler's API, in-process: its worker posts, anyone reads."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal

from nuage.scheduler import models
from nuage.scheduler.api import create_app
from nuage.scheduler.client import (
    SchedulerClient,
    SchedulerRefused,
    SchedulerUnreachable,
    log_tail,
    read_task_logs,
)
from nuage.scheduler.events import DealSeen
from nuage.scheduler.service import SchedulerService
from nuage.scheduler.state import SchedulerConfig
from nuage.scheduler.store import SchedulerStore, open_engine
from tests.scheduler.simulation import DEAL_ID, POOL, make_deal
from tests.scheduler.test_api import POOL_OWNER, STRANGER, URL, WORKER, FakeHub
from tests.storage.conftest import AppTransport

pytestmark = pytest.mark.anyio

DEAL = make_deal(trust=1)
(TASK,) = DEAL.task_ids(DEAL_ID)
LOGS_PATH = f"/tasks/0x{TASK.hex()}/logs"


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def service(tmp_path: Path, clock: Clock) -> SchedulerService:
    store = SchedulerStore(open_engine(f"sqlite:///{tmp_path / 'scheduler.db'}"))
    service = SchedulerService(
        hub=FakeHub(),  # type: ignore[arg-type]
        pool_owner=POOL_OWNER,
        config=SchedulerConfig(workerpool=POOL),
        store=store,
        clock=clock,
    )
    service.feed(DealSeen(deal_id=DEAL_ID, deal=DEAL, params="{}", now=clock()))
    return service


@pytest.fixture
async def http(service: SchedulerService) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(create_app(service))
    async with httpx.AsyncClient(transport=transport, base_url=URL) as client:
        yield client


def client(service: SchedulerService, account: Any = WORKER) -> SchedulerClient:
    return SchedulerClient(URL, account, transport=httpx.ASGITransport(create_app(service)))


async def assigned_worker(service: SchedulerService) -> SchedulerClient:
    """The worker, registered (two replicates at a time), holding the replicate of TASK."""
    scheduler = client(service)
    await scheduler.register(models.CapabilitiesBody(sandboxes=["bubblewrap"], max_parallel=2))
    answer = await scheduler.pull()
    assert answer.assignment is not None and answer.assignment.task_id == "0x" + TASK.hex()
    return scheduler


async def test_the_worker_of_a_task_posts_its_logs_and_anyone_reads_them(
    service: SchedulerService, http: httpx.AsyncClient
):
    async with await assigned_worker(service) as worker:
        await worker.report_logs(
            TASK, b"computing 10!\n", b"warning: \xff slow\n", exit_code=3, failure="exit status 3"
        )
    response = await http.get(LOGS_PATH)  # no token: the requester reads them
    assert response.status_code == 200
    (entry,) = response.json()["replicates"]
    assert entry["worker"] == WORKER.address
    assert entry["stdout"] == "computing 10!\n"
    assert entry["stderr"] == "warning: \ufffd slow\n"  # undecodable bytes replaced
    assert (entry["exit_code"], entry["failure"]) == (3, "exit status 3")
    assert response.json()["task_id"] == "0x" + TASK.hex()


async def test_logs_sent_again_replace_the_previous_ones(
    service: SchedulerService, http: httpx.AsyncClient
):
    async with await assigned_worker(service) as worker:
        await worker.report_logs(TASK, b"first run\n", b"")
        await worker.report_logs(TASK, b"after a restart\n", b"", exit_code=0)
    (entry,) = (await http.get(LOGS_PATH)).json()["replicates"]
    assert (entry["stdout"], entry["exit_code"]) == ("after a restart\n", 0)


async def test_a_worker_not_assigned_to_the_task_cannot_post_its_logs(
    service: SchedulerService, http: httpx.AsyncClient
):
    async with await assigned_worker(service):
        pass
    async with client(service, STRANGER) as stranger:
        await stranger.register(models.CapabilitiesBody(sandboxes=["bubblewrap"]))
        with pytest.raises(SchedulerRefused) as refused:
            await stranger.report_logs(TASK, b"forged output\n", b"")
    assert (refused.value.status, refused.value.code) == (403, "not_assigned")
    answer = await http.get(LOGS_PATH)
    assert answer.status_code == 404  # nothing was stored
    assert answer.json()["error"]["code"] == "no_logs"


async def test_logs_of_a_task_this_scheduler_does_not_know_are_refused(service: SchedulerService):
    async with await assigned_worker(service) as worker:
        with pytest.raises(SchedulerRefused) as refused:
            await worker.report_logs(b"\x22" * 32, b"hello\n", b"")
    assert (refused.value.status, refused.value.code) == (404, "unknown_task")


async def test_posting_logs_needs_a_token(http: httpx.AsyncClient):
    body = {"stdout": "", "stderr": ""}
    response = await http.post(f"/replicates/0x{TASK.hex()}/logs", json=body)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"stdout": "not base64!"}, 422, "invalid_request"),
        ({"stdout": "AAA"}, 422, "bad_logs"),  # base64's alphabet, but not base64
        (
            {"stderr": base64.b64encode(b"x" * (models.MAX_LOG_BYTES + 1)).decode()},
            422,
            "logs_too_large",
        ),
    ],
)
async def test_malformed_or_oversized_logs_are_refused(
    service: SchedulerService, http: httpx.AsyncClient, body: dict[str, str], status: int, code: str
):
    async with await assigned_worker(service) as worker:
        token = (await worker.login()).token
        response = await http.post(
            f"/replicates/0x{TASK.hex()}/logs",
            json=body,
            headers={"authorization": f"Bearer {token}"},
        )
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


async def test_the_worker_sends_the_tail_of_long_logs(
    service: SchedulerService, http: httpx.AsyncClient
):
    long = b"".join(b"line %d\n" % n for n in range(20_000))  # ~180 KiB
    async with await assigned_worker(service) as worker:
        await worker.report_logs(TASK, long, b"")
    (entry,) = (await http.get(LOGS_PATH)).json()["replicates"]
    stdout = entry["stdout"].encode()
    assert len(stdout) == models.MAX_LOG_BYTES
    assert stdout.startswith(b"[nuage: only the tail of")
    assert stdout.endswith(b"line 19999\n")
    assert log_tail(b"short") == b"short"


async def test_logs_are_forgotten_after_the_retention_time(
    service: SchedulerService, http: httpx.AsyncClient, clock: Clock
):
    async with await assigned_worker(service) as worker:
        await worker.report_logs(TASK, b"old\n", b"")
    clock.now += service.log_retention + 1
    service.feed(DealSeen(deal_id=b"\x33" * 32, deal=DEAL, params="{}", now=clock()))
    (other,) = DEAL.task_ids(b"\x33" * 32)
    async with client(service) as worker:
        assert (await worker.pull()).assignment is not None
        await worker.report_logs(other, b"new\n", b"")
    assert (await http.get(LOGS_PATH)).status_code == 404
    assert (await http.get(f"/tasks/0x{other.hex()}/logs")).status_code == 200


async def test_reading_logs_of_a_malformed_task_id_is_a_422(http: httpx.AsyncClient):
    response = await http.get("/tasks/0x1234/logs")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "bad_task_id"


# -- the requester's side: read_task_logs, synchronous ------------------------------------------


@pytest.fixture
def portal() -> Iterator[BlockingPortal]:
    with start_blocking_portal("asyncio") as running_portal:
        yield running_portal


def test_a_requester_reads_the_logs_without_a_wallet(tmp_path: Path, portal: BlockingPortal):
    service = portal.call(_service_with_logs, tmp_path)
    transport = AppTransport(create_app(service), portal)
    logs = read_task_logs(URL, TASK, transport=transport)
    assert [(r.worker, r.stdout, r.stderr) for r in logs.replicates] == [
        (WORKER.address, "out\n", "err\n")
    ]
    with pytest.raises(SchedulerRefused) as refused:
        read_task_logs(URL, b"\x44" * 32, transport=transport)
    assert (refused.value.status, refused.value.code) == (404, "no_logs")


def test_a_scheduler_that_does_not_answer_is_a_nuage_error():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(SchedulerUnreachable, match="does not answer"):
        read_task_logs(URL, TASK, transport=httpx.MockTransport(refuse))


async def _service_with_logs(tmp_path: Path) -> SchedulerService:
    store = SchedulerStore(open_engine(f"sqlite:///{tmp_path / 'scheduler.db'}"))
    service = SchedulerService(
        hub=FakeHub(),  # type: ignore[arg-type]
        pool_owner=POOL_OWNER,
        config=SchedulerConfig(workerpool=POOL),
        store=store,
    )
    service.feed(DealSeen(deal_id=DEAL_ID, deal=DEAL, params="{}", now=service.clock()))
    async with await assigned_worker(service) as worker:
        await worker.report_logs(TASK, b"out\n", b"err\n")
    return service
