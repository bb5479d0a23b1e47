import boa
from hypothesis import given
from hypothesis import strategies as st

from tests.contracts.erc721._helpers import ZERO, events, token_id
from tests.contracts.harness import Actor, Protocol
from tests.contracts.workerpool_registry._helpers import (
    DEFAULT_REWARD_RATIO,
    DEFAULT_STAKE_RATIO,
    create_pool,
)

DESCRIPTION = "gpu pool, eu-west"


def test_create_returns_the_predicted_address(protocol: Protocol, pool_owner: Actor):
    predicted = protocol.workerpools.predictWorkerpool(pool_owner.address, DESCRIPTION)
    assert create_pool(protocol, pool_owner, pool_owner.address, DESCRIPTION) == predicted


def test_created_pool_has_the_default_policy(protocol: Protocol, pool_owner: Actor):
    pool = create_pool(protocol, pool_owner, pool_owner.address, DESCRIPTION)
    record = protocol.workerpools.workerpool(pool)
    assert record.owner == pool_owner.address
    assert record.description == DESCRIPTION
    assert record.worker_stake_ratio == DEFAULT_STAKE_RATIO == 30
    assert record.scheduler_reward_ratio == DEFAULT_REWARD_RATIO == 1
    assert protocol.workerpools.workerpoolPolicy(pool) == (pool_owner.address, 30, 1)


def test_longest_description_round_trips(protocol: Protocol, pool_owner: Actor):
    description = "".join(chr(0x21 + i % 94) for i in range(128))
    pool = create_pool(protocol, pool_owner, pool_owner.address, description)
    assert protocol.workerpools.workerpool(pool).description == description


def test_create_mints_the_token_to_the_owner(protocol: Protocol, pool_owner: Actor):
    with boa.env.prank(pool_owner.address):
        pool = str(protocol.workerpools.createWorkerpool(pool_owner.address, DESCRIPTION))
    [mint] = events(protocol.workerpools, "Transfer")
    assert (mint.sender, mint.receiver, mint.token_id) == (ZERO, pool_owner.address, token_id(pool))
    assert protocol.workerpools.ownerOf(token_id(pool)) == pool_owner.address
    assert protocol.workerpools.balanceOf(pool_owner.address) == 1


def test_anyone_may_create_a_pool_for_its_owner(
    protocol: Protocol, deployer: Actor, pool_owner: Actor
):
    pool = create_pool(protocol, deployer, pool_owner.address, DESCRIPTION)
    assert protocol.workerpools.assetOwner(pool) == pool_owner.address
    assert protocol.workerpools.balanceOf(deployer.address) == 0
    with boa.env.prank(deployer.address), boa.reverts("registry: not the owner"):
        protocol.workerpools.setPolicy(pool, 0, 0)


def test_same_description_for_another_owner_is_another_pool(
    protocol: Protocol, pool_owner: Actor, attacker: Actor
):
    mine = create_pool(protocol, pool_owner, pool_owner.address, DESCRIPTION)
    theirs = create_pool(protocol, attacker, attacker.address, DESCRIPTION)
    assert mine != theirs
    assert protocol.workerpools.assetOwner(theirs) == attacker.address


def test_empty_description_is_refused(protocol: Protocol, pool_owner: Actor):
    root = protocol.state_root()
    with boa.env.prank(pool_owner.address), boa.reverts("registry: empty description"):
        protocol.workerpools.createWorkerpool(pool_owner.address, "")
    assert protocol.state_root() == root


def test_zero_owner_is_refused(protocol: Protocol, pool_owner: Actor):
    root = protocol.state_root()
    with boa.env.prank(pool_owner.address), boa.reverts("registry: owner is zero address"):
        protocol.workerpools.createWorkerpool(ZERO, DESCRIPTION)
    assert protocol.state_root() == root


def test_same_pool_twice_is_refused(protocol: Protocol, pool_owner: Actor, attacker: Actor):
    pool = create_pool(protocol, pool_owner, pool_owner.address, DESCRIPTION)
    root = protocol.state_root()
    with boa.env.prank(attacker.address), boa.reverts("registry: workerpool exists"):
        protocol.workerpools.createWorkerpool(pool_owner.address, DESCRIPTION)
    assert protocol.state_root() == root
    assert protocol.workerpools.assetOwner(pool) == pool_owner.address
    assert protocol.workerpools.balanceOf(pool_owner.address) == 1


PRINTABLE = "".join(map(chr, range(0x20, 0x7F)))  # printable ASCII


@given(description=st.text(alphabet=PRINTABLE, min_size=1, max_size=128))
def test_any_description_reads_back_exactly(protocol: Protocol, description: str):
    owner = Actor.named("pool_owner")
    with boa.env.anchor():
        predicted = protocol.workerpools.predictWorkerpool(owner.address, description)
        pool = create_pool(protocol, owner, owner.address, description)
        assert pool == predicted
        record = protocol.workerpools.workerpool(pool)
        assert (record.owner, record.description) == (owner.address, description)
        assert (record.worker_stake_ratio, record.scheduler_reward_ratio) == (30, 1)
