import dataclasses

import boa

from nuage.protocol import ZERO_ADDRESS, AppOrder, Operation


def test_unknown_order_reads_zero(protocol):
    assert protocol.market.viewPresigned(b"\x42" * 32) == ZERO_ADDRESS


def test_presigned_order_reads_its_owner(protocol, app_owner):
    order = AppOrder(app=protocol.new_app(app_owner), salt=b"\x01" * 32)

    with boa.env.prank(app_owner.address):
        protocol.market.manageAppOrder(order.as_tuple(), Operation.SIGN, b"")

    assert protocol.market.viewPresigned(order.hash(protocol.domain)) == app_owner.address


def test_presign_covers_that_order_only(protocol, app_owner):
    order = AppOrder(app=protocol.new_app(app_owner), salt=b"\x01" * 32)
    with boa.env.prank(app_owner.address):
        protocol.market.manageAppOrder(order.as_tuple(), Operation.SIGN, b"")

    other = dataclasses.replace(order, salt=b"\x02" * 32)
    assert protocol.market.viewPresigned(other.hash(protocol.domain)) == ZERO_ADDRESS


def test_cancel_does_not_presign(protocol, app_owner):
    order = AppOrder(app=protocol.new_app(app_owner), salt=b"\x01" * 32)

    with boa.env.prank(app_owner.address):
        protocol.market.manageAppOrder(order.as_tuple(), Operation.CLOSE, b"")

    assert protocol.market.viewPresigned(order.hash(protocol.domain)) == ZERO_ADDRESS


def test_matching_signed_orders_presigns_nothing(protocol, requester, app_owner, pool_owner):
    deal = protocol.ready_deal(requester=requester, app_owner=app_owner, pool_owner=pool_owner)

    protocol.match(deal)

    for order in (deal.app, deal.workerpool, deal.request):
        assert protocol.market.viewPresigned(order.hash(protocol.domain)) == ZERO_ADDRESS
