"""Reading events out of the last call."""

from typing import Any


def events(called: Any, name: str, emitter: Any = None) -> list[Any]:
    """The `name` events that `emitter` (default: `called`) logged during `called`'s last call.

    Views count as calls: read the events before any other call on `called`.
    """
    address = str((emitter or called).address)
    return [
        log
        for log in called.get_logs()
        if type(log).__name__ == name and str(log.address) == address
    ]
