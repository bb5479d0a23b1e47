"""The four order types of the marketplace, as EIP-712 typed data.

Field names and types are the hub's (`contracts/modules/orders.vy`): an
order's identity is its EIP-712 digest in the domain ("nuage", "1", chain id,
hub address), which is also what its owner signs. `sign` is not part of the
signed data; it is empty for an order presigned on chain.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from eth_utils import to_checksum_address

from nuage.protocol.eip712 import Domain, Types, digest, hash_struct, sign_digest, to_compact

__all__ = [
    "MAX_PARAMS",
    "ZERO_ADDRESS",
    "ZERO_BYTES32",
    "AppOrder",
    "DatasetOrder",
    "Operation",
    "Order",
    "RequestOrder",
    "WorkerpoolOrder",
]

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
ZERO_BYTES32 = bytes(32)
MAX_PARAMS = 2048  # bytes of UTF-8, the hub's bound on a request's params


class Operation(enum.IntEnum):
    """What `manage<Kind>Order` does to an order."""

    SIGN = 0  # presign on chain
    CLOSE = 1  # cancel: mark fully consumed


@dataclass(frozen=True)
class Order:
    """Common behaviour of the four order types."""

    TYPE_NAME: ClassVar[str]
    FIELDS: ClassVar[tuple[tuple[str, str], ...]]
    KIND: ClassVar[int]  # the hub's OrderPresigned / OrderClosed `kind`

    sign: bytes

    def __post_init__(self) -> None:
        for name, field_type in self.FIELDS:
            value = getattr(self, name)
            if field_type == "address":
                object.__setattr__(self, name, to_checksum_address(value))
            elif field_type == "bytes32":
                raw = (
                    bytes.fromhex(value.removeprefix("0x"))
                    if isinstance(value, str)
                    else bytes(value)
                )
                if len(raw) != 32:
                    raise ValueError(f"{self.TYPE_NAME}.{name} must be 32 bytes, got {len(raw)}")
                object.__setattr__(self, name, raw)
            elif field_type == "uint256" and not 0 <= int(value) < 2**256:
                raise ValueError(f"{self.TYPE_NAME}.{name} must be a uint256, got {value}")
        object.__setattr__(self, "sign", bytes(self.sign))

    @classmethod
    def types(cls) -> Types:
        return {cls.TYPE_NAME: cls.FIELDS}

    def message(self) -> dict[str, Any]:
        """The EIP-712 message (every field but `sign`)."""
        return {name: getattr(self, name) for name, _ in self.FIELDS}

    def struct_hash(self) -> bytes:
        return hash_struct(self.TYPE_NAME, self.types(), self.message())

    def hash(self, domain: Domain) -> bytes:
        """The order's EIP-712 digest: its identity on chain and what its owner signs."""
        return digest(domain, self.struct_hash())

    def signed(self, private_key: bytes | str, domain: Domain, *, compact: bool = False) -> Self:
        """A copy carrying the owner's signature (64-byte EIP-2098 form if `compact`)."""
        signature = sign_digest(private_key, self.hash(domain))
        return dataclasses.replace(self, sign=to_compact(signature) if compact else signature)

    def operation_hash(self, operation: Operation, domain: Domain) -> bytes:
        """The digest an owner signs to let anyone presign or cancel this order."""
        name = f"{self.TYPE_NAME}Operation"
        types = {name: (("order", self.TYPE_NAME), ("operation", "uint256")), **self.types()}
        data = {"order": self.message(), "operation": int(operation)}
        return digest(domain, hash_struct(name, types, data))

    def sign_operation(
        self, operation: Operation, private_key: bytes | str, domain: Domain
    ) -> bytes:
        return sign_digest(private_key, self.operation_hash(operation, domain))

    def as_tuple(self) -> tuple[Any, ...]:
        """The ABI tuple the hub's functions take (fields in order, then `sign`)."""
        return (*(getattr(self, name) for name, _ in self.FIELDS), self.sign)

    def eip712(self, domain: Domain) -> dict[str, Any]:
        """The full typed-data document (for eth-account or a wallet)."""
        return {
            "types": {
                "EIP712Domain": [
                    {"name": "name", "type": "string"},
                    {"name": "version", "type": "string"},
                    {"name": "chainId", "type": "uint256"},
                    {"name": "verifyingContract", "type": "address"},
                ],
                self.TYPE_NAME: [{"name": n, "type": t} for n, t in self.FIELDS],
            },
            "primaryType": self.TYPE_NAME,
            "domain": domain.as_message(),
            "message": self.message(),
        }


@dataclass(frozen=True, kw_only=True)
class AppOrder(Order):
    """An app owner's offer: runs of `app` at `appprice` nRLC each."""

    TYPE_NAME: ClassVar[str] = "AppOrder"
    FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("app", "address"),
        ("appprice", "uint256"),
        ("volume", "uint256"),
        ("tag", "bytes32"),
        ("datasetrestrict", "address"),
        ("workerpoolrestrict", "address"),
        ("requesterrestrict", "address"),
        ("salt", "bytes32"),
    )
    KIND: ClassVar[int] = 0

    app: str
    appprice: int = 0
    volume: int = 1
    tag: bytes = ZERO_BYTES32
    datasetrestrict: str = ZERO_ADDRESS
    workerpoolrestrict: str = ZERO_ADDRESS
    requesterrestrict: str = ZERO_ADDRESS
    salt: bytes = ZERO_BYTES32
    sign: bytes = b""


@dataclass(frozen=True, kw_only=True)
class DatasetOrder(Order):
    """A dataset owner's offer; a deal without a dataset uses `DatasetOrder.none()`."""

    TYPE_NAME: ClassVar[str] = "DatasetOrder"
    FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("dataset", "address"),
        ("datasetprice", "uint256"),
        ("volume", "uint256"),
        ("tag", "bytes32"),
        ("apprestrict", "address"),
        ("workerpoolrestrict", "address"),
        ("requesterrestrict", "address"),
        ("salt", "bytes32"),
    )
    KIND: ClassVar[int] = 1

    dataset: str = ZERO_ADDRESS
    datasetprice: int = 0
    volume: int = 0
    tag: bytes = ZERO_BYTES32
    apprestrict: str = ZERO_ADDRESS
    workerpoolrestrict: str = ZERO_ADDRESS
    requesterrestrict: str = ZERO_ADDRESS
    salt: bytes = ZERO_BYTES32
    sign: bytes = b""

    @classmethod
    def none(cls) -> DatasetOrder:
        """The empty dataset order that stands for "no dataset" in `matchOrders`."""
        return cls()

    @property
    def is_none(self) -> bool:
        return self.dataset == ZERO_ADDRESS


@dataclass(frozen=True, kw_only=True)
class WorkerpoolOrder(Order):
    """A pool owner's offer of `volume` tasks of `category` at `workerpoolprice` each."""

    TYPE_NAME: ClassVar[str] = "WorkerpoolOrder"
    FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("workerpool", "address"),
        ("workerpoolprice", "uint256"),
        ("volume", "uint256"),
        ("tag", "bytes32"),
        ("category", "uint256"),
        ("trust", "uint256"),
        ("apprestrict", "address"),
        ("datasetrestrict", "address"),
        ("requesterrestrict", "address"),
        ("salt", "bytes32"),
    )
    KIND: ClassVar[int] = 2

    workerpool: str
    workerpoolprice: int = 0
    volume: int = 1
    tag: bytes = ZERO_BYTES32
    category: int = 0
    trust: int = 0
    apprestrict: str = ZERO_ADDRESS
    datasetrestrict: str = ZERO_ADDRESS
    requesterrestrict: str = ZERO_ADDRESS
    salt: bytes = ZERO_BYTES32
    sign: bytes = b""


@dataclass(frozen=True, kw_only=True)
class RequestOrder(Order):
    """A requester's demand: `volume` runs of `app` (with `params`), at most these prices."""

    TYPE_NAME: ClassVar[str] = "RequestOrder"
    FIELDS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("app", "address"),
        ("appmaxprice", "uint256"),
        ("dataset", "address"),
        ("datasetmaxprice", "uint256"),
        ("workerpool", "address"),
        ("workerpoolmaxprice", "uint256"),
        ("requester", "address"),
        ("volume", "uint256"),
        ("tag", "bytes32"),
        ("category", "uint256"),
        ("trust", "uint256"),
        ("beneficiary", "address"),
        ("callback", "address"),
        ("params", "string"),
        ("salt", "bytes32"),
    )
    KIND: ClassVar[int] = 3

    app: str
    requester: str
    appmaxprice: int = 0
    dataset: str = ZERO_ADDRESS
    datasetmaxprice: int = 0
    workerpool: str = ZERO_ADDRESS
    workerpoolmaxprice: int = 0
    volume: int = 1
    tag: bytes = ZERO_BYTES32
    category: int = 0
    trust: int = 0
    beneficiary: str = ZERO_ADDRESS
    callback: str = ZERO_ADDRESS
    params: str = ""
    salt: bytes = ZERO_BYTES32
    sign: bytes = b""

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(self.params.encode()) > MAX_PARAMS:
            raise ValueError(f"RequestOrder.params is longer than {MAX_PARAMS} bytes")
