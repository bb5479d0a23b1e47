"""Errors nuage raises on purpose, so that callers can catch them by meaning.

The tree::

    NuageError                  anything nuage refuses or fails to do, with a message for a person
    ├── ConfigError             a setting is missing or invalid
    ├── ChainError              talking to the EVM chain failed
    │   ├── ChainUnreachable    the JSON-RPC endpoint does not answer
    │   ├── WrongChain          the node's chain id is not the deployment's
    │   ├── NotDeployed         no nuage deployment is known or present on this chain
    │   └── ContractRevert      a contract refused a call; ``.reason`` is its revert reason
    ├── InsufficientFunds       an account lacks the ETH (gas) or RLC an action needs
    ├── WalletError             a keystore is missing, unreadable, or its password is wrong
    ├── StorageError            the blob store refused or failed a request
    │                           (nuage.storage: BlobTooLarge, DigestMismatch, InvalidBlobId)
    ├── SandboxError            a sandbox runner is missing or cannot start
    ├── OrderError              an order cannot be used as it is
    │   ├── OrderIncompatible   orders do not match; ``.reasons`` lists every failed check
    │   └── (nuage.market) OrderRefused, UnknownOrder: the order book refused or lacks it
    ├── (nuage.market) MarketError, MarketUnreachable: the order book service failed
    ├── (nuage.scheduler) SchedulerUnreachable, SchedulerRefused: a worker's scheduler
    │                      does not answer or refuses; ApiError: what the scheduler answers
    └── SignatureError          a signature is malformed or not from the expected signer

The CLI prints a ``NuageError`` as a one-line message and exits with status 1; anything else is a
bug and keeps its traceback.
"""

from __future__ import annotations

__all__ = [
    "ChainError",
    "ChainUnreachable",
    "ConfigError",
    "ContractRevert",
    "InsufficientFunds",
    "NotDeployed",
    "NuageError",
    "OrderError",
    "OrderIncompatible",
    "SandboxError",
    "SignatureError",
    "StorageError",
    "WalletError",
    "WrongChain",
]


class NuageError(Exception):
    """Root of every error nuage raises on purpose."""


class ConfigError(NuageError):
    """A setting is missing or invalid."""


class ChainError(NuageError):
    """Talking to the EVM chain failed: node unreachable, transaction dropped, wrong chain."""


class ChainUnreachable(ChainError):
    """The JSON-RPC endpoint does not answer (node down, wrong URL, network cut)."""


class WrongChain(ChainError):
    """The node answers with another chain id than the deployment record names."""


class NotDeployed(ChainError):
    """No nuage deployment is recorded for this chain, or its contracts have no code there."""


class ContractRevert(ChainError):
    """A contract refused a call, with its revert reason (e.g. ``"market: price too high"``)."""

    def __init__(self, reason: str, message: str | None = None) -> None:
        self.reason = reason
        super().__init__(message or f"the contract refused: {reason}")


class InsufficientFunds(NuageError):
    """An account lacks the ETH to pay for gas or the RLC an action needs."""


class WalletError(NuageError):
    """A keystore is missing or unreadable, or its password is wrong."""


class StorageError(NuageError):
    """The blob store refused a request (unknown blob, hash mismatch, too large) or failed."""


class SandboxError(NuageError):
    """A sandbox runner is not available on this machine or cannot start."""


class OrderError(NuageError):
    """An order cannot be used as it is: malformed, unknown asset, consumed or cancelled."""


class OrderIncompatible(OrderError):
    """Orders do not match; ``reasons`` holds every failed check, in the contract's order."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = list(reasons)
        super().__init__("the orders do not match: " + "; ".join(self.reasons))


class SignatureError(NuageError):
    """A signature is malformed, or was not made by the expected signer."""
