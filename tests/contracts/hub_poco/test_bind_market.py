"""Hub.bindMarket: the owner names the market once; nobody else, never twice."""

from typing import Any

import boa
import pytest

from nuage.protocol import ZERO_ADDRESS
from tests.contracts import deployers
from tests.contracts.harness import Actor, Protocol
from tests.contracts.hub_poco._helpers import events


@pytest.fixture
def unbound_hub(protocol: Protocol, deployer: Actor) -> Any:
    """A fresh hub on the protocol's RLC, owned by `deployer`, with no market yet."""
    with boa.env.prank(deployer.address):
        return deployers.HUB.deploy(protocol.rlc)


def test_protocol_hub_is_bound_to_its_market(protocol):
    assert protocol.hub.market() == protocol.market.address


def test_owner_binds_a_market_once(protocol, deployer, unbound_hub):
    assert unbound_hub.market() == ZERO_ADDRESS

    with boa.env.prank(deployer.address):
        unbound_hub.bindMarket(protocol.market.address)
    [bound] = events(unbound_hub, "MarketBound")

    assert unbound_hub.market() == protocol.market.address
    assert bound.market == protocol.market.address


def test_second_binding_reverts(protocol, deployer, attacker):
    root = protocol.state_root()

    with boa.env.prank(deployer.address), boa.reverts("hub: market already bound"):
        protocol.hub.bindMarket(attacker.address)

    assert protocol.state_root() == root
    assert protocol.hub.market() == protocol.market.address


def test_attacker_cannot_bind_a_market(protocol, attacker, unbound_hub):
    """Whoever binds the market decides who opens deals, so only the owner may."""
    root = protocol.state_root()

    with boa.env.prank(attacker.address), boa.reverts("ownable: not the owner"):
        unbound_hub.bindMarket(attacker.address)

    assert protocol.state_root() == root
    assert unbound_hub.market() == ZERO_ADDRESS


def test_attacker_cannot_rebind_the_market(protocol, attacker):
    root = protocol.state_root()

    with boa.env.prank(attacker.address), boa.reverts("ownable: not the owner"):
        protocol.hub.bindMarket(attacker.address)

    assert protocol.state_root() == root


def test_zero_address_market_reverts(protocol, deployer, unbound_hub):
    root = protocol.state_root()

    with boa.env.prank(deployer.address), boa.reverts("hub: market is zero address"):
        unbound_hub.bindMarket(ZERO_ADDRESS)

    assert protocol.state_root() == root
    assert unbound_hub.market() == ZERO_ADDRESS
