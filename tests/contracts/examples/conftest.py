"""A deployed OracleRequester, owned by the `requester` and funded."""

from typing import Any

import boa
import pytest

from tests.contracts.examples._helpers import FUNDS, ORACLE_REQUESTER
from tests.contracts.harness import Actor, Protocol


@pytest.fixture
def oracle(protocol: Protocol, requester: Actor) -> Any:
    """An OracleRequester owned by `requester`, with FUNDS in its hub account."""
    with boa.env.prank(requester.address):
        contract = ORACLE_REQUESTER.deploy(protocol.hub, protocol.market, protocol.rlc)
    protocol.give_rlc(requester, FUNDS)
    with boa.env.prank(requester.address):
        protocol.rlc.approve(contract.address, FUNDS)
        contract.deposit(FUNDS)
    return contract
