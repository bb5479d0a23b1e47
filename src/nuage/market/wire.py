"""What travels between the market and its clients: orders as JSON, and unpublish messages.

An order travels as a JSON object of its EIP-712 fields (addresses as hex, bytes32 as
``0x``-prefixed hex, integers as JSON numbers or decimal strings) plus ``sign``, the owner's
signature in hex (``"0x"`` for an order presigned on chain)::

    {"app": "0x…", "appprice": 1000000000, "volume": 10, "tag": "0x00…00", …, "sign": "0x…"}

Unpublishing is signed by the order's owner as EIP-712 typed data in the market's domain, so a
wallet shows what it signs and the contract would never take it for an order::

    Unpublish(bytes32 order,uint256 timestamp)        one order
    UnpublishAll(address owner,uint256 timestamp)     every order of an owner

``timestamp`` is Unix time in milliseconds; the market accepts a message only when it is close
to its own clock and later than the last one it accepted from that owner, so a message cannot
be replayed.
"""

from __future__ import annotations

import time
from enum import StrEnum
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from nuage.exceptions import OrderError
from nuage.protocol.eip712 import Domain, Types, digest, hash_struct, sign_digest
from nuage.protocol.orders import (
    MAX_PARAMS,
    ZERO_ADDRESS,
    AppOrder,
    DatasetOrder,
    Order,
    RequestOrder,
    WorkerpoolOrder,
)

__all__ = [
    "BODY_TYPES",
    "KINDS",
    "ORDER_TYPES",
    "AppOrderBody",
    "DatasetOrderBody",
    "OrderKind",
    "RequestOrderBody",
    "Status",
    "UnpublishBody",
    "WorkerpoolOrderBody",
    "kind_of",
    "now_ms",
    "order_from_json",
    "order_to_json",
    "sign_unpublish",
    "sign_unpublish_all",
    "unpublish_all_digest",
    "unpublish_digest",
]

OrderKind = Literal["app", "dataset", "workerpool", "request"]
KINDS: tuple[OrderKind, ...] = get_args(OrderKind)
ORDER_TYPES: dict[OrderKind, type[Order]] = {
    "app": AppOrder,
    "dataset": DatasetOrder,
    "workerpool": WorkerpoolOrder,
    "request": RequestOrder,
}


class Status(StrEnum):
    """Where an order stands. Only OPEN orders are in the book."""

    OPEN = "open"
    FILLED = "filled"  # deals used all its volume
    CANCELLED = "cancelled"  # closed on chain by its owner
    UNPUBLISHED = "unpublished"  # its owner took it out of the book
    OWNER_CHANGED = "owner_changed"  # its asset changed hands: the signer owns it no more


_ZERO_TAG = "0x" + "00" * 32

Address = Annotated[
    str,
    StringConstraints(pattern=r"^0x[0-9a-fA-F]{40}$"),
    Field(examples=["0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"]),
]
Bytes32 = Annotated[
    str,
    StringConstraints(pattern=r"^0x[0-9a-fA-F]{64}$"),
    Field(examples=[_ZERO_TAG]),
]
Uint256 = Annotated[
    int, Field(ge=0, lt=2**256, description="An integer (JSON number or decimal string).")
]
Signature = Annotated[
    str,
    StringConstraints(pattern=r"^(0x)?([0-9a-fA-F]{2}){0,65}$"),
    Field(
        description="The owner's secp256k1 signature over the order's EIP-712 digest, hex "
        "(65 or 64 bytes); empty (`0x`) for an order presigned on chain."
    ),
]


class _OrderBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sign: Signature = "0x"


class AppOrderBody(_OrderBody):
    """An app owner's offer: runs of `app` at `appprice` nRLC each."""

    app: Address
    appprice: Uint256 = 0
    volume: Uint256 = 1
    tag: Bytes32 = _ZERO_TAG
    datasetrestrict: Address = ZERO_ADDRESS
    workerpoolrestrict: Address = ZERO_ADDRESS
    requesterrestrict: Address = ZERO_ADDRESS
    salt: Bytes32 = _ZERO_TAG


class DatasetOrderBody(_OrderBody):
    """A dataset owner's offer: uses of `dataset` at `datasetprice` nRLC each."""

    dataset: Address
    datasetprice: Uint256 = 0
    volume: Uint256 = 1
    tag: Bytes32 = _ZERO_TAG
    apprestrict: Address = ZERO_ADDRESS
    workerpoolrestrict: Address = ZERO_ADDRESS
    requesterrestrict: Address = ZERO_ADDRESS
    salt: Bytes32 = _ZERO_TAG


class WorkerpoolOrderBody(_OrderBody):
    """A pool owner's offer: `volume` tasks of `category` at `workerpoolprice` nRLC each."""

    workerpool: Address
    workerpoolprice: Uint256 = 0
    volume: Uint256 = 1
    tag: Bytes32 = _ZERO_TAG
    category: Uint256 = 0
    trust: Uint256 = 0
    apprestrict: Address = ZERO_ADDRESS
    datasetrestrict: Address = ZERO_ADDRESS
    requesterrestrict: Address = ZERO_ADDRESS
    salt: Bytes32 = _ZERO_TAG


class RequestOrderBody(_OrderBody):
    """A requester's demand: `volume` runs of `app` (with `params`), at most these prices."""

    app: Address
    requester: Address
    appmaxprice: Uint256 = 0
    dataset: Address = ZERO_ADDRESS
    datasetmaxprice: Uint256 = 0
    workerpool: Address = ZERO_ADDRESS
    workerpoolmaxprice: Uint256 = 0
    volume: Uint256 = 1
    tag: Bytes32 = _ZERO_TAG
    category: Uint256 = 0
    trust: Uint256 = 0
    beneficiary: Address = ZERO_ADDRESS
    callback: Address = ZERO_ADDRESS
    params: str = Field(default="", max_length=MAX_PARAMS)
    salt: Bytes32 = _ZERO_TAG


BODY_TYPES: dict[OrderKind, type[_OrderBody]] = {
    "app": AppOrderBody,
    "dataset": DatasetOrderBody,
    "workerpool": WorkerpoolOrderBody,
    "request": RequestOrderBody,
}


class UnpublishBody(BaseModel):
    """An owner's signed wish to take orders out of the book."""

    model_config = ConfigDict(extra="forbid")

    timestamp: int = Field(
        ge=0, lt=2**63, description="Unix time in milliseconds, when the message was signed."
    )
    sign: Signature


def kind_of(order: Order) -> OrderKind:
    for kind, order_type in ORDER_TYPES.items():
        if isinstance(order, order_type):
            return kind
    raise TypeError(f"{type(order).__name__} is no order type")


def order_to_json(order: Order) -> dict[str, Any]:
    """The order's fields as JSON values, then ``sign`` in hex."""
    document: dict[str, Any] = {}
    for name, field_type in order.FIELDS:
        value = getattr(order, name)
        document[name] = "0x" + value.hex() if field_type == "bytes32" else value
    document["sign"] = "0x" + order.sign.hex()
    return document


def body_to_order(kind: OrderKind, body: BaseModel) -> Order:
    """The order a validated body describes; OrderError when the order type refuses it."""
    fields = body.model_dump()
    sign = bytes.fromhex(str(fields.pop("sign")).removeprefix("0x"))
    try:
        return ORDER_TYPES[kind](**fields, sign=sign)
    except ValueError as error:
        raise OrderError(f"invalid {kind} order: {error}") from None


def order_from_json(kind: OrderKind, document: Any) -> Order:
    """The order a JSON document describes, checked; OrderError with the problems otherwise."""
    try:
        body = BODY_TYPES[kind].model_validate(document)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc']) or 'order'}: {problem['msg']}"
            for problem in error.errors()
        )
        raise OrderError(f"invalid {kind} order ({problems})") from None
    return body_to_order(kind, body)


# -- unpublish messages ------------------------------------------------------------------------

_UNPUBLISH: Types = {"Unpublish": (("order", "bytes32"), ("timestamp", "uint256"))}
_UNPUBLISH_ALL: Types = {"UnpublishAll": (("owner", "address"), ("timestamp", "uint256"))}


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def unpublish_digest(domain: Domain, order_hash: bytes, timestamp: int) -> bytes:
    """What an owner signs to take one order out of the book."""
    message = {"order": order_hash, "timestamp": timestamp}
    return digest(domain, hash_struct("Unpublish", _UNPUBLISH, message))


def unpublish_all_digest(domain: Domain, owner: str, timestamp: int) -> bytes:
    """What an owner signs to take all its orders out of the book."""
    message = {"owner": owner, "timestamp": timestamp}
    return digest(domain, hash_struct("UnpublishAll", _UNPUBLISH_ALL, message))


def sign_unpublish(
    private_key: bytes | str, domain: Domain, order_hash: bytes, timestamp: int | None = None
) -> UnpublishBody:
    """The body of ``POST /orders/{hash}/unpublish``, signed now (or at `timestamp`)."""
    when = now_ms() if timestamp is None else timestamp
    signature = sign_digest(private_key, unpublish_digest(domain, order_hash, when))
    return UnpublishBody(timestamp=when, sign="0x" + signature.hex())


def sign_unpublish_all(
    private_key: bytes | str, domain: Domain, owner: str, timestamp: int | None = None
) -> UnpublishBody:
    """The body of ``POST /owners/{owner}/unpublish``, signed now (or at `timestamp`)."""
    when = now_ms() if timestamp is None else timestamp
    signature = sign_digest(private_key, unpublish_all_digest(domain, owner, when))
    return UnpublishBody(timestamp=when, sign="0x" + signature.hex())
