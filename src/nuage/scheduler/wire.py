"""How deals travel as JSON: in the scheduler's snapshots and in its answers to workers."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from nuage.protocol.deals import DEAL_ABI_TYPES, Deal

__all__ = ["deal_from_json", "deal_to_json"]


def deal_to_json(deal: Deal) -> dict[str, Any]:
    """A deal record with bytes as 0x-hex, so it fits in JSON."""
    out: dict[str, Any] = {}
    for field, abi_type in zip(fields(deal), DEAL_ABI_TYPES, strict=True):
        value = getattr(deal, field.name)
        out[field.name] = "0x" + value.hex() if abi_type == "bytes32" else value
    return out


def deal_from_json(raw: dict[str, Any]) -> Deal:
    """The deal `deal_to_json` wrote; a KeyError or ValueError when `raw` is not one."""
    values: dict[str, Any] = {}
    for field, abi_type in zip(fields(Deal), DEAL_ABI_TYPES, strict=True):
        value = raw[field.name]
        if abi_type == "bytes32":
            values[field.name] = bytes.fromhex(str(value).removeprefix("0x"))
        elif abi_type == "uint256":
            values[field.name] = int(value)
        else:
            values[field.name] = str(value)
    return Deal(**values)
