import boa

from tests.contracts.app_registry._helpers import create_app, docker_app
from tests.contracts.erc721._helpers import token_id
from tests.contracts.harness import Actor, Protocol


def test_app_record_names_the_current_owner(protocol: Protocol, app_owner: Actor, requester: Actor):
    fields = docker_app(app_owner)
    asset = create_app(protocol, app_owner, fields)
    with boa.env.prank(app_owner.address):
        protocol.apps.transferFrom(app_owner.address, requester.address, token_id(asset))
    app = protocol.apps.app(asset)
    assert app.owner == requester.address
    assert (app.name, app.app_type, app.multiaddr, app.checksum, app.mrenclave) == (
        fields.name,
        fields.app_type,
        fields.multiaddr,
        fields.checksum,
        fields.mrenclave,
    )


def test_app_records_do_not_bleed_into_each_other(protocol: Protocol, app_owner: Actor):
    long = docker_app(app_owner).but(name="x" * 64, multiaddr=b"\xff" * 128, mrenclave=b"\xee" * 64)
    short = docker_app(app_owner).but(name="y", multiaddr=b"", mrenclave=b"")
    long_asset = create_app(protocol, app_owner, long)
    short_asset = create_app(protocol, app_owner, short)
    assert protocol.apps.app(short_asset).name == "y"
    assert protocol.apps.app(short_asset).multiaddr == b""
    assert protocol.apps.app(long_asset).mrenclave == b"\xee" * 64


def test_unknown_app_reverts(protocol: Protocol, app_owner: Actor):
    with boa.reverts("registry: unknown app"):
        protocol.apps.app(protocol.apps.predictApp(*docker_app(app_owner).args()))


def test_asset_of_another_registry_is_not_an_app(protocol: Protocol, dataset_owner: Actor):
    dataset = protocol.new_dataset(dataset_owner)
    with boa.reverts("registry: unknown app"):
        protocol.apps.app(dataset)
