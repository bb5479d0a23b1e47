"""HTTP ``Range`` headers (RFC 9110 §14): one byte range of a blob of known size.

Only single ranges are served. A header that is not a single well-formed byte range is ignored
(the whole blob is sent, as the RFC allows); a well-formed range that lies outside the blob is
refused with 416.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ByteRange", "RangeNotSatisfiable", "parse_byte_range"]

_SINGLE_RANGE = re.compile(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", re.IGNORECASE)


class RangeNotSatisfiable(Exception):
    """A well-formed range that selects no byte of the blob."""

    def __init__(self, header: str, size: int) -> None:
        self.header = header
        self.size = size
        super().__init__(f"the range {header!r} selects no byte of a {size}-byte blob")


@dataclass(frozen=True)
class ByteRange:
    """Bytes ``first`` to ``last`` inclusive, as HTTP counts them."""

    first: int
    last: int

    @property
    def length(self) -> int:
        """How many bytes the range holds."""
        return self.last - self.first + 1

    def content_range(self, size: int) -> str:
        """The ``Content-Range`` header value for this range of a ``size``-byte blob."""
        return f"bytes {self.first}-{self.last}/{size}"


def parse_byte_range(header: str, size: int) -> ByteRange | None:
    """The range ``header`` selects in a ``size``-byte blob, or None to send the whole blob.

    ``bytes=a-b`` (``b`` clamped to the end), ``bytes=a-`` and ``bytes=-n`` (the last ``n``
    bytes) are understood; raises :class:`RangeNotSatisfiable` when the range starts past the
    end, asks for zero bytes from the end, or the blob is empty.
    """
    match = _SINGLE_RANGE.fullmatch(header)
    if match is None:
        return None  # another unit, several ranges, or garbage: ignored
    first_text, last_text = match.groups()
    if not first_text and not last_text:
        return None
    if not first_text:  # a suffix: the last n bytes
        suffix_length = int(last_text)
        if suffix_length == 0 or size == 0:
            raise RangeNotSatisfiable(header, size)
        return ByteRange(max(size - suffix_length, 0), size - 1)
    first = int(first_text)
    if last_text and int(last_text) < first:
        return None  # invalid, so ignored
    if first >= size:
        raise RangeNotSatisfiable(header, size)
    last = min(int(last_text), size - 1) if last_text else size - 1
    return ByteRange(first, last)
