"""BoundedCapture: the head and tail of a stream, never more than its limit."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nuage.sandbox.capture import BoundedCapture


def test_a_stream_within_the_limit_is_kept_whole():
    capture = BoundedCapture(10)
    for chunk in (b"abc", b"", b"defghij"):
        capture.feed(chunk)
    assert capture.getvalue() == b"abcdefghij"
    assert not capture.truncated and capture.total == 10


def test_a_long_stream_keeps_its_head_and_tail_around_a_marker():
    capture = BoundedCapture(8)
    capture.feed(b"HEAD" + b"-" * 1000)
    capture.feed(b"TAIL")
    assert capture.truncated and capture.total == 1008
    assert capture.getvalue() == b"HEAD\n[nuage: 1000 bytes dropped of 1008]\nTAIL"


def test_a_zero_limit_keeps_only_the_marker():
    capture = BoundedCapture(0)
    capture.feed(b"anything")
    assert capture.getvalue() == b"\n[nuage: 8 bytes dropped of 8]\n"


def test_a_negative_limit_is_refused():
    with pytest.raises(ValueError, match="must not be negative"):
        BoundedCapture(-1)


@given(st.lists(st.binary(max_size=50), max_size=20), st.integers(min_value=0, max_value=64))
def test_kept_bytes_are_the_streams_head_and_tail(chunks, limit):
    capture = BoundedCapture(limit)
    for chunk in chunks:
        capture.feed(chunk)
    stream = b"".join(chunks)
    value = capture.getvalue()
    assert capture.total == len(stream)
    if len(stream) <= limit:
        assert value == stream and not capture.truncated
    else:
        head, tail = limit - limit // 2, limit // 2
        assert capture.truncated
        assert value.startswith(stream[:head])
        assert value.endswith(stream[len(stream) - tail :])
        assert (
            len(value) - len(f"\n[nuage: {len(stream) - limit} bytes dropped of {len(stream)}]\n")
            == limit
        )
