"""Callbacks: a requester's contract receives each result, and cannot hurt the payment.

The hub calls `receiveResult(task id, callback data)` last, with 200,000 gas.
Each test here is named after what a hostile or broken callback tries, and
proves the task was paid exactly once and its state is consistent.
"""

import boa
import pytest
from boa.contracts.base_evm_contract import BoaError
from eth_abi import decode
from eth_utils import keccak

from nuage.protocol import ZERO_ADDRESS
from nuage.protocol.poco import TaskStatus, sign_authorization
from tests.contracts.harness import Actor
from tests.contracts.hub_poco._helpers import events
from tests.contracts.hub_poco._settle_helpers import (
    CALLBACK_DATA,
    CALLBACK_DIGEST,
    RESULTS,
    Ledger,
    ascending,
    contributor,
    expected_fast_settlement,
    expected_settlement,
    fast_complete,
    fast_moves,
    finalize,
    finalize_item,
    finalize_moves,
    hub_holds_all_money,
    open_settled_deal,
    revealed_task,
)

ERROR_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)
STARVED = "poco: callback starved of gas"

REVERTING = """
@external
def receiveResult(task_id: bytes32, data: Bytes[1024]):
    raise "callback: I refuse"
"""

GAS_BURNING = """
counter: uint256

@external
def receiveResult(task_id: bytes32, data: Bytes[1024]):
    for i: uint256 in range(10**30):
        self.counter += 1
"""

RECORDING = """
struct Received:
    sender: address
    task_id: bytes32
    data: Bytes[1024]

_received: DynArray[Received, 4]

@external
def receiveResult(task_id: bytes32, data: Bytes[1024]):
    self._received.append(Received(sender=msg.sender, task_id=task_id, data=data))

@external
@view
def received() -> DynArray[Received, 4]:
    return self._received
"""

# needs about 115,000 gas to finish its work: less and it runs out of gas
NEEDY = """
done: public(bool)
words: HashMap[uint256, bytes32]

@external
def receiveResult(task_id: bytes32, data: Bytes[1024]):
    for i: uint256 in range(5):
        self.words[i] = task_id
    self.done = True
"""


@pytest.fixture
def settle(protocol, requester, app_owner, pool_owner, workers):
    """Completes a task whose request names `callback`, by `path`.

    "finalize": a trust-3 deal, workers 0 and 1 revealed, the scheduler finalizes.
    "contributeAndFinalize": a trust-1 deal, worker 0 completes it.
    Both hand CALLBACK_DATA to the callback; `prepare(deal, expected moves)`
    runs just before the settling call, `call` options (`gas=`) go to it.
    Returns the deal, the ledger from before the call, and the expected moves.
    """

    def run(path, callback, prepare=None, **call):
        deal = open_settled_deal(
            protocol,
            requester=requester,
            app_owner=app_owner,
            pool_owner=pool_owner,
            trust=3 if path == "finalize" else 1,
            callback=callback,
        )
        if path == "finalize":
            revealed_task(deal, workers[:2])
            winners = [contributor(protocol, w, won=True) for w in workers[:2]]
            expected = finalize_moves(deal.record, expected_settlement(deal, winners, []))
        else:
            expected = fast_moves(deal.record, expected_fast_settlement(deal, workers[0]))
        if prepare is not None:
            prepare(deal, expected)
        ledger = Ledger.of(protocol, accounts(deal, workers))
        if path == "finalize":
            finalize(deal, workers[:2], callback_data=CALLBACK_DATA, **call)
        else:
            fast_complete(deal, workers[0], callback_data=CALLBACK_DATA, **call)
        return deal, ledger, expected

    return run


def accounts(deal, workers):
    r = deal.record
    return [r.requester, r.app_owner, r.workerpool_owner, *(w.address for w in workers)]


PATHS = pytest.mark.parametrize("path", ["finalize", "contributeAndFinalize"])


@PATHS
def test_reverting_callback_does_not_block_payment(settle, path, workers):
    callback = boa.loads(REVERTING)

    deal, ledger, expected = settle(path, callback.address)

    [failed] = events(deal.hub, "CallbackFailed")
    assert (failed.task_id, failed.callback) == (deal.task_id(), callback.address)
    assert ledger.moves() == expected
    assert deal.status() == TaskStatus.COMPLETED
    assert deal.hub.viewResult(deal.task_id()) == RESULTS
    assert hub_holds_all_money(deal.protocol, accounts(deal, workers))


@PATHS
def test_gas_burning_callback_does_not_block_payment(settle, path, workers):
    callback = boa.loads(GAS_BURNING)

    deal, ledger, expected = settle(path, callback.address, gas=2_000_000)

    [failed] = events(deal.hub, "CallbackFailed")
    assert failed.callback == callback.address
    assert ledger.moves() == expected
    assert deal.status() == TaskStatus.COMPLETED
    assert hub_holds_all_money(deal.protocol, accounts(deal, workers))


@PATHS
def test_callback_receives_task_id_and_data(settle, path):
    callback = boa.loads(RECORDING)

    deal, ledger, expected = settle(path, callback.address)

    assert events(deal.hub, "CallbackFailed") == []
    received = [tuple(r) for r in callback.received()]
    assert received == [(deal.hub.address, deal.task_id(), CALLBACK_DATA)]
    assert ledger.moves() == expected


@PATHS
def test_callback_to_an_address_without_code_succeeds(settle, path):
    callback = Actor.named("callback without code").address

    deal, ledger, expected = settle(path, callback)

    assert events(deal.hub, "CallbackFailed") == []
    assert ledger.moves() == expected
    assert deal.status() == TaskStatus.COMPLETED


def test_batch_callbacks_each_receive_their_task(
    protocol, requester, app_owner, pool_owner, workers
):
    callback = boa.loads(RECORDING)
    deal = open_settled_deal(
        protocol,
        requester=requester,
        app_owner=app_owner,
        pool_owner=pool_owner,
        volume=2,
        callback=callback.address,
    )
    other_data = b"another answer"
    revealed_task(deal, workers[:2], index=0)
    revealed_task(deal, workers[2:4], index=1, digest=keccak(other_data))

    with boa.env.prank(pool_owner.address):
        deal.hub.finalizeArray(
            *deal.args(),
            [
                finalize_item(deal, 0, workers[:2], callback_data=CALLBACK_DATA),
                finalize_item(deal, 1, workers[2:4], callback_data=other_data),
            ],
        )

    received = [tuple(r) for r in callback.received()]
    assert received == [
        (deal.hub.address, deal.task_id(0), CALLBACK_DATA),
        (deal.hub.address, deal.task_id(1), other_data),
    ]


# -- re-entry ----------------------------------------------------------------------------


def reentering_source(hub, calls):
    """A callback that sends each of `calls` (raw calldata) to the hub and logs the outcome."""
    lines = [f"HUB: constant(address) = {hub}"]
    lines += [f'CALL_{i}: constant(Bytes[{len(c)}]) = x"{c.hex()}"' for i, c in enumerate(calls)]
    lines += [
        "",
        "event Attempt:",
        "    call: uint256",
        "    success: bool",
        "    response: Bytes[256]",
        "",
        "@external",
        "def receiveResult(task_id: bytes32, data: Bytes[1024]):",
        "    success: bool = False",
        "    response: Bytes[256] = b''",
    ]
    for i in range(len(calls)):
        lines += [
            f"    success, response = raw_call(HUB, CALL_{i}, max_outsize=256,"
            " revert_on_failure=False)",
            f"    log Attempt(call={i}, success=success, response=response)",
        ]
    return "\n".join(lines) + "\n"


def outcome(attempt):
    """True for a call that went through, else its revert reason."""
    if attempt.success:
        return True
    assert attempt.response[:4] == ERROR_SELECTOR
    return decode(["string"], attempt.response[4:])[0]


@PATHS
def test_reentering_callback_cannot_finalize_twice_or_corrupt_state(
    settle, path, protocol, pool_owner, workers
):
    # the scheduler's own address runs code (as an EIP-7702 account can) and is
    # the request's callback: from inside the callback it is the scheduler, a
    # worker it authorised itself, and a claimer, and it tries everything again
    hub = protocol.hub
    reentry = {}

    def arm(deal, expected):
        index, args = deal.first, deal.args()
        own_authorization = sign_authorization(
            pool_owner.key, protocol.hub_domain, pool_owner.address, deal.task_id()
        )
        free_after = protocol.account(pool_owner)[0] + expected[pool_owner.address][0]
        reentry["free_after"] = free_after
        calls = [
            hub.finalize.prepare_calldata(
                *args, index, RESULTS, CALLBACK_DATA, ascending(workers[:2])
            ),
            hub.contributeAndFinalize.prepare_calldata(
                *args,
                index,
                CALLBACK_DIGEST,
                RESULTS,
                CALLBACK_DATA,
                ZERO_ADDRESS,
                b"",
                own_authorization,
            ),
            hub.claim.prepare_calldata(*args, index, []),
            hub.withdraw.prepare_calldata(free_after),
            hub.withdraw.prepare_calldata(1),
        ]
        reentry["contract"] = boa.loads_partial(reentering_source(hub.address, calls)).deploy(
            override_address=pool_owner.address
        )

    wallet = protocol.rlc.balanceOf(pool_owner.address)
    deal, ledger, expected = settle(path, pool_owner.address, prepare=arm)

    attempts = events(reentry["contract"], "Attempt", called=hub)
    assert events(hub, "CallbackFailed") == []
    assert len(events(hub, "TaskFinalized")) == 1
    assert [outcome(a) for a in attempts] == [
        "poco: task not revealing",
        "poco: trust above 1" if path == "finalize" else "poco: task already completed",
        "poco: task already completed",
        True,  # the scheduler's own money, paid once
        "escrow: insufficient free balance",
    ]
    free_after = reentry["free_after"]
    expected_moves = dict(expected)
    free_move, frozen_move = expected_moves[pool_owner.address]
    expected_moves[pool_owner.address] = (free_move - free_after, frozen_move)
    assert ledger.moves() == expected_moves
    assert protocol.account(pool_owner) == (0, 0)
    assert protocol.rlc.balanceOf(pool_owner.address) == wallet + free_after
    assert deal.status() == TaskStatus.COMPLETED
    assert hub_holds_all_money(protocol, accounts(deal, workers))


# -- gas starvation ----------------------------------------------------------------------


def test_callback_starved_of_gas_reverts_the_finalization(
    protocol, requester, app_owner, pool_owner, workers
):
    # a scheduler sets a gas limit at which the callback runs out of gas but the
    # finalization would go through: the requester's contract would never get
    # its result. At every limit the transaction either reverts or the callback
    # does its whole work.
    callback = boa.loads(NEEDY)
    deal = open_settled_deal(
        protocol,
        requester=requester,
        app_owner=app_owner,
        pool_owner=pool_owner,
        callback=callback.address,
    )
    revealed_task(deal, workers[:2])
    starved = completed = 0

    gas = 100_000
    while completed < 20:  # up to 40,000 gas past the first limit that is enough
        with boa.env.anchor():
            try:
                finalize(deal, workers[:2], callback_data=CALLBACK_DATA, gas=gas)
            except BoaError as error:
                starved += STARVED in str(error)
            else:
                assert events(deal.hub, "CallbackFailed") == []
                assert callback.done(), f"finalized at gas {gas} with the callback cut short"
                completed += 1
        gas += 2_000
        assert gas < 1_000_000, "finalize never went through"

    assert starved > 0  # the hub's guard, not chance, refused the low limits


# passes a call on to a consumer that needs about 140,000 gas; survives the
# consumer's failure (a relay that logs an undelivered result, as many do)
CONSUMER = """
done: public(bool)
words: HashMap[uint256, bytes32]

@external
def consume(task_id: bytes32):
    for i: uint256 in range(6):
        self.words[i] = task_id
    self.done = True
"""

RELAY = """
event Undelivered:
    task_id: indexed(bytes32)

CONSUMER: immutable(address)

@deploy
def __init__(consumer: address):
    CONSUMER = consumer

@external
def receiveResult(task_id: bytes32, data: Bytes[1024]):
    call: Bytes[36] = abi_encode(task_id, method_id=method_id("consume(bytes32)"))
    if not raw_call(CONSUMER, call, revert_on_failure=False):
        log Undelivered(task_id=task_id)
"""


def test_scheduler_cannot_starve_a_callback_that_survives_an_inner_failure(
    protocol, requester, app_owner, pool_owner, workers
):
    # with its 200,000 gas the relay always delivers; a scheduler choosing the
    # gas limit must not be able to make it deliver nothing
    consumer = boa.loads(CONSUMER)
    relay = boa.loads(RELAY, consumer.address)
    deal = open_settled_deal(
        protocol,
        requester=requester,
        app_owner=app_owner,
        pool_owner=pool_owner,
        callback=relay.address,
    )
    revealed_task(deal, workers[:2])
    completed = 0

    gas = 100_000
    while completed < 10:
        with boa.env.anchor():
            try:
                finalize(deal, workers[:2], callback_data=CALLBACK_DATA, gas=gas)
            except BoaError:
                pass
            else:
                assert events(relay, "Undelivered", called=deal.hub) == []
                assert consumer.done(), f"finalized at gas {gas} with the relay starved"
                completed += 1
        gas += 4_000
        assert gas < 1_000_000, "finalize never went through"
