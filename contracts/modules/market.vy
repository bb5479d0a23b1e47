# pragma version 0.4.3
"""
@title Market: matching orders into deals
@license Apache-2.0
@notice `matchOrders` checks that an app order, an optional dataset order,
        a workerpool order and a request order agree, then records a deal
        of `volume` tasks, locks the requester's payment and the pool
        owner's stake, and tells the pool's scheduler. Every check fails
        with its own reason; `nuage.protocol.matching` runs the same checks
        off chain, in the same order, so clients can say why before sending.
        The deal itself is not stored here: the hub keeps one word, the
        keccak256 of the deal's ABI encoding (`deal.vy`), and the full
        record is in the `DealCreated` event, with the request's params.
@custom:security Prices at or above 2**96 are refused: no escrow balance can
        pay them. Trust stays below 2**40 and a deal below 2**32 tasks, which
        keeps the consensus arithmetic and task counters far from overflow.
"""

from interfaces import IHub
from interfaces import IWorkerpoolRegistry
from modules import categories
from modules import deal
from modules import orders

uses: categories
uses: orders

WORKERPOOL_STAKE_RATIO: constant(uint256) = 30  # % of the pool price, per task, locked from the pool owner
MAX_BOT_SIZE: constant(uint256) = 2**32 - 1
MAX_TRUST: constant(uint256) = 2**40
TEE_BIT: constant(uint256) = 1
MAX_PRICE: constant(uint256) = 2**96  # the escrow's bound on any balance


event OrdersMatched:
    deal_id: indexed(bytes32)
    app_order_hash: bytes32
    dataset_order_hash: bytes32
    workerpool_order_hash: bytes32
    request_order_hash: bytes32
    volume: uint256


event SchedulerNotice:
    workerpool: indexed(address)
    deal_id: bytes32


event DealCreated:
    deal_id: indexed(bytes32)
    deal: deal.Deal
    params: String[orders.MAX_PARAMS]


HUB: public(immutable(IHub))


@deploy
def __init__(hub: IHub):
    HUB = hub


@external
def matchOrders(
    app_order: orders.AppOrder,
    dataset_order: orders.DatasetOrder,
    workerpool_order: orders.WorkerpoolOrder,
    request_order: orders.RequestOrder,
) -> bytes32:
    """
    @notice Makes a deal from four compatible orders and returns its id,
            keccak256(request order hash, request volume consumed before).
            Its tasks are indices [bot_first, bot_first + volume), volume
            being the smallest remaining volume of the orders. The hub locks
            (app price + dataset price + workerpool price) * volume from the
            requester and 30% of workerpool price * volume from the pool owner,
            and keeps the deal's commitment; `DealCreated` carries the deal.
    @dev Anyone may call: each order carries its owner's signature (or was
         presigned), and only the request's requester pays. With no dataset,
         pass a dataset order whose `dataset` is the zero address.
    """
    # the orders agree with one another
    assert request_order.category == workerpool_order.category, "market: category mismatch"
    assert request_order.category < categories._count, "market: unknown category"
    assert request_order.trust <= workerpool_order.trust, "market: workerpool trust too low"
    assert request_order.trust < MAX_TRUST, "market: trust out of range"
    assert request_order.appmaxprice >= app_order.appprice, "market: app price too high"
    assert request_order.datasetmaxprice >= dataset_order.datasetprice, "market: dataset price too high"
    assert request_order.workerpoolmaxprice >= workerpool_order.workerpoolprice, "market: workerpool price too high"
    tag: uint256 = (
        convert(app_order.tag, uint256)
        | convert(dataset_order.tag, uint256)
        | convert(request_order.tag, uint256)
    )
    assert tag & ~convert(workerpool_order.tag, uint256) == 0, "market: tag not offered by workerpool"
    assert (tag ^ convert(app_order.tag, uint256)) & TEE_BIT == 0, "market: tee bit differs from app"
    assert request_order.app == app_order.app, "market: app mismatch"
    assert request_order.dataset == dataset_order.dataset, "market: dataset mismatch"
    assert self._allows(request_order.workerpool, workerpool_order.workerpool), "market: workerpool mismatch"
    assert self._allows(app_order.datasetrestrict, dataset_order.dataset), "market: app order restricts dataset"
    assert self._allows(app_order.workerpoolrestrict, workerpool_order.workerpool), "market: app order restricts workerpool"
    assert self._allows(app_order.requesterrestrict, request_order.requester), "market: app order restricts requester"
    assert self._allows(dataset_order.apprestrict, app_order.app), "market: dataset order restricts app"
    assert self._allows(dataset_order.workerpoolrestrict, workerpool_order.workerpool), "market: dataset order restricts workerpool"
    assert self._allows(dataset_order.requesterrestrict, request_order.requester), "market: dataset order restricts requester"
    assert self._allows(workerpool_order.apprestrict, app_order.app), "market: workerpool order restricts app"
    assert self._allows(workerpool_order.datasetrestrict, dataset_order.dataset), "market: workerpool order restricts dataset"
    assert self._allows(workerpool_order.requesterrestrict, request_order.requester), "market: workerpool order restricts requester"

    # each order is its owner's
    app_hash: bytes32 = orders._app_order_hash(app_order)
    app_owner: address = staticcall orders.APP_REGISTRY.assetOwner(app_order.app)
    assert app_owner != empty(address), "market: app not registered"
    assert orders._is_signed(app_owner, app_hash, app_order.sign), "market: bad app order signature"
    has_dataset: bool = dataset_order.dataset != empty(address)
    dataset_hash: bytes32 = empty(bytes32)
    dataset_owner: address = empty(address)
    if has_dataset:
        dataset_hash = orders._dataset_order_hash(dataset_order)
        dataset_owner = staticcall orders.DATASET_REGISTRY.assetOwner(dataset_order.dataset)
        assert dataset_owner != empty(address), "market: dataset not registered"
        assert orders._is_signed(dataset_owner, dataset_hash, dataset_order.sign), "market: bad dataset order signature"
    pool_hash: bytes32 = orders._workerpool_order_hash(workerpool_order)
    pool_owner: address = empty(address)
    stake_ratio: uint256 = 0
    scheduler_ratio: uint256 = 0
    pool_owner, stake_ratio, scheduler_ratio = staticcall IWorkerpoolRegistry(
        orders.WORKERPOOL_REGISTRY.address
    ).workerpoolPolicy(workerpool_order.workerpool)
    assert pool_owner != empty(address), "market: workerpool not registered"
    assert orders._is_signed(pool_owner, pool_hash, workerpool_order.sign), "market: bad workerpool order signature"
    request_hash: bytes32 = orders._request_order_hash(request_order)
    assert orders._is_signed(request_order.requester, request_hash, request_order.sign), "market: bad request order signature"

    # every order has volume left
    volume: uint256 = MAX_BOT_SIZE
    remaining: uint256 = app_order.volume - orders._consumed[app_hash]
    assert remaining > 0, "market: app order consumed"
    volume = min(volume, remaining)
    if has_dataset:
        remaining = dataset_order.volume - orders._consumed[dataset_hash]
        assert remaining > 0, "market: dataset order consumed"
        volume = min(volume, remaining)
    remaining = workerpool_order.volume - orders._consumed[pool_hash]
    assert remaining > 0, "market: workerpool order consumed"
    volume = min(volume, remaining)
    bot_first: uint256 = orders._consumed[request_hash]
    remaining = request_order.volume - bot_first
    assert remaining > 0, "market: request order consumed"
    volume = min(volume, remaining)

    # the requester pays, the pool owner stakes (the hub checks their balances)
    app_price: uint256 = app_order.appprice
    dataset_price: uint256 = 0
    if has_dataset:
        dataset_price = dataset_order.datasetprice
    pool_price: uint256 = workerpool_order.workerpoolprice
    # bounding prices first keeps the products below exact and within the escrow's range
    assert max(app_price, max(dataset_price, pool_price)) < MAX_PRICE, "market: price out of range"
    deal_id: bytes32 = keccak256(concat(request_hash, convert(bot_first, bytes32)))

    orders._consumed[app_hash] += volume
    if has_dataset:
        orders._consumed[dataset_hash] += volume
    orders._consumed[pool_hash] += volume
    orders._consumed[request_hash] = bot_first + volume

    d: deal.Deal = deal.Deal(
        app=app_order.app,
        app_owner=app_owner,
        app_price=app_price,
        dataset=dataset_order.dataset,
        dataset_owner=dataset_owner,
        dataset_price=dataset_price,
        workerpool=workerpool_order.workerpool,
        workerpool_owner=pool_owner,
        workerpool_price=pool_price,
        trust=max(request_order.trust, 1),  # 0 and 1 both mean "no replication"
        category=request_order.category,
        time_ref=categories._time_refs[request_order.category],
        tag=convert(tag, bytes32),
        requester=request_order.requester,
        beneficiary=request_order.beneficiary,
        callback=request_order.callback,
        params_hash=keccak256(request_order.params),
        start_time=block.timestamp,
        bot_first=bot_first,
        bot_size=volume,
        worker_stake=pool_price * stake_ratio // 100,
        scheduler_reward_ratio=scheduler_ratio,
    )
    extcall HUB.openDeal(
        deal_id,
        deal._commitment(d),
        request_order.requester,
        (app_price + dataset_price + pool_price) * volume,
        pool_owner,
        pool_price * WORKERPOOL_STAKE_RATIO // 100 * volume,
    )

    log SchedulerNotice(workerpool=workerpool_order.workerpool, deal_id=deal_id)
    log OrdersMatched(
        deal_id=deal_id,
        app_order_hash=app_hash,
        dataset_order_hash=dataset_hash,
        workerpool_order_hash=pool_hash,
        request_order_hash=request_hash,
        volume=volume,
    )
    log DealCreated(deal_id=deal_id, deal=d, params=request_order.params)
    return deal_id


@internal
@pure
def _allows(restriction: address, candidate: address) -> bool:
    # a restriction is the zero address (anyone) or exactly one address
    return restriction == empty(address) or restriction == candidate
