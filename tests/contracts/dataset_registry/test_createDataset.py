import boa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.contracts.dataset_registry._helpers import DatasetFields, create_dataset, mnist
from tests.contracts.erc721._helpers import ZERO, events, token_id
from tests.contracts.harness import Actor, Protocol


def test_create_returns_the_predicted_address(protocol: Protocol, dataset_owner: Actor):
    fields = mnist(dataset_owner)
    predicted = protocol.datasets.predictDataset(*fields.args())
    assert create_dataset(protocol, dataset_owner, fields) == predicted


def test_created_dataset_reads_back_every_field(protocol: Protocol, dataset_owner: Actor):
    fields = mnist(dataset_owner)
    dataset = protocol.datasets.dataset(create_dataset(protocol, dataset_owner, fields))
    assert dataset.owner == dataset_owner.address
    assert dataset.name == "mnist"
    assert dataset.multiaddr == fields.multiaddr
    assert dataset.checksum == fields.checksum


def test_dataset_without_multiaddr(protocol: Protocol, dataset_owner: Actor):
    fields = mnist(dataset_owner).but(multiaddr=b"")
    dataset = protocol.datasets.dataset(create_dataset(protocol, dataset_owner, fields))
    assert (dataset.name, dataset.multiaddr) == ("mnist", b"")


def test_longest_fields_round_trip(protocol: Protocol, dataset_owner: Actor):
    fields = mnist(dataset_owner).but(name="d" * 63 + "~", multiaddr=bytes(range(128)))
    dataset = protocol.datasets.dataset(create_dataset(protocol, dataset_owner, fields))
    assert (dataset.name, dataset.multiaddr) == (fields.name, fields.multiaddr)


def test_create_mints_the_token_to_the_owner(protocol: Protocol, dataset_owner: Actor):
    with boa.env.prank(dataset_owner.address):
        asset = str(protocol.datasets.createDataset(*mnist(dataset_owner).args()))
    [mint] = events(protocol.datasets, "Transfer")
    assert (mint.sender, mint.receiver, mint.token_id) == (
        ZERO,
        dataset_owner.address,
        token_id(asset),
    )
    assert protocol.datasets.ownerOf(token_id(asset)) == dataset_owner.address
    assert protocol.datasets.balanceOf(dataset_owner.address) == 1


def test_anyone_may_create_a_dataset_for_its_owner(
    protocol: Protocol, deployer: Actor, dataset_owner: Actor
):
    asset = create_dataset(protocol, deployer, mnist(dataset_owner))
    assert protocol.datasets.assetOwner(asset) == dataset_owner.address
    assert protocol.datasets.balanceOf(deployer.address) == 0
    with boa.env.prank(deployer.address), boa.reverts("registry: caller may not transfer"):
        protocol.datasets.transferFrom(dataset_owner.address, deployer.address, token_id(asset))


def test_same_dataset_for_another_owner_is_another_asset(
    protocol: Protocol, dataset_owner: Actor, attacker: Actor
):
    mine = create_dataset(protocol, dataset_owner, mnist(dataset_owner))
    theirs = create_dataset(protocol, attacker, mnist(attacker))
    assert mine != theirs
    assert protocol.datasets.assetOwner(theirs) == attacker.address


def test_moving_bytes_between_fields_gives_another_dataset(
    protocol: Protocol, dataset_owner: Actor
):
    """Regression: a packing without lengths would give both records the same address."""
    first = mnist(dataset_owner).but(name="ab", multiaddr=b"c")
    second = first.but(name="a", multiaddr=b"bc")
    for fields in (first, second):
        dataset = protocol.datasets.dataset(create_dataset(protocol, dataset_owner, fields))
        assert (dataset.name, dataset.multiaddr) == (fields.name, fields.multiaddr)
    assert protocol.datasets.balanceOf(dataset_owner.address) == 2


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"name": ""}, "registry: empty name"),
        ({"checksum": bytes(32)}, "registry: empty checksum"),
        ({"owner": ZERO}, "registry: owner is zero address"),
    ],
    ids=["empty-name", "empty-checksum", "zero-owner"],
)
def test_invalid_dataset_is_refused(
    protocol: Protocol, dataset_owner: Actor, change: dict[str, object], reason: str
):
    fields = mnist(dataset_owner).but(**change)
    root = protocol.state_root()
    with boa.env.prank(dataset_owner.address), boa.reverts(reason):
        protocol.datasets.createDataset(*fields.args())
    assert protocol.state_root() == root
    assert protocol.datasets.balanceOf(dataset_owner.address) == 0


def test_same_dataset_twice_is_refused(protocol: Protocol, dataset_owner: Actor, attacker: Actor):
    fields = mnist(dataset_owner)
    asset = create_dataset(protocol, dataset_owner, fields)
    root = protocol.state_root()
    with boa.env.prank(attacker.address), boa.reverts("registry: dataset exists"):
        protocol.datasets.createDataset(*fields.args())
    assert protocol.state_root() == root
    assert protocol.datasets.assetOwner(asset) == dataset_owner.address
    assert protocol.datasets.balanceOf(dataset_owner.address) == 1


PRINTABLE = "".join(map(chr, range(0x20, 0x7F)))  # printable ASCII
OWNERS = [Actor.named(role) for role in ("dataset_owner", "requester", "attacker")]


@given(
    owner=st.sampled_from(OWNERS),
    name=st.text(alphabet=PRINTABLE, min_size=1, max_size=64),
    multiaddr=st.binary(max_size=128),
    checksum=st.binary(min_size=32, max_size=32).filter(any),
)
def test_any_dataset_reads_back_exactly(
    protocol: Protocol, owner: Actor, name: str, multiaddr: bytes, checksum: bytes
):
    fields = DatasetFields(owner.address, name, multiaddr, checksum)
    with boa.env.anchor():
        predicted = protocol.datasets.predictDataset(*fields.args())
        asset = create_dataset(protocol, owner, fields)
        assert asset == predicted
        dataset = protocol.datasets.dataset(asset)
        assert (dataset.owner, dataset.name) == (owner.address, name)
        assert (dataset.multiaddr, dataset.checksum) == (multiaddr, checksum)
