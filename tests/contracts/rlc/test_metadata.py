import boa

from tests.contracts import deployers
from tests.contracts.harness import RLC_SUPPLY, Actor, Protocol
from tests.contracts.rlc._helpers import events

ZERO = "0x0000000000000000000000000000000000000000"


def test_name(protocol: Protocol):
    assert protocol.rlc.name() == "RLC"


def test_symbol(protocol: Protocol):
    assert protocol.rlc.symbol() == "RLC"


def test_decimals(protocol: Protocol):
    assert protocol.rlc.decimals() == 9


def test_total_supply_is_the_minted_supply(protocol: Protocol):
    assert protocol.rlc.totalSupply() == RLC_SUPPLY


def test_whole_supply_is_minted_once_to_the_deployer(deployer: Actor):
    with boa.env.prank(deployer.address):
        token = deployers.RLC.deploy(5 * 10**9)
    [mint] = events(token, "Transfer")
    assert (mint.sender, mint.receiver, mint.value) == (ZERO, deployer.address, 5 * 10**9)
    assert token.totalSupply() == 5 * 10**9
    assert token.balanceOf(deployer.address) == 5 * 10**9


def test_balance_of_follows_transfers(protocol: Protocol, deployer: Actor, requester: Actor):
    assert protocol.rlc.balanceOf(requester.address) == 0
    protocol.give_rlc(requester, 42)
    assert protocol.rlc.balanceOf(requester.address) == 42
    assert protocol.rlc.balanceOf(deployer.address) == RLC_SUPPLY - 42
    assert protocol.rlc.totalSupply() == RLC_SUPPLY


def test_allowance_is_zero_until_approved(protocol: Protocol, requester: Actor, attacker: Actor):
    assert protocol.rlc.allowance(requester.address, attacker.address) == 0
    with boa.env.prank(requester.address):
        protocol.rlc.approve(attacker.address, 9)
    assert protocol.rlc.allowance(requester.address, attacker.address) == 9
