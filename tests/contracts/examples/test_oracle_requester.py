"""OracleRequester: a contract that buys a computation and receives its result.

The full path: the contract publishes a presigned request naming itself as
requester and callback; anyone matches it with an app order and a workerpool
order; a worker completes the task (one transaction at trust 1, or through
consensus and `finalize`) handing the result as callback data, whose keccak256
is the digest the workers agreed on; the hub delivers it to the contract.
"""

import boa
import pytest
from eth_utils import keccak

from nuage.protocol import ZERO_ADDRESS, DatasetOrder, RequestOrder
from nuage.protocol.deals import Deal as DealRecord
from nuage.protocol.poco import TaskStatus, result_hash, result_seal, sign_authorization
from tests.contracts.examples._helpers import FUNDS
from tests.contracts.harness import Actor

PRICE = 10**9
PARAMS = '{"iexec_args": "price of RLC in EUR"}'
SALT = keccak(text="oracle request 1")
ANSWER = b'{"RLC/EUR": "1.42"}'
RESULTS = keccak(text="results in nuage storage")


@pytest.fixture
def market_offers(protocol, app_owner, pool_owner):
    """An app and a workerpool, each with a signed order open to any requester.

    Returns a function of the trust the workerpool order offers.
    """
    app = protocol.new_app(app_owner)
    pool = protocol.new_workerpool(pool_owner)
    protocol.deposit(pool_owner, 10 * PRICE)

    def offers(trust):
        app_order = protocol.app_order(app, app_owner, appprice=PRICE, volume=10)
        pool_order = protocol.workerpool_order(
            pool, pool_owner, workerpoolprice=PRICE, volume=10, trust=trust
        )
        return app_order, pool_order

    return offers


def published_request(oracle, owner, app, pool, trust):
    """`oracle` publishes its request; returns the order as a matcher passes it, and its hash."""
    with boa.env.prank(owner.address):
        order_hash = bytes(oracle.request(app, pool, PARAMS, PRICE, PRICE, 0, trust, SALT))
    order = RequestOrder(
        app=app,
        requester=oracle.address,
        appmaxprice=PRICE,
        workerpool=pool,
        workerpoolmaxprice=PRICE,
        trust=trust,
        beneficiary=owner.address,
        callback=oracle.address,
        params=PARAMS,
        salt=SALT,
    )
    return order, order_hash


def matched(protocol, oracle, owner, market_offers, trust, matcher):
    """The oracle's request matched by `matcher`; returns (deal id, deal record)."""
    app_order, pool_order = market_offers(trust)
    request, _ = published_request(oracle, owner, app_order.app, pool_order.workerpool, trust)
    with boa.env.prank(matcher.address):
        deal_id = bytes(
            protocol.market.matchOrders(
                app_order.as_tuple(),
                DatasetOrder.none().as_tuple(),
                pool_order.as_tuple(),
                request.as_tuple(),
            )
        )
    [created] = [e for e in protocol.market.get_logs() if type(e).__name__ == "DealCreated"]
    return deal_id, DealRecord.from_tuple(created.deal)


def complete_at_once(protocol, record, deal_id, pool_owner, worker, answer):
    """`worker` completes the deal's task in one transaction, handing `answer` to the callback."""
    [task] = record.task_ids(deal_id)
    authorization = sign_authorization(pool_owner.key, protocol.hub_domain, worker.address, task)
    with boa.env.prank(worker.address):
        protocol.hub.contributeAndFinalize(
            record.as_tuple(),
            deal_id,
            0,
            keccak(answer),
            RESULTS,
            answer,
            ZERO_ADDRESS,
            b"",
            authorization,
        )
    return task


def test_request_publishes_a_presigned_order_naming_itself(
    protocol, oracle, requester, market_offers
):
    app_order, pool_order = market_offers(1)

    order, order_hash = published_request(
        oracle, requester, app_order.app, pool_order.workerpool, 1
    )

    [requested] = [e for e in oracle.get_logs() if type(e).__name__ == "Requested"]
    assert order_hash == order.hash(protocol.domain)
    assert str(protocol.market.viewPresigned(order_hash)) == oracle.address
    assert oracle.requested(order_hash) is True
    assert requested.order_hash == order_hash
    assert requested.task_id == bytes(oracle.taskOf(order_hash))
    assert oracle.awaiting(requested.task_id) is True


def test_deposit_moves_the_owners_rlc_into_the_contracts_hub_account(protocol, oracle):
    assert protocol.account(oracle.address) == (FUNDS, 0)
    assert protocol.rlc.balanceOf(oracle.address) == 0


def test_one_transaction_path_delivers_the_result(
    protocol, oracle, requester, market_offers, pool_owner, worker
):
    # anyone holding the app and workerpool orders may match the presigned request
    matcher = Actor.named("matcher")
    deal_id, record = matched(protocol, oracle, requester, market_offers, 1, matcher)
    assert record.requester == record.callback == oracle.address
    assert protocol.account(oracle.address) == (FUNDS - 2 * PRICE, 2 * PRICE)

    task = complete_at_once(protocol, record, deal_id, pool_owner, worker, ANSWER)

    [received] = [e for e in protocol.hub.get_logs() if type(e).__name__ == "ResultReceived"]
    assert (received.task_id, received.data) == (task, ANSWER)
    assert oracle.resultOf(task) == ANSWER
    assert oracle.awaiting(task) is False
    assert protocol.hub.viewResult(task) == RESULTS
    assert protocol.account(oracle.address) == (FUNDS - 2 * PRICE, 0)


def test_replicated_path_delivers_the_result_on_finalize(
    protocol, oracle, requester, market_offers, pool_owner
):
    deal_id, record = matched(protocol, oracle, requester, market_offers, 3, pool_owner)
    [task] = record.task_ids(deal_id)
    workers = [Actor.named(f"oracle worker {i}") for i in range(2)]
    digest = keccak(ANSWER)
    with boa.env.prank(pool_owner.address):
        protocol.hub.initialize(record.as_tuple(), deal_id, 0)
    for worker in workers:
        protocol.deposit(worker, PRICE)
        with boa.env.prank(worker.address):
            protocol.hub.contribute(
                record.as_tuple(),
                deal_id,
                0,
                result_hash(task, digest),
                result_seal(worker.address, task, digest),
                ZERO_ADDRESS,
                b"",
                sign_authorization(pool_owner.key, protocol.hub_domain, worker.address, task),
            )
    for worker in workers:
        protocol.reveal(task, worker, digest)
    contributors = sorted((w.address for w in workers), key=lambda a: int(a, 16))

    with boa.env.prank(pool_owner.address):
        protocol.hub.finalize(record.as_tuple(), deal_id, 0, RESULTS, ANSWER, contributors)

    assert oracle.resultOf(task) == ANSWER
    assert protocol.hub.viewTask(task).status == TaskStatus.COMPLETED


def test_result_of_200_bytes_fits_the_callback_gas(
    protocol, oracle, requester, market_offers, pool_owner, worker
):
    deal_id, record = matched(protocol, oracle, requester, market_offers, 1, pool_owner)
    answer = b"y" * 200

    task = complete_at_once(protocol, record, deal_id, pool_owner, worker, answer)

    assert oracle.resultOf(task) == answer


def test_result_too_large_for_the_callback_gas_is_lost_but_the_task_is_paid(
    protocol, oracle, requester, market_offers, pool_owner, worker
):
    # the documented trade-off: storing 1 KB costs far more than the hub's 200,000 gas
    deal_id, record = matched(protocol, oracle, requester, market_offers, 1, pool_owner)

    task = complete_at_once(protocol, record, deal_id, pool_owner, worker, b"x" * 1000)

    failed = [e for e in protocol.hub.get_logs() if type(e).__name__ == "CallbackFailed"]
    assert [(e.task_id, e.callback) for e in failed] == [(task, oracle.address)]
    assert oracle.resultOf(task) == b""
    assert protocol.hub.viewTask(task).status == TaskStatus.COMPLETED


def test_withdraw_returns_the_free_balance_to_the_owner(protocol, oracle, requester):
    with boa.env.prank(requester.address):
        oracle.withdraw(FUNDS)

    assert protocol.account(oracle.address) == (0, 0)
    assert protocol.rlc.balanceOf(requester.address) == FUNDS


def test_result_for_a_request_someone_else_published_is_refused(
    protocol, oracle, attacker, market_offers, pool_owner, worker
):
    # an attacker's own request names the oracle as callback, to plant a result in it
    app_order, pool_order = market_offers(1)
    protocol.deposit(attacker, 10 * PRICE)
    request = protocol.request_order(
        app_order.app,
        attacker,
        appmaxprice=PRICE,
        workerpoolmaxprice=PRICE,
        trust=1,
        callback=oracle.address,
    )
    with boa.env.prank(attacker.address):
        deal_id = bytes(
            protocol.market.matchOrders(
                app_order.as_tuple(),
                DatasetOrder.none().as_tuple(),
                pool_order.as_tuple(),
                request.as_tuple(),
            )
        )
    [created] = [e for e in protocol.market.get_logs() if type(e).__name__ == "DealCreated"]
    record = DealRecord.from_tuple(created.deal)

    task = complete_at_once(protocol, record, deal_id, pool_owner, worker, b"a planted answer")

    failed = [e for e in protocol.hub.get_logs() if type(e).__name__ == "CallbackFailed"]
    assert [e.callback for e in failed] == [oracle.address]
    assert oracle.resultOf(task) == b""


# -- refusals ----------------------------------------------------------------------------


def test_only_the_hub_may_deliver_a_result(protocol, oracle, attacker):
    # a forged result would be taken for the computation's
    root = protocol.state_root()

    with boa.env.prank(attacker.address), boa.reverts("requester: only the hub"):
        oracle.receiveResult(keccak(text="some task"), b"forged")

    assert protocol.state_root() == root


def test_result_for_a_task_it_did_not_request_reverts(protocol, oracle):
    root = protocol.state_root()

    with boa.env.prank(protocol.hub.address), boa.reverts("requester: not an awaited task"):
        oracle.receiveResult(keccak(text="someone else's task"), b"planted")

    assert protocol.state_root() == root


def test_second_result_for_a_task_reverts(protocol, oracle, requester, market_offers):
    app_order, pool_order = market_offers(1)
    _, order_hash = published_request(oracle, requester, app_order.app, pool_order.workerpool, 1)
    task = bytes(oracle.taskOf(order_hash))
    with boa.env.prank(protocol.hub.address):
        oracle.receiveResult(task, ANSWER)
    root = protocol.state_root()

    with boa.env.prank(protocol.hub.address), boa.reverts("requester: not an awaited task"):
        oracle.receiveResult(task, b"a second answer")

    assert protocol.state_root() == root
    assert oracle.resultOf(task) == ANSWER


def test_only_the_owner_may_request(protocol, oracle, attacker, market_offers):
    # anyone else could spend the contract's RLC on computations of their own
    app_order, pool_order = market_offers(1)
    root = protocol.state_root()

    with boa.env.prank(attacker.address), boa.reverts("requester: only the owner"):
        oracle.request(app_order.app, pool_order.workerpool, PARAMS, PRICE, PRICE, 0, 1, SALT)

    assert protocol.state_root() == root


def test_only_the_owner_may_withdraw(protocol, oracle, attacker):
    root = protocol.state_root()

    with boa.env.prank(attacker.address), boa.reverts("requester: only the owner"):
        oracle.withdraw(1)

    assert protocol.state_root() == root
