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
        The deal record is packed into a few words (addresses share a word
        with a price or counters), and words that would hold only zeros
        (no dataset, no callback, no tag, no params) are never written.
@custom:security Amounts fit in 96 bits because every escrow balance does;
        trust is kept below 2**40 and a deal's size below 2**32 so that they
        pack; a request order matched in 2**32 deals would overflow
        `bot_first` (64 bits), which no chain lives long enough to see.
"""

from interfaces import IWorkerpoolRegistry
from modules import categories
from modules import escrow
from modules import orders

uses: categories
uses: escrow
uses: orders

WORKERPOOL_STAKE_RATIO: constant(uint256) = 30  # % of the pool price, per task, locked from the pool owner
MAX_BOT_SIZE: constant(uint256) = 2**32 - 1
MAX_TRUST: constant(uint256) = 2**40
TEE_BIT: constant(uint256) = 1
ADDRESS_BITS: constant(uint256) = 160
ADDRESS_MASK: constant(uint256) = 2**160 - 1


struct Deal:
    app: address
    app_owner: address
    app_price: uint256
    dataset: address
    dataset_owner: address
    dataset_price: uint256
    workerpool: address
    workerpool_owner: address
    workerpool_price: uint256
    trust: uint256
    category: uint256
    tag: bytes32
    requester: address
    beneficiary: address
    callback: address
    params: String[orders.MAX_PARAMS]
    start_time: uint256
    bot_first: uint256
    bot_size: uint256
    worker_stake: uint256
    scheduler_reward_ratio: uint256


# word layouts (high bits first):
#   app_word        price 96 | app 160
#   app_owner_word  start_time 40 | trust 40 | category 8 | scheduler ratio 8 | app owner 160
#   pool_word       price 96 | workerpool 160
#   pool_owner_word worker stake 96 | pool owner 160
#   requester_word  bot_first 64 | bot_size 32 | requester 160
#   dataset_word    price 96 | dataset 160
struct PackedDeal:
    app_word: uint256
    app_owner_word: uint256
    pool_word: uint256
    pool_owner_word: uint256
    requester_word: uint256
    beneficiary: address
    dataset_word: uint256
    dataset_owner: address
    callback: address
    tag: bytes32
    params: String[orders.MAX_PARAMS]


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


_deals: HashMap[bytes32, PackedDeal]


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
            being the smallest remaining volume of the orders. Locks
            (app price + dataset price + workerpool price) * volume from the
            requester and 30% of workerpool price * volume from the pool owner.
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
    app_hash: bytes32 = orders._digest(orders._app_struct_hash(app_order))
    app_owner: address = staticcall orders.APP_REGISTRY.assetOwner(app_order.app)
    assert app_owner != empty(address), "market: app not registered"
    assert orders._is_signed(app_owner, app_hash, app_order.sign), "market: bad app order signature"
    has_dataset: bool = dataset_order.dataset != empty(address)
    dataset_hash: bytes32 = empty(bytes32)
    dataset_owner: address = empty(address)
    if has_dataset:
        dataset_hash = orders._digest(orders._dataset_struct_hash(dataset_order))
        dataset_owner = staticcall orders.DATASET_REGISTRY.assetOwner(dataset_order.dataset)
        assert dataset_owner != empty(address), "market: dataset not registered"
        assert orders._is_signed(dataset_owner, dataset_hash, dataset_order.sign), "market: bad dataset order signature"
    pool_hash: bytes32 = orders._digest(orders._workerpool_struct_hash(workerpool_order))
    pool_owner: address = empty(address)
    stake_ratio: uint256 = 0
    scheduler_ratio: uint256 = 0
    pool_owner, stake_ratio, scheduler_ratio = staticcall IWorkerpoolRegistry(
        orders.WORKERPOOL_REGISTRY.address
    ).workerpoolPolicy(workerpool_order.workerpool)
    assert pool_owner != empty(address), "market: workerpool not registered"
    assert orders._is_signed(pool_owner, pool_hash, workerpool_order.sign), "market: bad workerpool order signature"
    request_hash: bytes32 = orders._digest(orders._request_struct_hash(request_order))
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

    # the requester pays, the pool owner stakes
    app_price: uint256 = app_order.appprice
    dataset_price: uint256 = 0
    if has_dataset:
        dataset_price = dataset_order.datasetprice
    pool_price: uint256 = workerpool_order.workerpoolprice
    # prices at or above 2**96 exceed any balance; bounding them first keeps the products exact
    assert max(app_price, max(dataset_price, pool_price)) < escrow.MAX_BALANCE, "market: requester balance too low"
    deal_id: bytes32 = keccak256(concat(request_hash, convert(bot_first, bytes32)))
    cost: uint256 = (app_price + dataset_price + pool_price) * volume
    assert escrow._free(request_order.requester) >= cost, "market: requester balance too low"
    escrow._lock(request_order.requester, cost, deal_id)
    stake: uint256 = pool_price * WORKERPOOL_STAKE_RATIO // 100 * volume
    assert escrow._free(pool_owner) >= stake, "market: workerpool owner balance too low"
    escrow._lock(pool_owner, stake, deal_id)

    orders._consumed[app_hash] += volume
    if has_dataset:
        orders._consumed[dataset_hash] += volume
    orders._consumed[pool_hash] += volume
    orders._consumed[request_hash] = bot_first + volume

    self._record(
        deal_id, app_order.app, app_owner, app_price, workerpool_order.workerpool, pool_owner,
        pool_price, request_order, bot_first, volume, pool_price * stake_ratio // 100,
        scheduler_ratio, tag,
    )
    if has_dataset:
        self._deals[deal_id].dataset_word = self._pack(dataset_order.dataset, dataset_price)
        self._deals[deal_id].dataset_owner = dataset_owner

    log SchedulerNotice(workerpool=workerpool_order.workerpool, deal_id=deal_id)
    log OrdersMatched(
        deal_id=deal_id,
        app_order_hash=app_hash,
        dataset_order_hash=dataset_hash,
        workerpool_order_hash=pool_hash,
        request_order_hash=request_hash,
        volume=volume,
    )
    return deal_id


@external
@view
def viewDeal(deal_id: bytes32) -> Deal:
    """
    @notice The deal `deal_id`, unpacked; reverts when there is none.
    """
    d: PackedDeal = self._deals[deal_id]
    assert d.app_word != 0, "market: unknown deal"
    return Deal(
        app=self._address(d.app_word),
        app_owner=self._address(d.app_owner_word),
        app_price=d.app_word >> ADDRESS_BITS,
        dataset=self._address(d.dataset_word),
        dataset_owner=d.dataset_owner,
        dataset_price=d.dataset_word >> ADDRESS_BITS,
        workerpool=self._address(d.pool_word),
        workerpool_owner=self._address(d.pool_owner_word),
        workerpool_price=d.pool_word >> ADDRESS_BITS,
        trust=(d.app_owner_word >> 176) & (MAX_TRUST - 1),
        category=(d.app_owner_word >> 168) & 255,
        tag=d.tag,
        requester=self._address(d.requester_word),
        beneficiary=d.beneficiary,
        callback=d.callback,
        params=d.params,
        start_time=d.app_owner_word >> 216,
        bot_first=d.requester_word >> 192,
        bot_size=(d.requester_word >> ADDRESS_BITS) & MAX_BOT_SIZE,
        worker_stake=d.pool_owner_word >> ADDRESS_BITS,
        scheduler_reward_ratio=(d.app_owner_word >> ADDRESS_BITS) & 255,
    )


@internal
def _record(
    deal_id: bytes32,
    app: address,
    app_owner: address,
    app_price: uint256,
    workerpool: address,
    pool_owner: address,
    pool_price: uint256,
    request_order: orders.RequestOrder,
    bot_first: uint256,
    volume: uint256,
    worker_stake: uint256,
    scheduler_ratio: uint256,
    tag: uint256,
):
    self._deals[deal_id].app_word = self._pack(app, app_price)
    # trust is stored as at least 1: trust 0 and 1 both mean "no replication"
    self._deals[deal_id].app_owner_word = (
        convert(app_owner, uint256)
        | (scheduler_ratio << ADDRESS_BITS)
        | (request_order.category << 168)
        | (max(request_order.trust, 1) << 176)
        | (block.timestamp << 216)
    )
    self._deals[deal_id].pool_word = self._pack(workerpool, pool_price)
    self._deals[deal_id].pool_owner_word = self._pack(pool_owner, worker_stake)
    self._deals[deal_id].requester_word = (
        convert(request_order.requester, uint256) | (volume << ADDRESS_BITS) | (bot_first << 192)
    )
    if request_order.beneficiary != empty(address):
        self._deals[deal_id].beneficiary = request_order.beneficiary
    if request_order.callback != empty(address):
        self._deals[deal_id].callback = request_order.callback
    if tag != 0:
        self._deals[deal_id].tag = convert(tag, bytes32)
    if len(request_order.params) > 0:
        self._deals[deal_id].params = request_order.params


@internal
@pure
def _allows(restriction: address, candidate: address) -> bool:
    # a restriction is the zero address (anyone) or exactly one address
    return restriction == empty(address) or restriction == candidate


@internal
@pure
def _pack(account: address, amount: uint256) -> uint256:
    return convert(account, uint256) | (amount << ADDRESS_BITS)


@internal
@pure
def _address(word: uint256) -> address:
    return convert(word & ADDRESS_MASK, address)
