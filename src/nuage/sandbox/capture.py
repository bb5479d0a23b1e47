"""Bounded capture of an app's stdout or stderr.

An app may write gigabytes to its standard streams; the worker keeps at most ``limit`` bytes of
each in memory however much arrives: the first half and the last half (where a traceback
usually is), joined by a marker saying how much was dropped in between. Everything is read and
counted, so the app never blocks on a full pipe.
"""

from __future__ import annotations

__all__ = ["BoundedCapture"]


class BoundedCapture:
    """Keeps the head and the tail of a byte stream, at most ``limit`` bytes in all."""

    def __init__(self, limit: int) -> None:
        if limit < 0:
            raise ValueError("capture: the limit must not be negative")
        self._head_limit = limit - limit // 2
        self._tail_limit = limit // 2
        self._head = bytearray()
        self._tail = bytearray()
        self.total = 0

    def feed(self, chunk: bytes) -> None:
        """Take the next bytes of the stream."""
        self.total += len(chunk)
        room = self._head_limit - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        if chunk and self._tail_limit:
            self._tail += chunk[-self._tail_limit :]
            excess = len(self._tail) - self._tail_limit
            if excess > 0:
                del self._tail[:excess]

    @property
    def truncated(self) -> bool:
        """Whether some of the stream was dropped."""
        return self.total > len(self._head) + len(self._tail)

    def getvalue(self) -> bytes:
        """What was kept; when bytes were dropped, a marker in their place says how many."""
        if not self.truncated:
            return bytes(self._head + self._tail)
        dropped = self.total - len(self._head) - len(self._tail)
        marker = f"\n[nuage: {dropped} bytes dropped of {self.total}]\n".encode()
        return bytes(self._head) + marker + bytes(self._tail)
