"""The scheduler's worker API in-process (no socket, no chain): logins, every call authenticated."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import keccak

from nuage.exceptions import ConfigError
from nuage.protocol.eip712 import Domain, recover
from nuage.protocol.poco import authorization_digest, result_hash, sign_authorization
from nuage.scheduler import models
from nuage.scheduler.api import create_app
from nuage.scheduler.client import SchedulerClient, SchedulerRefused
from nuage.scheduler.events import ConsensusReached, ContributionSeen, DealSeen, TaskInitialized
from nuage.scheduler.service import SchedulerService
from nuage.scheduler.snapshot import dump_state
from nuage.scheduler.state import SchedulerConfig
from nuage.scheduler.store import SchedulerStore, open_engine
from nuage.scheduler.wire import deal_from_json
from tests.scheduler.simulation import DEAL_ID, POOL, make_deal

pytestmark = pytest.mark.anyio

HUB = "0x" + "48" * 20
POOL_OWNER = Account.from_key(keccak(text="api test pool owner"))
WORKER = Account.from_key(keccak(text="api test worker"))
STRANGER = Account.from_key(keccak(text="api test stranger"))
URL = "http://scheduler.test"


class FakeHub:
    """What the service reads of the chain, without one."""

    def __init__(self) -> None:
        self.chain = SimpleNamespace(chain_id=31337, url="fake://chain", w3=None)
        self.deployment = SimpleNamespace(block=0, hub=HUB)
        self.domain = Domain(chain_id=31337, verifying_contract=HUB)

    def watched_contracts(self) -> dict[str, Any]:
        return {}

    def genesis_hash(self) -> str:
        return "0x" + "0e" * 32

    def score(self, address: str) -> int:
        return 0

    def free_balance(self, address: str) -> int:
        return 10**12

    def authorize(self, owner: Any, worker: str, task: bytes) -> bytes:
        return sign_authorization(owner.key, self.domain, worker, task)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def service(tmp_path: Path) -> SchedulerService:
    store = SchedulerStore(open_engine(f"sqlite:///{tmp_path / 'scheduler.db'}"))
    return SchedulerService(
        hub=FakeHub(),  # type: ignore[arg-type]
        pool_owner=POOL_OWNER,
        config=SchedulerConfig(workerpool=POOL),
        store=store,
    )


@pytest.fixture
async def http(service: SchedulerService) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(create_app(service))
    async with httpx.AsyncClient(transport=transport, base_url=URL) as client:
        yield client


def client(service: SchedulerService, account: Any = WORKER) -> SchedulerClient:
    return SchedulerClient(URL, account, transport=httpx.ASGITransport(create_app(service)))


async def test_a_worker_logs_in_with_its_wallet_registers_and_heartbeats(service: SchedulerService):
    async with client(service) as scheduler:
        session = await scheduler.login()
        assert session.worker == WORKER.address
        registered = await scheduler.register(
            models.CapabilitiesBody(cpus=4, sandboxes=["bubblewrap"], max_parallel=2)
        )
        assert registered.workerpool == service.workerpool
        assert await scheduler.heartbeat([]) == []
    assert service.state.workers[WORKER.address].capabilities.max_parallel == 2


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/workers/register"),
        ("POST", "/workers/heartbeat"),
        ("POST", "/replicates/next"),
        ("POST", "/replicates/0x" + "11" * 32 + "/status"),
        ("POST", "/replicates/0x" + "11" * 32 + "/result"),
    ],
)
async def test_every_worker_call_needs_a_token(http: httpx.AsyncClient, method: str, path: str):
    for headers in ({}, {"authorization": "Bearer forged"}):
        response = await http.request(method, path, json={}, headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthenticated"


async def test_a_challenge_signed_by_another_key_is_refused(http: httpx.AsyncClient):
    challenge = (await http.post("/auth/challenge", json={"address": WORKER.address})).json()
    forged = STRANGER.sign_message(encode_defunct(text=challenge["message"])).signature
    body = {
        "address": WORKER.address,
        "nonce": challenge["nonce"],
        "signature": "0x" + forged.hex(),
    }
    response = await http.post("/auth/login", json=body)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "bad_signature"


async def test_a_challenge_is_used_once(http: httpx.AsyncClient):
    challenge = (await http.post("/auth/challenge", json={"address": WORKER.address})).json()
    signature = WORKER.sign_message(encode_defunct(text=challenge["message"])).signature
    body = {
        "address": WORKER.address,
        "nonce": challenge["nonce"],
        "signature": "0x" + signature.hex(),
    }
    assert (await http.post("/auth/login", json=body)).status_code == 200
    replay = await http.post("/auth/login", json=body)
    assert replay.status_code == 401 and replay.json()["error"]["code"] == "bad_challenge"


async def test_pulling_before_registering_is_refused(service: SchedulerService):
    async with client(service) as scheduler:
        with pytest.raises(SchedulerRefused) as refused:
            await scheduler.pull()
    assert refused.value.code == "not_registered"


async def test_a_pulled_replicate_carries_the_deal_and_the_pool_owners_authorization(
    service: SchedulerService,
):
    deal = make_deal(trust=1)
    service.feed(DealSeen(deal_id=DEAL_ID, deal=deal, params="{}", now=service.clock()))
    async with client(service) as scheduler:
        await scheduler.register(models.CapabilitiesBody(sandboxes=["bubblewrap"]))
        answer = await scheduler.pull()
        assert answer.assignment is not None
        again = await scheduler.pull()
    assert again.assignment is None and again.reason
    assignment = answer.assignment
    assert deal_from_json(assignment.deal).commitment() == deal.commitment()
    task = bytes.fromhex(assignment.task_id[2:])
    digest = authorization_digest(FakeHub().domain, WORKER.address, task)
    assert recover(digest, bytes.fromhex(assignment.authorization[2:])) == POOL_OWNER.address


async def test_winners_are_told_to_reveal_in_their_heartbeat(service: SchedulerService):
    deal = make_deal(trust=2)  # one fresh contribution reaches consensus at trust 2
    now = service.clock()
    service.feed(DealSeen(deal_id=DEAL_ID, deal=deal, params="{}", now=now))
    (task,) = deal.task_ids(DEAL_ID)
    service.feed(TaskInitialized(task_id=task, now=now))
    async with client(service) as scheduler:
        await scheduler.register(models.CapabilitiesBody(sandboxes=["bubblewrap"]))
        assert (await scheduler.pull()).assignment is not None
        vote = result_hash(task, b"\x07" * 32)
        service.feed(
            ContributionSeen(task_id=task, worker=WORKER.address, result_hash=vote, now=now)
        )
        service.feed(
            ConsensusReached(task_id=task, consensus_value=vote, reveal_deadline=2**40, now=now)
        )
        (instruction,) = await scheduler.heartbeat([task])
    assert (instruction.kind, instruction.task_id) == ("reveal", "0x" + task.hex())


async def test_a_malformed_result_is_refused_with_a_reason(service: SchedulerService):
    async with client(service) as scheduler:
        await scheduler.register(models.CapabilitiesBody(sandboxes=["bubblewrap"]))
        with pytest.raises(SchedulerRefused) as refused:
            await scheduler.hand_in(b"\x11" * 32, "not-a-blob-id", b"")
    assert refused.value.status == 422 and "blob_id" in str(refused.value)


async def test_a_database_of_another_chain_is_refused(service: SchedulerService, tmp_path: Path):
    service.store.save_state({**dump_state(service.state), "chain": {"chain_id": 1}})
    again = SchedulerService(
        hub=FakeHub(),  # type: ignore[arg-type]
        pool_owner=POOL_OWNER,
        config=SchedulerConfig(workerpool=POOL),
        store=service.store,
    )
    with pytest.raises(ConfigError, match="another chain"):
        await again.run(asyncio.Event())


async def test_health_and_info_are_public(http: httpx.AsyncClient):
    health = (await http.get("/health")).json()
    assert health["workerpool"] == SchedulerConfig(workerpool=POOL).workerpool
    info = (await http.get("/info")).json()
    assert (info["owner"], info["hub"]) == (POOL_OWNER.address, HUB)
