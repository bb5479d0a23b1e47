# pragma version 0.4.3
"""
@title Oracle requester: a smart contract that buys off-chain computation
@license Apache-2.0
@notice An example of a requester that is a contract. It keeps RLC in the
        hub, publishes request orders naming itself as requester and as
        callback (presigned on the market: a contract cannot sign), and
        receives each task's result from the hub when the task completes.
        Anyone holding a matching app order and workerpool order can match
        its request (passing the request order with an empty signature).
        The result it receives is the task's callback data: the hub checks
        that its keccak256 is the digest the workers agreed on.
        Each request has volume 1, so its single task's id is known as soon
        as the order is published (`taskOf`); a result is taken only for a
        task this contract requested and only once, so a request someone
        else publishes naming this contract as callback cannot plant one.
@custom:security The hub gives `receiveResult` 200,000 gas. Storing a result
        costs about 22,100 gas per 32-byte word, so results above about
        220 bytes run out of gas: the hub logs `CallbackFailed`, the task
        stays paid, and the result is lost to this contract (it remains in
        the finalize transaction's calldata). A production requester would
        store a hash, or a short answer.
"""

from ethereum.ercs import IERC20

MAX_PARAMS: constant(uint256) = 2048
MAX_RESULT: constant(uint256) = 1024
SIGNATURE_SIZE: constant(uint256) = 65
PRESIGN: constant(uint8) = 0  # the market's order operation SIGN


# the market's RequestOrder, field for field (its ABI encoding must match)
struct RequestOrder:
    app: address
    appmaxprice: uint256
    dataset: address
    datasetmaxprice: uint256
    workerpool: address
    workerpoolmaxprice: uint256
    requester: address
    volume: uint256
    tag: bytes32
    category: uint256
    trust: uint256
    beneficiary: address
    callback: address
    params: String[MAX_PARAMS]
    salt: bytes32
    sign: Bytes[SIGNATURE_SIZE]


interface IMarket:
    def manageRequestOrder(order: RequestOrder, operation: uint8, sign: Bytes[SIGNATURE_SIZE]): nonpayable
    def requestOrderHash(order: RequestOrder) -> bytes32: view


interface IHub:
    def deposit(amount: uint256) -> bool: nonpayable
    def withdrawTo(amount: uint256, target: address) -> bool: nonpayable


event Requested:
    order_hash: indexed(bytes32)
    task_id: indexed(bytes32)
    app: address
    workerpool: address


event ResultReceived:
    task_id: indexed(bytes32)
    data: Bytes[MAX_RESULT]


HUB: public(immutable(IHub))
MARKET: public(immutable(IMarket))
RLC: public(immutable(IERC20))

owner: public(address)
requested: public(HashMap[bytes32, bool])
awaiting: public(HashMap[bytes32, bool])
_results: HashMap[bytes32, Bytes[MAX_RESULT]]


@deploy
def __init__(hub: IHub, market: IMarket, rlc: IERC20):
    """
    @notice Deploys a requester for the nuage `hub` and `market`, paying in
            `rlc`; the deployer owns it.
    """
    HUB = hub
    MARKET = market
    RLC = rlc
    self.owner = msg.sender


@external
def deposit(amount: uint256):
    """
    @notice Moves `amount` nRLC from the caller's wallet into this
            contract's hub account, to pay for requests.
    @dev Anyone may fund it; the caller must first approve this contract
         for `amount`.
    """
    assert extcall RLC.transferFrom(msg.sender, self, amount), "requester: transfer failed"
    assert extcall RLC.approve(HUB.address, amount), "requester: approve failed"
    assert extcall HUB.deposit(amount), "requester: deposit failed"


@external
def withdraw(amount: uint256):
    """
    @notice Moves `amount` nRLC of this contract's free hub balance to the
            owner's wallet.
    @dev Only the owner.
    """
    assert msg.sender == self.owner, "requester: only the owner"
    assert extcall HUB.withdrawTo(amount, self.owner), "requester: withdraw failed"


@external
def request(
    app: address,
    workerpool: address,
    params: String[MAX_PARAMS],
    appmaxprice: uint256,
    workerpoolmaxprice: uint256,
    category: uint256,
    trust: uint256,
    salt: bytes32,
) -> bytes32:
    """
    @notice Publishes a request order for one run of `app` with `params` on
            `workerpool` (zero: any pool), at most these prices, with this
            contract as requester and callback; returns the order's hash.
    @dev Only the owner. The order is presigned on the market, so a matcher
         passes it with an empty signature. Matching locks the prices from
         this contract's hub balance, which must cover them by then.
    """
    assert msg.sender == self.owner, "requester: only the owner"
    order: RequestOrder = RequestOrder(
        app=app,
        appmaxprice=appmaxprice,
        dataset=empty(address),
        datasetmaxprice=0,
        workerpool=workerpool,
        workerpoolmaxprice=workerpoolmaxprice,
        requester=self,
        volume=1,
        tag=empty(bytes32),
        category=category,
        trust=trust,
        beneficiary=self.owner,
        callback=self,
        params=params,
        salt=salt,
        sign=b"",
    )
    extcall MARKET.manageRequestOrder(order, PRESIGN, b"")
    order_hash: bytes32 = staticcall MARKET.requestOrderHash(order)
    task_id: bytes32 = self._task_of(order_hash)
    self.requested[order_hash] = True
    self.awaiting[task_id] = True
    log Requested(order_hash=order_hash, task_id=task_id, app=app, workerpool=workerpool)
    return order_hash


@external
def receiveResult(task_id: bytes32, data: Bytes[MAX_RESULT]):
    """
    @notice The hub delivers the result of a completed task.
    @dev Only the hub (from `finalize` or `contributeAndFinalize`), for a
         task this contract requested, once.
    """
    assert msg.sender == HUB.address, "requester: only the hub"
    assert self.awaiting[task_id], "requester: not an awaited task"
    self.awaiting[task_id] = False
    self._results[task_id] = data
    log ResultReceived(task_id=task_id, data=data)


@external
@view
def resultOf(task_id: bytes32) -> Bytes[MAX_RESULT]:
    """
    @notice The result received for `task_id`; empty until it arrives.
    """
    return self._results[task_id]


@external
@pure
def taskOf(order_hash: bytes32) -> bytes32:
    """
    @notice The id of the single task a request order of volume 1 becomes.
    """
    return self._task_of(order_hash)


@internal
@pure
def _task_of(order_hash: bytes32) -> bytes32:
    # deal id = keccak256(order hash, volume consumed before = 0); task index 0
    deal_id: bytes32 = keccak256(concat(order_hash, empty(bytes32)))
    return keccak256(concat(deal_id, empty(bytes32)))
