"""An escrow harness on the protocol's RLC, and one on a faulty token."""

from typing import Any

import boa
import pytest

from tests.contracts.harness import Actor, Protocol
from tests.contracts.hub_escrow._helpers import ESCROW_HARNESS, FAULTY_TOKEN

FAULTY_SUPPLY = 10**18


@pytest.fixture
def escrow(protocol: Protocol, deployer: Actor) -> Any:
    """The escrow module alone, with its internal moves exposed, holding RLC."""
    with boa.env.prank(deployer.address):
        return ESCROW_HARNESS.deploy(protocol.rlc)


@pytest.fixture
def faulty_token(deployer: Actor) -> Any:
    with boa.env.prank(deployer.address):
        return FAULTY_TOKEN.deploy(FAULTY_SUPPLY)


@pytest.fixture
def faulty_escrow(faulty_token: Any, deployer: Actor) -> Any:
    """An escrow whose token answers false instead of reverting once told to."""
    with boa.env.prank(deployer.address):
        return ESCROW_HARNESS.deploy(faulty_token)
