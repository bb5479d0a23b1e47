# pragma version 0.4.3
"""
@title EIP-712 domain of the contract that initializes this module
@license Apache-2.0
@notice Domain ("nuage", "1", chain id, this contract). The separator is
        computed once and recomputed only if the chain id changes (a fork).
"""

DOMAIN_TYPEHASH: constant(bytes32) = keccak256(
    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
DOMAIN_NAME_HASH: constant(bytes32) = keccak256("nuage")
DOMAIN_VERSION_HASH: constant(bytes32) = keccak256("1")

_CACHED_CHAIN_ID: immutable(uint256)
_CACHED_DOMAIN_SEPARATOR: immutable(bytes32)


@deploy
def __init__():
    _CACHED_CHAIN_ID = chain.id
    _CACHED_DOMAIN_SEPARATOR = self._build_domain_separator()


@external
@view
def domainSeparator() -> bytes32:
    """
    @notice The EIP-712 domain separator: name "nuage", version "1", this
            chain's id, this contract's address.
    """
    return self._domain_separator()


@internal
@view
def _domain_separator() -> bytes32:
    if chain.id == _CACHED_CHAIN_ID:
        return _CACHED_DOMAIN_SEPARATOR
    return self._build_domain_separator()


@internal
@view
def _build_domain_separator() -> bytes32:
    return keccak256(abi_encode(DOMAIN_TYPEHASH, DOMAIN_NAME_HASH, DOMAIN_VERSION_HASH, chain.id, self))


@internal
@view
def _digest(struct_hash: bytes32) -> bytes32:
    return keccak256(concat(b"\x19\x01", self._domain_separator(), struct_hash))
