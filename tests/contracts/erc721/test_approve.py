import boa

from tests.contracts.erc721._helpers import ZERO, events, token_id
from tests.contracts.erc721.conftest import Registry
from tests.contracts.harness import Actor, Protocol


def test_owner_approves_an_address(
    registry: Registry, asset: str, asset_owner: Actor, approved: Actor
):
    with boa.env.prank(asset_owner.address):
        registry.contract.approve(approved.address, token_id(asset))
    [log] = events(registry.contract, "Approval")
    assert (log.owner, log.approved, log.token_id) == (
        asset_owner.address,
        approved.address,
        token_id(asset),
    )
    assert registry.contract.getApproved(token_id(asset)) == approved.address


def test_operator_approves_on_the_owners_behalf(
    registry: Registry, asset: str, asset_owner: Actor, operator: Actor, approved: Actor
):
    with boa.env.prank(asset_owner.address):
        registry.contract.setApprovalForAll(operator.address, True)
    with boa.env.prank(operator.address):
        registry.contract.approve(approved.address, token_id(asset))
    [log] = events(registry.contract, "Approval")
    assert log.owner == asset_owner.address
    assert registry.contract.getApproved(token_id(asset)) == approved.address


def test_approving_zero_clears_the_approval(
    registry: Registry, asset: str, asset_owner: Actor, approved: Actor
):
    with boa.env.prank(asset_owner.address):
        registry.contract.approve(approved.address, token_id(asset))
        registry.contract.approve(ZERO, token_id(asset))
    assert registry.contract.getApproved(token_id(asset)) == ZERO


def test_approve_by_a_stranger_is_refused(
    protocol: Protocol, registry: Registry, asset: str, attacker: Actor
):
    root = protocol.state_root()
    with boa.env.prank(attacker.address), boa.reverts("registry: not the owner"):
        registry.contract.approve(attacker.address, token_id(asset))
    assert protocol.state_root() == root
    assert registry.contract.getApproved(token_id(asset)) == ZERO


def test_approved_address_may_not_approve_another(
    protocol: Protocol,
    registry: Registry,
    asset: str,
    asset_owner: Actor,
    approved: Actor,
    attacker: Actor,
):
    with boa.env.prank(asset_owner.address):
        registry.contract.approve(approved.address, token_id(asset))
    root = protocol.state_root()
    with boa.env.prank(approved.address), boa.reverts("registry: not the owner"):
        registry.contract.approve(attacker.address, token_id(asset))
    assert protocol.state_root() == root
    assert registry.contract.getApproved(token_id(asset)) == approved.address


def test_approval_to_current_owner_is_refused(
    protocol: Protocol, registry: Registry, asset: str, asset_owner: Actor
):
    root = protocol.state_root()
    with boa.env.prank(asset_owner.address), boa.reverts("registry: approval to current owner"):
        registry.contract.approve(asset_owner.address, token_id(asset))
    assert protocol.state_root() == root


def test_approve_of_unknown_asset_is_refused(
    protocol: Protocol, registry: Registry, asset: str, asset_owner: Actor, approved: Actor
):
    root = protocol.state_root()
    with boa.env.prank(asset_owner.address), boa.reverts("registry: unknown asset"):
        registry.contract.approve(approved.address, token_id(asset) ^ 1)
    assert protocol.state_root() == root
