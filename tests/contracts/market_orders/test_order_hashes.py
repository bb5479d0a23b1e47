"""appOrderHash, datasetOrderHash, workerpoolOrderHash, requestOrderHash.

The hub and `nuage.protocol` must agree on every order's EIP-712 digest:
it is both the order's identity on chain and what its owner signs.
"""

import re

import boa
import pytest
from eth_utils import keccak, to_checksum_address
from hypothesis import given
from hypothesis import strategies as st

from nuage.protocol import AppOrder, DatasetOrder, RequestOrder, WorkerpoolOrder
from nuage.protocol.eip712 import encode_type
from tests.contracts.deployers import CONTRACTS

ORDERS_SOURCE = (CONTRACTS / "modules" / "orders.vy").read_text()
ORDER_TYPES = [AppOrder, DatasetOrder, WorkerpoolOrder, RequestOrder]

addresses = st.binary(min_size=20, max_size=20).map(to_checksum_address)
uint256s = st.integers(min_value=0, max_value=2**256 - 1)
bytes32s = st.binary(min_size=32, max_size=32)
signatures = st.binary(max_size=65)  # ignored by the hash
params = st.text(max_size=200)

app_orders = st.builds(
    AppOrder,
    app=addresses,
    appprice=uint256s,
    volume=uint256s,
    tag=bytes32s,
    datasetrestrict=addresses,
    workerpoolrestrict=addresses,
    requesterrestrict=addresses,
    salt=bytes32s,
    sign=signatures,
)
dataset_orders = st.builds(
    DatasetOrder,
    dataset=addresses,
    datasetprice=uint256s,
    volume=uint256s,
    tag=bytes32s,
    apprestrict=addresses,
    workerpoolrestrict=addresses,
    requesterrestrict=addresses,
    salt=bytes32s,
    sign=signatures,
)
workerpool_orders = st.builds(
    WorkerpoolOrder,
    workerpool=addresses,
    workerpoolprice=uint256s,
    volume=uint256s,
    tag=bytes32s,
    category=uint256s,
    trust=uint256s,
    apprestrict=addresses,
    datasetrestrict=addresses,
    requesterrestrict=addresses,
    salt=bytes32s,
    sign=signatures,
)
request_orders = st.builds(
    RequestOrder,
    app=addresses,
    appmaxprice=uint256s,
    dataset=addresses,
    datasetmaxprice=uint256s,
    workerpool=addresses,
    workerpoolmaxprice=uint256s,
    requester=addresses,
    volume=uint256s,
    tag=bytes32s,
    category=uint256s,
    trust=uint256s,
    beneficiary=addresses,
    callback=addresses,
    params=params,
    salt=bytes32s,
    sign=signatures,
)


@given(order=app_orders)
def test_app_order_hash_matches_the_library(protocol, order):
    with boa.env.anchor():
        assert protocol.market.appOrderHash(order.as_tuple()) == order.hash(protocol.domain)


@given(order=dataset_orders)
def test_dataset_order_hash_matches_the_library(protocol, order):
    with boa.env.anchor():
        assert protocol.market.datasetOrderHash(order.as_tuple()) == order.hash(protocol.domain)


@given(order=workerpool_orders)
def test_workerpool_order_hash_matches_the_library(protocol, order):
    with boa.env.anchor():
        assert protocol.market.workerpoolOrderHash(order.as_tuple()) == order.hash(protocol.domain)


@given(order=request_orders)
def test_request_order_hash_matches_the_library(protocol, order):
    with boa.env.anchor():
        assert protocol.market.requestOrderHash(order.as_tuple()) == order.hash(protocol.domain)


def test_request_order_hash_covers_long_params(protocol, requester):
    """2048 bytes of UTF-8, the most the hub accepts."""
    order = RequestOrder(app=requester.address, requester=requester.address, params="é" * 1024)

    assert protocol.market.requestOrderHash(order.as_tuple()) == order.hash(protocol.domain)


@pytest.mark.parametrize("order_type", ORDER_TYPES, ids=lambda t: t.TYPE_NAME)
def test_every_field_changes_the_hash(protocol, order_type):
    """No field is left out of the hub's struct hash."""
    methods = {
        AppOrder: protocol.market.appOrderHash,
        DatasetOrder: protocol.market.datasetOrderHash,
        WorkerpoolOrder: protocol.market.workerpoolOrderHash,
        RequestOrder: protocol.market.requestOrderHash,
    }
    zero = "0x" + "00" * 20
    base = {
        name: {"address": zero, "uint256": 0, "bytes32": bytes(32), "string": ""}[field_type]
        for name, field_type in order_type.FIELDS
    }
    changed = {"address": "0x" + "11" * 20, "uint256": 1, "bytes32": b"\x01" * 32, "string": "x"}
    hub_hash = methods[order_type]
    seen = {bytes(hub_hash(order_type(**base).as_tuple()))}

    for name, field_type in order_type.FIELDS:
        order = order_type(**{**base, name: changed[field_type]})
        seen.add(bytes(hub_hash(order.as_tuple())))

    assert len(seen) == len(order_type.FIELDS) + 1


def _vyper_string(name: str) -> str:
    match = re.search(rf'^{name}: constant\(String\[\d+\]\) = "([^"]*)"$', ORDERS_SOURCE, re.M)
    assert match, f"{name} not found in orders.vy"
    return match.group(1)


def _vyper_bytes32(name: str) -> bytes:
    match = re.search(
        rf"^{name}: constant\(bytes32\) = \(\s*0x([0-9a-fA-F]{{64}})\s*\)", ORDERS_SOURCE, re.M
    )
    assert match, f"{name} not found in orders.vy"
    return bytes.fromhex(match.group(1))


@pytest.mark.parametrize("order_type", ORDER_TYPES, ids=lambda t: t.TYPE_NAME)
def test_order_type_string_matches_the_library(order_type):
    prefix = order_type.TYPE_NAME.removesuffix("Order").upper()

    assert _vyper_string(f"{prefix}_ORDER_TYPE") == encode_type(
        order_type.TYPE_NAME, order_type.types()
    )


@pytest.mark.parametrize("order_type", ORDER_TYPES, ids=lambda t: t.TYPE_NAME)
def test_operation_typehash_has_not_drifted_from_its_type_string(order_type):
    """Vyper cannot fold concat() into a constant, so orders.vy hard-codes these hashes."""
    name = order_type.TYPE_NAME
    prefix = name.removesuffix("Order").upper()
    order_type_string = _vyper_string(f"{prefix}_ORDER_TYPE")
    expected = keccak(text=f"{name}Operation({name} order,uint256 operation){order_type_string}")

    assert _vyper_bytes32(f"{prefix}_OPERATION_TYPEHASH") == expected


@pytest.mark.parametrize("order_type", ORDER_TYPES, ids=lambda t: t.TYPE_NAME)
def test_operation_type_string_matches_the_library(order_type):
    name = order_type.TYPE_NAME
    operation = f"{name}Operation"
    types = {operation: (("order", name), ("operation", "uint256")), **order_type.types()}

    assert encode_type(operation, types) == (
        f"{operation}({name} order,uint256 operation)" + encode_type(name, order_type.types())
    )
