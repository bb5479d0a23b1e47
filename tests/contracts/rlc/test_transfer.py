import boa
from hypothesis import given
from hypothesis import strategies as st

from tests.contracts.harness import Actor, Protocol
from tests.contracts.rlc._helpers import events
from tests.contracts.rlc.conftest import FUNDS

ZERO = "0x0000000000000000000000000000000000000000"


def test_transfer_moves_amount_to_receiver(protocol: Protocol, funded: Actor, app_owner: Actor):
    with boa.env.prank(funded.address):
        assert protocol.rlc.transfer(app_owner.address, 300) is True
    [log] = events(protocol.rlc, "Transfer")
    assert protocol.rlc.balanceOf(funded.address) == FUNDS - 300
    assert protocol.rlc.balanceOf(app_owner.address) == 300
    assert (log.sender, log.receiver, log.value) == (funded.address, app_owner.address, 300)


def test_transfer_of_whole_balance_empties_the_wallet(
    protocol: Protocol, funded: Actor, app_owner: Actor
):
    with boa.env.prank(funded.address):
        protocol.rlc.transfer(app_owner.address, FUNDS)
    assert protocol.rlc.balanceOf(funded.address) == 0
    assert protocol.rlc.balanceOf(app_owner.address) == FUNDS


def test_transfer_of_zero_succeeds_and_logs(protocol: Protocol, funded: Actor, app_owner: Actor):
    with boa.env.prank(funded.address):
        assert protocol.rlc.transfer(app_owner.address, 0) is True
    [log] = events(protocol.rlc, "Transfer")
    assert protocol.rlc.balanceOf(funded.address) == FUNDS
    assert log.value == 0


def test_transfer_to_self_keeps_balance(protocol: Protocol, funded: Actor):
    with boa.env.prank(funded.address):
        protocol.rlc.transfer(funded.address, 10)
    assert protocol.rlc.balanceOf(funded.address) == FUNDS


def test_transfer_above_balance_is_refused(protocol: Protocol, funded: Actor, app_owner: Actor):
    root = protocol.state_root()
    with boa.env.prank(funded.address), boa.reverts("RLC: insufficient balance"):
        protocol.rlc.transfer(app_owner.address, FUNDS + 1)
    assert protocol.state_root() == root
    assert protocol.rlc.balanceOf(funded.address) == FUNDS


def test_transfer_from_empty_wallet_is_refused(
    protocol: Protocol, attacker: Actor, app_owner: Actor
):
    root = protocol.state_root()
    with boa.env.prank(attacker.address), boa.reverts("RLC: insufficient balance"):
        protocol.rlc.transfer(app_owner.address, 1)
    assert protocol.state_root() == root


def test_transfer_to_zero_address_is_refused(protocol: Protocol, funded: Actor):
    root = protocol.state_root()
    with boa.env.prank(funded.address), boa.reverts("RLC: transfer to zero address"):
        protocol.rlc.transfer(ZERO, 1)
    assert protocol.state_root() == root
    assert protocol.rlc.balanceOf(funded.address) == FUNDS


HOLDERS = ("requester", "app_owner", "worker", "pool_owner")
moves = st.lists(
    st.tuples(
        st.sampled_from(HOLDERS),
        st.sampled_from(HOLDERS),
        st.integers(min_value=0, max_value=2 * FUNDS),
    ),
    max_size=12,
)


@given(moves=moves)
def test_transfers_conserve_total_supply(protocol: Protocol, moves: list[tuple[str, str, int]]):
    """Random transfers, some above balance: balances match a ghost ledger, sum to the supply."""
    actors = {name: Actor.named(name) for name in HOLDERS}
    with boa.env.anchor():
        ledger = {}
        for actor in actors.values():
            protocol.give_rlc(actor, FUNDS)
            ledger[actor.address] = protocol.rlc.balanceOf(actor.address)
        deployer = protocol.deployer.address
        ledger[deployer] = protocol.rlc.balanceOf(deployer)
        for sender_name, receiver_name, amount in moves:
            sender, receiver = actors[sender_name].address, actors[receiver_name].address
            with boa.env.prank(sender):
                if amount > ledger[sender]:
                    with boa.reverts("RLC: insufficient balance"):
                        protocol.rlc.transfer(receiver, amount)
                    continue
                protocol.rlc.transfer(receiver, amount)
            ledger[sender] -= amount
            ledger[receiver] += amount
        for address, balance in ledger.items():
            assert protocol.rlc.balanceOf(address) == balance
        assert sum(ledger.values()) == protocol.rlc.totalSupply()
