import boa

from tests.contracts.harness import Actor, Protocol
from tests.contracts.rlc._helpers import events
from tests.contracts.rlc.conftest import FUNDS

ZERO = "0x0000000000000000000000000000000000000000"
INFINITE = 2**256 - 1


def approve(protocol: Protocol, owner: Actor, spender: Actor, amount: int) -> None:
    with boa.env.prank(owner.address):
        protocol.rlc.approve(spender.address, amount)


def test_transfer_from_moves_amount_and_spends_allowance(
    protocol: Protocol, funded: Actor, spender: Actor, app_owner: Actor
):
    approve(protocol, funded, spender, 500)
    with boa.env.prank(spender.address):
        assert protocol.rlc.transferFrom(funded.address, app_owner.address, 200) is True
    [log] = events(protocol.rlc, "Transfer")
    assert (log.sender, log.receiver, log.value) == (funded.address, app_owner.address, 200)
    assert protocol.rlc.balanceOf(funded.address) == FUNDS - 200
    assert protocol.rlc.balanceOf(app_owner.address) == 200
    assert protocol.rlc.balanceOf(spender.address) == 0
    assert protocol.rlc.allowance(funded.address, spender.address) == 300


def test_transfer_from_of_exact_allowance_leaves_none(
    protocol: Protocol, funded: Actor, spender: Actor
):
    approve(protocol, funded, spender, 500)
    with boa.env.prank(spender.address):
        protocol.rlc.transferFrom(funded.address, spender.address, 500)
    assert protocol.rlc.allowance(funded.address, spender.address) == 0
    assert protocol.rlc.balanceOf(spender.address) == 500


def test_infinite_allowance_is_not_decreased(
    protocol: Protocol, funded: Actor, spender: Actor, app_owner: Actor
):
    approve(protocol, funded, spender, INFINITE)
    with boa.env.prank(spender.address):
        protocol.rlc.transferFrom(funded.address, app_owner.address, 200)
        protocol.rlc.transferFrom(funded.address, app_owner.address, 300)
    assert protocol.rlc.allowance(funded.address, spender.address) == INFINITE
    assert protocol.rlc.balanceOf(app_owner.address) == 500


def test_allowance_one_below_infinite_is_decreased(
    protocol: Protocol, funded: Actor, spender: Actor, app_owner: Actor
):
    approve(protocol, funded, spender, INFINITE - 1)
    with boa.env.prank(spender.address):
        protocol.rlc.transferFrom(funded.address, app_owner.address, 200)
    assert protocol.rlc.allowance(funded.address, spender.address) == INFINITE - 201


def test_transfer_from_without_allowance_is_refused(
    protocol: Protocol, funded: Actor, attacker: Actor
):
    root = protocol.state_root()
    with boa.env.prank(attacker.address), boa.reverts("RLC: insufficient allowance"):
        protocol.rlc.transferFrom(funded.address, attacker.address, 1)
    assert protocol.state_root() == root
    assert protocol.rlc.balanceOf(funded.address) == FUNDS


def test_transfer_from_above_allowance_is_refused(
    protocol: Protocol, funded: Actor, spender: Actor, app_owner: Actor
):
    approve(protocol, funded, spender, 500)
    root = protocol.state_root()
    with boa.env.prank(spender.address), boa.reverts("RLC: insufficient allowance"):
        protocol.rlc.transferFrom(funded.address, app_owner.address, 501)
    assert protocol.state_root() == root
    assert protocol.rlc.allowance(funded.address, spender.address) == 500


def test_owner_needs_an_allowance_to_transfer_from_itself(
    protocol: Protocol, funded: Actor, app_owner: Actor
):
    root = protocol.state_root()
    with boa.env.prank(funded.address), boa.reverts("RLC: insufficient allowance"):
        protocol.rlc.transferFrom(funded.address, app_owner.address, 1)
    assert protocol.state_root() == root


def test_transfer_from_above_balance_is_refused_and_keeps_allowance(
    protocol: Protocol, funded: Actor, spender: Actor, app_owner: Actor
):
    approve(protocol, funded, spender, FUNDS + 1)
    root = protocol.state_root()
    with boa.env.prank(spender.address), boa.reverts("RLC: insufficient balance"):
        protocol.rlc.transferFrom(funded.address, app_owner.address, FUNDS + 1)
    assert protocol.state_root() == root
    assert protocol.rlc.allowance(funded.address, spender.address) == FUNDS + 1


def test_infinite_allowance_still_needs_balance(
    protocol: Protocol, funded: Actor, spender: Actor, app_owner: Actor
):
    approve(protocol, funded, spender, INFINITE)
    root = protocol.state_root()
    with boa.env.prank(spender.address), boa.reverts("RLC: insufficient balance"):
        protocol.rlc.transferFrom(funded.address, app_owner.address, FUNDS + 1)
    assert protocol.state_root() == root


def test_transfer_from_to_zero_address_is_refused(
    protocol: Protocol, funded: Actor, spender: Actor
):
    approve(protocol, funded, spender, 500)
    root = protocol.state_root()
    with boa.env.prank(spender.address), boa.reverts("RLC: transfer to zero address"):
        protocol.rlc.transferFrom(funded.address, ZERO, 100)
    assert protocol.state_root() == root
    assert protocol.rlc.allowance(funded.address, spender.address) == 500
