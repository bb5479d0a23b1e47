# pragma version 0.4.3
"""
@title App registry
@license Apache-2.0
@notice Apps are ERC-721 tokens; whoever holds the token owns the app and
        is paid each time it runs. The app's record (name, type, multiaddr,
        checksum, enclave measurement) lives here: no contract is deployed
        per app. An app's address is its token id, derived from its owner
        and record, so `predictApp` tells it before creation and the same
        app cannot be registered twice.
"""

from interfaces import IAssetRegistry
from modules import erc721
from modules import record_store

implements: IAssetRegistry
initializes: erc721
initializes: record_store
exports: erc721.__interface__

BUNDLE: constant(uint8) = 0
DOCKER: constant(uint8) = 1
MAX_NAME: constant(uint256) = 64
MAX_MULTIADDR: constant(uint256) = 128
MAX_MRENCLAVE: constant(uint256) = 64
HEADER: constant(uint256) = 4  # type, len(name), len(multiaddr), len(mrenclave)
MAX_PACKED: constant(uint256) = HEADER + MAX_NAME + MAX_MULTIADDR + MAX_MRENCLAVE


# view-side bounds are the packed record's: the ABI types are plain string / bytes
struct App:
    owner: address
    name: String[record_store.MAX_RECORD]
    app_type: uint8
    multiaddr: Bytes[record_store.MAX_RECORD]
    checksum: bytes32
    mrenclave: Bytes[record_store.MAX_RECORD]


_checksums: HashMap[uint256, bytes32]


@deploy
def __init__():
    pass


@external
@pure
def name() -> String[32]:
    """
    @notice ERC-721 metadata name.
    """
    return "nuage apps"


@external
@pure
def symbol() -> String[8]:
    """
    @notice ERC-721 metadata symbol.
    """
    return "NAPP"


@external
def createApp(
    owner: address,
    name: String[MAX_NAME],
    app_type: uint8,
    multiaddr: Bytes[MAX_MULTIADDR],
    checksum: bytes32,
    mrenclave: Bytes[MAX_MRENCLAVE],
) -> address:
    """
    @notice Registers an app owned by `owner` and returns its address.
    @dev Anyone may call: the new app belongs to `owner`, not to the caller.
    @param app_type 0 = BUNDLE (a packed directory), 1 = DOCKER (an image).
    @param multiaddr Where to fetch it; may be empty for a BUNDLE held by
           nuage storage, which finds blobs by checksum.
    @param checksum sha256 of the bundle or image digest.
    @param mrenclave Enclave measurement for TEE apps, else empty.
    """
    assert len(name) > 0, "registry: empty name"
    assert app_type <= DOCKER, "registry: unknown app type"
    assert checksum != empty(bytes32), "registry: empty checksum"
    record: Bytes[MAX_PACKED] = self._pack(name, app_type, multiaddr, mrenclave)
    asset: address = self._asset_id(owner, record, checksum)
    id: uint256 = convert(asset, uint256)
    assert erc721._owners[id] == empty(address), "registry: app exists"
    erc721._mint(owner, id)
    record_store._write(id, record)
    self._checksums[id] = checksum
    return asset


@external
@view
def predictApp(
    owner: address,
    name: String[MAX_NAME],
    app_type: uint8,
    multiaddr: Bytes[MAX_MULTIADDR],
    checksum: bytes32,
    mrenclave: Bytes[MAX_MRENCLAVE],
) -> address:
    """
    @notice The address `createApp` gives for these arguments.
    """
    return self._asset_id(owner, self._pack(name, app_type, multiaddr, mrenclave), checksum)


@external
@view
def app(asset: address) -> App:
    """
    @notice The record of app `asset`; reverts when it does not exist.
    """
    id: uint256 = convert(asset, uint256)
    owner: address = erc721._owners[id]
    assert owner != empty(address), "registry: unknown app"
    header: uint256 = record_store._header(id)
    name_len: uint256 = (header >> 240) & 255
    multiaddr_len: uint256 = (header >> 232) & 255
    mrenclave_len: uint256 = (header >> 224) & 255
    record: Bytes[record_store.MAX_RECORD] = record_store._read(id)
    return App(
        owner=owner,
        name=convert(slice(record, HEADER, name_len), String[record_store.MAX_RECORD]),
        app_type=convert(header >> 248, uint8),
        multiaddr=slice(record, HEADER + name_len, multiaddr_len),
        checksum=self._checksums[id],
        mrenclave=slice(record, HEADER + name_len + multiaddr_len, mrenclave_len),
    )


@external
@view
def assetOwner(asset: address) -> address:
    """
    @notice The owner of `asset`, or the zero address when it is not registered.
    """
    return erc721._owners[convert(asset, uint256)]


@internal
@pure
def _pack(
    name: String[MAX_NAME],
    app_type: uint8,
    multiaddr: Bytes[MAX_MULTIADDR],
    mrenclave: Bytes[MAX_MRENCLAVE],
) -> Bytes[MAX_PACKED]:
    return concat(
        convert(app_type, bytes1),
        convert(convert(len(name), uint8), bytes1),
        convert(convert(len(multiaddr), uint8), bytes1),
        convert(convert(len(mrenclave), uint8), bytes1),
        convert(name, Bytes[MAX_NAME]),
        multiaddr,
        mrenclave,
    )


@internal
@view
def _asset_id(owner: address, record: Bytes[MAX_PACKED], checksum: bytes32) -> address:
    digest: bytes32 = keccak256(abi_encode(self, owner, checksum, record))
    return convert(convert(digest, uint256) & convert(max_value(uint160), uint256), address)
