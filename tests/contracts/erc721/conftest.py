"""Every ERC-721 test runs against each of the three registries."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boa
import pytest

from tests.contracts.harness import Actor, Protocol

ACCEPTING_RECEIVER = """
# pragma version 0.4.3

operator: public(address)
owner: public(address)
token_id: public(uint256)
data: public(Bytes[1024])

@external
def onERC721Received(
    operator: address, owner: address, token_id: uint256, data: Bytes[1024]
) -> bytes4:
    self.operator = operator
    self.owner = owner
    self.token_id = token_id
    self.data = data
    return 0x150b7a02
"""

WRONG_ANSWER_RECEIVER = """
# pragma version 0.4.3

@external
def onERC721Received(
    operator: address, owner: address, token_id: uint256, data: Bytes[1024]
) -> bytes4:
    return 0xdeadbeef
"""

UNAWARE_CONTRACT = """
# pragma version 0.4.3

@external
def ping() -> bool:
    return True
"""


@dataclass(frozen=True)
class Registry:
    """One registry, with a way to register a fresh asset in it."""

    kind: str
    contract: Any
    register: Callable[[Actor], str]


@pytest.fixture(params=["apps", "datasets", "workerpools"])
def registry(request: pytest.FixtureRequest, protocol: Protocol) -> Registry:
    register = {
        "apps": protocol.new_app,
        "datasets": protocol.new_dataset,
        "workerpools": protocol.new_workerpool,
    }[request.param]
    return Registry(request.param, getattr(protocol, request.param), register)


@pytest.fixture(scope="session")
def asset_owner() -> Actor:
    """Holds the asset under test (whatever its kind)."""
    return Actor.named("asset_owner")


@pytest.fixture(scope="session")
def buyer() -> Actor:
    """Receives the asset."""
    return Actor.named("buyer")


@pytest.fixture(scope="session")
def operator() -> Actor:
    """May move every asset of the owner."""
    return Actor.named("operator")


@pytest.fixture(scope="session")
def approved() -> Actor:
    """May move one asset of the owner."""
    return Actor.named("approved")


@pytest.fixture
def asset(registry: Registry, asset_owner: Actor) -> str:
    return registry.register(asset_owner)


@pytest.fixture(scope="module")
def receiver_sources() -> dict[str, Any]:
    return {
        "accepting": boa.loads_partial(ACCEPTING_RECEIVER),
        "wrong_answer": boa.loads_partial(WRONG_ANSWER_RECEIVER),
        "unaware": boa.loads_partial(UNAWARE_CONTRACT),
    }
