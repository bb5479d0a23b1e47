"""Tags: a bytes32 bitfield of what an execution needs (bit 0 TEE, bit 8 GPU).

A workerpool order must offer every bit its app, dataset and request ask for;
the deal's TEE bit must equal the app's.
"""

from __future__ import annotations

__all__ = ["GPU", "NAMES", "TEE", "covers", "names", "tag", "to_int"]

TEE = 1 << 0
GPU = 1 << 8
NAMES = {"tee": TEE, "gpu": GPU}


def tag(*wanted: str) -> bytes:
    """The bytes32 tag asking for `wanted` ("tee", "gpu")."""
    bits = 0
    for name in wanted:
        try:
            bits |= NAMES[name.lower()]
        except KeyError:
            raise ValueError(f"unknown tag {name!r}: known tags are {', '.join(NAMES)}") from None
    return bits.to_bytes(32, "big")


def to_int(value: bytes) -> int:
    return int.from_bytes(value, "big")


def names(value: bytes) -> list[str]:
    """The known bit names set in a tag (reserved bits are not named)."""
    bits = to_int(value)
    return [name for name, bit in NAMES.items() if bits & bit]


def covers(offered: bytes, asked: bytes) -> bool:
    """Whether a tag offering `offered` has every bit of `asked`."""
    return to_int(asked) & ~to_int(offered) == 0
