"""parse_byte_range: the single byte ranges of RFC 9110, and what it ignores or refuses."""

import pytest

from nuage.storage.ranges import ByteRange, RangeNotSatisfiable, parse_byte_range

SIZE = 100


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-9", ByteRange(0, 9)),
        ("bytes=10-10", ByteRange(10, 10)),
        ("bytes=90-", ByteRange(90, 99)),
        ("bytes=0-", ByteRange(0, 99)),
        ("bytes=95-500", ByteRange(95, 99)),  # the end is clamped
        ("bytes=-10", ByteRange(90, 99)),
        ("bytes=-500", ByteRange(0, 99)),  # a suffix longer than the blob is all of it
        ("Bytes = 5 - 6", ByteRange(5, 6)),
    ],
)
def test_a_single_range_selects_those_bytes(header: str, expected: ByteRange) -> None:
    assert parse_byte_range(header, SIZE) == expected


@pytest.mark.parametrize(
    "header",
    ["", "bytes=", "bytes=-", "bytes=9-2", "items=0-9", "bytes=0-1,5-6", "bytes=a-b", "0-9"],
)
def test_a_header_that_is_not_one_valid_byte_range_is_ignored(header: str) -> None:
    assert parse_byte_range(header, SIZE) is None


@pytest.mark.parametrize(
    ("header", "size"),
    [
        ("bytes=100-", 100),
        ("bytes=100-200", 100),
        ("bytes=-0", 100),
        ("bytes=0-", 0),
        ("bytes=-5", 0),
    ],
)
def test_a_range_that_selects_no_byte_is_not_satisfiable(header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_byte_range(header, size)


def test_content_range_names_the_range_and_the_whole_size() -> None:
    byte_range = ByteRange(10, 19)

    assert byte_range.length == 10
    assert byte_range.content_range(SIZE) == "bytes 10-19/100"
