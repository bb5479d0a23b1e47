"""An in-process broadcaster: what the indexer saw, to every page that follows it live.

Each subscriber gets its own bounded queue; a subscriber too slow to keep up loses the oldest
messages rather than slowing the indexer (a page reads the task again when it reconnects).
Used from one event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

__all__ = ["Broadcaster"]

QUEUE_SIZE = 256


class Broadcaster:
    """Fans messages (name, JSON-able data) out to subscribers."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[tuple[str, dict[str, Any]]]] = set()
        self.closed = asyncio.Event()

    @property
    def subscribers(self) -> int:
        return len(self._queues)

    def publish(self, name: str, data: dict[str, Any]) -> None:
        for queue in self._queues:
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait((name, data))

    def close(self) -> None:
        """Ends every subscription (the service is stopping)."""
        self.closed.set()

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[tuple[str, dict[str, Any]]]]:
        queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue(QUEUE_SIZE)
        self._queues.add(queue)
        try:
            yield queue
        finally:
            self._queues.discard(queue)
