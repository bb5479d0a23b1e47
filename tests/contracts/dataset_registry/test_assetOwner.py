import boa

from tests.contracts.dataset_registry._helpers import create_dataset, mnist
from tests.contracts.erc721._helpers import ZERO, token_id
from tests.contracts.harness import Actor, Protocol


def test_asset_owner_is_zero_for_an_unknown_dataset(protocol: Protocol, dataset_owner: Actor):
    unknown = protocol.datasets.predictDataset(*mnist(dataset_owner).args())
    assert protocol.datasets.assetOwner(unknown) == ZERO


def test_asset_owner_is_the_registered_owner(protocol: Protocol, dataset_owner: Actor):
    asset = create_dataset(protocol, dataset_owner, mnist(dataset_owner))
    assert protocol.datasets.assetOwner(asset) == dataset_owner.address


def test_asset_owner_follows_transfers(protocol: Protocol, dataset_owner: Actor, requester: Actor):
    asset = create_dataset(protocol, dataset_owner, mnist(dataset_owner))
    with boa.env.prank(dataset_owner.address):
        protocol.datasets.transferFrom(dataset_owner.address, requester.address, token_id(asset))
    assert protocol.datasets.assetOwner(asset) == requester.address


def test_asset_owner_ignores_other_registries(protocol: Protocol, app_owner: Actor):
    app = protocol.new_app(app_owner)
    assert protocol.datasets.assetOwner(app) == ZERO
