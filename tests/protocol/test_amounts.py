"""RLC amounts: what people type, what the contracts count."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nuage.protocol.amounts import NRLC_PER_RLC, format_rlc, parse_rlc


@pytest.mark.parametrize(
    ("text", "nrlc"),
    [
        ("10", 10 * NRLC_PER_RLC),
        ("0.5", NRLC_PER_RLC // 2),
        ("1_000", 1_000 * NRLC_PER_RLC),
        ("0.000000001", 1),
        ("500nRLC", 500),
        ("500 nrlc", 500),
        ("2 RLC", 2 * NRLC_PER_RLC),
        ("0", 0),
    ],
)
def test_parse_rlc_reads_rlc_and_nrlc(text: str, nrlc: int) -> None:
    assert parse_rlc(text) == nrlc


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("abc", "not an amount"),
        ("-1", "positive"),
        ("0.0000000001", "9 decimals"),
        ("1.5nRLC", "9 decimals"),
        ("nan", "positive"),
        ("", "not an amount"),
    ],
)
def test_parse_rlc_refuses_what_is_not_an_amount(text: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        parse_rlc(text)


@pytest.mark.parametrize(
    ("nrlc", "text"), [(0, "0"), (1_500_000_000, "1.5"), (1, "0.000000001"), (-2 * 10**9, "-2")]
)
def test_format_rlc_drops_trailing_zeros(nrlc: int, text: str) -> None:
    assert format_rlc(nrlc) == text


@given(st.integers(min_value=0, max_value=10**30))
def test_format_then_parse_is_exact(nrlc: int) -> None:
    assert parse_rlc(format_rlc(nrlc)) == nrlc
