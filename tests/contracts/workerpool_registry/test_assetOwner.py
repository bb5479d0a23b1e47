import boa

from tests.contracts.erc721._helpers import ZERO, token_id
from tests.contracts.harness import Actor, Protocol
from tests.contracts.workerpool_registry._helpers import create_pool


def test_asset_owner_is_zero_for_an_unknown_pool(protocol: Protocol, pool_owner: Actor):
    unknown = protocol.workerpools.predictWorkerpool(pool_owner.address, "never created")
    assert protocol.workerpools.assetOwner(unknown) == ZERO


def test_asset_owner_follows_transfers(protocol: Protocol, pool_owner: Actor, requester: Actor):
    pool = create_pool(protocol, pool_owner, pool_owner.address, "cpu pool")
    assert protocol.workerpools.assetOwner(pool) == pool_owner.address
    with boa.env.prank(pool_owner.address):
        protocol.workerpools.transferFrom(pool_owner.address, requester.address, token_id(pool))
    assert protocol.workerpools.assetOwner(pool) == requester.address


def test_asset_owner_ignores_other_registries(protocol: Protocol, app_owner: Actor):
    app = protocol.new_app(app_owner)
    assert protocol.workerpools.assetOwner(app) == ZERO
