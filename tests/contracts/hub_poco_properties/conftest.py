"""A PocoHarness hub for each test (inside its anchor), the deal roles and their assets."""

from typing import Any

import pytest

from tests.contracts.harness import Protocol
from tests.contracts.hub_poco_properties._helpers import (
    FUNDS,
    WORKERS,
    Assets,
    Roles,
    harness_protocol,
    register_assets,
)


@pytest.fixture
def roles(requester, app_owner, dataset_owner, pool_owner) -> Roles:
    return Roles(requester, app_owner, dataset_owner, pool_owner)


@pytest.fixture
def poco(protocol: Protocol) -> Protocol:
    """The protocol with a PocoHarness hub (the hub plus `set_score`) and its own market."""
    return harness_protocol(protocol)


@pytest.fixture
def assets(poco: Protocol, roles: Roles) -> Assets:
    return register_assets(poco, roles)


@pytest.fixture
def harness(poco: Protocol) -> Any:
    return poco.hub


@pytest.fixture
def funded(poco: Protocol, roles: Roles) -> None:
    """Every role and every worker holds FUNDS free in the hub (once per test, not per example)."""
    for actor in (*roles.all, *WORKERS):
        poco.deposit(actor, FUNDS)
