"""How the book stores big numbers for SQL, and how explain walks combinations: properties."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from nuage.market.explain import Offer, _by_total_price
from nuage.market.tables import INT64_MAX, clamp, price_key, tag_parts
from nuage.protocol import AppOrder

uint256 = st.integers(min_value=0, max_value=2**256 - 1)


@given(uint256, uint256)
def test_price_keys_sort_as_the_prices(a: int, b: int) -> None:
    assert (price_key(a) < price_key(b)) == (a < b)
    assert int(price_key(a)) == a


@given(uint256, uint256)
def test_tag_parts_test_every_bit_as_the_whole_tag(offered: int, asked: int) -> None:
    whole = offered & asked == asked
    parts = all((o & a) == a for o, a in zip(tag_parts(offered), tag_parts(asked), strict=True))
    assert whole == parts
    assert all(-INT64_MAX - 1 <= part <= INT64_MAX for part in tag_parts(offered))
    unsigned = [part % 2**64 for part in tag_parts(offered)]
    assert sum(part << (64 * i) for i, part in enumerate(unsigned)) == offered


@given(st.integers(min_value=-(2**300), max_value=2**300))
def test_clamp_keeps_order_within_a_bigint(value: int) -> None:
    clamped = clamp(value)
    assert -INT64_MAX - 1 <= clamped <= INT64_MAX
    assert clamped == value or abs(value) > INT64_MAX


def _offers(kind: str, prices: list[int]) -> list[Offer]:
    app = "0x" + "11" * 20
    return [
        Offer(bytes([len(kind), i]) * 16, kind, AppOrder(app=app, appprice=p), p)
        for i, p in enumerate(prices)
    ]


prices = st.lists(st.integers(min_value=0, max_value=100), min_size=1, max_size=5)


@given(prices, prices, prices)
def test_combinations_come_each_once_by_increasing_total(
    a: list[int], b: list[int], c: list[int]
) -> None:
    usable = {
        "app": _offers("app", a),
        "dataset": _offers("dataset", b),
        "workerpool": _offers("workerpool", c),
    }

    walked = list(_by_total_price(usable))

    totals = [sum(offer.price for offer in pick.values()) for pick in walked]
    assert totals == sorted(totals)
    keys = [tuple(offer.hash for offer in pick.values()) for pick in walked]
    assert len(keys) == len(set(keys)) == len(a) * len(b) * len(c)
    everything = itertools.product(*(usable[k] for k in ("app", "dataset", "workerpool")))
    assert set(keys) == {tuple(offer.hash for offer in combination) for combination in everything}
