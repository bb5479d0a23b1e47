"""nuage.protocol.eip712 against the specification and against eth-account."""

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address
from hypothesis import given
from hypothesis import strategies as st

from nuage.protocol import AppOrder, Domain, RequestOrder, WorkerpoolOrder
from nuage.protocol.eip712 import (
    SECP256K1_N,
    digest,
    encode_type,
    hash_struct,
    recover,
    sign_digest,
    to_compact,
)

# The "Mail" example of EIP-712 (eips.ethereum.org/EIPS/eip-712, assets/eip-712/Example.js)
MAIL_TYPES = {
    "Person": [("name", "string"), ("wallet", "address")],
    "Mail": [("from", "Person"), ("to", "Person"), ("contents", "string")],
}
MAIL_DOMAIN = Domain(
    chain_id=1,
    verifying_contract="0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC",
    name="Ether Mail",
    version="1",
)
COW = "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"
BOB = "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"
MAIL = {
    "from": {"name": "Cow", "wallet": COW},
    "to": {"name": "Bob", "wallet": BOB},
    "contents": "Hello, Bob!",
}
COW_KEY = keccak(text="cow")


def hex32(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x"))


def test_mail_encode_type():
    assert (
        encode_type("Mail", MAIL_TYPES)
        == "Mail(Person from,Person to,string contents)Person(string name,address wallet)"
    )


def test_mail_hash_struct():
    assert hash_struct("Mail", MAIL_TYPES, MAIL) == hex32(
        "0xc52c0ee5d84264471806290a3f2c4cecfc5490626bf912d01f240d7a274b371e"
    )


def test_mail_domain_separator():
    assert MAIL_DOMAIN.separator == hex32(
        "0xf2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f"
    )


def test_mail_digest():
    assert digest(MAIL_DOMAIN, hash_struct("Mail", MAIL_TYPES, MAIL)) == hex32(
        "0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2"
    )


def test_mail_signature_by_cow():
    mail_digest = digest(MAIL_DOMAIN, hash_struct("Mail", MAIL_TYPES, MAIL))

    signature = sign_digest(COW_KEY, mail_digest)

    assert signature[64] == 28
    assert signature[:32] == hex32(
        "0x4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d"
    )
    assert signature[32:64] == hex32(
        "0x07299936d304c153f6443dfa05f40ff007d72911b6f72307f996231605b91562"
    )
    assert recover(mail_digest, signature) == COW


def test_sign_digest_takes_a_hex_key():
    mail_digest = digest(MAIL_DOMAIN, hash_struct("Mail", MAIL_TYPES, MAIL))

    assert sign_digest("0x" + COW_KEY.hex(), mail_digest) == sign_digest(COW_KEY, mail_digest)


def test_referenced_types_are_sorted_by_name():
    types = {
        "Zoo": [("b", "Beta"), ("a", "Alpha[]")],
        "Beta": [("x", "uint256")],
        "Alpha": [("y", "Beta")],
    }

    assert encode_type("Zoo", types) == "Zoo(Beta b,Alpha[] a)Alpha(Beta y)Beta(uint256 x)"


# -- our orders, against eth-account -------------------------------------------

addresses = st.binary(min_size=20, max_size=20).map(to_checksum_address)
uint256s = st.integers(min_value=0, max_value=2**256 - 1)
bytes32s = st.binary(min_size=32, max_size=32)
domains = st.builds(Domain, chain_id=st.integers(1, 2**64), verifying_contract=addresses)
keys = st.integers(min_value=1, max_value=SECP256K1_N - 1).map(lambda k: k.to_bytes(32, "big"))
orders = st.one_of(
    st.builds(
        AppOrder,
        app=addresses,
        appprice=uint256s,
        volume=uint256s,
        tag=bytes32s,
        requesterrestrict=addresses,
        salt=bytes32s,
    ),
    st.builds(
        WorkerpoolOrder,
        workerpool=addresses,
        workerpoolprice=uint256s,
        category=uint256s,
        trust=uint256s,
        salt=bytes32s,
    ),
    st.builds(
        RequestOrder,
        app=addresses,
        requester=addresses,
        dataset=addresses,
        appmaxprice=uint256s,
        callback=addresses,
        params=st.text(max_size=200),
        salt=bytes32s,
    ),
)


@given(order=orders, domain=domains)
def test_order_digest_matches_eth_account(order, domain):
    message = encode_typed_data(full_message=order.eip712(domain))

    assert message.header == domain.separator
    assert message.body == order.struct_hash()
    assert order.hash(domain) == keccak(b"\x19" + message.version + message.header + message.body)


@given(order=orders, domain=domains, key=keys)
def test_eth_account_signatures_recover_to_their_signer(order, domain, key):
    signed = Account.sign_typed_data(key, full_message=order.eip712(domain))

    assert recover(order.hash(domain), bytes(signed.signature)) == Account.from_key(key).address


@given(order=orders, domain=domains, key=keys)
def test_our_signatures_match_eth_account(order, domain, key):
    """Both are deterministic (RFC 6979): the same key signs the same bytes."""
    ours = order.signed(key, domain).sign

    assert ours == bytes(Account.sign_typed_data(key, full_message=order.eip712(domain)).signature)


# -- compact signatures and recovery -------------------------------------------


@given(key=keys, message_digest=bytes32s)
def test_compact_signature_recovers_the_same_signer(key, message_digest):
    signature = sign_digest(key, message_digest)
    signer = Account.from_key(key).address

    compact = to_compact(signature)

    assert len(compact) == 64
    assert recover(message_digest, compact) == signer
    assert recover(message_digest, signature) == signer
    assert to_compact(signature[:64] + bytes([signature[64] - 27])) == compact


def test_compact_form_needs_a_65_byte_signature():
    with pytest.raises(ValueError, match="65-byte"):
        to_compact(bytes(64))


DIGEST = keccak(text="some digest")
SIGNATURE = sign_digest(COW_KEY, DIGEST)
R, S = SIGNATURE[:32], int.from_bytes(SIGNATURE[32:64], "big")


@pytest.mark.parametrize(
    "signature",
    [
        b"",
        SIGNATURE[:63],
        SIGNATURE + b"\x00",
        SIGNATURE[:64] + b"\x1d",  # v = 29
        SIGNATURE[:64] + b"\x02",  # v = 2, read as 29
        R + (SECP256K1_N - S).to_bytes(32, "big") + bytes([55 - SIGNATURE[64]]),  # high s
        bytes(32) + SIGNATURE[32:],  # r = 0
        SECP256K1_N.to_bytes(32, "big") + SIGNATURE[32:],  # r = n
        bytes(65),
    ],
    ids=["empty", "63-bytes", "66-bytes", "v-29", "v-2", "high-s", "r-zero", "r-n", "zeros"],
)
def test_malformed_signature_recovers_nobody(signature):
    assert recover(DIGEST, signature) is None


def test_v_as_0_or_1_is_accepted():
    assert recover(DIGEST, SIGNATURE[:64] + bytes([SIGNATURE[64] - 27])) == COW
