"""RLC fixtures: the requester holds some RLC; a third party may spend it."""

import pytest

from tests.contracts.harness import Actor, Protocol

FUNDS = 1_000 * 10**9  # 1,000 RLC, in nRLC


@pytest.fixture(scope="session")
def spender() -> Actor:
    """Someone the requester lets move its RLC."""
    return Actor.named("spender")


@pytest.fixture
def funded(protocol: Protocol, requester: Actor) -> Actor:
    """The requester, holding FUNDS nRLC in its wallet."""
    protocol.give_rlc(requester, FUNDS)
    return requester
