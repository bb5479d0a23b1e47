"""Validation and signing of the four order types."""

import dataclasses

import pytest
from eth_account import Account
from eth_utils import keccak

from nuage.protocol import (
    ZERO_ADDRESS,
    AppOrder,
    DatasetOrder,
    Domain,
    Operation,
    RequestOrder,
    WorkerpoolOrder,
    recover,
)
from nuage.protocol.orders import MAX_PARAMS

APP = "0x" + "ab" * 20
KEY = keccak(text="nuage test actor app_owner")
SIGNER = Account.from_key(KEY).address
DOMAIN = Domain(chain_id=1, verifying_contract="0x" + "cd" * 20)


def test_addresses_are_checksummed():
    """EIP-55's own examples, given in lower case."""
    order = AppOrder(
        app="0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
        requesterrestrict="0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359",
    )

    assert order.app == "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    assert order.requesterrestrict == "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
    assert order.datasetrestrict == ZERO_ADDRESS


def test_bad_address_is_refused():
    with pytest.raises(ValueError):
        AppOrder(app="0x1234")


@pytest.mark.parametrize("length", [0, 31, 33])
def test_bytes32_of_wrong_length_is_refused(length):
    with pytest.raises(ValueError, match=rf"AppOrder\.tag must be 32 bytes, got {length}"):
        AppOrder(app=APP, tag=b"\x01" * length)


def test_bytes32_may_be_given_as_hex():
    order = WorkerpoolOrder(workerpool=APP, salt="0x" + "01" * 32)

    assert order.salt == b"\x01" * 32


@pytest.mark.parametrize("value", [-1, 2**256])
def test_uint256_out_of_range_is_refused(value):
    with pytest.raises(ValueError, match=r"AppOrder\.appprice must be a uint256"):
        AppOrder(app=APP, appprice=value)


def test_params_up_to_2048_bytes_are_accepted():
    order = RequestOrder(app=APP, requester=APP, params="x" * MAX_PARAMS)

    assert len(order.params) == MAX_PARAMS


def test_params_over_2048_bytes_are_refused():
    with pytest.raises(ValueError, match="longer than 2048 bytes"):
        RequestOrder(app=APP, requester=APP, params="x" * (MAX_PARAMS + 1))


def test_params_are_measured_in_utf8_bytes():
    """683 euro signs are 2049 bytes: the hub counts bytes, not characters."""
    with pytest.raises(ValueError, match="longer than 2048 bytes"):
        RequestOrder(app=APP, requester=APP, params="€" * 683)


def test_as_tuple_is_fields_in_order_then_sign():
    order = AppOrder(app=APP, appprice=5, volume=2, salt=b"\x07" * 32, sign=b"\x01")

    assert order.as_tuple() == (
        order.app,
        5,
        2,
        bytes(32),
        ZERO_ADDRESS,
        ZERO_ADDRESS,
        ZERO_ADDRESS,
        b"\x07" * 32,
        b"\x01",
    )


def test_signature_is_not_part_of_the_hash():
    order = AppOrder(app=APP, salt=b"\x07" * 32)

    assert order.signed(KEY, DOMAIN).hash(DOMAIN) == order.hash(DOMAIN)


@pytest.mark.parametrize("compact", [False, True])
def test_signed_order_recovers_to_the_signer(compact):
    order = AppOrder(app=APP, salt=b"\x07" * 32).signed(KEY, DOMAIN, compact=compact)

    assert len(order.sign) == (64 if compact else 65)
    assert recover(order.hash(DOMAIN), order.sign) == SIGNER


def test_hash_depends_on_the_domain():
    order = AppOrder(app=APP)
    other_chain = dataclasses.replace(DOMAIN, chain_id=2)

    assert order.hash(DOMAIN) != order.hash(other_chain)


def test_operation_hashes_differ_from_each_other_and_from_the_order():
    order = DatasetOrder(dataset=APP, volume=1)

    hashes = {
        order.hash(DOMAIN),
        order.operation_hash(Operation.SIGN, DOMAIN),
        order.operation_hash(Operation.CLOSE, DOMAIN),
    }

    assert len(hashes) == 3


def test_operation_signature_recovers_to_the_signer():
    order = DatasetOrder(dataset=APP, volume=1)
    sign = order.sign_operation(Operation.CLOSE, KEY, DOMAIN)

    assert recover(order.operation_hash(Operation.CLOSE, DOMAIN), sign) == SIGNER


def test_none_dataset_order_stands_for_no_dataset():
    assert DatasetOrder.none().is_none
    assert not DatasetOrder(dataset=APP).is_none


@pytest.mark.parametrize(
    ("order_type", "kind"),
    [(AppOrder, 0), (DatasetOrder, 1), (WorkerpoolOrder, 2), (RequestOrder, 3)],
)
def test_kinds_are_the_hub_event_kinds(order_type, kind):
    assert kind == order_type.KIND


def test_eip712_document_names_every_field():
    order = RequestOrder(app=APP, requester=APP, params="p")

    document = order.eip712(DOMAIN)

    assert document["primaryType"] == "RequestOrder"
    assert [f["name"] for f in document["types"]["RequestOrder"]] == [
        name for name, _ in RequestOrder.FIELDS
    ]
    assert document["message"]["params"] == "p"
    assert "sign" not in document["message"]
    assert document["domain"] == {
        "name": "nuage",
        "version": "1",
        "chainId": 1,
        "verifyingContract": DOMAIN.verifying_contract,
    }
