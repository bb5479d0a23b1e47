"""Hub.viewDeal: every field of a packed deal record reads back as matched."""

import boa
import pytest
from eth_utils import keccak

from nuage.protocol import ZERO_ADDRESS
from nuage.protocol.tags import GPU
from tests.contracts.harness import Actor

APP_PRICE, DATASET_PRICE, POOL_PRICE = 10**9, 2 * 10**9, 3 * 10**9
GPU_TAG = GPU.to_bytes(32, "big")


@pytest.fixture
def beneficiary() -> Actor:
    return Actor.named("beneficiary")


def priced_deal(market, **request):
    """A deal with a dataset, three distinct prices, and these request fields."""
    deal = market.deal(with_dataset=True, volume=2)
    return market.amend(
        deal,
        app={"appprice": APP_PRICE},
        dataset={"datasetprice": DATASET_PRICE},
        workerpool={"workerpoolprice": POOL_PRICE, "trust": 5, "category": 2, "tag": GPU_TAG},
        request={
            "appmaxprice": APP_PRICE,
            "datasetmaxprice": DATASET_PRICE,
            "workerpoolmaxprice": POOL_PRICE,
            "trust": 5,
            "category": 2,
            "tag": GPU_TAG,
            **request,
        },
    )


def test_every_field_of_a_deal_reads_back(
    protocol, market, requester, app_owner, dataset_owner, pool_owner, beneficiary
):
    callback = protocol.rlc.address  # any contract; matching does not call it
    deal = priced_deal(
        market, beneficiary=beneficiary.address, callback=callback, params='{"iexec_args": "7"}'
    )
    boa.env.time_travel(seconds=12_345)

    made = protocol.match(deal)

    record = protocol.hub.viewDeal(made)
    assert record._asdict() == {
        "app": deal.app.app,
        "app_owner": app_owner.address,
        "app_price": APP_PRICE,
        "dataset": deal.dataset.dataset,
        "dataset_owner": dataset_owner.address,
        "dataset_price": DATASET_PRICE,
        "workerpool": deal.workerpool.workerpool,
        "workerpool_owner": pool_owner.address,
        "workerpool_price": POOL_PRICE,
        "trust": 5,
        "category": 2,
        "tag": GPU_TAG,
        "requester": requester.address,
        "beneficiary": beneficiary.address,
        "callback": callback,
        "params": '{"iexec_args": "7"}',
        "start_time": boa.env.evm.patch.timestamp,
        "bot_first": 0,
        "bot_size": 2,
        "worker_stake": POOL_PRICE * 30 // 100,
        "scheduler_reward_ratio": 1,
    }


def test_deal_without_dataset_beneficiary_callback_tag_or_params_reads_zeros(protocol, market):
    deal = market.amend(market.deal(), request={"params": ""})

    record = protocol.hub.viewDeal(protocol.match(deal))

    assert (record.dataset, record.dataset_owner, record.dataset_price) == (
        ZERO_ADDRESS,
        ZERO_ADDRESS,
        0,
    )
    assert (record.beneficiary, record.callback) == (ZERO_ADDRESS, ZERO_ADDRESS)
    assert record.tag == bytes(32)
    assert record.params == ""


@pytest.mark.parametrize(
    "params", ["1", "x" * 2048, "é" * 1024], ids=["one byte", "2048 ascii", "2048 utf-8"]
)
def test_params_up_to_2048_bytes_read_back_whole(protocol, market, params):
    deal = market.amend(market.deal(), request={"params": params})

    record = protocol.hub.viewDeal(protocol.match(deal))

    assert record.params == params


def test_start_time_is_the_block_timestamp(protocol, market):
    boa.env.time_travel(seconds=10 * 365 * 86400)
    deal = market.deal()

    record = protocol.hub.viewDeal(protocol.match(deal))

    assert record.start_time == boa.env.evm.patch.timestamp


def test_largest_trust_reads_back_whole(protocol, market):
    deal = market.deal(trust=2**40 - 1)

    record = protocol.hub.viewDeal(protocol.match(deal))

    assert record.trust == 2**40 - 1
    assert (record.category, record.start_time) == (0, boa.env.evm.patch.timestamp)


def test_second_deal_of_a_request_starts_where_the_first_ended(protocol, market):
    deal = market.amend(market.deal(volume=5), app={"volume": 2})
    first = protocol.match(deal)
    second = protocol.match(market.amend(deal, app={"volume": 5}))

    records = [protocol.hub.viewDeal(d) for d in (first, second)]

    assert [(r.bot_first, r.bot_size) for r in records] == [(0, 2), (2, 3)]


def test_deal_records_the_pool_policy_it_was_made_under(protocol, market, pool_owner):
    before = market.amend(market.deal(volume=2), request={"volume": 1})
    made_before = protocol.match(before)
    with boa.env.prank(pool_owner.address):
        protocol.workerpools.setPolicy(before.workerpool.workerpool, 55, 7)
    after = market.amend(before, request={"volume": 1, "params": "after the policy change"})

    made_after = protocol.match(after)

    old, new = protocol.hub.viewDeal(made_before), protocol.hub.viewDeal(made_after)
    price = before.workerpool.workerpoolprice
    assert (old.worker_stake, old.scheduler_reward_ratio) == (price * 30 // 100, 1)
    assert (new.worker_stake, new.scheduler_reward_ratio) == (price * 55 // 100, 7)


def test_unknown_deal_reverts(protocol, market):
    protocol.match(market.deal())
    root = protocol.state_root()

    with boa.reverts("market: unknown deal"):
        protocol.hub.viewDeal(keccak(text="no such deal"))

    assert protocol.state_root() == root
