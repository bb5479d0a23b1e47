import boa

from tests.contracts.harness import Actor, Protocol
from tests.contracts.rlc._helpers import events

ZERO = "0x0000000000000000000000000000000000000000"


def test_approve_sets_allowance_and_logs(protocol: Protocol, requester: Actor, spender: Actor):
    with boa.env.prank(requester.address):
        assert protocol.rlc.approve(spender.address, 700) is True
    [log] = events(protocol.rlc, "Approval")
    assert (log.owner, log.spender, log.value) == (requester.address, spender.address, 700)
    assert protocol.rlc.allowance(requester.address, spender.address) == 700


def test_approve_replaces_rather_than_adds(protocol: Protocol, requester: Actor, spender: Actor):
    with boa.env.prank(requester.address):
        protocol.rlc.approve(spender.address, 700)
        protocol.rlc.approve(spender.address, 20)
    assert protocol.rlc.allowance(requester.address, spender.address) == 20


def test_approve_zero_revokes(protocol: Protocol, requester: Actor, spender: Actor):
    with boa.env.prank(requester.address):
        protocol.rlc.approve(spender.address, 700)
        protocol.rlc.approve(spender.address, 0)
    assert protocol.rlc.allowance(requester.address, spender.address) == 0


def test_approve_needs_no_balance(protocol: Protocol, attacker: Actor, spender: Actor):
    with boa.env.prank(attacker.address):
        protocol.rlc.approve(spender.address, 10**30)
    assert protocol.rlc.allowance(attacker.address, spender.address) == 10**30
    assert protocol.rlc.balanceOf(attacker.address) == 0


def test_approve_is_per_owner_and_spender(
    protocol: Protocol, requester: Actor, spender: Actor, attacker: Actor
):
    with boa.env.prank(requester.address):
        protocol.rlc.approve(spender.address, 700)
    assert protocol.rlc.allowance(spender.address, requester.address) == 0
    assert protocol.rlc.allowance(requester.address, attacker.address) == 0


def test_approve_to_zero_address_is_refused(protocol: Protocol, requester: Actor):
    root = protocol.state_root()
    with boa.env.prank(requester.address), boa.reverts("RLC: approve to zero address"):
        protocol.rlc.approve(ZERO, 700)
    assert protocol.state_root() == root
