"""The explorer of a real devnet (anvil, storage, market, a pool of one worker): what it indexed,
its JSON API, its pages, live task events and result downloads. One devnet for the module."""

from __future__ import annotations

import io
import json
import queue
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from nuage import devnet
from nuage.chain.anvil import free_ports
from nuage.chain.bindings import Contracts
from nuage.chain.client import Chain
from nuage.client import Client
from nuage.config import Settings
from nuage.demo import APP_PRICE, DAPPS
from nuage.explorer.indexer import Indexer, explorer_watcher
from nuage.explorer.tables import ASSETS, CONTRIBUTIONS, METADATA, TASKS
from nuage.market.book import make_engine

pytestmark = pytest.mark.integration

APPS = ("factorial", "sudoku")


@dataclass(frozen=True)
class Network:
    settings: Settings
    state: devnet.DevnetState
    url: str  # the explorer's
    apps: dict[str, str]  # name -> address
    deal_id: str
    task_id: str  # factorial 10, completed

    def get(self, path: str, **params: Any) -> httpx.Response:
        return httpx.get(self.url + path, params=params, timeout=10)

    def api(self, path: str, **params: Any) -> Any:
        response = self.get(path, **params)
        assert response.status_code == 200, response.text
        return response.json()

    def requester(self) -> Client:
        return Client.devnet("requester", home=self.settings.home)


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    settings = Settings(home=tmp_path_factory.mktemp("explorer") / "home")
    ports = ("port", "storage_port", "market_port", "scheduler_port", "explorer_port")
    with pytest.MonkeyPatch.context() as env:
        for name in ("NUAGE_RPC_URL", "NUAGE_DEPLOYMENT", "NUAGE_STORAGE_URL", "NUAGE_HOME"):
            env.delenv(name, raising=False)
        state = devnet.up(
            settings, workers=1, **dict(zip(ports, free_ports(len(ports)), strict=True))
        )
        try:
            owner = Client.devnet("app-owner", home=settings.home)
            apps = {}
            for name in APPS:
                apps[name], _, _ = owner.deploy_app(DAPPS / name)
                owner.publish_app(name, APP_PRICE)
            run = Client.devnet("requester", home=settings.home).run(
                "factorial", ["10"], deposit=True
            )
            run.wait(timeout=180)
            url = state.services["explorer"]
            network = Network(settings, state, url, apps, run.deal_id, run.task_ids[0])
            _until(lambda: network.api(f"/api/tasks/{network.task_id}")["status"] == "COMPLETED")
            yield network
        finally:
            devnet.down(settings)


def _until(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if condition():
                return
        except (AssertionError, KeyError, httpx.HTTPError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {condition}")
        time.sleep(0.1)


# -- the indexer, in this process, on the devnet's chain ------------------------------------------


def test_the_indexer_finds_the_apps_the_deal_and_the_finished_task(
    network: Network, tmp_path: Path
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'index.db'}")
    METADATA.create_all(engine)
    contracts = Contracts(Chain(network.state.rpc_url), network.state.deployment)
    storage = network.state.services["storage"]
    indexer = Indexer.for_contracts(engine, contracts, storage)

    assert indexer.catch_up(explorer_watcher(contracts, engine)) > 0

    with engine.connect() as connection:
        assets = {row.name: row for row in connection.execute(select(ASSETS)).all()}
        task = connection.execute(select(TASKS).where(TASKS.c.task_id == network.task_id)).one()
        contributions = connection.execute(select(CONTRIBUTIONS)).all()
    assert {name: assets[name].address for name in APPS} == network.apps
    assert assets["factorial"].description.startswith("n! for the n given")
    assert assets["devnet pool"].kind == "workerpool"
    assert (task.status, task.deal_id, task.app) == (
        "COMPLETED",
        network.deal_id,
        network.apps["factorial"],
    )
    worker = network.state.account("worker-1").address
    assert [(c.task_id, c.worker, c.status) for c in contributions] == [
        (network.task_id, worker, "FINALIZED")
    ]


def test_a_restarted_indexer_resumes_without_repeating_an_event(
    network: Network, tmp_path: Path
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'index.db'}")
    METADATA.create_all(engine)
    contracts = Contracts(Chain(network.state.rpc_url), network.state.deployment)
    Indexer.for_contracts(engine, contracts, None).catch_up(explorer_watcher(contracts, engine))

    again = Indexer.for_contracts(engine, contracts, None)
    assert again.catch_up(explorer_watcher(contracts, engine)) == 0
    with engine.connect() as connection:
        assert len(connection.execute(select(CONTRIBUTIONS)).all()) == 1


# -- the JSON API ----------------------------------------------------------------------------------


def test_the_deployed_apps_are_listed_with_their_price_and_runs(network: Network) -> None:
    apps = {app["name"]: app for app in network.api("/api/apps")["apps"]}

    assert set(apps) == set(APPS)
    assert apps["factorial"]["address"] == network.apps["factorial"]
    assert apps["factorial"]["price"] == APP_PRICE
    assert (apps["factorial"]["runs"], apps["sudoku"]["runs"]) == (1, 0)
    assert apps["factorial"]["owner"] == network.state.account("app-owner").address


def test_search_filters_the_apps(network: Network) -> None:
    assert [a["name"] for a in network.api("/api/apps", q="SUDO")["apps"]] == ["sudoku"]
    assert network.api("/api/apps", q="no such app")["apps"] == []


def test_an_app_shows_its_orders_and_tasks(network: Network) -> None:
    app = network.api(f"/api/apps/{network.apps['factorial'].lower()}")

    assert app["name"] == "factorial"
    assert [order["price"] for order in app["orders"]] == [APP_PRICE]
    assert [task["task_id"] for task in app["tasks"]] == [network.task_id]


def test_the_finished_task_its_deal_and_its_worker(network: Network) -> None:
    task = network.api(f"/api/tasks/{network.task_id}")
    deal = network.api(f"/api/deals/{network.deal_id}")
    workers = network.api("/api/workers")["workers"]

    assert (task["status"], task["deal_id"], task["results"] is not None) == (
        "COMPLETED",
        network.deal_id,
        True,
    )
    assert [t["task_id"] for t in deal["tasks"]] == [network.task_id]
    assert deal["task_price"] == APP_PRICE + 10**9  # the devnet pool sells at 1 RLC
    (worker,) = workers
    assert worker["address"] == network.state.account("worker-1").address
    assert worker["completed"] == 1 and worker["score"] == 0


def test_the_order_book_the_pools_and_an_account(network: Network) -> None:
    assert network.api("/api/orders/workerpool")["total"] == 1
    (pool,) = network.api("/api/pools")["pools"]
    assert (pool["description"], pool["price"], pool["trust"]) == ("devnet pool", 10**9, 100)

    requester = network.state.account("requester").address
    account = network.api(f"/api/accounts/{requester}")
    client = network.requester()
    held = client.contracts.hub_account(requester)
    assert (account["free"], account["frozen"]) == (held.free, held.frozen)


def test_malformed_ids_are_refused_and_unknown_ones_not_found(network: Network) -> None:
    for path in ("/api/tasks/0x12", "/api/deals/nope", "/api/apps/0xzz", "/api/accounts/12"):
        response = network.get(path)
        assert response.status_code == 422, path
        assert response.json()["error"]["code"] == "invalid_request"
    unknown = "0x" + "00" * 31 + "01"
    for path in (f"/api/tasks/{unknown}", f"/api/deals/{unknown}", "/api/apps/0x" + "00" * 20):
        response = network.get(path)
        assert response.status_code == 404, path
        assert set(response.json()["error"]) == {"code", "message"}
    assert network.get("/api/orders/bogus").status_code == 422


def test_health_names_every_source(network: Network) -> None:
    health = network.api("/api/health")
    for name in ("chain", "market", "scheduler", "storage"):
        assert health[name]["ok"] is True, health
    assert health["market"]["url"] == network.state.services["market"]


# -- pages -----------------------------------------------------------------------------------------


def test_the_store_page_shows_the_app_cards_fast(network: Network) -> None:
    network.get("/")  # warm
    started = time.monotonic()
    page = network.get("/")
    elapsed = time.monotonic() - started

    assert page.status_code == 200 and elapsed < 1.0, elapsed
    html = page.text
    assert html.count('data-testid="app-card"') == 2
    assert f"{APP_PRICE} nRLC" in html
    assert 'data-testid="unreachable"' not in html
    assert "/static/explorer.css" in html and "http" not in html.split("<body")[0].replace(
        "http-equiv", ""
    )  # nothing fetched from elsewhere
    filtered = network.get("/", q="factorial").text
    assert filtered.count('data-testid="app-card"') == 1


def test_the_task_page_offers_the_result_once_completed(network: Network) -> None:
    started = time.monotonic()
    page = network.get(f"/tasks/{network.task_id}")
    assert time.monotonic() - started < 1.0
    assert (
        '<span class="status s-completed" data-testid="task-status">COMPLETED</span>' in page.text
    )
    assert f'href="/tasks/{network.task_id}/result"' in page.text

    result = network.get(f"/tasks/{network.task_id}/result")
    assert result.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(result.content)) as bundle:
        assert bundle.read("result.txt").decode().strip() == "3628800"


def test_every_page_renders(network: Network) -> None:
    requester = network.state.account("requester").address
    for path in (
        "/submit", "/market", "/deals", f"/deals/{network.deal_id}", "/tasks", "/pools",
        "/workers", "/accounts", f"/accounts/{requester}", f"/apps/{network.apps['sudoku']}",
        f"/tasks/{network.task_id}/logs", "/static/explorer.css", "/static/explorer.js",
    ):  # fmt: skip
        response = network.get(path)
        assert response.status_code == 200, (path, response.text[:300])
    assert network.get("/tasks/0x12").status_code == 422
    assert "not a task id" in network.get("/tasks/0x12").text


def test_devnet_status_names_the_explorer(network: Network) -> None:
    status = devnet.status(network.settings).as_dict()
    assert status["services"]["explorer"] == network.url
    assert status["processes"]["explorer"]["running"] is True


# -- live events ----------------------------------------------------------------------------------


def test_a_new_task_arrives_as_events_until_completed(network: Network) -> None:
    events: queue.Queue[dict[str, Any]] = queue.Queue()
    listening = threading.Event()

    def listen(response: httpx.Response) -> None:
        name = None
        try:
            for line in response.iter_lines():
                listening.set()
                if line.startswith("event: "):
                    name = line.removeprefix("event: ")
                elif line.startswith("data: ") and name == "task":
                    events.put(json.loads(line.removeprefix("data: ")))
        except httpx.HTTPError:
            pass  # the test closed the stream

    with httpx.Client(timeout=httpx.Timeout(10, read=None)) as http:
        with http.stream("GET", network.url + "/api/events") as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            listener = threading.Thread(target=listen, args=(response,), daemon=True)
            listener.start()
            assert listening.wait(10)  # the stream's first comment arrived: subscribed
            run = network.requester().run("factorial", ["5"], deposit=True)
            task = run.task_ids[0]
            seen = []
            deadline = time.monotonic() + 180
            while "COMPLETED" not in seen:
                event = events.get(timeout=max(0.1, deadline - time.monotonic()))
                if event["task_id"] == task:
                    seen.append(event["status"])
            response.close()
        listener.join(10)
    assert seen[0] == "UNSET" and seen[-1] == "COMPLETED"
    assert network.api(f"/api/tasks/{task}")["status"] == "COMPLETED"
