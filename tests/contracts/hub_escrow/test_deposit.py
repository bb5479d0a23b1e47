import boa

from tests.contracts import deployers
from tests.contracts.harness import Actor, Protocol
from tests.contracts.hub_escrow._helpers import ESCROW_HARNESS, REF, events, fund

AMOUNT = 25 * 10**9
MAX_BALANCE = 2**96


def approve(protocol: Protocol, actor: Actor, amount: int) -> None:
    protocol.give_rlc(actor, amount)
    with boa.env.prank(actor.address):
        protocol.rlc.approve(protocol.hub.address, amount)


def test_deposit_moves_tokens_into_free_balance(protocol, requester):
    approve(protocol, requester, AMOUNT)
    hub_tokens = protocol.rlc.balanceOf(protocol.hub.address)

    with boa.env.prank(requester.address):
        assert protocol.hub.deposit(AMOUNT) is True
    [deposit] = events(protocol.hub, "Deposit")

    assert protocol.account(requester) == (AMOUNT, 0)
    assert protocol.rlc.balanceOf(requester.address) == 0
    assert protocol.rlc.balanceOf(protocol.hub.address) == hub_tokens + AMOUNT
    assert protocol.rlc.allowance(requester.address, protocol.hub.address) == 0
    assert (deposit.account, deposit.sender, deposit.amount) == (
        requester.address,
        requester.address,
        AMOUNT,
    )


def test_deposits_add_up(protocol, requester):
    protocol.deposit(requester, AMOUNT)
    protocol.deposit(requester, 3)

    assert protocol.account(requester) == (AMOUNT + 3, 0)


def test_zero_amount_reverts(protocol, requester):
    approve(protocol, requester, AMOUNT)
    root = protocol.state_root()

    with boa.env.prank(requester.address), boa.reverts("escrow: zero amount"):
        protocol.hub.deposit(0)

    assert protocol.state_root() == root


def test_deposit_without_allowance_reverts_with_the_token_reason(protocol, requester):
    """RLC reverts rather than answer false, and the hub passes its reason on."""
    protocol.give_rlc(requester, AMOUNT)
    root = protocol.state_root()

    with boa.env.prank(requester.address), boa.reverts("RLC: insufficient allowance"):
        protocol.hub.deposit(AMOUNT)

    assert protocol.state_root() == root
    assert protocol.account(requester) == (0, 0)


def test_deposit_above_wallet_reverts(protocol, requester):
    approve(protocol, requester, AMOUNT)
    with boa.env.prank(requester.address):
        protocol.rlc.approve(protocol.hub.address, AMOUNT + 1)
    root = protocol.state_root()

    with boa.env.prank(requester.address), boa.reverts("RLC: insufficient balance"):
        protocol.hub.deposit(AMOUNT + 1)

    assert protocol.state_root() == root


def test_token_answering_false_reverts(faulty_token, faulty_escrow, deployer, requester):
    fund(faulty_token, faulty_escrow, deployer, requester, AMOUNT)
    faulty_token.set_failing(True)
    root = Protocol.state_root()

    with boa.env.prank(requester.address), boa.reverts("escrow: token transfer failed"):
        faulty_escrow.deposit(1)

    assert Protocol.state_root() == root
    assert faulty_escrow.balanceOf(requester.address) == AMOUNT


def test_balance_at_2_96_reverts(deployer, requester):
    rich = Protocol.deploy(deployer, supply=2**100)
    rich.deposit(requester, MAX_BALANCE - 1)
    approve(rich, requester, 1)
    root = rich.state_root()

    with boa.env.prank(requester.address), boa.reverts("escrow: balance above 2**96"):
        rich.hub.deposit(1)

    assert rich.state_root() == root
    assert rich.account(requester) == (MAX_BALANCE - 1, 0)


def test_single_deposit_of_2_96_reverts(deployer, requester):
    rich = Protocol.deploy(deployer, supply=2**100)
    approve(rich, requester, MAX_BALANCE)
    root = rich.state_root()

    with boa.env.prank(requester.address), boa.reverts("escrow: balance above 2**96"):
        rich.hub.deposit(MAX_BALANCE)

    assert rich.state_root() == root


def test_frozen_balance_counts_towards_the_2_96_bound(deployer, requester):
    with boa.env.prank(deployer.address):
        rlc = deployers.RLC.deploy(2**100)
        escrow = ESCROW_HARNESS.deploy(rlc)
    fund(rlc, escrow, deployer, requester, MAX_BALANCE - 1)
    escrow.lock(requester.address, MAX_BALANCE - 1, REF)
    with boa.env.prank(deployer.address):
        rlc.transfer(requester.address, 1)
    with boa.env.prank(requester.address):
        rlc.approve(escrow.address, 1)
    root = Protocol.state_root()

    with boa.env.prank(requester.address), boa.reverts("escrow: balance above 2**96"):
        escrow.deposit(1)

    assert Protocol.state_root() == root
    assert escrow.frozenOf(requester.address) == MAX_BALANCE - 1
