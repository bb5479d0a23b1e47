"""Errors nuage raises on purpose, so that callers can catch them by meaning.

The tree::

    NuageError                  anything nuage refuses or fails to do, with a message for a person
    ├── ConfigError             a setting is missing or invalid
    ├── ChainError              talking to the EVM chain failed
    │   └── ContractRevert      a contract refused a call; ``.reason`` is its revert reason
    ├── OrderError              an order cannot be used as it is
    │   └── OrderIncompatible   orders do not match; ``.reasons`` lists every failed check
    └── SignatureError          a signature is malformed or not from the expected signer

The CLI prints a ``NuageError`` as a one-line message and exits with status 1; anything else is a
bug and keeps its traceback.
"""

from __future__ import annotations

__all__ = [
    "ChainError",
    "ConfigError",
    "ContractRevert",
    "NuageError",
    "OrderError",
    "OrderIncompatible",
    "SignatureError",
]


class NuageError(Exception):
    """Root of every error nuage raises on purpose."""


class ConfigError(NuageError):
    """A setting is missing or invalid."""


class ChainError(NuageError):
    """Talking to the EVM chain failed: node unreachable, transaction dropped, wrong chain."""


class ContractRevert(ChainError):
    """A contract refused a call, with its revert reason (e.g. ``"market: price too high"``)."""

    def __init__(self, reason: str, message: str | None = None) -> None:
        self.reason = reason
        super().__init__(message or f"the contract refused: {reason}")


class OrderError(NuageError):
    """An order cannot be used as it is: malformed, unknown asset, consumed or cancelled."""


class OrderIncompatible(OrderError):
    """Orders do not match; ``reasons`` holds every failed check, in the contract's order."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = list(reasons)
        super().__init__("the orders do not match: " + "; ".join(self.reasons))


class SignatureError(NuageError):
    """A signature is malformed, or was not made by the expected signer."""
