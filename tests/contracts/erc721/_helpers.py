"""Helpers shared by the registry tests (ERC-721 core and the three registries)."""

from typing import Any

ZERO = "0x0000000000000000000000000000000000000000"


def token_id(asset: str) -> int:
    """An asset's ERC-721 token id: its address as a number."""
    return int(asset, 16)


def events(called: Any, name: str) -> list[Any]:
    """The `name` events `called` logged during its last call.

    Views count as calls: read the events before any other call on `called`.
    """
    address = str(called.address)
    return [
        log
        for log in called.get_logs()
        if type(log).__name__ == name and str(log.address) == address
    ]
