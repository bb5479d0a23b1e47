"""A deal as the market makes it and the hub settles it.

The hub keeps one word per deal: keccak256 of the deal record's ABI encoding
(`Deal.commitment`). The record itself is in the market's `DealCreated`
event; every hub function that acts on a deal takes the record and checks it
against that word. Field order and types are `contracts/modules/deal.vy`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address

from nuage.protocol.ids import task_id

__all__ = ["DEAL_ABI_TYPES", "Deal"]

DEAL_ABI_TYPES = (
    "address",  # app
    "address",  # app_owner
    "uint256",  # app_price
    "address",  # dataset
    "address",  # dataset_owner
    "uint256",  # dataset_price
    "address",  # workerpool
    "address",  # workerpool_owner
    "uint256",  # workerpool_price
    "uint256",  # trust
    "uint256",  # category
    "uint256",  # time_ref
    "bytes32",  # tag
    "address",  # requester
    "address",  # beneficiary
    "address",  # callback
    "bytes32",  # params_hash
    "uint256",  # start_time
    "uint256",  # bot_first
    "uint256",  # bot_size
    "uint256",  # worker_stake
    "uint256",  # scheduler_reward_ratio
)


@dataclass(frozen=True)
class Deal:
    """A deal record (`DealCreated.deal`); `params` travel beside it in the event."""

    app: str
    app_owner: str
    app_price: int
    dataset: str
    dataset_owner: str
    dataset_price: int
    workerpool: str
    workerpool_owner: str
    workerpool_price: int
    trust: int
    category: int
    time_ref: int
    tag: bytes
    requester: str
    beneficiary: str
    callback: str
    params_hash: bytes
    start_time: int
    bot_first: int
    bot_size: int
    worker_stake: int
    scheduler_reward_ratio: int

    def __post_init__(self) -> None:
        for field, abi_type in zip(fields(self), DEAL_ABI_TYPES, strict=True):
            value = getattr(self, field.name)
            if abi_type == "address":
                object.__setattr__(self, field.name, to_checksum_address(value))
            elif abi_type == "bytes32":
                object.__setattr__(self, field.name, bytes(value))

    @classmethod
    def from_tuple(cls, values: Any) -> Deal:
        """From the ABI tuple (an event's decoded `deal`, or a contract call's)."""
        if isinstance(values, Mapping):
            return cls(**values)
        return cls(*values)

    def as_tuple(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f.name) for f in fields(self))

    def commitment(self) -> bytes:
        """What the hub stores for this deal: keccak256(abi.encode(deal))."""
        return keccak(abi_encode(["(" + ",".join(DEAL_ABI_TYPES) + ")"], [self.as_tuple()]))

    @property
    def final_deadline(self) -> int:
        return self.start_time + 10 * self.time_ref

    def task_ids(self, deal_id: bytes) -> list[bytes]:
        """The ids of the deal's tasks, in index order."""
        return [task_id(deal_id, i) for i in range(self.bot_first, self.bot_first + self.bot_size)]

    def task_price(self) -> int:
        return self.app_price + self.dataset_price + self.workerpool_price
