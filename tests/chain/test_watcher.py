"""The event watcher against a chain in memory: order, confirmations, cursors, outages."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import pytest
import requests
from eth_abi import encode
from eth_typing import ABIEvent
from eth_utils import keccak, to_checksum_address
from eth_utils.abi import collapse_if_tuple, event_abi_to_log_topic
from sqlalchemy import Column, Engine, Integer, MetaData, Table, create_engine, select
from web3 import Web3
from web3.providers.base import BaseProvider
from web3.types import RPCEndpoint, RPCResponse

from nuage.chain.watcher import (
    Cursor,
    CursorStore,
    Event,
    EventWatcher,
    JsonCursorStore,
    MemoryCursorStore,
    SqlCursorStore,
    Web3LogSource,
)
from nuage.exceptions import ChainError, ChainUnreachable

WATCHER = "market"


def address(label: str) -> str:
    return to_checksum_address(keccak(text=label)[:20])


TOKEN, NFT, MARKET, STRANGER = (address(n) for n in ("token", "nft", "market", "stranger"))
REQUESTER, WORKER = address("requester"), address("worker")


def event_abi(name: str, *inputs: tuple[str, str, bool]) -> dict[str, Any]:
    return {
        "type": "event",
        "name": name,
        "anonymous": False,
        "inputs": [{"name": n, "type": t, "indexed": i} for n, t, i in inputs],
    }


ERC20_TRANSFER = event_abi(
    "Transfer",
    ("sender", "address", True),
    ("receiver", "address", True),
    ("value", "uint256", False),
)
ERC721_TRANSFER = event_abi(
    "Transfer",
    ("sender", "address", True),
    ("receiver", "address", True),
    ("token_id", "uint256", True),
)
DEAL_CREATED = event_abi("DealCreated", ("deal_id", "bytes32", True), ("params", "string", False))
DEAL_CREATED["inputs"].insert(
    1,
    {
        "name": "deal",
        "type": "tuple",
        "indexed": False,
        "components": [{"name": "app", "type": "address"}, {"name": "volume", "type": "uint256"}],
    },
)
CONTRACTS = {TOKEN: [ERC20_TRANSFER], NFT: [ERC721_TRANSFER], MARKET: [DEAL_CREATED]}

Emit = tuple[str, dict[str, Any], dict[str, Any]]  # contract, event ABI, arguments


def transfer(value: int) -> Emit:
    """A token transfer labelled by its value, so tests can tell events apart."""
    return (TOKEN, ERC20_TRANSFER, {"sender": REQUESTER, "receiver": WORKER, "value": value})


class FakeChain:
    """A LogSource in memory. `fail(n)` makes the next n calls raise ChainUnreachable."""

    url = "fake://chain"

    def __init__(self) -> None:
        self.blocks: list[list[dict[str, Any]]] = [[]]  # the genesis block has no logs
        self.reads: list[tuple[int, int]] = []
        self.failures_left = 0
        self.down = False

    def mine(self, *emits: Emit) -> int:
        number = len(self.blocks)
        self.blocks.append([self._log(number, i, *emit) for i, emit in enumerate(emits)])
        return number

    def mine_empty(self, count: int) -> None:
        for _ in range(count):
            self.mine()

    def head(self) -> int:
        self._maybe_fail()
        return len(self.blocks) - 1

    def logs(
        self, from_block: int, to_block: int, addresses: Sequence[str]
    ) -> list[Mapping[str, Any]]:
        self._maybe_fail()
        assert 0 <= from_block <= to_block <= self.head()
        self.reads.append((from_block, to_block))
        return [
            entry
            for number in range(from_block, to_block + 1)
            for entry in self.blocks[number]
            if entry["address"] in addresses
        ]

    def fail(self, calls: int) -> None:
        self.failures_left = calls

    def _maybe_fail(self) -> None:
        if self.down or self.failures_left > 0:
            self.failures_left = max(0, self.failures_left - 1)
            raise ChainUnreachable(f"chain at {self.url} unreachable (connection refused)")

    @staticmethod
    def _log(
        number: int, index: int, contract: str, abi: dict[str, Any], args: dict[str, Any]
    ) -> dict[str, Any]:
        inputs = abi["inputs"]
        topics = [event_abi_to_log_topic(cast(ABIEvent, abi))] + [
            encode([collapse_if_tuple(i)], [args[i["name"]]]) for i in inputs if i["indexed"]
        ]
        data = [i for i in inputs if not i["indexed"]]
        return {
            "address": contract,
            "topics": topics,
            "data": encode([collapse_if_tuple(i) for i in data], [args[i["name"]] for i in data]),
            "blockNumber": number,
            "blockHash": keccak(text=f"block {number}"),
            "transactionHash": keccak(text=f"tx {number} {index}"),
            "transactionIndex": index,
            "logIndex": index,
        }


def values(events: Sequence[Event]) -> list[int]:
    return [event.args["value"] for event in events]


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.005)


@pytest.fixture
def chain() -> FakeChain:
    return FakeChain()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'service.db'}")
    yield engine
    engine.dispose()


StoreFactory = Callable[[], CursorStore]


@pytest.fixture(params=["json", "sql"])
def reopen_store(request: pytest.FixtureRequest, tmp_path: Path, engine: Engine) -> StoreFactory:
    """Opens the same persisted cursors again, as a restarted process would."""
    if request.param == "json":
        return lambda: JsonCursorStore(tmp_path / "cursors.json")
    return lambda: SqlCursorStore(engine)


def watcher(chain: FakeChain, store: CursorStore | None = None, **options: Any) -> EventWatcher:
    options.setdefault("poll_interval", 0.005)
    options.setdefault("retry_delay", 0.005)
    return EventWatcher(chain, CONTRACTS, store or MemoryCursorStore(), WATCHER, **options)


def run_in_thread(
    follower: EventWatcher, handle: Callable[[Event], None]
) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=follower.run, args=(handle, stop), daemon=True)
    thread.start()
    return thread, stop


def stop_and_join(thread: threading.Thread, stop: threading.Event) -> None:
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()


# -- decoding --------------------------------------------------------------------------------


def test_events_are_decoded_with_the_abi_of_the_contract_that_emitted_them(chain: FakeChain):
    deal_id = keccak(text="deal")
    block = chain.mine(
        transfer(5),
        (NFT, ERC721_TRANSFER, {"sender": REQUESTER, "receiver": WORKER, "token_id": 7}),
        (MARKET, DEAL_CREATED, {"deal_id": deal_id, "deal": (WORKER, 3), "params": "x"}),
    )

    token, nft, market = watcher(chain).poll()

    assert (token.address, token.name, token.args) == (
        TOKEN,
        "Transfer",
        {"sender": REQUESTER, "receiver": WORKER, "value": 5},
    )
    assert (nft.name, nft.args["token_id"]) == ("Transfer", 7)  # same topic, indexed id
    assert market.args == {"deal_id": deal_id, "deal": {"app": WORKER, "volume": 3}, "params": "x"}
    assert [e.position for e in (token, nft, market)] == [(block, 0), (block, 1), (block, 2)]
    assert market.block_hash == "0x" + keccak(text=f"block {block}").hex()
    assert market.transaction_hash == "0x" + keccak(text=f"tx {block} 2").hex()


def test_logs_that_match_no_event_of_the_abi_are_skipped(
    chain: FakeChain, caplog: pytest.LogCaptureFixture
):
    chain.mine(transfer(1), transfer(2))
    chain.blocks[1][0]["topics"][0] = keccak(text="Unknown()")

    with caplog.at_level(logging.DEBUG, logger="nuage.chain.watcher"):
        events = watcher(chain).poll()

    assert values(events) == [2]
    assert "log 0 of block 1" in caplog.text and "matches no event" in caplog.text


def test_logs_that_cannot_be_decoded_are_skipped_with_an_error(
    chain: FakeChain, caplog: pytest.LogCaptureFixture
):
    chain.mine(transfer(1), transfer(2))
    chain.blocks[1][0]["data"] = b"\x01"  # not a uint256

    events = watcher(chain).poll()

    assert values(events) == [2]
    assert [r.levelname for r in caplog.records] == ["ERROR"]
    assert "cannot be decoded as Transfer" in caplog.text


def test_only_the_watched_contracts_are_asked_for(chain: FakeChain):
    chain.mine(transfer(1), (STRANGER, ERC20_TRANSFER, transfer(2)[2]))

    assert values(watcher(chain).poll()) == [1]


# -- confirmations and ranges ------------------------------------------------------------------


def test_only_blocks_confirmations_deep_are_read(chain: FakeChain):
    follower = watcher(chain, confirmations=2)
    chain.mine(transfer(1))

    assert follower.poll() == []
    chain.mine_empty(1)
    assert follower.poll() == []
    chain.mine_empty(1)
    assert values(follower.poll()) == [1]
    assert max(end for _, end in chain.reads) <= chain.head() - 2


def test_a_watcher_far_behind_catches_up_in_max_range_steps(chain: FakeChain):
    chain.mine_empty(25)
    chain.mine(transfer(1))
    chain.mine_empty(8)
    follower = watcher(chain, max_range=10)

    [event] = follower.poll()
    follower.ack(event)
    assert follower.poll() == []

    assert event.block_number == 26
    assert chain.reads == [(0, 9), (10, 19), (20, 29), (30, 34)]


def test_poll_returns_the_same_events_until_they_are_acked(chain: FakeChain):
    chain.mine(transfer(1), transfer(2))
    follower = watcher(chain)

    first = follower.poll()
    assert follower.poll() == first
    follower.ack(first[0])
    assert values(follower.poll()) == [2]


def test_acking_the_last_event_of_a_poll_marks_its_whole_range_read(chain: FakeChain):
    chain.mine(transfer(1))
    chain.mine_empty(3)
    follower = watcher(chain)

    [event] = follower.poll()
    follower.ack(event)
    chain.reads.clear()
    follower.poll()

    assert follower.cursor == Cursor(4)
    assert chain.reads == []


def test_events_mined_later_are_found_by_later_polls(chain: FakeChain):
    follower = watcher(chain)
    seen: list[Event] = []
    for value in range(1, 4):
        chain.mine(transfer(value))
        seen += follower.poll()
        follower.ack(seen[-1])

    assert values(seen) == [1, 2, 3]
    assert chain.reads == [(0, 1), (2, 2), (3, 3)]


# -- restarts ----------------------------------------------------------------------------------


def test_a_restart_between_two_events_of_a_block_repeats_and_misses_nothing(
    chain: FakeChain, reopen_store: StoreFactory
):
    chain.mine(transfer(1), transfer(2), transfer(3))
    chain.mine(transfer(4))
    before = watcher(chain, reopen_store())
    handled = before.poll()[:1]
    before.ack(handled[0])

    after = watcher(chain, reopen_store())
    for event in after.poll():
        handled.append(event)
        after.ack(event)

    assert values(handled) == [1, 2, 3, 4]
    assert after.poll() == []


def test_a_restart_reads_no_fully_scanned_block_again(chain: FakeChain, reopen_store: StoreFactory):
    chain.mine_empty(5)
    assert watcher(chain, reopen_store()).poll() == []
    chain.mine(transfer(1))
    chain.reads.clear()

    assert values(watcher(chain, reopen_store()).poll()) == [1]
    assert chain.reads == [(6, 6)]


def test_from_block_applies_only_when_no_cursor_is_stored(
    chain: FakeChain, reopen_store: StoreFactory
):
    chain.mine(transfer(1))
    chain.mine(transfer(2))
    chain.mine(transfer(3))
    first = watcher(chain, reopen_store(), from_block=2)
    [event, _] = first.poll()
    first.ack(event)

    assert values(watcher(chain, reopen_store(), from_block=0).poll()) == [3]


def test_a_stored_cursor_past_the_head_is_warned_about(
    chain: FakeChain, caplog: pytest.LogCaptureFixture
):
    store = MemoryCursorStore()
    store.save(WATCHER, Cursor(40))

    watcher(chain, store).poll()
    watcher_again = watcher(chain, store)
    watcher_again.poll()
    watcher_again.poll()

    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 2  # once per watcher
    assert "is at end of block 40 but fake://chain is at block 0" in warnings[0]


def test_advance_skips_forward_and_refuses_to_go_back(chain: FakeChain):
    chain.mine(transfer(1))
    chain.mine(transfer(2))
    store = MemoryCursorStore()
    follower = watcher(chain, store)

    follower.advance(Cursor(1))

    assert store.load(WATCHER) == Cursor(1)
    assert values(follower.poll()) == [2]
    with pytest.raises(ValueError, match="cannot go back"):
        follower.advance(Cursor(1, 0))


# -- run -----------------------------------------------------------------------------------------


def test_run_hands_every_event_over_in_order_and_acks_it(chain: FakeChain):
    store = MemoryCursorStore()
    follower = watcher(chain, store)
    handled: list[Event] = []
    thread, stop = run_in_thread(follower, handled.append)

    for value in range(1, 7):
        chain.mine(*(transfer(value * 10 + i) for i in range(value % 3)))
    wait_until(lambda: len(handled) == 6)
    stop_and_join(thread, stop)

    assert values(handled) == [10, 20, 21, 40, 50, 51]
    assert store.load(WATCHER) == Cursor(chain.head())


def test_a_handler_error_stops_run_and_the_event_comes_again_after_a_restart(
    chain: FakeChain, reopen_store: StoreFactory
):
    chain.mine(transfer(1), transfer(2))
    chain.mine(transfer(3))
    handled: list[int] = []

    def handle(event: Event) -> None:
        if event.args["value"] == 2 and 2 not in handled:
            handled.append(2)
            raise RuntimeError("handler broke")
        handled.append(event.args["value"])

    with pytest.raises(RuntimeError, match="handler broke"):
        watcher(chain, reopen_store()).run(handle, threading.Event())
    assert reopen_store().load(WATCHER) == Cursor(1, 0)

    thread, stop = run_in_thread(watcher(chain, reopen_store()), handle)
    wait_until(lambda: len(handled) == 4)
    stop_and_join(thread, stop)
    assert handled == [1, 2, 2, 3]  # at least once: the failed event comes again


class Crash(Exception):
    """The process dies (after the handler's transaction committed, or during it)."""


def test_a_cursor_saved_in_the_handlers_transaction_makes_handling_exactly_once(
    chain: FakeChain, engine: Engine
):
    metadata = MetaData()
    payments = Table("payments", metadata, Column("value", Integer, primary_key=True))
    metadata.create_all(engine)
    chain.mine(transfer(1), transfer(2), transfer(3))
    chain.mine(transfer(4))
    crashes = {2: "after commit", 3: "in transaction"}

    def handle(event: Event) -> None:
        value = event.args["value"]
        with engine.begin() as connection:
            connection.execute(payments.insert().values(value=value))
            SqlCursorStore(engine).save(WATCHER, event.cursor, connection=connection)
            if crashes.get(value) == "in transaction":
                del crashes[value]
                raise Crash  # rolled back: the payment and the cursor
        if crashes.get(value) == "after commit":
            del crashes[value]
            raise Crash  # committed, never acked

    for _ in range(2):
        with pytest.raises(Crash):
            watcher(chain, SqlCursorStore(engine)).run(handle, threading.Event())
    thread, stop = run_in_thread(watcher(chain, SqlCursorStore(engine)), handle)
    wait_until(lambda: SqlCursorStore(engine).load(WATCHER) == Cursor(2))
    stop_and_join(thread, stop)

    with engine.connect() as connection:
        assert connection.scalars(select(payments.c.value)).all() == [1, 2, 3, 4]


def test_stop_ends_run_while_it_waits_for_blocks(chain: FakeChain):
    thread, stop = run_in_thread(watcher(chain, poll_interval=60), lambda event: None)
    wait_until(lambda: len(chain.reads) > 0)  # polled once, now waiting

    started = time.monotonic()
    stop_and_join(thread, stop)
    assert time.monotonic() - started < 1


# -- outages -----------------------------------------------------------------------------------


def test_an_outage_is_waited_out_and_no_event_is_lost(
    chain: FakeChain, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, logger="nuage.chain.watcher")
    chain.mine(transfer(1))
    follower = watcher(chain, max_retry_delay=0.02)
    handled: list[Event] = []
    thread, stop = run_in_thread(follower, handled.append)
    wait_until(lambda: len(handled) == 1)

    chain.down = True
    wait_until(lambda: not follower.healthy)
    chain.mine(transfer(2))
    chain.mine(transfer(3))
    time.sleep(0.1)  # several failed polls
    assert follower.last_error == "chain at fake://chain unreachable (connection refused)"
    chain.down = False
    wait_until(lambda: len(handled) == 3)
    stop_and_join(thread, stop)

    assert values(handled) == [1, 2, 3]
    assert follower.healthy
    assert follower.last_error is None
    said = [(r.levelname, r.getMessage()) for r in caplog.records if r.levelno >= logging.INFO]
    assert [level for level, _ in said] == ["INFO", "WARNING", "INFO"]  # start, down, back
    assert "chain at fake://chain unreachable (connection refused), retrying in" in said[1][1]
    assert "fake://chain answers again after" in said[2][1]


def test_retries_wait_twice_as_long_each_time_up_to_the_cap(
    chain: FakeChain, caplog: pytest.LogCaptureFixture
):
    chain.mine(transfer(1))
    follower = watcher(chain, retry_delay=0.001, max_retry_delay=0.004)
    handled: list[Event] = []
    chain.fail(5)

    with caplog.at_level(logging.DEBUG, logger="nuage.chain.watcher"):
        thread, stop = run_in_thread(follower, handled.append)
        wait_until(lambda: len(handled) == 1)
        stop_and_join(thread, stop)

    delays = re.findall(r"retrying in (\S+) s", caplog.text)
    assert delays == ["0.001", "0.002", "0.004", "0.004", "0.004"]


def test_a_days_long_outage_does_not_overflow_the_backoff(chain: FakeChain):
    chain.mine(transfer(1))
    follower = watcher(chain, retry_delay=1e-9, max_retry_delay=1e-9)
    handled: list[Event] = []
    chain.fail(1100)  # 2.0 ** 1100 is no float

    thread, stop = run_in_thread(follower, handled.append)
    wait_until(lambda: len(handled) == 1)
    stop_and_join(thread, stop)

    assert chain.failures_left == 0


def test_poll_in_an_outage_raises_and_marks_the_watcher_unhealthy(chain: FakeChain):
    follower = watcher(chain)
    chain.fail(1)

    with pytest.raises(ChainUnreachable):
        follower.poll()
    assert not follower.healthy
    assert follower.poll() == []
    assert follower.healthy


class FailingProvider(BaseProvider):
    """A web3 provider whose every request fails with `error` (no socket opened)."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error
        self.endpoint_uri = "http://node.invalid:8545"

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        raise self.error


def http_error(status: int) -> requests.HTTPError:
    response = requests.Response()
    response.status_code = status
    return requests.HTTPError(f"{status} error", response=response)


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (requests.ConnectionError("refused"), "connection refused or reset"),
        (requests.ReadTimeout("slow"), "timed out"),
        (requests.exceptions.ChunkedEncodingError("cut"), "connection refused or reset"),
        (http_error(502), "HTTP 502"),
        (http_error(429), "HTTP 429"),
        (ConnectionResetError("reset"), "connection failed: reset"),
    ],
)
def test_web3_source_reports_transport_failures_as_unreachable(error: Exception, cause: str):
    source = Web3LogSource(Web3(FailingProvider(error)))

    with pytest.raises(ChainUnreachable) as raised:
        source.head()
    assert str(raised.value) == f"chain at http://node.invalid:8545 unreachable ({cause})"
    with pytest.raises(ChainUnreachable):
        source.logs(0, 1, [TOKEN])


def test_web3_source_reports_a_refused_request_as_a_chain_error():
    source = Web3LogSource(Web3(FailingProvider(http_error(401))))

    with pytest.raises(ChainError) as raised:
        source.head()
    assert not isinstance(raised.value, ChainUnreachable)
    assert "refused the request (401 error)" in str(raised.value)


# -- asyncio ---------------------------------------------------------------------------------------


def test_arun_hands_events_to_an_async_handler_until_stopped(chain: FakeChain):
    chain.mine(transfer(1), transfer(2))
    follower = watcher(chain)
    handled: list[Event] = []

    async def main() -> None:
        stop = asyncio.Event()

        async def handle(event: Event) -> None:
            handled.append(event)
            if len(handled) == 3:
                stop.set()

        task = asyncio.create_task(follower.arun(handle, stop))
        chain.fail(2)  # the outage is waited out as in run
        await asyncio.sleep(0.05)
        chain.mine(transfer(3))
        await asyncio.wait_for(task, timeout=5)

    asyncio.run(main())

    assert values(handled) == [1, 2, 3]
    assert follower.cursor == Cursor(2)


def test_arun_stops_on_a_handler_error_without_acking(chain: FakeChain):
    chain.mine(transfer(1), transfer(2))
    follower = watcher(chain)

    def handle(event: Event) -> None:
        if event.args["value"] == 2:
            raise Crash

    async def main() -> None:
        await asyncio.wait_for(follower.arun(handle, asyncio.Event()), timeout=5)

    with pytest.raises(Crash):
        asyncio.run(main())
    assert follower.cursor == Cursor(1, 0)


# -- cursor stores -----------------------------------------------------------------------------


@pytest.fixture(params=["memory", "json", "sql"])
def store(request: pytest.FixtureRequest, tmp_path: Path, engine: Engine) -> CursorStore:
    if request.param == "memory":
        return MemoryCursorStore()
    if request.param == "json":
        return JsonCursorStore(tmp_path / "state" / "cursors.json")
    return SqlCursorStore(engine)


def test_a_store_has_no_cursor_for_an_unknown_name(store: CursorStore):
    assert store.load("scheduler") is None


def test_a_store_keeps_the_latest_cursor_of_each_name(store: CursorStore):
    store.save("market", Cursor(3, 1))
    store.save("scheduler", Cursor(7))
    store.save("market", Cursor(5))

    assert store.load("market") == Cursor(5)
    assert store.load("scheduler") == Cursor(7)


def test_the_json_store_replaces_its_file_whole(tmp_path: Path):
    path = tmp_path / "cursors.json"
    JsonCursorStore(path).save("market", Cursor(3, 1))
    JsonCursorStore(path).save("scheduler", Cursor(9))

    assert json.loads(path.read_text()) == {
        "market": {"block": 3, "log_index": 1},
        "scheduler": {"block": 9, "log_index": None},
    }
    assert [p.name for p in tmp_path.iterdir()] == ["cursors.json"]  # no partial file left


def test_a_cursor_saved_in_a_rolled_back_transaction_is_not_kept(engine: Engine):
    store = SqlCursorStore(engine)
    store.save("market", Cursor(3))

    with pytest.raises(Crash), engine.begin() as connection:
        store.save("market", Cursor(8), connection=connection)
        assert store.load("market", connection=connection) == Cursor(8)
        raise Crash

    assert store.load("market") == Cursor(3)
