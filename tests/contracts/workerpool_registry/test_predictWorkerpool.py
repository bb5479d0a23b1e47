import boa

from tests.contracts import deployers
from tests.contracts.erc721._helpers import ZERO
from tests.contracts.harness import Actor, Protocol
from tests.contracts.workerpool_registry._helpers import create_pool

DESCRIPTION = "gpu pool, eu-west"


def test_predict_workerpool_tells_the_address_before_creation(
    protocol: Protocol, pool_owner: Actor
):
    predicted = protocol.workerpools.predictWorkerpool(pool_owner.address, DESCRIPTION)
    assert protocol.workerpools.assetOwner(predicted) == ZERO
    assert create_pool(protocol, pool_owner, pool_owner.address, DESCRIPTION) == predicted
    assert protocol.workerpools.predictWorkerpool(pool_owner.address, DESCRIPTION) == predicted


def test_owner_and_description_change_the_address(
    protocol: Protocol, pool_owner: Actor, attacker: Actor
):
    predict = protocol.workerpools.predictWorkerpool
    base = predict(pool_owner.address, DESCRIPTION)
    assert predict(attacker.address, DESCRIPTION) != base
    assert predict(pool_owner.address, DESCRIPTION + " ") != base


def test_another_registry_predicts_another_address(
    protocol: Protocol, deployer: Actor, pool_owner: Actor
):
    with boa.env.prank(deployer.address):
        other = deployers.WORKERPOOL_REGISTRY.deploy()
    assert other.predictWorkerpool(
        pool_owner.address, DESCRIPTION
    ) != protocol.workerpools.predictWorkerpool(pool_owner.address, DESCRIPTION)
