import boa

from tests.contracts.dataset_registry._helpers import create_dataset, mnist
from tests.contracts.erc721._helpers import token_id
from tests.contracts.harness import Actor, Protocol


def test_dataset_record_names_the_current_owner(
    protocol: Protocol, dataset_owner: Actor, requester: Actor
):
    fields = mnist(dataset_owner)
    asset = create_dataset(protocol, dataset_owner, fields)
    with boa.env.prank(dataset_owner.address):
        protocol.datasets.transferFrom(dataset_owner.address, requester.address, token_id(asset))
    dataset = protocol.datasets.dataset(asset)
    assert dataset.owner == requester.address
    assert (dataset.name, dataset.multiaddr, dataset.checksum) == (
        fields.name,
        fields.multiaddr,
        fields.checksum,
    )


def test_dataset_records_do_not_bleed_into_each_other(protocol: Protocol, dataset_owner: Actor):
    long = mnist(dataset_owner).but(name="x" * 64, multiaddr=b"\xff" * 128)
    short = mnist(dataset_owner).but(name="y", multiaddr=b"")
    long_asset = create_dataset(protocol, dataset_owner, long)
    short_asset = create_dataset(protocol, dataset_owner, short)
    assert (
        protocol.datasets.dataset(short_asset).name,
        protocol.datasets.dataset(short_asset).multiaddr,
    ) == ("y", b"")
    assert protocol.datasets.dataset(long_asset).multiaddr == b"\xff" * 128


def test_unknown_dataset_reverts(protocol: Protocol, dataset_owner: Actor):
    with boa.reverts("registry: unknown dataset"):
        protocol.datasets.dataset(protocol.datasets.predictDataset(*mnist(dataset_owner).args()))


def test_asset_of_another_registry_is_not_a_dataset(protocol: Protocol, app_owner: Actor):
    app = protocol.new_app(app_owner)
    with boa.reverts("registry: unknown dataset"):
        protocol.datasets.dataset(app)
