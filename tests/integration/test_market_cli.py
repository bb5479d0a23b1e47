"""`nuage order` and `nuage orderbook` against a devnet and a market, as a person uses them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from eth_utils import keccak
from typer.testing import CliRunner, Result

from nuage import devnet
from nuage.chain.anvil import free_port
from nuage.chain.bindings import Contracts
from nuage.chain.client import Chain
from nuage.cli import order, orderbook
from nuage.cli._app import _Group
from nuage.config import Settings

pytestmark = pytest.mark.integration

cli = typer.Typer(cls=_Group)
cli.add_typer(order.app)
cli.add_typer(orderbook.app)


class Nuage:
    """Runs `nuage order|orderbook …` in-process with the devnet's $NUAGE_HOME and a market."""

    def __init__(self, home: Path, market: str, state: devnet.DevnetState) -> None:
        self.home = home
        self.market = market
        self.state = state
        self.runner = CliRunner()
        self.env = {"NUAGE_HOME": str(home), "NUAGE_MARKET_URL": market, "NUAGE_WALLET": ""}

    def __call__(self, *args: str, ok: bool = True) -> Result:
        result = self.runner.invoke(cli, list(args), env=self.env)
        if ok:
            assert result.exit_code == 0, f"nuage {' '.join(args)}: {result.output}"
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json").stdout)

    def refused(self, *args: str) -> str:
        result = self(*args, ok=False)
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output
        return " ".join(result.output.split())


@pytest.fixture(scope="module")
def nuage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nuage]:
    workdir = tmp_path_factory.mktemp("market-cli")
    config = Settings(home=workdir / "home")
    state = devnet.up(
        config,
        port=free_port(),
        storage_port=free_port(),
        market_port=free_port(),
        workers=1,
        pool=False,
    )
    port = free_port()
    env = os.environ | {
        "NUAGE_HOME": str(config.home),
        "NUAGE_MARKET_PORT": str(port),
        "NUAGE_MARKET_RPC_URL": state.rpc_url,
        "NUAGE_MARKET_DEPLOYMENT": str(config.deployment_file(state.chain_id)),
        "NUAGE_MARKET_DATABASE_URL": f"sqlite:///{workdir / 'market.db'}",
        "NUAGE_MARKET_POLL_INTERVAL": "0.1",
    }
    log = workdir / "market.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "nuage.market"], env=env, stdout=out, stderr=out
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait(lambda: _healthy(url), f"the market ({log.read_text()})")
        yield Nuage(config.home, url, state)
    finally:
        process.terminate()
        process.wait(timeout=15)
        devnet.down(config)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1).is_success
    except httpx.TransportError:
        return False


def _wait(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    pytest.fail(f"{what} did not happen within {timeout:g} s")


def register(nuage: Nuage) -> tuple[str, str]:
    """An app of the app owner and a workerpool of the pool owner, on the devnet."""
    contracts = Contracts(Chain(nuage.state.rpc_url), nuage.state.deployment)
    app_owner, pool_owner = nuage.state.account("app-owner"), nuage.state.account("pool-owner")
    name = f"app {time.time_ns()}"
    args = (app_owner.address, name, 0, b"", keccak(text=name), b"")
    contracts.chain.transact(contracts.app_registry.functions.createApp(*args), app_owner)
    app = contracts.app_registry.functions.predictApp(*args).call()
    pool_args = (pool_owner.address, f"pool {time.time_ns()}")
    registry = contracts.workerpool_registry
    contracts.chain.transact(registry.functions.createWorkerpool(*pool_args), pool_owner)
    for role in ("requester", "pool-owner"):
        contracts.deposit(nuage.state.account(role), 10 * 10**9)
    return str(app), str(registry.functions.predictWorkerpool(*pool_args).call())


def test_an_order_from_init_to_the_book_and_back(nuage: Nuage, tmp_path: Path) -> None:
    app, pool = register(nuage)
    app_file, pool_file, request_file = (tmp_path / f"{n}.json" for n in ("app", "pool", "req"))

    nuage("order", "init", "app", app, "--price", "1", "--volume", "2", "-o", str(app_file))
    assert json.loads(app_file.read_text())["order"]["sign"] == "0x"
    published = nuage.json("order", "publish", str(app_file), "--as", "app-owner")
    assert (published["status"], published["price"], published["remaining"]) == ("open", 10**9, 2)

    nuage(
        "order", "init", "workerpool", pool, "--price", "0.5", "--tag", "gpu", "-o", str(pool_file)
    )
    nuage("order", "sign", str(pool_file), "--as", "pool-owner")
    assert json.loads(pool_file.read_text())["order"]["sign"] != "0x"
    table = nuage("order", "publish", str(pool_file)).stdout
    assert "published workerpool order" in table and "0.5 RLC" in table

    listed = nuage.json("orderbook", "app", app)
    assert [o["hash"] for o in listed["orders"]] == [published["hash"]] and listed["total"] == 1
    pools = nuage("orderbook", "workerpool", "--tag", "gpu", "--category", "0").stdout
    assert "0.5" in pools and "gpu" in pools and "of 1" in pools

    nuage("order", "init", "request", app, "--app-max-price", "1", "--pool-max-price", "1",
          "--tag", "gpu", "--as", "requester", "-o", str(request_file))  # fmt: skip
    explained = nuage.json("order", "explain", str(request_file))
    assert explained["matchable"] and not explained["signature_checked"]
    assert "matchable" in nuage("order", "explain", str(request_file)).stdout
    nuage("order", "publish", str(request_file), "--as", "requester")
    assert (
        nuage.json("orderbook", "requester", nuage.state.account("requester").address)["total"] == 1
    )

    shown = nuage.json("order", "show", str(app_file))
    assert shown["hash"] == published["hash"] and shown["status"] == "open"
    nuage("order", "unpublish", published["hash"], "--as", "app-owner")
    assert nuage.json("orderbook", "app", app)["total"] == 0
    assert nuage.json("order", "show", published["hash"])["status"] == "unpublished"

    cancelled = nuage.json("order", "cancel", str(pool_file), "--as", "pool-owner")
    _wait(
        lambda: nuage.json("order", "show", cancelled["hash"])["status"] == "cancelled",
        "the market seeing the cancellation",
    )
    assert "no open workerpool order" in nuage("orderbook", "workerpool", pool).stdout


def test_the_errors_a_person_meets(nuage: Nuage, tmp_path: Path) -> None:
    app, _ = register(nuage)
    app_file = tmp_path / "app.json"
    nuage("order", "init", "app", app, "-o", str(app_file))

    assert "is signed by" in nuage.refused("order", "publish", str(app_file), "--as", "requester")
    assert "no signature and is not presigned" in nuage.refused("order", "publish", str(app_file))
    assert "was ever published" in nuage.refused("order", "show", "0x" + "12" * 32)
    assert "orders: not the owner" in nuage.refused(
        "order", "cancel", str(app_file), "--as", "requester"
    )
    elsewhere = f"http://127.0.0.1:{free_port()}"
    assert "does not answer" in nuage.refused("orderbook", "app", "--market", elsewhere)
    assert "is not a tag" in nuage.refused("orderbook", "workerpool", "--tag", "fast")
    not_an_order = tmp_path / "notes.json"
    not_an_order.write_text('{"hello": "world"}')
    assert "not an order file" in nuage.refused("order", "publish", str(not_an_order))
    usage = nuage("order", "init", "request", app, ok=False)
    assert usage.exit_code == 2 and "--requester" in usage.output
