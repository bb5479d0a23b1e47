import boa
import pytest

from tests.contracts import deployers
from tests.contracts.dataset_registry._helpers import create_dataset, mnist
from tests.contracts.erc721._helpers import ZERO
from tests.contracts.harness import Actor, Protocol


def test_predict_dataset_tells_the_address_before_creation(
    protocol: Protocol, dataset_owner: Actor
):
    fields = mnist(dataset_owner)
    predicted = protocol.datasets.predictDataset(*fields.args())
    assert protocol.datasets.assetOwner(predicted) == ZERO
    assert create_dataset(protocol, dataset_owner, fields) == predicted
    assert protocol.datasets.predictDataset(*fields.args()) == predicted


@pytest.mark.parametrize(
    "change",
    [
        {"owner": Actor.named("requester").address},
        {"name": "mnist-v2"},
        {"multiaddr": b""},
        {"checksum": b"\x01" * 32},
    ],
    ids=lambda change: next(iter(change)),
)
def test_every_field_changes_the_address(
    protocol: Protocol, dataset_owner: Actor, change: dict[str, object]
):
    fields = mnist(dataset_owner)
    changed = fields.but(**change)
    predict = protocol.datasets.predictDataset
    assert predict(*changed.args()) != predict(*fields.args())


def test_another_registry_predicts_another_address(
    protocol: Protocol, deployer: Actor, dataset_owner: Actor
):
    with boa.env.prank(deployer.address):
        other = deployers.DATASET_REGISTRY.deploy()
    fields = mnist(dataset_owner)
    assert other.predictDataset(*fields.args()) != protocol.datasets.predictDataset(*fields.args())
