import boa
import pytest
from eth_account import Account
from eth_keys import keys
from eth_utils import keccak
from hypothesis import given
from hypothesis import strategies as st

from nuage.protocol import ZERO_ADDRESS, AppOrder, Operation, sign_digest, to_compact
from nuage.protocol.eip712 import SECP256K1_N

DIGEST = keccak(text="some digest")


def signature_with_v(key: bytes, v: int) -> tuple[bytes, bytes]:
    """A digest, and the key's signature over it, whose v is `v`."""
    for i in range(64):
        digest = keccak(text=f"digest {i}")
        signature = sign_digest(key, digest)
        if signature[64] == v:
            return digest, signature
    raise AssertionError("no signature with that v in 64 tries")


@pytest.mark.parametrize("v", [27, 28])
def test_65_byte_signature_verifies(protocol, requester, v):
    digest, signature = signature_with_v(requester.key, v)

    assert protocol.market.verifySignature(requester.address, digest, signature) is True


@pytest.mark.parametrize("v", [27, 28])
def test_64_byte_compact_signature_verifies(protocol, requester, v):
    digest, signature = signature_with_v(requester.key, v)

    assert protocol.market.verifySignature(requester.address, digest, to_compact(signature)) is True


@pytest.mark.parametrize("v", [27, 28])
def test_v_as_0_or_1_is_accepted(protocol, requester, v):
    digest, signature = signature_with_v(requester.key, v)

    assert protocol.market.verifySignature(
        requester.address, digest, signature[:64] + bytes([v - 27])
    )


@pytest.mark.parametrize("v", [27, 28])
def test_high_s_malleated_signature_is_refused(protocol, requester, v):
    """(r, n - s, flipped v) recovers the same signer; EIP-2 allows only the low-s form."""
    digest, signature = signature_with_v(requester.key, v)
    s = int.from_bytes(signature[32:64], "big")
    malleated = signature[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])
    twin = keys.Signature(vrs=(28 - v, int.from_bytes(malleated[:32], "big"), SECP256K1_N - s))
    assert twin.recover_public_key_from_msg_hash(digest).to_checksum_address() == requester.address

    assert protocol.market.verifySignature(requester.address, digest, malleated) is False


@pytest.mark.parametrize("v", [2, 26, 29, 255])
def test_invalid_v_is_refused(protocol, requester, v):
    signature = sign_digest(requester.key, DIGEST)

    assert (
        protocol.market.verifySignature(requester.address, DIGEST, signature[:64] + bytes([v]))
        is False
    )


def test_wrong_signer_is_refused(protocol, requester, attacker):
    signature = sign_digest(attacker.key, DIGEST)

    assert protocol.market.verifySignature(requester.address, DIGEST, signature) is False


def test_signature_over_another_digest_is_refused(protocol, requester):
    signature = sign_digest(requester.key, keccak(text="another digest"))

    assert protocol.market.verifySignature(requester.address, DIGEST, signature) is False


@pytest.mark.parametrize("length", [1, 32, 63])
def test_truncated_signature_is_refused(protocol, requester, length):
    signature = sign_digest(requester.key, DIGEST)

    assert protocol.market.verifySignature(requester.address, DIGEST, signature[:length]) is False


def test_empty_signature_without_presign_is_refused(protocol, requester):
    assert protocol.market.verifySignature(requester.address, DIGEST, b"") is False


def test_empty_signature_verifies_a_presigned_order(protocol, app_owner, attacker):
    order = AppOrder(app=protocol.new_app(app_owner), salt=b"\x01" * 32)
    with boa.env.prank(app_owner.address):
        protocol.market.manageAppOrder(order.as_tuple(), Operation.SIGN, b"")
    order_hash = order.hash(protocol.domain)

    assert protocol.market.verifySignature(app_owner.address, order_hash, b"") is True
    assert protocol.market.verifySignature(attacker.address, order_hash, b"") is False


@pytest.mark.parametrize(
    "garbage",
    [b"", bytes(64), bytes(65), b"\xff" * 65, bytes(64) + b"\x1b", b"\x01" * 63],
    ids=["empty", "zero-64", "zero-65", "ones-65", "zero-v27", "63-bytes"],
)
def test_zero_signer_is_refused_whatever_the_signature(protocol, garbage):
    """ecrecover answers the zero address for garbage, and nobody presigned reads as zero."""
    assert protocol.market.verifySignature(ZERO_ADDRESS, DIGEST, garbage) is False


@given(key=st.integers(1, SECP256K1_N - 1), digest=st.binary(min_size=32, max_size=32))
def test_any_signature_from_the_library_verifies(protocol, key, digest):
    with boa.env.anchor():
        private_key = key.to_bytes(32, "big")
        signer = Account.from_key(private_key).address
        signature = sign_digest(private_key, digest)

        assert protocol.market.verifySignature(signer, digest, signature) is True
        assert protocol.market.verifySignature(signer, digest, to_compact(signature)) is True
