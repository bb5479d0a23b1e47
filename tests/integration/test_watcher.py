"""The event watcher on a real anvil: restarts and RPC outages lose and repeat nothing."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from sqlalchemy import create_engine
from web3 import Web3
from web3.contract import Contract

from nuage.chain.client import Chain
from nuage.chain.watcher import (
    CursorStore,
    Event,
    EventWatcher,
    JsonCursorStore,
    LogSource,
    SqlCursorStore,
    Web3LogSource,
)
from tests.integration.proxy import TcpProxy

pytestmark = pytest.mark.integration

ANVIL_FIRST_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
SUPPLY = 10**18


class Tokens:
    """Two watched RLC tokens and one nobody watches, deployed by anvil's first account."""

    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self.deployer: LocalAccount = Account.from_key(ANVIL_FIRST_KEY)
        self.worker = Account.from_key(keccak(text="nuage watcher worker")).address
        self.rlc, minted = chain.deploy("RLC", self.deployer, SUPPLY)
        self.other, other_minted = chain.deploy("RLC", self.deployer, SUPPLY)
        self.stranger, _ = chain.deploy("RLC", self.deployer, SUPPLY)
        self.first_block = int(minted["blockNumber"])
        # what a watcher must hand over: each watched token's mint, then the transfers sent
        self.sent: list[tuple[str, int, str]] = [
            (token.address, SUPPLY, receipt["transactionHash"].to_0x_hex())
            for token, receipt in ((self.rlc, minted), (self.other, other_minted))
        ]

    def contracts(self) -> dict[str, Any]:
        abi = self.chain.artifacts["RLC"].abi
        return {self.rlc.address: abi, self.other.address: abi}

    def transfer(self, token: Contract, value: int) -> None:
        receipt = self.chain.transact(token.functions.transfer(self.worker, value), self.deployer)
        if token is not self.stranger:
            self.sent.append((token.address, value, receipt["transactionHash"].to_0x_hex()))

    def emit(self, values: range) -> None:
        """Transfers of each value, alternating between the watched tokens, one to the other."""
        for value in values:
            self.transfer(self.rlc if value % 2 else self.other, value)
            if value % 3 == 0:
                self.transfer(self.stranger, value)


@pytest.fixture
def tokens(chain: Chain) -> Tokens:
    return Tokens(chain)


class Following:
    """A watcher running in a thread, recording what it handled."""

    def __init__(self, watcher: EventWatcher, handled: list[Event]) -> None:
        self.watcher = watcher
        self.handled = handled
        self.stop = threading.Event()
        self.thread = threading.Thread(
            target=watcher.run, args=(handled.append, self.stop), daemon=True
        )

    def __enter__(self) -> Following:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive(), "the watcher did not stop"

    def wait_for(self, count: int, timeout: float = 10.0) -> None:
        wait_until(lambda: len(self.handled) >= count, timeout)


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def follow(
    source: LogSource, tokens: Tokens, store: CursorStore, handled: list[Event]
) -> Following:
    watcher = EventWatcher(
        source,
        tokens.contracts(),
        store,
        "payments",
        from_block=tokens.first_block,
        poll_interval=0.02,
        retry_delay=0.02,
        max_retry_delay=0.1,
    )
    return Following(watcher, handled)


def summary(events: list[Event]) -> list[tuple[str, int, str]]:
    return [(e.address, e.args["value"], e.transaction_hash) for e in events]


@pytest.fixture(params=["json", "sql"])
def reopen_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[], CursorStore]]:
    """Opens the persisted cursors again, as a restarted service would."""
    if request.param == "json":
        yield lambda: JsonCursorStore(tmp_path / "cursors.json")
        return
    engine = create_engine(f"sqlite:///{tmp_path / 'service.db'}")
    yield lambda: SqlCursorStore(engine)
    engine.dispose()


def test_a_restarted_watcher_handles_every_event_once_in_order(
    chain: Chain, tokens: Tokens, reopen_store: Callable[[], CursorStore]
):
    handled: list[Event] = []
    tokens.emit(range(1, 6))
    with follow(Web3LogSource(chain.w3), tokens, reopen_store(), handled) as first:
        first.wait_for(7)

    tokens.emit(range(6, 11))
    with follow(Web3LogSource(chain.w3), tokens, reopen_store(), handled) as second:
        second.wait_for(12)
        time.sleep(0.1)  # a few more polls: nothing more comes

    assert summary(handled) == tokens.sent
    assert [e.position for e in handled] == sorted({e.position for e in handled})
    assert {e.name for e in handled} == {"Transfer"}
    assert handled[0].args == {
        "sender": "0x" + "0" * 40,
        "receiver": tokens.deployer.address,
        "value": SUPPLY,
    }
    assert handled[-1].args == {
        "sender": tokens.deployer.address,
        "receiver": tokens.worker,
        "value": 10,
    }


def test_a_watcher_waits_out_an_rpc_outage_and_catches_up(
    chain: Chain, tokens: Tokens, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, logger="nuage.chain.watcher")
    handled: list[Event] = []
    with TcpProxy.to(chain.url) as proxy:
        w3 = Web3(
            Web3.HTTPProvider(
                proxy.url, request_kwargs={"timeout": 2}, exception_retry_configuration=None
            )
        )
        store = JsonCursorStore(tmp_path / "cursors.json")
        tokens.emit(range(1, 4))
        with follow(Web3LogSource(w3), tokens, store, handled) as following:
            following.wait_for(5)

            proxy.cut()
            wait_until(lambda: not following.watcher.healthy)
            tokens.emit(range(4, 8))  # straight to anvil, not through the proxy
            time.sleep(0.2)  # polls keep failing
            assert len(handled) == 5
            assert "unreachable (connection refused or reset)" in str(following.watcher.last_error)

            proxy.restore()
            following.wait_for(9)
            time.sleep(0.1)
            assert following.watcher.healthy

    assert summary(handled) == tokens.sent
    said = [(r.levelname, r.getMessage()) for r in caplog.records]
    warnings = [message for level, message in said if level == "WARNING"]
    assert len(warnings) == 1
    assert f"chain at {proxy.url} unreachable" in warnings[0]
    assert any(f"{proxy.url} answers again" in message for _, message in said)
