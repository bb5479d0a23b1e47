import dataclasses

import boa

from nuage.protocol import Operation


def test_unknown_order_reads_zero(protocol):
    assert protocol.market.viewConsumed(b"\x42" * 32) == 0


def test_match_consumes_the_deal_volume_of_every_order(
    protocol, requester, app_owner, dataset_owner, pool_owner
):
    deal = protocol.ready_deal(
        requester=requester,
        app_owner=app_owner,
        dataset_owner=dataset_owner,
        pool_owner=pool_owner,
        volume=3,
    )
    orders = [deal.app, deal.dataset, deal.workerpool, deal.request]
    assert [protocol.market.viewConsumed(o.hash(protocol.domain)) for o in orders] == [0, 0, 0, 0]

    protocol.match(deal)

    assert [protocol.market.viewConsumed(o.hash(protocol.domain)) for o in orders] == [3, 3, 3, 3]


def test_consumption_adds_up_over_deals(protocol, requester, app_owner, pool_owner):
    deal = protocol.ready_deal(
        requester=requester, app_owner=app_owner, pool_owner=pool_owner, volume=5
    )
    small_requests = [
        dataclasses.replace(deal.request, volume=2, salt=bytes([i]) * 32).signed(
            requester.key, protocol.domain
        )
        for i in (1, 2)
    ]
    app_hash = deal.app.hash(protocol.domain)

    protocol.match(dataclasses.replace(deal, request=small_requests[0]))
    assert protocol.market.viewConsumed(app_hash) == 2

    protocol.match(dataclasses.replace(deal, request=small_requests[1]))
    assert protocol.market.viewConsumed(app_hash) == 4
    assert [protocol.market.viewConsumed(r.hash(protocol.domain)) for r in small_requests] == [2, 2]


def test_cancel_reads_as_full_volume_even_when_partly_consumed(
    protocol, requester, app_owner, pool_owner
):
    deal = protocol.ready_deal(
        requester=requester, app_owner=app_owner, pool_owner=pool_owner, volume=5
    )
    small_request = dataclasses.replace(deal.request, volume=2).signed(
        requester.key, protocol.domain
    )
    protocol.match(dataclasses.replace(deal, request=small_request))

    with boa.env.prank(app_owner.address):
        protocol.market.manageAppOrder(deal.app.as_tuple(), Operation.CLOSE, b"")

    assert protocol.market.viewConsumed(deal.app.hash(protocol.domain)) == 5
