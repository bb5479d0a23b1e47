import boa

from tests.contracts.harness import Actor, Protocol
from tests.contracts.rlc._helpers import events

ZERO = "0x0000000000000000000000000000000000000000"


def test_decrease_allowance_subtracts_and_logs_the_total(
    protocol: Protocol, requester: Actor, spender: Actor
):
    with boa.env.prank(requester.address):
        protocol.rlc.approve(spender.address, 100)
        assert protocol.rlc.decreaseAllowance(spender.address, 30) is True
    [log] = events(protocol.rlc, "Approval")
    assert (log.owner, log.spender, log.value) == (requester.address, spender.address, 70)
    assert protocol.rlc.allowance(requester.address, spender.address) == 70


def test_decrease_allowance_to_exactly_zero(protocol: Protocol, requester: Actor, spender: Actor):
    with boa.env.prank(requester.address):
        protocol.rlc.approve(spender.address, 100)
        protocol.rlc.decreaseAllowance(spender.address, 100)
    assert protocol.rlc.allowance(requester.address, spender.address) == 0


def test_decrease_allowance_below_zero_is_refused(
    protocol: Protocol, requester: Actor, spender: Actor
):
    with boa.env.prank(requester.address):
        protocol.rlc.approve(spender.address, 100)
    root = protocol.state_root()
    with boa.env.prank(requester.address), boa.reverts("RLC: allowance below zero"):
        protocol.rlc.decreaseAllowance(spender.address, 101)
    assert protocol.state_root() == root
    assert protocol.rlc.allowance(requester.address, spender.address) == 100


def test_decrease_allowance_of_zero_address_is_refused(protocol: Protocol, requester: Actor):
    root = protocol.state_root()
    with boa.env.prank(requester.address), boa.reverts("RLC: approve to zero address"):
        protocol.rlc.decreaseAllowance(ZERO, 0)
    assert protocol.state_root() == root
