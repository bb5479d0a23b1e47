"""The deployed protocol (once per session) and its actors, by role.

Each test runs inside `boa.env.anchor()`: whatever it does is rolled back.
"""

import boa
import pytest

from tests.contracts.harness import Actor, Protocol


@pytest.fixture(scope="session")
def deployer() -> Actor:
    return Actor.named("deployer")


@pytest.fixture(scope="session")
def protocol(deployer: Actor) -> Protocol:
    return Protocol.deploy(deployer)


@pytest.fixture(autouse=True)
def _isolated(protocol: Protocol):
    with boa.env.anchor():
        yield


@pytest.fixture(scope="session")
def requester() -> Actor:
    return Actor.named("requester")


@pytest.fixture(scope="session")
def app_owner() -> Actor:
    return Actor.named("app_owner")


@pytest.fixture(scope="session")
def dataset_owner() -> Actor:
    return Actor.named("dataset_owner")


@pytest.fixture(scope="session")
def pool_owner() -> Actor:
    return Actor.named("pool_owner")


@pytest.fixture(scope="session")
def worker() -> Actor:
    return Actor.named("worker")


@pytest.fixture(scope="session")
def attacker() -> Actor:
    return Actor.named("attacker")
