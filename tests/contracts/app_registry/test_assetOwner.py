import boa

from tests.contracts.app_registry._helpers import create_app, docker_app
from tests.contracts.erc721._helpers import ZERO, token_id
from tests.contracts.harness import Actor, Protocol


def test_asset_owner_is_zero_for_an_unknown_app(protocol: Protocol, app_owner: Actor):
    assert protocol.apps.assetOwner(protocol.apps.predictApp(*docker_app(app_owner).args())) == ZERO


def test_asset_owner_is_the_registered_owner(protocol: Protocol, app_owner: Actor):
    asset = create_app(protocol, app_owner, docker_app(app_owner))
    assert protocol.apps.assetOwner(asset) == app_owner.address


def test_asset_owner_follows_transfers(protocol: Protocol, app_owner: Actor, requester: Actor):
    asset = create_app(protocol, app_owner, docker_app(app_owner))
    with boa.env.prank(app_owner.address):
        protocol.apps.transferFrom(app_owner.address, requester.address, token_id(asset))
    assert protocol.apps.assetOwner(asset) == requester.address
    with boa.env.prank(requester.address):
        protocol.apps.safeTransferFrom(requester.address, app_owner.address, token_id(asset))
    assert protocol.apps.assetOwner(asset) == app_owner.address


def test_asset_owner_ignores_other_registries(protocol: Protocol, dataset_owner: Actor):
    dataset = protocol.new_dataset(dataset_owner)
    assert protocol.apps.assetOwner(dataset) == ZERO
