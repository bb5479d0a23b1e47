"""Market.matchOrders publishes the deal: `DealCreated` carries its whole record and the
request's params, and the hub keeps that record's commitment.

Every field of the record is checked against the orders, the categories and the
pool policy it came from. The hub settles a deal only against the word it stored
(`Hub.viewDeal`), so that word must be the commitment of exactly the record the
market published: computed by `nuage.protocol.deals.Deal` and by the hub's own
`dealCommitment`.
"""

import dataclasses

import boa
import pytest
from eth_utils import keccak

from nuage.protocol import ZERO_ADDRESS, deal_id
from nuage.protocol.tags import GPU
from tests.contracts.harness import Actor
from tests.contracts.market_match._helpers import Created, assert_refused, deal_created

APP_PRICE, DATASET_PRICE, POOL_PRICE = 10**9, 2 * 10**9, 3 * 10**9
GPU_TAG = GPU.to_bytes(32, "big")
TIME_REFS = {0: 300, 1: 1200, 2: 3600, 3: 10800, 4: 36000}  # XS..XL, SPEC §3


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


def match_created(protocol, deal) -> Created:
    """Match `deal`; its `DealCreated`, checked to be the market's, of this deal, committed."""
    made = protocol.match(deal)
    created = deal_created(protocol)
    assert (created.emitter, created.deal_id) == (protocol.market.address, made)
    assert_committed(protocol, created)
    return created


def assert_committed(protocol, created: Created) -> None:
    """The hub stored the commitment of exactly the published record."""
    record = created.record
    stored = protocol.hub.viewDeal(created.deal_id)
    assert stored == record.commitment() == protocol.hub.dealCommitment(record.as_tuple())


def test_every_field_of_a_deal_is_in_its_record(
    protocol, market, requester, app_owner, dataset_owner, pool_owner, beneficiary
):
    callback = protocol.rlc.address  # any contract; matching does not call it
    params = '{"iexec_args": "7"}'
    deal = priced_deal(market, beneficiary=beneficiary.address, callback=callback, params=params)
    boa.env.time_travel(seconds=12_345)

    created = match_created(protocol, deal)

    assert dataclasses.asdict(created.record) == {
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
        "time_ref": protocol.market.viewCategory(2).work_clock_time_ref,
        "tag": GPU_TAG,
        "requester": requester.address,
        "beneficiary": beneficiary.address,
        "callback": callback,
        "params_hash": keccak(text=params),
        "start_time": boa.env.evm.patch.timestamp,
        "bot_first": 0,
        "bot_size": 2,
        "worker_stake": POOL_PRICE * 30 // 100,
        "scheduler_reward_ratio": 1,
    }
    assert created.params == params
    assert created.deal_id == deal_id(deal.request.hash(protocol.domain), 0)


def test_deal_without_dataset_beneficiary_callback_tag_or_params_has_zeros(protocol, market):
    deal = market.amend(market.deal(), request={"params": ""})

    created = match_created(protocol, deal)

    record = created.record
    assert (record.dataset, record.dataset_owner, record.dataset_price) == (
        ZERO_ADDRESS,
        ZERO_ADDRESS,
        0,
    )
    assert (record.beneficiary, record.callback) == (ZERO_ADDRESS, ZERO_ADDRESS)
    assert record.tag == bytes(32)
    assert record.params_hash == keccak(b"")
    assert created.params == ""


@pytest.mark.parametrize(
    "params", ["1", "x" * 2048, "é" * 1024], ids=["one byte", "2048 ascii", "2048 utf-8"]
)
def test_params_up_to_2048_bytes_are_published_whole_and_hashed(protocol, market, params):
    deal = market.amend(market.deal(), request={"params": params})

    created = match_created(protocol, deal)

    assert created.params == params
    assert created.record.params_hash == keccak(params.encode())


def test_start_time_is_the_block_timestamp(protocol, market):
    boa.env.time_travel(seconds=10 * 365 * 86400)
    deal = market.deal()

    created = match_created(protocol, deal)

    assert created.record.start_time == boa.env.evm.patch.timestamp


@pytest.mark.parametrize(
    ("category", "time_ref"), TIME_REFS.items(), ids=["XS", "S", "M", "L", "XL"]
)
def test_time_ref_is_the_work_clock_of_the_deal_category(protocol, market, category, time_ref):
    deal = market.amend(
        market.deal(), workerpool={"category": category}, request={"category": category}
    )

    created = match_created(protocol, deal)

    assert (created.record.category, created.record.time_ref) == (category, time_ref)
    assert protocol.market.viewCategory(category).work_clock_time_ref == time_ref


def test_largest_trust_is_recorded_whole(protocol, market):
    deal = market.deal(trust=2**40 - 1)

    created = match_created(protocol, deal)

    assert created.record.trust == 2**40 - 1
    assert (created.record.category, created.record.start_time) == (
        0,
        boa.env.evm.patch.timestamp,
    )


def test_second_deal_of_a_request_starts_where_the_first_ended(protocol, market):
    deal = market.amend(market.deal(volume=5), app={"volume": 2})
    first = match_created(protocol, deal)
    second = match_created(protocol, market.amend(deal, app={"volume": 5}))

    records = [first.record, second.record]

    assert [(r.bot_first, r.bot_size) for r in records] == [(0, 2), (2, 3)]
    request_hash = deal.request.hash(protocol.domain)
    assert [first.deal_id, second.deal_id] == [deal_id(request_hash, 0), deal_id(request_hash, 2)]
    assert_committed(protocol, first)  # the second deal left the first one's commitment alone


def test_deal_records_the_pool_policy_it_was_made_under(protocol, market, pool_owner):
    before = market.amend(market.deal(volume=2), request={"volume": 1})
    old = match_created(protocol, before).record
    with boa.env.prank(pool_owner.address):
        protocol.workerpools.setPolicy(before.workerpool.workerpool, 55, 7)
    after = market.amend(before, request={"volume": 1, "params": "after the policy change"})

    new = match_created(protocol, after).record

    price = before.workerpool.workerpoolprice
    assert (old.worker_stake, old.scheduler_reward_ratio) == (price * 30 // 100, 1)
    assert (new.worker_stake, new.scheduler_reward_ratio) == (price * 55 // 100, 7)


def test_unknown_deal_has_no_commitment(protocol, market):
    protocol.match(market.deal())

    assert protocol.hub.viewDeal(keccak(text="no such deal")) == bytes(32)


def test_refused_match_leaves_no_commitment(protocol, market):
    deal = market.amend(market.deal(), request={"category": 1})
    would_be = deal_id(deal.request.hash(protocol.domain), 0)

    assert_refused(protocol, deal, "market: category mismatch")

    assert protocol.hub.viewDeal(would_be) == bytes(32)
