import boa

from tests.contracts.harness import Protocol
from tests.contracts.hub_escrow._helpers import events

AMOUNT = 25 * 10**9


def test_approve_and_call_deposits_in_one_transaction(protocol, requester):
    protocol.give_rlc(requester, AMOUNT)
    hub_tokens = protocol.rlc.balanceOf(protocol.hub.address)

    with boa.env.prank(requester.address):
        assert protocol.rlc.approveAndCall(protocol.hub.address, AMOUNT, b"") is True
    [deposit] = events(protocol.hub, "Deposit", called=protocol.rlc)

    assert (deposit.account, deposit.sender, deposit.amount) == (
        requester.address,
        requester.address,
        AMOUNT,
    )
    assert protocol.account(requester) == (AMOUNT, 0)
    assert protocol.rlc.balanceOf(requester.address) == 0
    assert protocol.rlc.balanceOf(protocol.hub.address) == hub_tokens + AMOUNT
    assert protocol.rlc.allowance(requester.address, protocol.hub.address) == 0


def test_approve_and_call_ignores_extra_data(protocol, requester):
    protocol.give_rlc(requester, AMOUNT)

    with boa.env.prank(requester.address):
        protocol.rlc.approveAndCall(protocol.hub.address, AMOUNT, b"\xff" * 1024)

    assert protocol.account(requester) == (AMOUNT, 0)


def test_direct_call_reverts(protocol, requester, attacker):
    """Anyone but the token could pull a standing allowance into a deposit."""
    protocol.give_rlc(requester, AMOUNT)
    with boa.env.prank(requester.address):
        protocol.rlc.approve(protocol.hub.address, AMOUNT)
    root = protocol.state_root()

    with boa.env.prank(attacker.address), boa.reverts("escrow: only the token"):
        protocol.hub.receiveApproval(requester.address, AMOUNT, protocol.rlc.address, b"")

    assert protocol.state_root() == root
    assert protocol.account(requester) == (0, 0)


def test_direct_call_by_the_depositor_reverts(protocol, requester):
    protocol.give_rlc(requester, AMOUNT)
    with boa.env.prank(requester.address):
        protocol.rlc.approve(protocol.hub.address, AMOUNT)
    root = protocol.state_root()

    with boa.env.prank(requester.address), boa.reverts("escrow: only the token"):
        protocol.hub.receiveApproval(requester.address, AMOUNT, protocol.rlc.address, b"")

    assert protocol.state_root() == root


def test_zero_amount_reverts_the_approval_too(protocol, requester):
    protocol.give_rlc(requester, AMOUNT)
    root = protocol.state_root()

    with boa.env.prank(requester.address), boa.reverts("escrow: zero amount"):
        protocol.rlc.approveAndCall(protocol.hub.address, 0, b"")

    assert protocol.state_root() == root


def test_approval_above_wallet_reverts(protocol, requester):
    protocol.give_rlc(requester, AMOUNT)
    root = protocol.state_root()

    with boa.env.prank(requester.address), boa.reverts("RLC: insufficient balance"):
        protocol.rlc.approveAndCall(protocol.hub.address, AMOUNT + 1, b"")

    assert protocol.state_root() == root


def test_token_naming_another_token_reverts(faulty_token, faulty_escrow, protocol, requester):
    root = Protocol.state_root()

    with boa.reverts("escrow: wrong token"):
        faulty_token.call_receive_approval(
            faulty_escrow.address, requester.address, 1, protocol.rlc.address
        )

    assert Protocol.state_root() == root


def test_token_answering_false_reverts(faulty_token, faulty_escrow, requester):
    faulty_token.set_failing(True)
    root = Protocol.state_root()

    with boa.reverts("escrow: token transfer failed"):
        faulty_token.call_receive_approval(
            faulty_escrow.address, requester.address, 1, faulty_token.address
        )

    assert Protocol.state_root() == root
