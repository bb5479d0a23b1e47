import boa

from tests.contracts.erc721._helpers import token_id
from tests.contracts.erc721.conftest import Registry
from tests.contracts.harness import Actor


def test_owner_of_is_the_registering_owner(registry: Registry, asset: str, asset_owner: Actor):
    assert registry.contract.ownerOf(token_id(asset)) == asset_owner.address


def test_owner_of_follows_a_transfer(
    registry: Registry, asset: str, asset_owner: Actor, buyer: Actor
):
    with boa.env.prank(asset_owner.address):
        registry.contract.transferFrom(asset_owner.address, buyer.address, token_id(asset))
    assert registry.contract.ownerOf(token_id(asset)) == buyer.address


def test_owner_of_unknown_asset_reverts(registry: Registry, asset: str):
    with boa.reverts("registry: unknown asset"):
        registry.contract.ownerOf(token_id(asset) ^ 1)
