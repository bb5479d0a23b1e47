import boa
import pytest

from tests.contracts.erc721._helpers import ZERO, events, token_id
from tests.contracts.erc721.conftest import Registry
from tests.contracts.harness import Actor, Protocol


def _grant(registry: Registry, asset: str, owner: Actor, who: str, mover: Actor) -> None:
    with boa.env.prank(owner.address):
        if who == "approved":
            registry.contract.approve(mover.address, token_id(asset))
        elif who == "operator":
            registry.contract.setApprovalForAll(mover.address, True)


@pytest.mark.parametrize("who", ["owner", "approved", "operator"])
def test_transfer_moves_the_asset(
    registry: Registry,
    asset: str,
    asset_owner: Actor,
    buyer: Actor,
    approved: Actor,
    operator: Actor,
    who: str,
):
    mover = {"owner": asset_owner, "approved": approved, "operator": operator}[who]
    _grant(registry, asset, asset_owner, who, mover)
    with boa.env.prank(mover.address):
        registry.contract.transferFrom(asset_owner.address, buyer.address, token_id(asset))
    [log] = events(registry.contract, "Transfer")
    assert (log.sender, log.receiver, log.token_id) == (
        asset_owner.address,
        buyer.address,
        token_id(asset),
    )
    assert registry.contract.ownerOf(token_id(asset)) == buyer.address
    assert registry.contract.assetOwner(asset) == buyer.address
    assert registry.contract.balanceOf(asset_owner.address) == 0
    assert registry.contract.balanceOf(buyer.address) == 1
    if who != "owner":
        assert registry.contract.balanceOf(mover.address) == 0


def test_transfer_clears_the_approval(
    registry: Registry, asset: str, asset_owner: Actor, buyer: Actor, approved: Actor
):
    with boa.env.prank(asset_owner.address):
        registry.contract.approve(approved.address, token_id(asset))
        registry.contract.transferFrom(asset_owner.address, buyer.address, token_id(asset))
    assert registry.contract.getApproved(token_id(asset)) == ZERO


def test_approval_does_not_survive_a_round_trip(
    protocol: Protocol,
    registry: Registry,
    asset: str,
    asset_owner: Actor,
    buyer: Actor,
    approved: Actor,
):
    """An approval given before a sale must not come back when the asset returns."""
    with boa.env.prank(asset_owner.address):
        registry.contract.approve(approved.address, token_id(asset))
        registry.contract.transferFrom(asset_owner.address, buyer.address, token_id(asset))
    with boa.env.prank(buyer.address):
        registry.contract.transferFrom(buyer.address, asset_owner.address, token_id(asset))
    root = protocol.state_root()
    with boa.env.prank(approved.address), boa.reverts("registry: caller may not transfer"):
        registry.contract.transferFrom(asset_owner.address, approved.address, token_id(asset))
    assert protocol.state_root() == root


def test_previous_owners_operator_loses_the_asset(
    protocol: Protocol,
    registry: Registry,
    asset: str,
    asset_owner: Actor,
    buyer: Actor,
    operator: Actor,
):
    with boa.env.prank(asset_owner.address):
        registry.contract.setApprovalForAll(operator.address, True)
        registry.contract.transferFrom(asset_owner.address, buyer.address, token_id(asset))
    root = protocol.state_root()
    with boa.env.prank(operator.address), boa.reverts("registry: caller may not transfer"):
        registry.contract.transferFrom(buyer.address, operator.address, token_id(asset))
    assert protocol.state_root() == root


def test_transfer_to_self_keeps_ownership(registry: Registry, asset: str, asset_owner: Actor):
    with boa.env.prank(asset_owner.address):
        registry.contract.transferFrom(asset_owner.address, asset_owner.address, token_id(asset))
    assert registry.contract.ownerOf(token_id(asset)) == asset_owner.address
    assert registry.contract.balanceOf(asset_owner.address) == 1


def test_transfer_naming_the_wrong_owner_is_refused(
    protocol: Protocol, registry: Registry, asset: str, attacker: Actor
):
    root = protocol.state_root()
    with boa.env.prank(attacker.address), boa.reverts("registry: not the owner"):
        registry.contract.transferFrom(attacker.address, attacker.address, token_id(asset))
    assert protocol.state_root() == root


def test_transfer_by_a_stranger_is_refused(
    protocol: Protocol, registry: Registry, asset: str, asset_owner: Actor, attacker: Actor
):
    root = protocol.state_root()
    with boa.env.prank(attacker.address), boa.reverts("registry: caller may not transfer"):
        registry.contract.transferFrom(asset_owner.address, attacker.address, token_id(asset))
    assert protocol.state_root() == root
    assert registry.contract.ownerOf(token_id(asset)) == asset_owner.address


def test_approval_for_one_asset_does_not_cover_another(
    protocol: Protocol, registry: Registry, asset: str, asset_owner: Actor, approved: Actor
):
    other = registry.register(asset_owner)
    with boa.env.prank(asset_owner.address):
        registry.contract.approve(approved.address, token_id(asset))
    root = protocol.state_root()
    with boa.env.prank(approved.address), boa.reverts("registry: caller may not transfer"):
        registry.contract.transferFrom(asset_owner.address, approved.address, token_id(other))
    assert protocol.state_root() == root


def test_unknown_asset_cannot_be_taken_from_the_zero_address(
    protocol: Protocol, registry: Registry, asset: str, attacker: Actor
):
    root = protocol.state_root()
    with boa.env.prank(attacker.address), boa.reverts("registry: caller may not transfer"):
        registry.contract.transferFrom(ZERO, attacker.address, token_id(asset) ^ 1)
    assert protocol.state_root() == root


def test_transfer_to_zero_address_is_refused(
    protocol: Protocol, registry: Registry, asset: str, asset_owner: Actor
):
    root = protocol.state_root()
    with boa.env.prank(asset_owner.address), boa.reverts("registry: transfer to zero address"):
        registry.contract.transferFrom(asset_owner.address, ZERO, token_id(asset))
    assert protocol.state_root() == root
