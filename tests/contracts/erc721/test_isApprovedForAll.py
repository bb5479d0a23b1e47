import boa

from tests.contracts.erc721.conftest import Registry
from tests.contracts.harness import Actor


def test_is_approved_for_all_is_false_by_default(
    registry: Registry, asset_owner: Actor, operator: Actor
):
    assert registry.contract.isApprovedForAll(asset_owner.address, operator.address) is False


def test_is_approved_for_all_reflects_the_owners_choice(
    registry: Registry, asset_owner: Actor, operator: Actor
):
    with boa.env.prank(asset_owner.address):
        registry.contract.setApprovalForAll(operator.address, True)
    assert registry.contract.isApprovedForAll(asset_owner.address, operator.address) is True
    assert registry.contract.isApprovedForAll(operator.address, asset_owner.address) is False
