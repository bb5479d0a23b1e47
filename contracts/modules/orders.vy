# pragma version 0.4.3
"""
@title Orders: EIP-712 types, signatures, presigning, cancelling
@license Apache-2.0
@notice Four order types (app, dataset, workerpool, request) are EIP-712
        typed data in the domain ("nuage", "1", chain id, hub address).
        An order's identity is its EIP-712 digest; `consumed` counts how
        much of its volume deals have used, and cancelling marks it fully
        consumed. An order is valid when its owner signed it (65-byte or
        64-byte EIP-2098 secp256k1 signature) or presigned it on chain (how
        a smart contract publishes an order). The owner of an app, dataset
        or workerpool order is the asset's current owner in its registry,
        so a transferred asset's old orders stop matching; a request
        order's owner is its requester.
@custom:security Signatures with a high `s` are refused (EIP-2, in
        `signatures`), so each order has one valid signature per signer.
"""

from interfaces import IAssetRegistry
from modules import eip712
from modules import signatures

uses: eip712

MAX_PARAMS: constant(uint256) = 2048
SIGNATURE_SIZE: constant(uint256) = signatures.SIGNATURE_SIZE

SIGN: constant(uint8) = 0
CLOSE: constant(uint8) = 1

KIND_APP: constant(uint8) = 0
KIND_DATASET: constant(uint8) = 1
KIND_WORKERPOOL: constant(uint8) = 2
KIND_REQUEST: constant(uint8) = 3

APP_ORDER_TYPE: constant(String[256]) = "AppOrder(address app,uint256 appprice,uint256 volume,bytes32 tag,address datasetrestrict,address workerpoolrestrict,address requesterrestrict,bytes32 salt)"
DATASET_ORDER_TYPE: constant(String[256]) = "DatasetOrder(address dataset,uint256 datasetprice,uint256 volume,bytes32 tag,address apprestrict,address workerpoolrestrict,address requesterrestrict,bytes32 salt)"
WORKERPOOL_ORDER_TYPE: constant(String[256]) = "WorkerpoolOrder(address workerpool,uint256 workerpoolprice,uint256 volume,bytes32 tag,uint256 category,uint256 trust,address apprestrict,address datasetrestrict,address requesterrestrict,bytes32 salt)"
REQUEST_ORDER_TYPE: constant(String[512]) = "RequestOrder(address app,uint256 appmaxprice,address dataset,uint256 datasetmaxprice,address workerpool,uint256 workerpoolmaxprice,address requester,uint256 volume,bytes32 tag,uint256 category,uint256 trust,address beneficiary,address callback,string params,bytes32 salt)"

APP_ORDER_TYPEHASH: constant(bytes32) = keccak256(APP_ORDER_TYPE)
DATASET_ORDER_TYPEHASH: constant(bytes32) = keccak256(DATASET_ORDER_TYPE)
WORKERPOOL_ORDER_TYPEHASH: constant(bytes32) = keccak256(WORKERPOOL_ORDER_TYPE)
REQUEST_ORDER_TYPEHASH: constant(bytes32) = keccak256(REQUEST_ORDER_TYPE)

# EIP-712: a struct's type string is followed by those of the structs it references;
# Vyper cannot fold concat(), tests/contracts/market_orders/test_order_hashes.py pins these
APP_OPERATION_TYPEHASH: constant(bytes32) = (
    0x0638bb0702457e2b4b01be8a202579b8bf97e587fb4f2cc4d4aad01f21a06ee0
)  # keccak256("AppOrderOperation(AppOrder order,uint256 operation)" + APP_ORDER_TYPE)
DATASET_OPERATION_TYPEHASH: constant(bytes32) = (
    0x075eb6f7578ff4292c241bd2484cd5c1d5e6ecc2ddd3317e1d8176b5a45865ec
)  # keccak256("DatasetOrderOperation(DatasetOrder order,uint256 operation)" + DATASET_ORDER_TYPE)
WORKERPOOL_OPERATION_TYPEHASH: constant(bytes32) = (
    0x322d980b7d7a6a1f7c39ff0c5445da6ae1d8e0393ff0dd468c8be3e2c8644388
)  # keccak256("WorkerpoolOrderOperation(WorkerpoolOrder order,uint256 operation)" + WORKERPOOL_ORDER_TYPE)
REQUEST_OPERATION_TYPEHASH: constant(bytes32) = (
    0x0ded7b52c2d77595a40d242eca751df172b18e686326dbbed3f4748828af77c7
)  # keccak256("RequestOrderOperation(RequestOrder order,uint256 operation)" + REQUEST_ORDER_TYPE)


struct AppOrder:
    app: address
    appprice: uint256
    volume: uint256
    tag: bytes32
    datasetrestrict: address
    workerpoolrestrict: address
    requesterrestrict: address
    salt: bytes32
    sign: Bytes[SIGNATURE_SIZE]


struct DatasetOrder:
    dataset: address
    datasetprice: uint256
    volume: uint256
    tag: bytes32
    apprestrict: address
    workerpoolrestrict: address
    requesterrestrict: address
    salt: bytes32
    sign: Bytes[SIGNATURE_SIZE]


struct WorkerpoolOrder:
    workerpool: address
    workerpoolprice: uint256
    volume: uint256
    tag: bytes32
    category: uint256
    trust: uint256
    apprestrict: address
    datasetrestrict: address
    requesterrestrict: address
    salt: bytes32
    sign: Bytes[SIGNATURE_SIZE]


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


event OrderPresigned:
    order_hash: indexed(bytes32)
    owner: indexed(address)
    kind: uint8


event OrderClosed:
    order_hash: indexed(bytes32)
    owner: indexed(address)
    kind: uint8


APP_REGISTRY: public(immutable(IAssetRegistry))
DATASET_REGISTRY: public(immutable(IAssetRegistry))
WORKERPOOL_REGISTRY: public(immutable(IAssetRegistry))

_consumed: HashMap[bytes32, uint256]
_presigned: HashMap[bytes32, address]


@deploy
def __init__(app_registry: IAssetRegistry, dataset_registry: IAssetRegistry, workerpool_registry: IAssetRegistry):
    APP_REGISTRY = app_registry
    DATASET_REGISTRY = dataset_registry
    WORKERPOOL_REGISTRY = workerpool_registry


@external
@view
def appOrderHash(order: AppOrder) -> bytes32:
    """
    @notice The EIP-712 digest of an app order: what its owner signs, and
            its identity for `viewConsumed` (the `sign` field is ignored).
    """
    return self._app_order_hash(order)


@external
@view
def datasetOrderHash(order: DatasetOrder) -> bytes32:
    """
    @notice The EIP-712 digest of a dataset order (see `appOrderHash`).
    """
    return self._dataset_order_hash(order)


@external
@view
def workerpoolOrderHash(order: WorkerpoolOrder) -> bytes32:
    """
    @notice The EIP-712 digest of a workerpool order (see `appOrderHash`).
    """
    return self._workerpool_order_hash(order)


@external
@view
def requestOrderHash(order: RequestOrder) -> bytes32:
    """
    @notice The EIP-712 digest of a request order (see `appOrderHash`).
    """
    return self._request_order_hash(order)


@external
@view
def viewConsumed(order_hash: bytes32) -> uint256:
    """
    @notice How much of the order's volume deals have used; a cancelled
            order reads as its full volume.
    """
    return self._consumed[order_hash]


@external
@view
def viewPresigned(order_hash: bytes32) -> address:
    """
    @notice Who presigned the order on chain, or the zero address.
    """
    return self._presigned[order_hash]


@external
@view
def verifySignature(signer: address, digest: bytes32, sign: Bytes[SIGNATURE_SIZE]) -> bool:
    """
    @notice Whether `sign` is `signer`'s signature over `digest` or, when
            `sign` is empty, whether `signer` presigned `digest` on chain.
    """
    return self._is_signed(signer, digest, sign)


@external
def manageAppOrder(order: AppOrder, operation: uint8, sign: Bytes[SIGNATURE_SIZE]):
    """
    @notice Presigns (operation 0, SIGN) or cancels (operation 1, CLOSE) an
            app order.
    @dev Only the app's owner: either as the caller (`sign` may be empty),
         or through `sign`, the owner's EIP-712 signature over
         AppOrderOperation(order, operation), so a relayer can send it.
    """
    owner: address = staticcall APP_REGISTRY.assetOwner(order.app)
    assert owner != empty(address), "orders: unknown app"
    struct_hash: bytes32 = self._app_struct_hash(order)
    self._authorize(owner, APP_OPERATION_TYPEHASH, struct_hash, operation, sign)
    self._apply(eip712._digest(struct_hash), owner, operation, order.volume, KIND_APP)


@external
def manageDatasetOrder(order: DatasetOrder, operation: uint8, sign: Bytes[SIGNATURE_SIZE]):
    """
    @notice Presigns (0) or cancels (1) a dataset order.
    @dev Only the dataset's owner, as caller or by signature (see `manageAppOrder`).
    """
    owner: address = staticcall DATASET_REGISTRY.assetOwner(order.dataset)
    assert owner != empty(address), "orders: unknown dataset"
    struct_hash: bytes32 = self._dataset_struct_hash(order)
    self._authorize(owner, DATASET_OPERATION_TYPEHASH, struct_hash, operation, sign)
    self._apply(eip712._digest(struct_hash), owner, operation, order.volume, KIND_DATASET)


@external
def manageWorkerpoolOrder(order: WorkerpoolOrder, operation: uint8, sign: Bytes[SIGNATURE_SIZE]):
    """
    @notice Presigns (0) or cancels (1) a workerpool order.
    @dev Only the workerpool's owner, as caller or by signature (see `manageAppOrder`).
    """
    owner: address = staticcall WORKERPOOL_REGISTRY.assetOwner(order.workerpool)
    assert owner != empty(address), "orders: unknown workerpool"
    struct_hash: bytes32 = self._workerpool_struct_hash(order)
    self._authorize(owner, WORKERPOOL_OPERATION_TYPEHASH, struct_hash, operation, sign)
    self._apply(eip712._digest(struct_hash), owner, operation, order.volume, KIND_WORKERPOOL)


@external
def manageRequestOrder(order: RequestOrder, operation: uint8, sign: Bytes[SIGNATURE_SIZE]):
    """
    @notice Presigns (0) or cancels (1) a request order; a requester that is
            a contract presigns its orders this way.
    @dev Only the order's requester, as caller or by signature (see `manageAppOrder`).
    """
    assert order.requester != empty(address), "orders: no requester"
    struct_hash: bytes32 = self._request_struct_hash(order)
    self._authorize(order.requester, REQUEST_OPERATION_TYPEHASH, struct_hash, operation, sign)
    self._apply(eip712._digest(struct_hash), order.requester, operation, order.volume, KIND_REQUEST)


@internal
def _authorize(owner: address, typehash: bytes32, struct_hash: bytes32, operation: uint8, sign: Bytes[SIGNATURE_SIZE]):
    assert operation <= CLOSE, "orders: unknown operation"
    if msg.sender == owner:
        return
    digest: bytes32 = eip712._digest(keccak256(abi_encode(typehash, struct_hash, operation)))
    assert signatures._recover(digest, sign) == owner, "orders: not the owner"


@internal
def _apply(order_hash: bytes32, owner: address, operation: uint8, volume: uint256, kind: uint8):
    if operation == SIGN:
        self._presigned[order_hash] = owner
        log OrderPresigned(order_hash=order_hash, owner=owner, kind=kind)
    else:
        self._consumed[order_hash] = max(self._consumed[order_hash], volume)
        log OrderClosed(order_hash=order_hash, owner=owner, kind=kind)


@internal
@view
def _is_signed(signer: address, digest: bytes32, sign: Bytes[SIGNATURE_SIZE]) -> bool:
    if signer == empty(address):
        return False
    if len(sign) == 0:
        return self._presigned[digest] == signer
    return signatures._recover(digest, sign) == signer


@internal
@view
def _app_order_hash(o: AppOrder) -> bytes32:
    return eip712._digest(self._app_struct_hash(o))


@internal
@view
def _dataset_order_hash(o: DatasetOrder) -> bytes32:
    return eip712._digest(self._dataset_struct_hash(o))


@internal
@view
def _workerpool_order_hash(o: WorkerpoolOrder) -> bytes32:
    return eip712._digest(self._workerpool_struct_hash(o))


@internal
@view
def _request_order_hash(o: RequestOrder) -> bytes32:
    return eip712._digest(self._request_struct_hash(o))


@internal
@pure
def _app_struct_hash(o: AppOrder) -> bytes32:
    return keccak256(abi_encode(
        APP_ORDER_TYPEHASH, o.app, o.appprice, o.volume, o.tag,
        o.datasetrestrict, o.workerpoolrestrict, o.requesterrestrict, o.salt,
    ))


@internal
@pure
def _dataset_struct_hash(o: DatasetOrder) -> bytes32:
    return keccak256(abi_encode(
        DATASET_ORDER_TYPEHASH, o.dataset, o.datasetprice, o.volume, o.tag,
        o.apprestrict, o.workerpoolrestrict, o.requesterrestrict, o.salt,
    ))


@internal
@pure
def _workerpool_struct_hash(o: WorkerpoolOrder) -> bytes32:
    return keccak256(abi_encode(
        WORKERPOOL_ORDER_TYPEHASH, o.workerpool, o.workerpoolprice, o.volume, o.tag,
        o.category, o.trust, o.apprestrict, o.datasetrestrict, o.requesterrestrict, o.salt,
    ))


@internal
@pure
def _request_struct_hash(o: RequestOrder) -> bytes32:
    # abi_encode takes at most a fixed number of words: hash in two halves
    head: Bytes[256] = abi_encode(
        REQUEST_ORDER_TYPEHASH, o.app, o.appmaxprice, o.dataset,
        o.datasetmaxprice, o.workerpool, o.workerpoolmaxprice, o.requester,
    )
    tail: Bytes[256] = abi_encode(
        o.volume, o.tag, o.category, o.trust, o.beneficiary, o.callback,
        keccak256(o.params), o.salt,
    )
    return keccak256(concat(head, tail))
