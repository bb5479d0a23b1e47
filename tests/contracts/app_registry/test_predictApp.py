import boa
import pytest

from tests.contracts import deployers
from tests.contracts.app_registry._helpers import BUNDLE, create_app, docker_app
from tests.contracts.harness import Actor, Protocol


def test_predict_app_tells_the_address_before_creation(protocol: Protocol, app_owner: Actor):
    fields = docker_app(app_owner)
    predicted = protocol.apps.predictApp(*fields.args())
    assert protocol.apps.assetOwner(predicted) == "0x0000000000000000000000000000000000000000"
    assert create_app(protocol, app_owner, fields) == predicted
    assert protocol.apps.predictApp(*fields.args()) == predicted


@pytest.mark.parametrize(
    "change",
    [
        {"owner": Actor.named("requester").address},
        {"name": "tensorflow-serving2"},
        {"app_type": BUNDLE},
        {"multiaddr": b"registry.hub.docker.com/nuage/tf-serving:2.16"},
        {"checksum": b"\x01" * 32},
        {"mrenclave": b""},
    ],
    ids=lambda change: next(iter(change)),
)
def test_every_field_changes_the_address(
    protocol: Protocol, app_owner: Actor, change: dict[str, object]
):
    fields = docker_app(app_owner)
    assert protocol.apps.predictApp(*fields.but(**change).args()) != protocol.apps.predictApp(
        *fields.args()
    )


def test_another_registry_predicts_another_address(
    protocol: Protocol, deployer: Actor, app_owner: Actor
):
    with boa.env.prank(deployer.address):
        other = deployers.APP_REGISTRY.deploy()
    fields = docker_app(app_owner)
    assert other.predictApp(*fields.args()) != protocol.apps.predictApp(*fields.args())
