import boa

from nuage.protocol import ZERO_ADDRESS
from tests.contracts.harness import Protocol
from tests.contracts.hub_escrow._helpers import events, fund

AMOUNT = 25 * 10**9


def test_deposit_for_credits_the_target_from_the_sender_wallet(protocol, deployer, requester):
    hub_tokens = protocol.rlc.balanceOf(protocol.hub.address)
    payer_tokens = protocol.rlc.balanceOf(deployer.address)

    with boa.env.prank(deployer.address):
        protocol.rlc.approve(protocol.hub.address, AMOUNT)
        assert protocol.hub.depositFor(AMOUNT, requester.address) is True
    [deposit] = events(protocol.hub, "Deposit")

    assert (deposit.account, deposit.sender, deposit.amount) == (
        requester.address,
        deployer.address,
        AMOUNT,
    )
    assert protocol.account(requester) == (AMOUNT, 0)
    assert protocol.account(deployer) == (0, 0)
    assert protocol.rlc.balanceOf(deployer.address) == payer_tokens - AMOUNT
    assert protocol.rlc.balanceOf(protocol.hub.address) == hub_tokens + AMOUNT


def test_deposit_for_oneself_is_a_deposit(protocol, requester):
    protocol.give_rlc(requester, AMOUNT)

    with boa.env.prank(requester.address):
        protocol.rlc.approve(protocol.hub.address, AMOUNT)
        protocol.hub.depositFor(AMOUNT, requester.address)

    assert protocol.account(requester) == (AMOUNT, 0)


def test_zero_address_target_reverts(protocol, deployer):
    with boa.env.prank(deployer.address):
        protocol.rlc.approve(protocol.hub.address, AMOUNT)
    root = protocol.state_root()

    with boa.env.prank(deployer.address), boa.reverts("escrow: deposit for zero address"):
        protocol.hub.depositFor(AMOUNT, ZERO_ADDRESS)

    assert protocol.state_root() == root


def test_zero_amount_reverts(protocol, deployer, requester):
    with boa.env.prank(deployer.address):
        protocol.rlc.approve(protocol.hub.address, AMOUNT)
    root = protocol.state_root()

    with boa.env.prank(deployer.address), boa.reverts("escrow: zero amount"):
        protocol.hub.depositFor(0, requester.address)

    assert protocol.state_root() == root


def test_deposit_for_without_allowance_reverts(protocol, attacker, requester):
    """The sender pays, never the target: an allowance the target gave does not count."""
    protocol.give_rlc(requester, AMOUNT)
    with boa.env.prank(requester.address):
        protocol.rlc.approve(protocol.hub.address, AMOUNT)
    root = protocol.state_root()

    with boa.env.prank(attacker.address), boa.reverts("RLC: insufficient allowance"):
        protocol.hub.depositFor(AMOUNT, requester.address)

    assert protocol.state_root() == root


def test_token_answering_false_reverts(faulty_token, faulty_escrow, deployer, requester):
    fund(faulty_token, faulty_escrow, deployer, deployer, AMOUNT)
    faulty_token.set_failing(True)
    root = Protocol.state_root()

    with boa.env.prank(deployer.address), boa.reverts("escrow: token transfer failed"):
        faulty_escrow.depositFor(1, requester.address)

    assert Protocol.state_root() == root
    assert faulty_escrow.balanceOf(requester.address) == 0
