import boa
import pytest

from tests.contracts.harness import Actor, Protocol
from tests.contracts.rlc._helpers import events
from tests.contracts.rlc.conftest import FUNDS

ZERO = "0x0000000000000000000000000000000000000000"

RECORDING_RECEIVER = """
# pragma version 0.4.3
from ethereum.ercs import IERC20

sender: public(address)
amount: public(uint256)
token: public(address)
extra_data: public(Bytes[1024])
allowance_seen: public(uint256)

@external
def receiveApproval(
    sender: address, amount: uint256, token: address, extra_data: Bytes[1024]
) -> bool:
    self.sender = sender
    self.amount = amount
    self.token = token
    self.extra_data = extra_data
    self.allowance_seen = staticcall IERC20(token).allowance(sender, self)
    return True
"""

REFUSING_RECEIVER = """
# pragma version 0.4.3

@external
def receiveApproval(
    sender: address, amount: uint256, token: address, extra_data: Bytes[1024]
) -> bool:
    return False
"""


@pytest.fixture(scope="module")
def receivers() -> dict[str, object]:
    return {
        "recording": boa.loads_partial(RECORDING_RECEIVER),
        "refusing": boa.loads_partial(REFUSING_RECEIVER),
    }


def test_approve_and_call_deposits_into_the_hub_in_one_call(protocol: Protocol, funded: Actor):
    hub = protocol.hub
    held = protocol.rlc.balanceOf(hub.address)
    with boa.env.prank(funded.address):
        assert protocol.rlc.approveAndCall(hub.address, 400, b"") is True
    [deposit] = events(protocol.rlc, "Deposit", emitter=hub)
    assert (deposit.account, deposit.amount) == (funded.address, 400)
    assert protocol.account(funded) == (400, 0)
    assert protocol.rlc.balanceOf(funded.address) == FUNDS - 400
    assert protocol.rlc.balanceOf(hub.address) == held + 400
    assert protocol.rlc.allowance(funded.address, hub.address) == 0


def test_approve_and_call_approves_before_notifying(
    protocol: Protocol, funded: Actor, receivers: dict
):
    receiver = receivers["recording"].deploy()
    with boa.env.prank(funded.address):
        protocol.rlc.approveAndCall(receiver.address, 250, b"\x01payload")
    [approval] = events(protocol.rlc, "Approval")
    assert (approval.owner, approval.spender, approval.value) == (
        funded.address,
        receiver.address,
        250,
    )
    assert receiver.sender() == funded.address
    assert receiver.amount() == 250
    assert receiver.token() == protocol.rlc.address
    assert receiver.extra_data() == b"\x01payload"
    assert receiver.allowance_seen() == 250
    assert protocol.rlc.allowance(funded.address, receiver.address) == 250


def test_approval_refused_by_the_spender_is_rolled_back(
    protocol: Protocol, funded: Actor, receivers: dict
):
    receiver = receivers["refusing"].deploy()
    root = protocol.state_root()
    with boa.env.prank(funded.address), boa.reverts("RLC: approval refused"):
        protocol.rlc.approveAndCall(receiver.address, 250, b"")
    assert protocol.state_root() == root
    assert protocol.rlc.allowance(funded.address, receiver.address) == 0


def test_approve_and_call_on_a_non_contract_reverts(
    protocol: Protocol, funded: Actor, app_owner: Actor
):
    root = protocol.state_root()
    with boa.env.prank(funded.address), boa.reverts():  # no code at the spender: no reason
        protocol.rlc.approveAndCall(app_owner.address, 250, b"")
    assert protocol.state_root() == root
    assert protocol.rlc.allowance(funded.address, app_owner.address) == 0


def test_approve_and_call_to_zero_address_is_refused(protocol: Protocol, funded: Actor):
    root = protocol.state_root()
    with boa.env.prank(funded.address), boa.reverts("RLC: approve to zero address"):
        protocol.rlc.approveAndCall(ZERO, 250, b"")
    assert protocol.state_root() == root
