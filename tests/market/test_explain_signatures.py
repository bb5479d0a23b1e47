"""Explain checks each signature once: the verdicts stay those of the orders as signed."""

from __future__ import annotations

import dataclasses
import itertools

from hypothesis import given
from hypothesis import strategies as st

from nuage.market.explain import Offer, _signatures_settled
from nuage.market.reads import chain_facts
from nuage.protocol import DatasetOrder, Order, check_match
from tests.market.worlds import FakeWorld, actor

APP_OWNER, POOL_OWNER, REQUESTER, ATTACKER = (
    actor(role) for role in ("app_owner", "pool_owner", "requester", "attacker")
)
WAYS = ("owner", "attacker", "unsigned", "presigned by owner", "presigned by attacker", "garbage")


def authored(world: FakeWorld, order: Order, owner: object, how: str) -> Order:
    unsigned = dataclasses.replace(order, sign=b"")
    if how == "owner":
        return unsigned.signed(owner.key, world.domain)
    if how == "attacker":
        return unsigned.signed(ATTACKER.key, world.domain)
    if how == "garbage":
        return dataclasses.replace(order, sign=b"\x07" * 65)
    if how.startswith("presigned"):
        signer = owner if how.endswith("owner") else ATTACKER
        world.reads.presigners[unsigned.hash(world.domain)] = signer.address
    return unsigned


@given(
    st.lists(st.sampled_from(WAYS), min_size=1, max_size=3),
    st.lists(st.sampled_from(WAYS), min_size=1, max_size=3),
    st.sampled_from(WAYS),
)
def test_settled_signatures_judge_as_the_signed_orders(
    app_ways: list[str], pool_ways: list[str], request_way: str
) -> None:
    world = FakeWorld()
    app, pool = world.new_app(APP_OWNER), world.new_workerpool(POOL_OWNER)
    apps = [authored(world, world.app_order(app, APP_OWNER), APP_OWNER, how) for how in app_ways]
    pools = [
        authored(world, world.workerpool_order(pool, POOL_OWNER), POOL_OWNER, how)
        for how in pool_ways
    ]
    request = authored(world, world.request_order(app, REQUESTER), REQUESTER, request_way)
    facts = chain_facts(world.reads, apps, [], pools, [request])
    offers = [Offer(o.hash(world.domain), "app", o, 0) for o in apps] + [
        Offer(o.hash(world.domain), "workerpool", o, 0) for o in pools
    ]

    settled, settled_facts = _signatures_settled(offers, request, facts)

    unsigned_request = dataclasses.replace(request, sign=b"")
    none = DatasetOrder.none()
    for app_order, pool_order in itertools.product(apps, pools):
        as_signed = check_match(app_order, none, pool_order, request, facts)
        as_settled = check_match(
            settled[app_order.hash(world.domain)],
            none,
            settled[pool_order.hash(world.domain)],
            unsigned_request,
            settled_facts,
        )
        assert as_settled.reasons == as_signed.reasons
        assert as_settled.deal_id == as_signed.deal_id
