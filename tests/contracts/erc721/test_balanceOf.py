import boa

from tests.contracts.erc721._helpers import ZERO, token_id
from tests.contracts.erc721.conftest import Registry
from tests.contracts.harness import Actor, Protocol


def test_balance_of_counts_registered_assets(registry: Registry, asset_owner: Actor):
    assert registry.contract.balanceOf(asset_owner.address) == 0
    registry.register(asset_owner)
    assert registry.contract.balanceOf(asset_owner.address) == 1
    registry.register(asset_owner)
    assert registry.contract.balanceOf(asset_owner.address) == 2


def test_balance_of_moves_with_a_transfer(
    registry: Registry, asset: str, asset_owner: Actor, buyer: Actor
):
    with boa.env.prank(asset_owner.address):
        registry.contract.transferFrom(asset_owner.address, buyer.address, token_id(asset))
    assert registry.contract.balanceOf(asset_owner.address) == 0
    assert registry.contract.balanceOf(buyer.address) == 1


def test_balance_of_counts_only_this_registry(
    protocol: Protocol, registry: Registry, asset: str, asset_owner: Actor
):
    for kind in {"apps", "datasets", "workerpools"} - {registry.kind}:
        assert getattr(protocol, kind).balanceOf(asset_owner.address) == 0


def test_balance_of_zero_address_reverts(registry: Registry):
    with boa.reverts("registry: zero address has no balance"):
        registry.contract.balanceOf(ZERO)
