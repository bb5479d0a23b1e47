import boa

from tests.contracts.erc721._helpers import ZERO, token_id
from tests.contracts.erc721.conftest import Registry
from tests.contracts.harness import Actor


def test_get_approved_is_zero_for_a_new_asset(registry: Registry, asset: str):
    assert registry.contract.getApproved(token_id(asset)) == ZERO


def test_get_approved_returns_the_approved_address(
    registry: Registry, asset: str, asset_owner: Actor, approved: Actor
):
    with boa.env.prank(asset_owner.address):
        registry.contract.approve(approved.address, token_id(asset))
    assert registry.contract.getApproved(token_id(asset)) == approved.address


def test_get_approved_of_unknown_asset_reverts(registry: Registry, asset: str):
    with boa.reverts("registry: unknown asset"):
        registry.contract.getApproved(token_id(asset) ^ 1)
