import boa

from nuage.protocol import ZERO_ADDRESS
from tests.contracts.harness import Protocol
from tests.contracts.hub_escrow._helpers import events, fund

AMOUNT = 25 * 10**9


def test_withdraw_to_pays_the_target_from_the_sender_account(protocol, requester, worker):
    protocol.deposit(requester, AMOUNT)
    hub_tokens = protocol.rlc.balanceOf(protocol.hub.address)

    with boa.env.prank(requester.address):
        assert protocol.hub.withdrawTo(AMOUNT - 1, worker.address) is True
    [withdraw] = events(protocol.hub, "Withdraw")

    assert (withdraw.account, withdraw.receiver, withdraw.amount) == (
        requester.address,
        worker.address,
        AMOUNT - 1,
    )
    assert protocol.account(requester) == (1, 0)
    assert protocol.account(worker) == (0, 0)
    assert protocol.rlc.balanceOf(worker.address) == AMOUNT - 1
    assert protocol.rlc.balanceOf(requester.address) == 0
    assert protocol.rlc.balanceOf(protocol.hub.address) == hub_tokens - (AMOUNT - 1)


def test_zero_address_target_reverts(protocol, requester):
    protocol.deposit(requester, AMOUNT)
    root = protocol.state_root()

    with boa.env.prank(requester.address), boa.reverts("escrow: withdraw to zero address"):
        protocol.hub.withdrawTo(AMOUNT, ZERO_ADDRESS)

    assert protocol.state_root() == root


def test_zero_amount_reverts(protocol, requester, worker):
    protocol.deposit(requester, AMOUNT)
    root = protocol.state_root()

    with boa.env.prank(requester.address), boa.reverts("escrow: zero amount"):
        protocol.hub.withdrawTo(0, worker.address)

    assert protocol.state_root() == root


def test_more_than_free_reverts(protocol, requester, worker):
    protocol.deposit(requester, AMOUNT)
    root = protocol.state_root()

    with boa.env.prank(requester.address), boa.reverts("escrow: insufficient free balance"):
        protocol.hub.withdrawTo(AMOUNT + 1, worker.address)

    assert protocol.state_root() == root


def test_attacker_cannot_withdraw_another_account_to_himself(protocol, requester, attacker):
    protocol.deposit(requester, AMOUNT)
    root = protocol.state_root()

    with boa.env.prank(attacker.address), boa.reverts("escrow: insufficient free balance"):
        protocol.hub.withdrawTo(AMOUNT, attacker.address)

    assert protocol.state_root() == root
    assert protocol.account(requester) == (AMOUNT, 0)


def test_frozen_funds_cannot_be_withdrawn(protocol, requester, app_owner, pool_owner, worker):
    deal = protocol.ready_deal(requester=requester, app_owner=app_owner, pool_owner=pool_owner)
    protocol.match(deal)
    free, frozen = protocol.account(requester)
    root = protocol.state_root()

    with boa.env.prank(requester.address), boa.reverts("escrow: insufficient free balance"):
        protocol.hub.withdrawTo(free + 1, worker.address)

    assert protocol.state_root() == root
    assert protocol.account(requester) == (free, frozen)


def test_token_answering_false_reverts(faulty_token, faulty_escrow, deployer, requester, worker):
    fund(faulty_token, faulty_escrow, deployer, requester, AMOUNT)
    faulty_token.set_failing(True)
    root = Protocol.state_root()

    with boa.env.prank(requester.address), boa.reverts("escrow: token transfer failed"):
        faulty_escrow.withdrawTo(1, worker.address)

    assert Protocol.state_root() == root
