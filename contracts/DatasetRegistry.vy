# pragma version 0.4.3
"""
@title Dataset registry
@license Apache-2.0
@notice Datasets are ERC-721 tokens; whoever holds the token owns the
        dataset and is paid each time a task uses it. The record (name,
        multiaddr, checksum) lives here, packed; a dataset's address is its
        token id, derived from its owner and record (`predictDataset`).
"""

from interfaces import IAssetRegistry
from modules import erc721
from modules import record_store

implements: IAssetRegistry
initializes: erc721
initializes: record_store
exports: erc721.__interface__

MAX_NAME: constant(uint256) = 64
MAX_MULTIADDR: constant(uint256) = 128
HEADER: constant(uint256) = 2  # len(name), len(multiaddr)
MAX_PACKED: constant(uint256) = HEADER + MAX_NAME + MAX_MULTIADDR


# view-side bounds are the packed record's: the ABI types are plain string / bytes
struct Dataset:
    owner: address
    name: String[record_store.MAX_RECORD]
    multiaddr: Bytes[record_store.MAX_RECORD]
    checksum: bytes32


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
    return "nuage datasets"


@external
@pure
def symbol() -> String[8]:
    """
    @notice ERC-721 metadata symbol.
    """
    return "NDATA"


@external
def createDataset(
    owner: address, name: String[MAX_NAME], multiaddr: Bytes[MAX_MULTIADDR], checksum: bytes32
) -> address:
    """
    @notice Registers a dataset owned by `owner` and returns its address.
    @dev Anyone may call: the new dataset belongs to `owner`, not to the caller.
    @param multiaddr Where to fetch it; may be empty when nuage storage holds
           it under its checksum.
    @param checksum sha256 of the dataset's bytes.
    """
    assert len(name) > 0, "registry: empty name"
    assert checksum != empty(bytes32), "registry: empty checksum"
    record: Bytes[MAX_PACKED] = self._pack(name, multiaddr)
    asset: address = self._asset_id(owner, record, checksum)
    id: uint256 = convert(asset, uint256)
    assert erc721._owners[id] == empty(address), "registry: dataset exists"
    erc721._mint(owner, id)
    record_store._write(id, record)
    self._checksums[id] = checksum
    return asset


@external
@view
def predictDataset(
    owner: address, name: String[MAX_NAME], multiaddr: Bytes[MAX_MULTIADDR], checksum: bytes32
) -> address:
    """
    @notice The address `createDataset` gives for these arguments.
    """
    return self._asset_id(owner, self._pack(name, multiaddr), checksum)


@external
@view
def dataset(asset: address) -> Dataset:
    """
    @notice The record of dataset `asset`; reverts when it does not exist.
    """
    id: uint256 = convert(asset, uint256)
    owner: address = erc721._owners[id]
    assert owner != empty(address), "registry: unknown dataset"
    header: uint256 = record_store._header(id)
    name_len: uint256 = header >> 248
    multiaddr_len: uint256 = (header >> 240) & 255
    record: Bytes[record_store.MAX_RECORD] = record_store._read(id)
    return Dataset(
        owner=owner,
        name=convert(slice(record, HEADER, name_len), String[record_store.MAX_RECORD]),
        multiaddr=slice(record, HEADER + name_len, multiaddr_len),
        checksum=self._checksums[id],
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
def _pack(name: String[MAX_NAME], multiaddr: Bytes[MAX_MULTIADDR]) -> Bytes[MAX_PACKED]:
    return concat(
        convert(convert(len(name), uint8), bytes1),
        convert(convert(len(multiaddr), uint8), bytes1),
        convert(name, Bytes[MAX_NAME]),
        multiaddr,
    )


@internal
@view
def _asset_id(owner: address, record: Bytes[MAX_PACKED], checksum: bytes32) -> address:
    digest: bytes32 = keccak256(abi_encode(self, owner, checksum, record))
    return convert(convert(digest, uint256) & convert(max_value(uint160), uint256), address)
