"""EIP-712 typed-data hashing, written once for every struct nuage signs.

`hash_struct` follows the specification (encodeType with referenced types
sorted after the primary one, encodeData with dynamic values hashed), so the
same code reproduces the specification's "Mail" example and our orders.
Signing and recovery mirror the hub exactly: 65-byte and 64-byte (EIP-2098)
signatures, `v` as 27/28 or 0/1, high-`s` signatures refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import encode as abi_encode
from eth_keys import keys
from eth_keys.exceptions import BadSignature, ValidationError
from eth_utils import keccak, to_checksum_address

__all__ = [
    "DOMAIN_NAME",
    "DOMAIN_VERSION",
    "Domain",
    "Types",
    "digest",
    "encode_type",
    "hash_struct",
    "recover",
    "sign_digest",
    "to_compact",
]

DOMAIN_NAME = "nuage"
DOMAIN_VERSION = "1"

# secp256k1 group order; signatures with s above half of it are refused (EIP-2)
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
HALF_N = SECP256K1_N // 2

Types = Mapping[str, Sequence[tuple[str, str]]]
"""Struct name -> ordered (field name, field type) pairs."""

DOMAIN_TYPES: Types = {
    "EIP712Domain": [
        ("name", "string"),
        ("version", "string"),
        ("chainId", "uint256"),
        ("verifyingContract", "address"),
    ]
}


@dataclass(frozen=True)
class Domain:
    """An EIP-712 domain: by default nuage's ("nuage", "1") on a chain and hub."""

    chain_id: int
    verifying_contract: str
    name: str = DOMAIN_NAME
    version: str = DOMAIN_VERSION

    def __post_init__(self) -> None:
        object.__setattr__(self, "verifying_contract", to_checksum_address(self.verifying_contract))

    def as_message(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "chainId": self.chain_id,
            "verifyingContract": self.verifying_contract,
        }

    @property
    def separator(self) -> bytes:
        return hash_struct("EIP712Domain", DOMAIN_TYPES, self.as_message())


def _dependencies(primary: str, types: Types, found: set[str]) -> set[str]:
    if primary in found or primary not in types:
        return found
    found.add(primary)
    for _, field_type in types[primary]:
        _dependencies(field_type.split("[")[0], types, found)
    return found


def encode_type(primary: str, types: Types) -> str:
    """`Primary(type name,...)Referenced(...)...`, referenced structs sorted by name."""
    referenced = sorted(_dependencies(primary, types, set()) - {primary})
    return "".join(
        f"{name}(" + ",".join(f"{t} {n}" for n, t in types[name]) + ")"
        for name in [primary, *referenced]
    )


def _encode_value(field_type: str, value: Any, types: Types) -> bytes:
    if field_type in types:
        return hash_struct(field_type, types, value)
    if field_type.endswith("]"):
        inner = field_type[: field_type.rindex("[")]
        return keccak(b"".join(_encode_value(inner, item, types) for item in value))
    if field_type == "string":
        return keccak(text=value)
    if field_type == "bytes":
        return keccak(bytes(value))
    return abi_encode([field_type], [value])


def hash_struct(primary: str, types: Types, data: Mapping[str, Any]) -> bytes:
    """EIP-712 `hashStruct`: keccak(typeHash || encodeData)."""
    type_hash = keccak(text=encode_type(primary, types))
    fields = b"".join(_encode_value(t, data[n], types) for n, t in types[primary])
    return keccak(type_hash + fields)


def digest(domain: Domain, struct_hash: bytes) -> bytes:
    """The 32 bytes a signer signs: keccak(0x1901 || domainSeparator || hashStruct)."""
    return keccak(b"\x19\x01" + domain.separator + struct_hash)


def sign_digest(private_key: bytes | str, message_digest: bytes) -> bytes:
    """A 65-byte (r || s || v, v in {27, 28}) secp256k1 signature over a digest."""
    key = keys.PrivateKey(
        bytes.fromhex(private_key[2:]) if isinstance(private_key, str) else private_key
    )
    signature = key.sign_msg_hash(message_digest)
    return bytes(
        signature.r.to_bytes(32, "big")
        + signature.s.to_bytes(32, "big")
        + bytes([signature.v + 27])
    )


def to_compact(signature: bytes) -> bytes:
    """The 64-byte EIP-2098 form of a 65-byte signature: r || (v - 27) << 255 | s."""
    if len(signature) != 65:
        raise ValueError("a compact signature is made from a 65-byte one")
    v = signature[64] if signature[64] >= 27 else signature[64] + 27
    s = int.from_bytes(signature[32:64], "big")
    return signature[:32] + ((v - 27) << 255 | s).to_bytes(32, "big")


def recover(message_digest: bytes, signature: bytes) -> str | None:
    """The signer of `message_digest`, or None where the hub would find none.

    Accepts what the hub accepts, nothing more: 65 bytes (v = 27/28 or 0/1) or
    64 bytes (EIP-2098), with s at most half the curve order.
    """
    if len(signature) == 65:
        r = int.from_bytes(signature[:32], "big")
        s = int.from_bytes(signature[32:64], "big")
        v = signature[64]
    elif len(signature) == 64:
        r = int.from_bytes(signature[:32], "big")
        vs = int.from_bytes(signature[32:], "big")
        s = vs & ((1 << 255) - 1)
        v = 27 + (vs >> 255)
    else:
        return None
    if v < 27:
        v += 27
    if s > HALF_N or v not in (27, 28):
        return None
    try:
        public_key = keys.Signature(vrs=(v - 27, r, s)).recover_public_key_from_msg_hash(
            message_digest
        )
    except (BadSignature, ValidationError):
        return None
    return str(public_key.to_checksum_address())
