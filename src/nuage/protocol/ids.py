"""Identifiers the hub derives: deals and tasks."""

from __future__ import annotations

from eth_utils import keccak

__all__ = ["deal_id", "task_id"]


def deal_id(request_order_hash: bytes, bot_first: int) -> bytes:
    """keccak256(request order hash || request volume consumed before the deal)."""
    return keccak(request_order_hash + bot_first.to_bytes(32, "big"))


def task_id(deal: bytes, index: int) -> bytes:
    """keccak256(deal id || task index); tasks of a deal are bot_first .. bot_first + size - 1."""
    return keccak(deal + index.to_bytes(32, "big"))
