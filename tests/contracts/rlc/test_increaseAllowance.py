import boa

from tests.contracts.harness import Actor, Protocol
from tests.contracts.rlc._helpers import events

ZERO = "0x0000000000000000000000000000000000000000"


def test_increase_allowance_adds_and_logs_the_total(
    protocol: Protocol, requester: Actor, spender: Actor
):
    with boa.env.prank(requester.address):
        protocol.rlc.approve(spender.address, 100)
        assert protocol.rlc.increaseAllowance(spender.address, 50) is True
    [log] = events(protocol.rlc, "Approval")
    assert (log.owner, log.spender, log.value) == (requester.address, spender.address, 150)
    assert protocol.rlc.allowance(requester.address, spender.address) == 150


def test_increase_allowance_from_nothing(protocol: Protocol, requester: Actor, spender: Actor):
    with boa.env.prank(requester.address):
        protocol.rlc.increaseAllowance(spender.address, 50)
    assert protocol.rlc.allowance(requester.address, spender.address) == 50


def test_increase_allowance_past_max_is_refused(
    protocol: Protocol, requester: Actor, spender: Actor
):
    with boa.env.prank(requester.address):
        protocol.rlc.approve(spender.address, 2**256 - 1)
    root = protocol.state_root()
    with boa.env.prank(requester.address), boa.reverts():  # checked addition overflows
        protocol.rlc.increaseAllowance(spender.address, 1)
    assert protocol.state_root() == root
    assert protocol.rlc.allowance(requester.address, spender.address) == 2**256 - 1


def test_increase_allowance_of_zero_address_is_refused(protocol: Protocol, requester: Actor):
    root = protocol.state_root()
    with boa.env.prank(requester.address), boa.reverts("RLC: approve to zero address"):
        protocol.rlc.increaseAllowance(ZERO, 1)
    assert protocol.state_root() == root
