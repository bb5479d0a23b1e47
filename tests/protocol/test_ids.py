from eth_abi.packed import encode_packed
from eth_utils import keccak
from hypothesis import given
from hypothesis import strategies as st

from nuage.protocol import deal_id, task_id

bytes32s = st.binary(min_size=32, max_size=32)
uint256s = st.integers(min_value=0, max_value=2**256 - 1)


@given(request_hash=bytes32s, bot_first=uint256s)
def test_deal_id_is_keccak_of_request_hash_and_bot_first(request_hash, bot_first):
    assert deal_id(request_hash, bot_first) == keccak(
        encode_packed(["bytes32", "uint256"], [request_hash, bot_first])
    )


@given(deal=bytes32s, index=uint256s)
def test_task_id_is_keccak_of_deal_id_and_index(deal, index):
    assert task_id(deal, index) == keccak(encode_packed(["bytes32", "uint256"], [deal, index]))


def test_deals_of_one_request_have_distinct_ids():
    request_hash = keccak(text="request")

    assert deal_id(request_hash, 0) != deal_id(request_hash, 1)


def test_tasks_of_one_deal_have_distinct_ids():
    deal = deal_id(keccak(text="request"), 0)

    assert len({task_id(deal, index) for index in range(100)}) == 100
