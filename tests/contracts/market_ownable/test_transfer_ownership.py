import boa
import pytest

from nuage.protocol import ZERO_ADDRESS
from tests.contracts.harness import Actor


@pytest.fixture(scope="session")
def next_owner() -> Actor:
    return Actor.named("next_owner")


def test_deployer_owns_the_market(protocol, deployer):
    assert protocol.market.owner() == deployer.address


def test_owner_hands_over_ownership(protocol, deployer, next_owner):
    with boa.env.prank(deployer.address):
        protocol.market.transferOwnership(next_owner.address)
    [transferred] = [
        log for log in protocol.market.get_logs() if type(log).__name__ == "OwnershipTransferred"
    ]

    assert (transferred.previous_owner, transferred.new_owner) == (
        deployer.address,
        next_owner.address,
    )
    assert protocol.market.owner() == next_owner.address


def test_new_owner_creates_categories_and_previous_owner_no_longer(protocol, deployer, next_owner):
    with boa.env.prank(deployer.address):
        protocol.market.transferOwnership(next_owner.address)

    with boa.env.prank(next_owner.address):
        protocol.market.createCategory("XXL", "", 86_400)
    root = protocol.state_root()
    with boa.env.prank(deployer.address), boa.reverts("ownable: not the owner"):
        protocol.market.createCategory("XXXL", "", 864_000)

    assert protocol.state_root() == root
    assert protocol.market.countCategory() == 6


def test_previous_owner_cannot_take_ownership_back(protocol, deployer, next_owner):
    with boa.env.prank(deployer.address):
        protocol.market.transferOwnership(next_owner.address)
    root = protocol.state_root()

    with boa.env.prank(deployer.address), boa.reverts("ownable: not the owner"):
        protocol.market.transferOwnership(deployer.address)

    assert protocol.state_root() == root


def test_stranger_reverts(protocol, deployer, attacker):
    root = protocol.state_root()

    with boa.env.prank(attacker.address), boa.reverts("ownable: not the owner"):
        protocol.market.transferOwnership(attacker.address)

    assert protocol.state_root() == root
    assert protocol.market.owner() == deployer.address


def test_renouncing_freezes_the_category_list(protocol, deployer):
    with boa.env.prank(deployer.address):
        protocol.market.transferOwnership(ZERO_ADDRESS)
    root = protocol.state_root()

    with boa.env.prank(deployer.address), boa.reverts("ownable: not the owner"):
        protocol.market.createCategory("XXL", "", 86_400)

    assert protocol.state_root() == root
    assert protocol.market.owner() == ZERO_ADDRESS
