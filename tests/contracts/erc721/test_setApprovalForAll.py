import boa

from tests.contracts.erc721._helpers import events
from tests.contracts.erc721.conftest import Registry
from tests.contracts.harness import Actor, Protocol


def test_set_approval_for_all_grants_and_logs(
    registry: Registry, asset_owner: Actor, operator: Actor
):
    with boa.env.prank(asset_owner.address):
        registry.contract.setApprovalForAll(operator.address, True)
    [log] = events(registry.contract, "ApprovalForAll")
    assert (log.owner, log.operator, log.approved) == (asset_owner.address, operator.address, True)
    assert registry.contract.isApprovedForAll(asset_owner.address, operator.address) is True


def test_set_approval_for_all_revokes(registry: Registry, asset_owner: Actor, operator: Actor):
    with boa.env.prank(asset_owner.address):
        registry.contract.setApprovalForAll(operator.address, True)
        registry.contract.setApprovalForAll(operator.address, False)
    [log] = events(registry.contract, "ApprovalForAll")
    assert log.approved is False
    assert registry.contract.isApprovedForAll(asset_owner.address, operator.address) is False


def test_operator_covers_assets_registered_later(
    registry: Registry, asset_owner: Actor, operator: Actor
):
    with boa.env.prank(asset_owner.address):
        registry.contract.setApprovalForAll(operator.address, True)
    later = registry.register(asset_owner)
    with boa.env.prank(operator.address):
        registry.contract.transferFrom(asset_owner.address, operator.address, int(later, 16))
    assert registry.contract.ownerOf(int(later, 16)) == operator.address


def test_approval_for_all_to_caller_is_refused(
    protocol: Protocol, registry: Registry, asset_owner: Actor
):
    root = protocol.state_root()
    with boa.env.prank(asset_owner.address), boa.reverts("registry: approval to caller"):
        registry.contract.setApprovalForAll(asset_owner.address, True)
    assert protocol.state_root() == root
    assert registry.contract.isApprovedForAll(asset_owner.address, asset_owner.address) is False
