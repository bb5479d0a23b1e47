import boa

from tests.contracts.erc721._helpers import token_id
from tests.contracts.harness import Actor, Protocol
from tests.contracts.workerpool_registry._helpers import create_pool, set_policy


def test_workerpool_record_follows_owner_and_policy(
    protocol: Protocol, pool_owner: Actor, requester: Actor
):
    pool = create_pool(protocol, pool_owner, pool_owner.address, "cpu pool")
    set_policy(protocol, pool_owner, pool, 45, 7)
    with boa.env.prank(pool_owner.address):
        protocol.workerpools.transferFrom(pool_owner.address, requester.address, token_id(pool))
    record = protocol.workerpools.workerpool(pool)
    assert record.owner == requester.address
    assert record.description == "cpu pool"
    assert (record.worker_stake_ratio, record.scheduler_reward_ratio) == (45, 7)


def test_unknown_workerpool_reverts(protocol: Protocol, pool_owner: Actor):
    unknown = protocol.workerpools.predictWorkerpool(pool_owner.address, "never created")
    with boa.reverts("registry: unknown workerpool"):
        protocol.workerpools.workerpool(unknown)


def test_asset_of_another_registry_is_not_a_workerpool(protocol: Protocol, app_owner: Actor):
    app = protocol.new_app(app_owner)
    with boa.reverts("registry: unknown workerpool"):
        protocol.workerpools.workerpool(app)
