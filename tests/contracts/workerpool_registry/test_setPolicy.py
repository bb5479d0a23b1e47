import boa
import pytest

from tests.contracts.erc721._helpers import events, token_id
from tests.contracts.harness import Actor, Protocol
from tests.contracts.workerpool_registry._helpers import create_pool, set_policy


@pytest.fixture
def pool(protocol: Protocol, pool_owner: Actor) -> str:
    return create_pool(protocol, pool_owner, pool_owner.address, "gpu pool, eu-west")


def test_owner_sets_the_policy(protocol: Protocol, pool_owner: Actor, pool: str):
    set_policy(protocol, pool_owner, pool, 50, 5)
    record = protocol.workerpools.workerpool(pool)
    assert (record.worker_stake_ratio, record.scheduler_reward_ratio) == (50, 5)
    assert protocol.workerpools.workerpoolPolicy(pool) == (pool_owner.address, 50, 5)


def test_policy_update_logs_old_and_new_values(protocol: Protocol, pool_owner: Actor, pool: str):
    with boa.env.prank(pool_owner.address):
        protocol.workerpools.setPolicy(pool, 50, 5)
        [first] = events(protocol.workerpools, "PolicyUpdated")
        protocol.workerpools.setPolicy(pool, 0, 0)
        [second] = events(protocol.workerpools, "PolicyUpdated")
    assert first.workerpool == pool
    assert (first.old_worker_stake_ratio, first.new_worker_stake_ratio) == (30, 50)
    assert (first.old_scheduler_reward_ratio, first.new_scheduler_reward_ratio) == (1, 5)
    assert (second.old_worker_stake_ratio, second.new_worker_stake_ratio) == (50, 0)
    assert (second.old_scheduler_reward_ratio, second.new_scheduler_reward_ratio) == (5, 0)


def test_hundred_percent_is_accepted(protocol: Protocol, pool_owner: Actor, pool: str):
    set_policy(protocol, pool_owner, pool, 100, 100)
    assert protocol.workerpools.workerpoolPolicy(pool) == (pool_owner.address, 100, 100)


@pytest.mark.parametrize("length", [1, 29, 30, 128])
def test_policy_change_does_not_corrupt_the_description(
    protocol: Protocol, pool_owner: Actor, length: int
):
    """The ratios share a storage word with the start of the description."""
    description = "".join(chr(0x41 + i % 26) for i in range(length))
    pool = create_pool(protocol, pool_owner, pool_owner.address, description)
    set_policy(protocol, pool_owner, pool, 100, 0)
    set_policy(protocol, pool_owner, pool, 7, 99)
    record = protocol.workerpools.workerpool(pool)
    assert record.description == description
    assert (record.worker_stake_ratio, record.scheduler_reward_ratio) == (7, 99)


def test_policy_change_leaves_other_pools_alone(protocol: Protocol, pool_owner: Actor, pool: str):
    other = create_pool(protocol, pool_owner, pool_owner.address, "another pool")
    set_policy(protocol, pool_owner, pool, 80, 20)
    assert protocol.workerpools.workerpoolPolicy(other) == (pool_owner.address, 30, 1)


def test_new_owner_may_set_the_policy(
    protocol: Protocol, pool_owner: Actor, requester: Actor, pool: str
):
    with boa.env.prank(pool_owner.address):
        protocol.workerpools.transferFrom(pool_owner.address, requester.address, token_id(pool))
    set_policy(protocol, requester, pool, 60, 2)
    assert protocol.workerpools.workerpoolPolicy(pool) == (requester.address, 60, 2)


def test_stranger_may_not_set_the_policy(protocol: Protocol, attacker: Actor, pool: str):
    root = protocol.state_root()
    with boa.env.prank(attacker.address), boa.reverts("registry: not the owner"):
        protocol.workerpools.setPolicy(pool, 0, 100)
    assert protocol.state_root() == root


def test_operator_may_not_set_the_policy(
    protocol: Protocol, pool_owner: Actor, worker: Actor, pool: str
):
    with boa.env.prank(pool_owner.address):
        protocol.workerpools.setApprovalForAll(worker.address, True)
    root = protocol.state_root()
    with boa.env.prank(worker.address), boa.reverts("registry: not the owner"):
        protocol.workerpools.setPolicy(pool, 0, 100)
    assert protocol.state_root() == root


def test_previous_owner_may_not_set_the_policy(
    protocol: Protocol, pool_owner: Actor, requester: Actor, pool: str
):
    with boa.env.prank(pool_owner.address):
        protocol.workerpools.transferFrom(pool_owner.address, requester.address, token_id(pool))
    root = protocol.state_root()
    with boa.env.prank(pool_owner.address), boa.reverts("registry: not the owner"):
        protocol.workerpools.setPolicy(pool, 0, 100)
    assert protocol.state_root() == root
    assert protocol.workerpools.workerpoolPolicy(pool) == (requester.address, 30, 1)


def test_unknown_workerpool_is_refused(protocol: Protocol, pool_owner: Actor):
    unknown = protocol.workerpools.predictWorkerpool(pool_owner.address, "never created")
    root = protocol.state_root()
    with boa.env.prank(pool_owner.address), boa.reverts("registry: unknown workerpool"):
        protocol.workerpools.setPolicy(unknown, 30, 1)
    assert protocol.state_root() == root


@pytest.mark.parametrize("stake", [101, 256, 2**256 - 1])
def test_stake_ratio_above_100_is_refused(
    protocol: Protocol, pool_owner: Actor, pool: str, stake: int
):
    root = protocol.state_root()
    with boa.env.prank(pool_owner.address), boa.reverts("registry: stake ratio above 100"):
        protocol.workerpools.setPolicy(pool, stake, 1)
    assert protocol.state_root() == root
    assert protocol.workerpools.workerpoolPolicy(pool) == (pool_owner.address, 30, 1)


@pytest.mark.parametrize("reward", [101, 256, 2**256 - 1])
def test_reward_ratio_above_100_is_refused(
    protocol: Protocol, pool_owner: Actor, pool: str, reward: int
):
    root = protocol.state_root()
    with boa.env.prank(pool_owner.address), boa.reverts("registry: reward ratio above 100"):
        protocol.workerpools.setPolicy(pool, 30, reward)
    assert protocol.state_root() == root
    assert protocol.workerpools.workerpoolPolicy(pool) == (pool_owner.address, 30, 1)
