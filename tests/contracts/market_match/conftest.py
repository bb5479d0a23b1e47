import pytest

from tests.contracts.harness import Actor, Protocol
from tests.contracts.market_match._helpers import Market


@pytest.fixture
def market(
    protocol: Protocol, requester: Actor, app_owner: Actor, dataset_owner: Actor, pool_owner: Actor
) -> Market:
    return Market(protocol, requester, app_owner, dataset_owner, pool_owner)
