import boa

from tests.contracts.harness import Protocol
from tests.contracts.hub_escrow._helpers import events, fund

AMOUNT = 25 * 10**9


def test_withdraw_moves_free_balance_to_the_wallet(protocol, requester):
    protocol.deposit(requester, AMOUNT)
    hub_tokens = protocol.rlc.balanceOf(protocol.hub.address)

    with boa.env.prank(requester.address):
        assert protocol.hub.withdraw(AMOUNT - 1) is True
    [withdraw] = events(protocol.hub, "Withdraw")

    assert (withdraw.account, withdraw.receiver, withdraw.amount) == (
        requester.address,
        requester.address,
        AMOUNT - 1,
    )
    assert protocol.account(requester) == (1, 0)
    assert protocol.rlc.balanceOf(requester.address) == AMOUNT - 1
    assert protocol.rlc.balanceOf(protocol.hub.address) == hub_tokens - (AMOUNT - 1)


def test_withdraw_everything_empties_the_account(protocol, requester):
    protocol.deposit(requester, AMOUNT)

    with boa.env.prank(requester.address):
        protocol.hub.withdraw(AMOUNT)

    assert protocol.account(requester) == (0, 0)
    assert protocol.rlc.balanceOf(requester.address) == AMOUNT


def test_zero_amount_reverts(protocol, requester):
    protocol.deposit(requester, AMOUNT)
    root = protocol.state_root()

    with boa.env.prank(requester.address), boa.reverts("escrow: zero amount"):
        protocol.hub.withdraw(0)

    assert protocol.state_root() == root


def test_more_than_free_reverts(protocol, requester):
    protocol.deposit(requester, AMOUNT)
    root = protocol.state_root()

    with boa.env.prank(requester.address), boa.reverts("escrow: insufficient free balance"):
        protocol.hub.withdraw(AMOUNT + 1)

    assert protocol.state_root() == root
    assert protocol.account(requester) == (AMOUNT, 0)


def test_empty_account_reverts(protocol, attacker):
    root = protocol.state_root()

    with boa.env.prank(attacker.address), boa.reverts("escrow: insufficient free balance"):
        protocol.hub.withdraw(1)

    assert protocol.state_root() == root


def test_frozen_funds_cannot_be_withdrawn(protocol, requester, app_owner, pool_owner):
    deal = protocol.ready_deal(requester=requester, app_owner=app_owner, pool_owner=pool_owner)
    protocol.match(deal)
    free, frozen = protocol.account(requester)
    assert frozen > 0
    root = protocol.state_root()

    with boa.env.prank(requester.address), boa.reverts("escrow: insufficient free balance"):
        protocol.hub.withdraw(free + 1)

    assert protocol.state_root() == root
    with boa.env.prank(requester.address):
        protocol.hub.withdraw(free)
    assert protocol.account(requester) == (0, frozen)


def test_token_answering_false_reverts(faulty_token, faulty_escrow, deployer, requester):
    fund(faulty_token, faulty_escrow, deployer, requester, AMOUNT)
    faulty_token.set_failing(True)
    root = Protocol.state_root()

    with boa.env.prank(requester.address), boa.reverts("escrow: token transfer failed"):
        faulty_escrow.withdraw(1)

    assert Protocol.state_root() == root
    assert faulty_escrow.balanceOf(requester.address) == AMOUNT
