"""Matched deals and funded workers for the hub's PoCo tests.

- `open_deal(trust=..., volume=..., tag=...)` matches a fresh deal between
  `requester`, `app_owner` and `pool_owner` and returns a `MatchedDeal`
  (`.deal_id`, `.record` from `DealCreated`, and the task calls).
- `deal`: a trust-3 deal of one task (two fresh agreeing workers reach
  consensus; with a liar first, three), not yet initialized.
- `workers`: eight funded workers, `worker 0` .. `worker 7`.
"""

from collections.abc import Callable

import pytest

from nuage.protocol.tags import tag as make_tag
from tests.contracts.harness import Actor, Protocol
from tests.contracts.hub_poco._helpers import PRICE, MatchedDeal, funded_workers, with_tag

OpenDeal = Callable[..., MatchedDeal]


@pytest.fixture
def open_deal(
    protocol: Protocol, requester: Actor, app_owner: Actor, pool_owner: Actor
) -> OpenDeal:
    """Matches a deal of `volume` tasks at `trust` (tags by name: "tee", "gpu")."""

    def make(trust: int = 3, volume: int = 1, tags: tuple[str, ...] = ()) -> MatchedDeal:
        orders = protocol.ready_deal(
            requester=requester,
            app_owner=app_owner,
            pool_owner=pool_owner,
            price=PRICE,
            volume=volume,
            trust=trust,
        )
        if tags:
            owners = {"app": app_owner, "workerpool": pool_owner, "request": requester}
            orders = with_tag(protocol, orders, make_tag(*tags), owners)
        deal_id, record = protocol.match_record(orders)
        return MatchedDeal(protocol, deal_id, record, pool_owner)

    return make


@pytest.fixture
def deal(open_deal: OpenDeal) -> MatchedDeal:
    return open_deal(trust=3)


@pytest.fixture
def workers(protocol: Protocol) -> list[Actor]:
    return funded_workers(protocol, 8)
