"""Registering workerpools and changing their policy."""

import boa

from tests.contracts.harness import Actor, Protocol

DEFAULT_STAKE_RATIO = 30
DEFAULT_REWARD_RATIO = 1


def create_pool(protocol: Protocol, caller: Actor, owner: str, description: str) -> str:
    with boa.env.prank(caller.address):
        return str(protocol.workerpools.createWorkerpool(owner, description))


def set_policy(protocol: Protocol, caller: Actor, pool: str, stake: int, reward: int) -> None:
    with boa.env.prank(caller.address):
        protocol.workerpools.setPolicy(pool, stake, reward)
