import boa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.contracts.app_registry._helpers import (
    BUNDLE,
    DOCKER,
    AppFields,
    create_app,
    docker_app,
)
from tests.contracts.erc721._helpers import ZERO, events, token_id
from tests.contracts.harness import Actor, Protocol


def test_create_returns_the_predicted_address(protocol: Protocol, app_owner: Actor):
    fields = docker_app(app_owner)
    predicted = protocol.apps.predictApp(*fields.args())
    assert create_app(protocol, app_owner, fields) == predicted


def test_created_docker_app_reads_back_every_field(protocol: Protocol, app_owner: Actor):
    fields = docker_app(app_owner)
    app = protocol.apps.app(create_app(protocol, app_owner, fields))
    assert app.owner == app_owner.address
    assert app.name == "tensorflow-serving"
    assert app.app_type == DOCKER
    assert app.multiaddr == fields.multiaddr
    assert app.checksum == fields.checksum
    assert app.mrenclave == fields.mrenclave


def test_created_bundle_app_keeps_its_empty_fields(protocol: Protocol, app_owner: Actor):
    fields = docker_app(app_owner).but(app_type=BUNDLE, multiaddr=b"", mrenclave=b"")
    app = protocol.apps.app(create_app(protocol, app_owner, fields))
    assert (app.name, app.app_type, app.multiaddr, app.mrenclave) == (fields.name, BUNDLE, b"", b"")
    assert app.checksum == fields.checksum


def test_longest_fields_round_trip(protocol: Protocol, app_owner: Actor):
    fields = docker_app(app_owner).but(
        name="n" * 63 + "!", multiaddr=bytes(range(128)), mrenclave=bytes(range(255, 191, -1))
    )
    app = protocol.apps.app(create_app(protocol, app_owner, fields))
    assert (app.name, app.multiaddr, app.mrenclave) == (
        fields.name,
        fields.multiaddr,
        fields.mrenclave,
    )


def test_create_mints_the_token_to_the_owner(protocol: Protocol, app_owner: Actor):
    with boa.env.prank(app_owner.address):
        asset = str(protocol.apps.createApp(*docker_app(app_owner).args()))
    [mint] = events(protocol.apps, "Transfer")
    assert (mint.sender, mint.receiver, mint.token_id) == (ZERO, app_owner.address, token_id(asset))
    assert protocol.apps.ownerOf(token_id(asset)) == app_owner.address
    assert protocol.apps.balanceOf(app_owner.address) == 1


def test_anyone_may_create_an_app_for_its_owner(
    protocol: Protocol, deployer: Actor, app_owner: Actor
):
    asset = create_app(protocol, deployer, docker_app(app_owner))
    assert protocol.apps.assetOwner(asset) == app_owner.address
    assert protocol.apps.balanceOf(deployer.address) == 0
    with boa.env.prank(deployer.address), boa.reverts("registry: caller may not transfer"):
        protocol.apps.transferFrom(app_owner.address, deployer.address, token_id(asset))


def test_same_app_for_another_owner_is_another_asset(
    protocol: Protocol, app_owner: Actor, attacker: Actor
):
    mine = create_app(protocol, app_owner, docker_app(app_owner))
    theirs = create_app(protocol, attacker, docker_app(attacker))
    assert mine != theirs
    assert protocol.apps.assetOwner(mine) == app_owner.address
    assert protocol.apps.assetOwner(theirs) == attacker.address


def test_moving_bytes_between_fields_gives_another_app(protocol: Protocol, app_owner: Actor):
    """Regression: a packing without lengths would give both records the same address."""
    first = docker_app(app_owner).but(name="ab", multiaddr=b"c", mrenclave=b"")
    second = first.but(name="a", multiaddr=b"bc")
    third = first.but(multiaddr=b"", mrenclave=b"c")
    for fields in (first, second, third):
        app = protocol.apps.app(create_app(protocol, app_owner, fields))
        assert (app.name, app.multiaddr, app.mrenclave) == (
            fields.name,
            fields.multiaddr,
            fields.mrenclave,
        )
    assert protocol.apps.balanceOf(app_owner.address) == 3


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"name": ""}, "registry: empty name"),
        ({"app_type": 2}, "registry: unknown app type"),
        ({"app_type": 255}, "registry: unknown app type"),
        ({"checksum": bytes(32)}, "registry: empty checksum"),
        ({"owner": ZERO}, "registry: owner is zero address"),
    ],
    ids=["empty-name", "type-2", "type-255", "empty-checksum", "zero-owner"],
)
def test_invalid_app_is_refused(
    protocol: Protocol, app_owner: Actor, change: dict[str, object], reason: str
):
    fields = docker_app(app_owner).but(**change)
    root = protocol.state_root()
    with boa.env.prank(app_owner.address), boa.reverts(reason):
        protocol.apps.createApp(*fields.args())
    assert protocol.state_root() == root
    assert protocol.apps.balanceOf(app_owner.address) == 0


def test_same_app_twice_is_refused(protocol: Protocol, app_owner: Actor, attacker: Actor):
    fields = docker_app(app_owner)
    asset = create_app(protocol, app_owner, fields)
    root = protocol.state_root()
    with boa.env.prank(attacker.address), boa.reverts("registry: app exists"):
        protocol.apps.createApp(*fields.args())
    assert protocol.state_root() == root
    assert protocol.apps.assetOwner(asset) == app_owner.address
    assert protocol.apps.balanceOf(app_owner.address) == 1


PRINTABLE = "".join(map(chr, range(0x20, 0x7F)))  # printable ASCII
OWNERS = [Actor.named(role) for role in ("app_owner", "requester", "attacker")]


@given(
    owner=st.sampled_from(OWNERS),
    name=st.text(alphabet=PRINTABLE, min_size=1, max_size=64),
    app_type=st.sampled_from([BUNDLE, DOCKER]),
    multiaddr=st.binary(max_size=128),
    checksum=st.binary(min_size=32, max_size=32).filter(any),
    mrenclave=st.binary(max_size=64),
)
def test_any_app_reads_back_exactly(
    protocol: Protocol,
    owner: Actor,
    name: str,
    app_type: int,
    multiaddr: bytes,
    checksum: bytes,
    mrenclave: bytes,
):
    fields = AppFields(owner.address, name, app_type, multiaddr, checksum, mrenclave)
    with boa.env.anchor():
        predicted = protocol.apps.predictApp(*fields.args())
        asset = create_app(protocol, owner, fields)
        assert asset == predicted
        app = protocol.apps.app(asset)
        assert (app.owner, app.name, app.app_type) == (owner.address, name, app_type)
        assert (app.multiaddr, app.checksum, app.mrenclave) == (multiaddr, checksum, mrenclave)
