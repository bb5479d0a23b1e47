"""The chain reads the market makes: the fake answers as the contracts do (the same tests)."""

from __future__ import annotations

import dataclasses

from eth_account.signers.local import LocalAccount

from nuage.market.reads import chain_facts, order_owner
from nuage.protocol import ZERO_ADDRESS, DatasetOrder, WorkerpoolPolicy
from tests.market.worlds import World

STRANGER = "0x00000000000000000000000000000000DeaDBeef"


def test_owners_of_assets_and_of_nothing(
    world: World, app_owner: LocalAccount, dataset_owner: LocalAccount, pool_owner: LocalAccount
) -> None:
    app = world.new_app(app_owner)
    dataset = world.new_dataset(dataset_owner)
    pool = world.new_workerpool(pool_owner)

    assert world.reads.asset_owner("app", app) == app_owner.address
    assert world.reads.asset_owner("app", app.lower()) == app_owner.address
    assert world.reads.asset_owner("dataset", dataset) == dataset_owner.address
    assert world.reads.asset_owner("workerpool", pool) == pool_owner.address
    assert world.reads.asset_owner("app", STRANGER) == ZERO_ADDRESS
    assert world.reads.asset_owner("dataset", app) == ZERO_ADDRESS
    assert world.reads.workerpool_policy(pool) == WorkerpoolPolicy(pool_owner.address, 30, 1)
    assert world.reads.workerpool_policy(STRANGER).owner == ZERO_ADDRESS


def test_an_owner_changes_with_a_transfer(
    world: World, app_owner: LocalAccount, attacker: LocalAccount
) -> None:
    app = world.new_app(app_owner)

    world.transfer("app", app, app_owner, attacker.address)

    assert world.reads.asset_owner("app", app) == attacker.address


def test_consumed_and_presigned_orders(world: World, pool_owner: LocalAccount) -> None:
    pool = world.new_workerpool(pool_owner)
    order = dataclasses.replace(world.workerpool_order(pool, pool_owner, volume=7), sign=b"")
    order_hash = order.hash(world.domain)
    assert (world.reads.consumed(order_hash), world.reads.presigned(order_hash)) == (
        0,
        ZERO_ADDRESS,
    )

    world.presign(order, pool_owner)
    world.cancel(order, pool_owner)

    assert world.reads.presigned(order_hash) == pool_owner.address
    assert world.reads.consumed(order_hash) == 7
    assert order_owner(world.reads, order) == pool_owner.address


def test_balances_and_categories(world: World, requester: LocalAccount) -> None:
    before = world.reads.free_balance(requester.address)

    world.deposit(requester, 5)

    assert world.reads.free_balance(requester.address) == before + 5
    assert world.reads.free_balance(STRANGER) == 0
    assert world.reads.category_count() == 5


def test_chain_facts_hold_what_matching_reads(
    world: World, app_owner: LocalAccount, pool_owner: LocalAccount, requester: LocalAccount
) -> None:
    app, pool = world.new_app(app_owner), world.new_workerpool(pool_owner)
    app_order = world.app_order(app, app_owner, volume=2)
    pool_order = dataclasses.replace(world.workerpool_order(pool, pool_owner), sign=b"")
    world.presign(pool_order, pool_owner)
    world.cancel(app_order, app_owner)
    request = dataclasses.replace(world.request_order(app, requester), sign=b"")

    facts = chain_facts(
        world.reads,
        [app_order],
        [DatasetOrder.none()],
        [pool_order],
        [request],
        assume_signed=[request],
    )

    domain = world.domain
    assert facts.app_owners == {app: app_owner.address}
    assert facts.workerpools[pool].owner == pool_owner.address
    assert facts.consumed == {app_order.hash(domain): 2}
    assert facts.presigned == {
        pool_order.hash(domain): pool_owner.address,
        request.hash(domain): requester.address,
    }
    assert set(facts.free_balances) == {requester.address, pool_owner.address}
    assert facts.category_count == 5
