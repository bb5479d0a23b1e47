import boa

from tests.contracts.erc721._helpers import ZERO, token_id
from tests.contracts.harness import Actor, Protocol
from tests.contracts.workerpool_registry._helpers import create_pool, set_policy


def test_unknown_workerpool_has_a_zero_owner(protocol: Protocol, pool_owner: Actor):
    unknown = protocol.workerpools.predictWorkerpool(pool_owner.address, "never created")
    owner, _, _ = protocol.workerpools.workerpoolPolicy(unknown)
    assert owner == ZERO


def test_policy_of_a_new_pool_is_the_default(protocol: Protocol, pool_owner: Actor):
    pool = create_pool(protocol, pool_owner, pool_owner.address, "cpu pool")
    assert protocol.workerpools.workerpoolPolicy(pool) == (pool_owner.address, 30, 1)


def test_policy_follows_set_policy_and_transfers(
    protocol: Protocol, pool_owner: Actor, requester: Actor
):
    pool = create_pool(protocol, pool_owner, pool_owner.address, "cpu pool")
    set_policy(protocol, pool_owner, pool, 0, 100)
    assert protocol.workerpools.workerpoolPolicy(pool) == (pool_owner.address, 0, 100)
    with boa.env.prank(pool_owner.address):
        protocol.workerpools.transferFrom(pool_owner.address, requester.address, token_id(pool))
    assert protocol.workerpools.workerpoolPolicy(pool) == (requester.address, 0, 100)
