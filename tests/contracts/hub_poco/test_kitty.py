"""The kitty: pool stakes seized from failed tasks, paid out as schedulers' bonuses.

It grows by the pool stake on each claim and shrinks by `rewards.kitty_bonus`
(10% of it, at least 1 RLC, at most all of it) on each completed task.
"""

import boa
import pytest

from nuage.protocol.rewards import kitty_bonus, pool_stake
from tests.contracts.hub_poco._helpers import FINAL_DELAY, events
from tests.contracts.hub_poco._settle_helpers import (
    Ledger,
    claim,
    contributor,
    expected_settlement,
    fill_kitty,
    finalize,
    finalize_moves,
    hub_holds_all_money,
    open_settled_deal,
    revealed_task,
)

RLC = 10**9


def test_kitty_starts_empty(protocol):
    assert protocol.hub.kitty() == 0


def test_each_claim_adds_the_pool_stake(protocol, requester, app_owner, pool_owner):
    deals = [
        open_settled_deal(
            protocol,
            requester=requester,
            app_owner=app_owner,
            pool_owner=pool_owner,
            price=price,
        )
        for price in (2 * RLC, 5 * RLC)
    ]
    boa.env.time_travel(seconds=FINAL_DELAY)

    claim(deals[0])
    [first] = events(protocol.hub, "KittyChanged")
    claim(deals[1])
    [second] = events(protocol.hub, "KittyChanged")

    assert (first.old_kitty, first.new_kitty) == (0, pool_stake(2 * RLC))
    assert (second.old_kitty, second.new_kitty) == (
        pool_stake(2 * RLC),
        pool_stake(2 * RLC) + pool_stake(5 * RLC),
    )
    assert protocol.hub.kitty() == pool_stake(2 * RLC) + pool_stake(5 * RLC)
    addresses = [requester.address, app_owner.address, pool_owner.address]
    assert hub_holds_all_money(protocol, addresses)


@pytest.mark.parametrize(
    ("failed_price", "bonus"),
    [
        (100 * RLC, 3 * RLC),  # 10% of a 30 RLC kitty
        (10 * RLC, RLC),  # 10% of 3 RLC is below the 1 RLC floor
        (RLC, 3 * RLC // 10),  # a kitty under 1 RLC is paid out whole
    ],
)
def test_completion_pays_the_scheduler_a_bonus_out_of_the_kitty(
    protocol, requester, app_owner, pool_owner, workers, failed_price, bonus
):
    kitty = fill_kitty(protocol, requester, app_owner, pool_owner, failed_price)
    deal = open_settled_deal(
        protocol, requester=requester, app_owner=app_owner, pool_owner=pool_owner
    )
    winners = workers[:2]
    revealed_task(deal, winners)
    expected = expected_settlement(deal, [contributor(protocol, w, won=True) for w in winners], [])
    addresses = [requester.address, app_owner.address, pool_owner.address]
    addresses += [w.address for w in workers]
    ledger = Ledger.of(protocol, addresses)

    finalize(deal, winners)

    [changed] = events(protocol.hub, "KittyChanged")
    assert kitty_bonus(kitty) == expected.kitty_bonus == bonus
    assert (changed.old_kitty, changed.new_kitty, changed.ref) == (
        kitty,
        kitty - bonus,
        deal.task_id(),
    )
    assert protocol.hub.kitty() == kitty - bonus
    assert ledger.moves() == finalize_moves(deal.record, expected)
    assert hub_holds_all_money(protocol, addresses)


def test_completion_with_an_empty_kitty_pays_no_bonus(
    protocol, requester, app_owner, pool_owner, workers
):
    deal = open_settled_deal(
        protocol, requester=requester, app_owner=app_owner, pool_owner=pool_owner
    )
    revealed_task(deal, workers[:2])

    finalize(deal, workers[:2])

    assert events(protocol.hub, "KittyChanged") == []
    assert protocol.hub.kitty() == 0
